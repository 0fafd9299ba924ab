// A deliberately plain UTF-8 decoder (RFC 3629: shortest form only, no surrogates, nothing past
// U+10FFFF), written from the RFC rather than from either implementation it checks: Beast's
// validator behind gateway/utf8.h and the byte-range tables of common/text.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace channelstream::fuzz {

// Length of the well-formed sequence at text[i] (its code point in *code_point), or 0.
inline size_t DecodeUtf8(std::string_view text, size_t i, uint32_t* code_point) {
  const uint8_t lead = static_cast<uint8_t>(text[i]);
  size_t length;
  uint32_t value;
  if (lead < 0x80) {
    *code_point = lead;
    return 1;
  } else if ((lead & 0xE0) == 0xC0) {
    length = 2;
    value = lead & 0x1F;
  } else if ((lead & 0xF0) == 0xE0) {
    length = 3;
    value = lead & 0x0F;
  } else if ((lead & 0xF8) == 0xF0) {
    length = 4;
    value = lead & 0x07;
  } else {
    return 0;  // a continuation byte or 0xF8..0xFF
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    const uint8_t byte = static_cast<uint8_t>(text[i + k]);
    if ((byte & 0xC0) != 0x80) return 0;
    value = (value << 6) | (byte & 0x3F);
  }
  static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
  if (value < kSmallest[length] || value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
    return 0;
  *code_point = value;
  return length;
}

struct Utf8Scan {
  bool valid = true;
  size_t characters = 0;  // code points, each byte of an invalid sequence counting as one
};

inline Utf8Scan ScanUtf8(std::string_view text) {
  Utf8Scan scan;
  for (size_t i = 0; i < text.size(); ++scan.characters) {
    uint32_t code_point;
    size_t length = DecodeUtf8(text, i, &code_point);
    if (length == 0) {
      scan.valid = false;
      length = 1;
    }
    i += length;
  }
  return scan;
}

inline bool IsWellFormedUtf8(std::string_view text) { return ScanUtf8(text).valid; }

}  // namespace channelstream::fuzz
