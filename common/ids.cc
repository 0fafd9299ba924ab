#include "common/ids.h"

#include <openssl/rand.h>

#include <cstdlib>

#include "absl/strings/ascii.h"

namespace channelstream::common {

Uuid Uuid::Random() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof bytes) != 1) std::abort();  // no entropy: nothing safe to do
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  Uuid id;
  for (int i = 0; i < 8; ++i) id.high_ = (id.high_ << 8) | bytes[i];
  for (int i = 8; i < 16; ++i) id.low_ = (id.low_ << 8) | bytes[i];
  return id;
}

bool Uuid::Parse(std::string_view text, Uuid* out) {
  if (text.size() != 36) return false;
  Uuid id;
  int digits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const char c = text[i];
    if (dash) {
      if (c != '-') return false;
      continue;
    }
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
    const uint64_t nibble = absl::ascii_isdigit(static_cast<unsigned char>(c))
                                ? c - '0'
                                : absl::ascii_tolower(static_cast<unsigned char>(c)) - 'a' + 10;
    uint64_t& half = digits < 16 ? id.high_ : id.low_;
    half = (half << 4) | nibble;
    ++digits;
  }
  *out = id;
  return true;
}

Uuid Uuid::FromText(std::string_view text) {
  Uuid id;
  Parse(text, &id);
  return id;
}

std::string Uuid::ToString() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text(36, '-');
  size_t at = 0;
  for (int digit = 0; digit < 32; ++digit) {
    if (at == 8 || at == 13 || at == 18 || at == 23) ++at;
    const uint64_t half = digit < 16 ? high_ : low_;
    text[at++] = kHex[(half >> (60 - 4 * (digit % 16))) & 0xf];
  }
  return text;
}

std::string Uuid::ToBytes() const {
  std::string bytes(16, '\0');
  for (int i = 0; i < 8; ++i) {
    bytes[i] = static_cast<char>(high_ >> (56 - 8 * i));
    bytes[8 + i] = static_cast<char>(low_ >> (56 - 8 * i));
  }
  return bytes;
}

bool Uuid::FromBytes(std::string_view bytes, Uuid* out) {
  if (bytes.size() != 16) return false;
  Uuid id;
  for (int i = 0; i < 8; ++i) {
    id.high_ = (id.high_ << 8) | static_cast<unsigned char>(bytes[i]);
    id.low_ = (id.low_ << 8) | static_cast<unsigned char>(bytes[8 + i]);
  }
  *out = id;
  return true;
}

std::string NewUuid() { return Uuid::Random().ToString(); }

bool IsUuid(const std::string& text) {
  Uuid ignored;
  return Uuid::Parse(text, &ignored);
}

std::string NormalizeUuid(const std::string& text) { return absl::AsciiStrToLower(text); }

std::string FormatTimestamp(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6S", time, absl::UTCTimeZone());
}

bool ParseTimestamp(const std::string& text, absl::Time* time) {
  std::string error;
  for (const char* format : {"%Y-%m-%dT%H:%M:%E*S", "%Y-%m-%dT%H:%M:%E*SZ",
                             "%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%d %H:%M:%E*S"}) {
    if (absl::ParseTime(format, text, absl::UTCTimeZone(), time, &error)) return true;
  }
  return false;
}

}  // namespace channelstream::common
