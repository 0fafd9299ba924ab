// A small sans-I/O WebSocket (RFC 6455) codec for the gateway: server frames are built once as
// plain bytes (unmasked, so one buffer serves every recipient) and client frames are parsed from
// whatever bytes the socket produced. No sockets here, so it is unit-tested on byte strings.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace channelstream::gateway {
namespace ws {

enum Opcode : uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Close codes (RFC 6455 7.4.1) the gateway sends or answers with.
enum CloseCode : uint16_t {
  kNormalClosure = 1000,
  kGoingAway = 1001,
  kProtocolError = 1002,
  kUnsupportedData = 1003,
  kNoStatus = 1005,  // never sent: "the close frame carried no code"
  kInvalidPayload = 1007,
  kPolicyViolation = 1008,
  kMessageTooBig = 1009,
  kInternalError = 1011,
  kServiceRestart = 1012,
  kTryAgainLater = 1013,
};

// True for the close codes a peer may send (RFC 6455 7.4, IANA registry): 1000-1003, 1007-1014
// and 3000-4999 (registered and private use). 1004-1006 and 1015 are never put on the wire;
// 0-999, 1016-2999 and 5000 up are reserved or undefined.
bool IsValidCloseCode(uint16_t code);

constexpr size_t kMaxServerHeaderBytes = 10;

// Size of an unmasked server frame header for a payload of `payload_size` bytes.
size_t ServerHeaderSize(size_t payload_size);
// Writes a FIN server frame header into `out` (at least kMaxServerHeaderBytes); returns its size.
size_t WriteServerHeader(Opcode opcode, size_t payload_size, uint8_t* out);

// A complete server frame (FIN, unmasked).
std::string ServerFrame(Opcode opcode, std::string_view payload);
// The text frame "[" + parts joined by "," + "]": a JSON list of already-encoded objects.
// `payload_offset` (optional) receives where the list's first element starts in the result.
std::string JsonListFrame(const std::vector<std::string_view>& parts,
                          size_t* payload_offset = nullptr);
std::string CloseFrame(uint16_t code, std::string_view reason);

// A masked client frame (what browsers send); used by tests and the benchmark client.
std::string ClientFrame(Opcode opcode, std::string_view payload, bool fin = true,
                        uint32_t mask_key = 0x12345678);

// Sec-WebSocket-Accept for a Sec-WebSocket-Key (SHA-1 + base64, RFC 6455 4.2.2).
std::string AcceptKey(std::string_view client_key);

// One complete message or control frame from a client.
struct ClientEvent {
  enum Kind { kText, kBinary, kPing, kPong, kClose };
  Kind kind;
  std::string payload;      // message bytes (ping/pong: application data; close: the reason)
  uint16_t close_code = 0;  // kClose only: the code sent (IsValidCloseCode), kNoStatus when none
};

// Parses client frames: checks masking, reserved bits, opcodes, control-frame rules,
// fragmentation, the message size limit, UTF-8 in text messages and close reasons (kText
// payloads are valid UTF-8; a fragmented one is checked fragment by fragment, so a bad prefix
// fails before the message ends) and close codes. After an error it refuses further input; the
// caller closes with error_code(): kProtocolError, kInvalidPayload (bad UTF-8) or
// kMessageTooBig. After the client's close frame it ignores further input (RFC 6455 5.5.1).
// One lives in every idle WebSocket session, so the buffers and UTF-8 state for a partial frame
// or fragmented message are allocated only while one is in progress.
class FrameParser {
 public:
  // Both out of line: Partial is complete only in ws_codec.cc.
  explicit FrameParser(size_t max_message_bytes);
  ~FrameParser();
  FrameParser(const FrameParser&) = delete;
  FrameParser& operator=(const FrameParser&) = delete;

  // Consumes `size` bytes, appending complete events. Returns false once the stream is invalid;
  // after a close frame it returns true and consumes nothing more.
  bool Feed(const uint8_t* data, size_t size, std::vector<ClientEvent>* events);

  bool failed() const { return error_code_ != 0; }
  uint16_t error_code() const { return error_code_; }
  const char* error_reason() const { return error_reason_; }
  // True once a (valid) close frame was parsed: the client sends nothing more.
  bool close_received() const { return phase_ == Phase::kClosed; }
  // True while a partial frame or fragmented message is buffered (the parser holds memory).
  bool holds_partial() const { return partial_ != nullptr; }

 private:
  // Defined in ws_codec.cc: the frame and message buffers and the UTF-8 state of a fragmented
  // text message (so this header does not pull in Beast).
  struct Partial;
  enum class Phase : uint8_t { kIdle, kInMessage, kClosed };
  // Parses one frame from `data`; returns bytes used, 0 if incomplete.
  size_t ParseFrame(const uint8_t* data, size_t size, std::vector<ClientEvent>* events);
  bool Fail(uint16_t code, const char* reason);
  Partial& partial();
  // Frees the buffers once neither a frame nor a message is in progress, or a close came.
  void ReleaseIfIdle();

  std::unique_ptr<Partial> partial_;  // null when idle
  const char* error_reason_ = "";     // a string literal
  uint32_t max_message_bytes_;        // 32 bits: fits beside the small fields (4 GB is plenty)
  uint16_t error_code_ = 0;
  Opcode message_opcode_ = kText;
  Phase phase_ = Phase::kIdle;  // kInMessage: fragments of a message are being collected
};

}  // namespace ws
}  // namespace channelstream::gateway
