// UTF-8 validation for the WebSocket codec (RFC 6455 8.1: text messages and close reasons must be
// well-formed UTF-8, RFC 3629: no overlong forms, no surrogates U+D800..U+DFFF, nothing above
// U+10FFFF; noncharacters such as U+FFFE are valid).
//
// This is a thin wrapper over Boost.Beast's validator rather than a state machine of our own:
// Beast's is tested against the Autobahn suite and fails fast on the known prefix of a sequence.
// It lives in Beast's detail namespace (boost/beast/websocket/detail/utf8_checker.hpp), which is
// not a public API, so it is named only here; the build is pinned to Debian bookworm's Boost 1.74,
// and a Boost upgrade that moves or changes it breaks this one file (gateway/utf8_test.cc checks
// the behaviour we rely on).
#pragma once

#include <boost/beast/websocket/detail/utf8_checker.hpp>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace channelstream::gateway {

// True when `text` is complete, well-formed UTF-8 (the empty string is).
bool IsValidUtf8(std::string_view text);

// Incremental check of one text that arrives in pieces (a fragmented WebSocket message):
// Write() each piece as it comes, Finish() at the end. Sequences may be split anywhere.
class Utf8Validator {
 public:
  Utf8Validator() = default;
  // Not copyable or movable: Beast's checker points into itself.
  Utf8Validator(const Utf8Validator&) = delete;
  Utf8Validator& operator=(const Utf8Validator&) = delete;

  // Checks the next bytes. False as soon as the text so far cannot be the beginning of valid
  // UTF-8, including the known bytes of a sequence cut at the end of `bytes` ("fail fast").
  // After false the validator's state is unspecified: Reset() it before using it again.
  bool Write(std::string_view bytes);
  bool Write(const uint8_t* data, size_t size);
  // True when everything written so far ends on a complete code point (a text cut inside a
  // sequence is invalid). Resets the validator for the next text either way.
  bool Finish();
  // Forgets everything written: ready for a new text.
  void Reset();

 private:
  boost::beast::websocket::detail::utf8_checker checker_;
};

}  // namespace channelstream::gateway
