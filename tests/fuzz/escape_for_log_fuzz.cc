// Fuzzes common/text.h's EscapeForLog, which makes client-supplied bytes safe to log.
// Input: the text.
//
// Checks: the output is valid UTF-8 (both by Beast's validator and by the reference decoder) and
// holds no control character (C0, DEL, C1); escaping is idempotent; valid text without controls
// is kept as it is; and without backslashes in the input, undoing the \xNN escapes gives it back.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/text.h"
#include "gateway/utf8.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/utf8_reference.h"

namespace {

using channelstream::fuzz::DecodeUtf8;

bool IsControl(uint32_t code_point) {
  return code_point < 0x20 || code_point == 0x7F || (code_point >= 0x80 && code_point <= 0x9F);
}

// Whether `text` is valid UTF-8 without control characters (then EscapeForLog keeps it).
bool Printable(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint32_t code_point;
    size_t length = DecodeUtf8(text, i, &code_point);
    if (length == 0 || IsControl(code_point)) return false;
    i += length;
  }
  return true;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // EscapeForLog writes lowercase
}

std::string Unescape(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\') {
      FUZZ_CHECK(i + 3 < text.size());
      FUZZ_CHECK(text[i + 1] == 'x' && Hex(text[i + 2]) >= 0 && Hex(text[i + 3]) >= 0);
      out.push_back(static_cast<char>(Hex(text[i + 2]) * 16 + Hex(text[i + 3])));
      i += 3;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string out = channelstream::common::EscapeForLog(text);

  FUZZ_CHECK(Printable(out));
  FUZZ_CHECK(channelstream::gateway::IsValidUtf8(out));
  FUZZ_CHECK(channelstream::common::EscapeForLog(out) == out);
  FUZZ_CHECK(out.size() >= text.size() && out.size() <= 4 * text.size());
  if (Printable(text)) FUZZ_CHECK(out == text);
  if (text.find('\\') == std::string_view::npos) FUZZ_CHECK(Unescape(out) == text);
  return 0;
}
