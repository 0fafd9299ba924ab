// Fuzzes UTF-8 validation: gateway/utf8.h (Beast's validator, whole and incremental) against an
// independent decoder (utf8_reference.h) and against common/text.h's Utf8Length.
// Input: [split seed][text...].
//
// Checks: IsValidUtf8 agrees with the reference; the incremental validator fed the text in
// pieces (single bytes, random pieces, empty pieces) agrees with the whole-string check, fails
// exactly when the bytes so far can no longer begin valid text ("fail fast"), and is usable again
// after Reset(); Utf8Length counts code points as the reference does (each byte of an invalid
// sequence one character).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/text.h"
#include "gateway/utf8.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/utf8_reference.h"

namespace {

using channelstream::common::Utf8Length;
using channelstream::fuzz::DecodeUtf8;
using channelstream::fuzz::FuzzInput;
using channelstream::fuzz::ScanUtf8;
using channelstream::fuzz::Splitter;
using channelstream::gateway::IsValidUtf8;
using channelstream::gateway::Utf8Validator;

// True when `tail` (a sequence cut short) can still be completed into a well-formed one.
bool Completable(std::string_view tail) {
  if (tail.empty() || tail.size() > 3) return false;
  for (int second = 0x80; second <= 0xBF; ++second) {
    for (size_t total = tail.size() + 1; total <= 4; ++total) {
      std::string sequence(tail);
      if (sequence.size() == 1) sequence.push_back(static_cast<char>(second));
      while (sequence.size() < total) sequence.push_back(static_cast<char>(0x80));
      uint32_t code_point;
      if (DecodeUtf8(sequence, 0, &code_point) == total) return true;
    }
  }
  return false;
}

// True when some valid UTF-8 text begins with `prefix`.
bool ValidPrefix(std::string_view prefix) {
  for (size_t i = 0; i < prefix.size();) {
    uint32_t code_point;
    size_t length = DecodeUtf8(prefix, i, &code_point);
    if (length == 0) return Completable(prefix.substr(i));
    i += length;
  }
  return true;
}

// Writes `text` in the pieces `splitter` draws; returns the validator's verdict.
bool Incremental(Utf8Validator& validator, std::string_view text, Splitter splitter) {
  size_t offset = 0;
  size_t calls = 0;
  do {
    const size_t left = text.size() - offset;
    const size_t size = calls++ > 2 * text.size() + 16 ? left : splitter.Next(left);
    // An exact-size heap copy, so ASan catches a read past the piece (empty: a null pointer).
    std::unique_ptr<uint8_t[]> piece(size == 0 ? nullptr : new uint8_t[size]);
    for (size_t k = 0; k < size; ++k) piece[k] = static_cast<uint8_t>(text[offset + k]);
    const bool ok = validator.Write(piece.get(), size);
    offset += size;
    FUZZ_CHECK(ok == ValidPrefix(text.substr(0, offset)));  // fails fast, and only when it must
    if (!ok) return false;
  } while (offset < text.size());
  return validator.Finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint32_t seed = input.Byte();
  const std::string_view text = input.Rest();

  const bool valid = IsValidUtf8(text);
  const channelstream::fuzz::Utf8Scan reference = ScanUtf8(text);
  FUZZ_CHECK(valid == reference.valid);
  FUZZ_CHECK(Utf8Length(text) == reference.characters);
  if (valid) {
    size_t leads = 0;
    for (char c : text) leads += (static_cast<uint8_t>(c) & 0xC0) != 0x80;
    FUZZ_CHECK(Utf8Length(text) == leads);
  }

  Utf8Validator validator;
  FUZZ_CHECK(Incremental(validator, text, Splitter(0, 0)) == valid);
  validator.Reset();
  FUZZ_CHECK(Incremental(validator, text, Splitter(seed | 1, 1)) ==
             valid);  // bytes and empty pieces
  validator.Reset();
  FUZZ_CHECK(Incremental(validator, text, Splitter(seed, 1 + seed % 7)) == valid);
  // Reset() forgets a failure or a cut sequence.
  validator.Reset();
  FUZZ_CHECK(validator.Write(std::string_view("h\xc3\xa9")) && validator.Finish());
  return 0;
}
