// Fuzzes the WebSocket client-frame parser (gateway/ws_codec.h) with byte streams split at
// data-driven points. Input: [limit selector][split seed: 2 bytes][mask: 4 bytes][stream...].
//
// Checks: the same stream parsed whole and in pieces gives the same events and the same verdict;
// nothing is reported after a failure or after a close frame; error and close codes are ones the
// RFC allows; text and close reasons are valid UTF-8; sizes respect the limits; and the events
// re-encoded as client frames (data messages split into two fragments) parse back to themselves.
#include <cstdint>
#include <string>
#include <vector>

#include "gateway/ws_codec.h"
#include "tests/fuzz/fuzz_input.h"
#include "tests/fuzz/utf8_reference.h"

namespace {

using channelstream::fuzz::FuzzInput;
using channelstream::fuzz::IsWellFormedUtf8;
using channelstream::fuzz::Splitter;
using namespace channelstream::gateway::ws;

constexpr size_t kLimits[] = {0, 1, 16, 125, 126, 1024, 65536, 1 << 20};

struct Outcome {
  std::vector<ClientEvent> events;
  bool failed = false;
  uint16_t error_code = 0;
};

bool SameEvents(const std::vector<ClientEvent>& a, const std::vector<ClientEvent>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].kind != b[i].kind || a[i].payload != b[i].payload ||
        a[i].close_code != b[i].close_code)
      return false;
  return true;
}

// RFC 6455 7.4 and the IANA registry: codes a peer may put on the wire.
bool WireCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

// Feeds `stream` in the pieces `splitter` draws, checking the per-call invariants.
Outcome Parse(const std::string& stream, size_t limit, Splitter splitter) {
  FrameParser parser(limit);
  Outcome outcome;
  size_t offset = 0;
  bool refused = false;
  size_t calls = 0;
  do {
    // Pieces as drawn (empty ones too), but never more calls than the stream can justify.
    const size_t left = stream.size() - offset;
    const size_t size = calls > 2 * stream.size() + 16 ? left : splitter.Next(left);
    ++calls;
    const size_t before = outcome.events.size();
    const bool closed_before = before > 0 && outcome.events.back().kind == ClientEvent::kClose;
    const bool ok = parser.Feed(reinterpret_cast<const uint8_t*>(stream.data()) + offset, size,
                                &outcome.events);
    offset += size;
    FUZZ_CHECK(ok == !parser.failed());
    if (refused) FUZZ_CHECK(!ok && outcome.events.size() == before);  // nothing after a failure
    if (closed_before) FUZZ_CHECK(ok && outcome.events.size() == before);  // nothing after a close
    if (!ok) {
      refused = true;
      FUZZ_CHECK(!parser.holds_partial());  // a failed parser holds no memory
    }
  } while (offset < stream.size());
  // A failed parser keeps refusing.
  std::vector<ClientEvent> more;
  const uint8_t byte = 0x81;
  if (parser.failed()) FUZZ_CHECK(!parser.Feed(&byte, 1, &more) && more.empty());
  outcome.failed = parser.failed();
  outcome.error_code = parser.error_code();
  if (outcome.failed) {
    FUZZ_CHECK(outcome.error_code == kProtocolError || outcome.error_code == kInvalidPayload ||
               outcome.error_code == kMessageTooBig);
    FUZZ_CHECK(parser.error_reason() != nullptr && parser.error_reason()[0] != '\0');
  } else {
    FUZZ_CHECK(outcome.error_code == 0);
  }
  if (!outcome.events.empty() && outcome.events.back().kind == ClientEvent::kClose)
    FUZZ_CHECK(!parser.holds_partial());  // after the close nothing is kept
  return outcome;
}

void CheckEvents(const std::vector<ClientEvent>& events, size_t limit) {
  for (size_t i = 0; i < events.size(); ++i) {
    const ClientEvent& event = events[i];
    switch (event.kind) {
      case ClientEvent::kText:
        FUZZ_CHECK(IsWellFormedUtf8(event.payload));
        FUZZ_CHECK(event.payload.size() <= limit);
        break;
      case ClientEvent::kBinary:
        FUZZ_CHECK(event.payload.size() <= limit);
        break;
      case ClientEvent::kPing:
      case ClientEvent::kPong:
        FUZZ_CHECK(event.payload.size() <= 125);
        break;
      case ClientEvent::kClose:
        FUZZ_CHECK(i + 1 == events.size());  // the client's last frame
        if (event.close_code == kNoStatus) {
          FUZZ_CHECK(event.payload.empty());
        } else {
          FUZZ_CHECK(WireCloseCode(event.close_code));
          FUZZ_CHECK(event.payload.size() <= 123);
          FUZZ_CHECK(IsWellFormedUtf8(event.payload));
        }
        break;
    }
  }
}

// The events as a client would send them; data messages of 2+ bytes become two fragments.
std::string Reencode(const std::vector<ClientEvent>& events, uint32_t mask) {
  std::string stream;
  for (const ClientEvent& event : events) {
    mask = mask * 2654435761u + 1;
    switch (event.kind) {
      case ClientEvent::kText:
      case ClientEvent::kBinary: {
        const Opcode opcode = event.kind == ClientEvent::kText ? kText : kBinary;
        if (event.payload.size() < 2) {
          stream += ClientFrame(opcode, event.payload, true, mask);
        } else {
          size_t cut = mask % event.payload.size();  // may split a UTF-8 sequence: allowed
          std::string_view payload = event.payload;
          stream += ClientFrame(opcode, payload.substr(0, cut), false, mask);
          stream += ClientFrame(kContinuation, payload.substr(cut), true, ~mask);
        }
        break;
      }
      case ClientEvent::kPing:
        stream += ClientFrame(kPing, event.payload, true, mask);
        break;
      case ClientEvent::kPong:
        stream += ClientFrame(kPong, event.payload, true, mask);
        break;
      case ClientEvent::kClose: {
        std::string payload;
        if (event.close_code != kNoStatus) {
          payload.push_back(static_cast<char>(event.close_code >> 8));
          payload.push_back(static_cast<char>(event.close_code & 0xFF));
          payload += event.payload;
        }
        stream += ClientFrame(kClose, payload, true, mask);
        break;
      }
    }
  }
  return stream;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const size_t limit = kLimits[input.Byte() % (sizeof kLimits / sizeof kLimits[0])];
  const uint32_t split_seed = static_cast<uint32_t>(input.Uint(2));
  const uint32_t mask = static_cast<uint32_t>(input.Uint(4));
  const std::string stream(input.Rest());

  const Outcome whole = Parse(stream, limit, Splitter(0, 0));
  const Outcome pieces = Parse(stream, limit, Splitter(split_seed, 1 + split_seed % 24));
  const Outcome bytes = Parse(stream, limit, Splitter(1, 1));
  FUZZ_CHECK(SameEvents(whole.events, pieces.events) && SameEvents(whole.events, bytes.events));
  FUZZ_CHECK(whole.failed == pieces.failed && whole.error_code == pieces.error_code);
  FUZZ_CHECK(whole.failed == bytes.failed && whole.error_code == bytes.error_code);
  CheckEvents(whole.events, limit);

  const Outcome again = Parse(Reencode(whole.events, mask), limit, Splitter(split_seed, 7));
  FUZZ_CHECK(!again.failed);
  FUZZ_CHECK(SameEvents(whole.events, again.events));
  return 0;
}
