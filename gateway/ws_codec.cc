#include "gateway/ws_codec.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <cstring>

#include "gateway/utf8.h"

namespace channelstream::gateway {
namespace ws {

bool IsValidCloseCode(uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

size_t ServerHeaderSize(size_t payload_size) {
  if (payload_size < 126) return 2;
  if (payload_size <= 0xFFFF) return 4;
  return 10;
}

size_t WriteServerHeader(Opcode opcode, size_t payload_size, uint8_t* out) {
  out[0] = static_cast<uint8_t>(0x80 | opcode);
  if (payload_size < 126) {
    out[1] = static_cast<uint8_t>(payload_size);
    return 2;
  }
  if (payload_size <= 0xFFFF) {
    out[1] = 126;
    out[2] = static_cast<uint8_t>(payload_size >> 8);
    out[3] = static_cast<uint8_t>(payload_size);
    return 4;
  }
  out[1] = 127;
  for (int i = 0; i < 8; ++i)
    out[2 + i] = static_cast<uint8_t>(uint64_t{payload_size} >> (56 - 8 * i));
  return 10;
}

std::string ServerFrame(Opcode opcode, std::string_view payload) {
  uint8_t header[kMaxServerHeaderBytes];
  size_t header_size = WriteServerHeader(opcode, payload.size(), header);
  std::string frame;
  frame.reserve(header_size + payload.size());
  frame.append(reinterpret_cast<const char*>(header), header_size);
  frame.append(payload);
  return frame;
}

std::string JsonListFrame(const std::vector<std::string_view>& parts, size_t* payload_offset) {
  size_t payload_size = 2 + (parts.empty() ? 0 : parts.size() - 1);
  for (std::string_view part : parts) payload_size += part.size();
  uint8_t header[kMaxServerHeaderBytes];
  size_t header_size = WriteServerHeader(kText, payload_size, header);
  std::string frame;
  frame.reserve(header_size + payload_size);
  frame.append(reinterpret_cast<const char*>(header), header_size);
  frame.push_back('[');
  if (payload_offset != nullptr) *payload_offset = frame.size();
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) frame.push_back(',');
    frame.append(parts[i]);
  }
  frame.push_back(']');
  return frame;
}

std::string CloseFrame(uint16_t code, std::string_view reason) {
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason.substr(0, 123));  // control frames carry at most 125 bytes
  return ServerFrame(kClose, payload);
}

std::string ClientFrame(Opcode opcode, std::string_view payload, bool fin, uint32_t mask_key) {
  std::string frame;
  frame.push_back(static_cast<char>((fin ? 0x80 : 0) | opcode));
  if (payload.size() < 126) {
    frame.push_back(static_cast<char>(0x80 | payload.size()));
  } else if (payload.size() <= 0xFFFF) {
    frame.push_back(static_cast<char>(0x80 | 126));
    frame.push_back(static_cast<char>(payload.size() >> 8));
    frame.push_back(static_cast<char>(payload.size() & 0xFF));
  } else {
    frame.push_back(static_cast<char>(0x80 | 127));
    for (int i = 0; i < 8; ++i)
      frame.push_back(static_cast<char>(uint64_t{payload.size()} >> (56 - 8 * i)));
  }
  uint8_t mask[4] = {static_cast<uint8_t>(mask_key >> 24), static_cast<uint8_t>(mask_key >> 16),
                     static_cast<uint8_t>(mask_key >> 8), static_cast<uint8_t>(mask_key)};
  frame.append(reinterpret_cast<const char*>(mask), 4);
  for (size_t i = 0; i < payload.size(); ++i)
    frame.push_back(static_cast<char>(payload[i] ^ mask[i % 4]));
  return frame;
}

std::string AcceptKey(std::string_view client_key) {
  static constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  std::string input(client_key);
  input.append(kGuid);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  unsigned char encoded[4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1];
  int length = EVP_EncodeBlock(encoded, digest, SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded), static_cast<size_t>(length));
}

struct FrameParser::Partial {
  std::string pending;  // unconsumed bytes of an incomplete frame
  std::string message;  // fragments of a message in progress
  Utf8Validator utf8;   // a text message in progress: the fragments so far
};

FrameParser::FrameParser(size_t max_message_bytes)
    : max_message_bytes_(static_cast<uint32_t>(std::min<size_t>(max_message_bytes, UINT32_MAX))) {}

FrameParser::~FrameParser() = default;

bool FrameParser::Fail(uint16_t code, const char* reason) {
  error_code_ = code;
  error_reason_ = reason;
  partial_.reset();
  phase_ = Phase::kIdle;
  return false;
}

FrameParser::Partial& FrameParser::partial() {
  if (!partial_) partial_ = std::make_unique<Partial>();
  return *partial_;
}

void FrameParser::ReleaseIfIdle() {
  if (!partial_) return;
  // After the close frame nothing more is parsed: drop what was buffered (a message cut short
  // by the close, bytes that followed it).
  if (phase_ == Phase::kClosed || (partial_->pending.empty() && phase_ == Phase::kIdle))
    partial_.reset();
}

bool FrameParser::Feed(const uint8_t* data, size_t size, std::vector<ClientEvent>* events) {
  if (failed()) return false;
  if (close_received()) return true;  // the client's last frame came: the rest is ignored
  if (!partial_ || partial_->pending.empty()) {
    // Common case: parse straight from the caller's buffer; keep only an incomplete tail.
    size_t offset = 0;
    while (offset < size && !close_received()) {
      size_t used = ParseFrame(data + offset, size - offset, events);
      if (failed()) return false;
      if (used == 0) break;
      offset += used;
    }
    if (offset < size && !close_received())
      partial().pending.assign(reinterpret_cast<const char*>(data + offset), size - offset);
    ReleaseIfIdle();
    return true;
  }
  std::string& pending = partial_->pending;
  pending.append(reinterpret_cast<const char*>(data), size);
  size_t offset = 0;
  while (offset < pending.size() && !close_received()) {
    size_t used = ParseFrame(reinterpret_cast<const uint8_t*>(pending.data()) + offset,
                             pending.size() - offset, events);
    if (failed()) return false;
    if (used == 0) break;
    offset += used;
  }
  if (close_received()) {
    ReleaseIfIdle();  // frees `pending` too
  } else if (offset == pending.size()) {
    std::string().swap(pending);
    ReleaseIfIdle();  // idle again: hold no memory
  } else {
    pending.erase(0, offset);
  }
  return true;
}

size_t FrameParser::ParseFrame(const uint8_t* data, size_t size, std::vector<ClientEvent>* events) {
  if (size < 2) return 0;
  const bool fin = (data[0] & 0x80) != 0;
  const uint8_t rsv = data[0] & 0x70;
  const auto opcode = static_cast<Opcode>(data[0] & 0x0F);
  const bool masked = (data[1] & 0x80) != 0;
  uint64_t length = data[1] & 0x7F;
  size_t header = 2;
  if (rsv != 0) return Fail(kProtocolError, "reserved bits set"), 0;
  if (!masked) return Fail(kProtocolError, "client frames must be masked"), 0;
  const bool control = (opcode & 0x8) != 0;
  if (opcode != kContinuation && opcode != kText && opcode != kBinary && opcode != kClose &&
      opcode != kPing && opcode != kPong) {
    return Fail(kProtocolError, "unknown opcode"), 0;
  }
  if (control && (!fin || length > 125)) return Fail(kProtocolError, "bad control frame"), 0;
  if (length == 126) {
    if (size < 4) return 0;
    length = (uint64_t{data[2]} << 8) | data[3];
    header = 4;
  } else if (length == 127) {
    if (size < 10) return 0;
    length = 0;
    for (int i = 0; i < 8; ++i) length = (length << 8) | data[2 + i];
    header = 10;
    // RFC 6455 5.2: the most significant bit must be 0. Refusing it also keeps every sum below
    // far from overflowing.
    if (length >> 63) return Fail(kProtocolError, "64-bit length with the high bit set"), 0;
  }
  // Check the limit before waiting for the bytes, so an oversized frame is refused at once.
  const uint64_t message_so_far =
      (opcode == kContinuation && partial_) ? partial_->message.size() : 0;
  // Subtract rather than add: a length near 2^63 plus the message so far must not wrap.
  if (!control &&
      (message_so_far > max_message_bytes_ || length > max_message_bytes_ - message_so_far))
    return Fail(kMessageTooBig, "message too big"), 0;
  const bool in_message = phase_ == Phase::kInMessage;
  if (opcode == kContinuation && !in_message)
    return Fail(kProtocolError, "unexpected continuation"), 0;
  if ((opcode == kText || opcode == kBinary) && in_message)
    return Fail(kProtocolError, "new message inside a fragmented one"), 0;
  if (size < header + 4 + length) return 0;
  const uint8_t* mask = data + header;
  const uint8_t* payload = mask + 4;
  std::string unmasked(static_cast<size_t>(length), '\0');
  for (size_t i = 0; i < length; ++i) unmasked[i] = static_cast<char>(payload[i] ^ mask[i % 4]);
  const size_t used = header + 4 + static_cast<size_t>(length);

  if (control) {
    ClientEvent event;
    if (opcode == kClose) {
      event.kind = ClientEvent::kClose;
      if (length == 1) return Fail(kProtocolError, "close frame with a 1-byte payload"), 0;
      if (length >= 2) {
        event.close_code = static_cast<uint16_t>((static_cast<uint8_t>(unmasked[0]) << 8) |
                                                 static_cast<uint8_t>(unmasked[1]));
        if (!IsValidCloseCode(event.close_code))
          return Fail(kProtocolError, "invalid close code"), 0;
        event.payload = unmasked.substr(2);
        if (!IsValidUtf8(event.payload))
          return Fail(kInvalidPayload, "close reason is not valid UTF-8"), 0;
      } else {
        event.close_code = kNoStatus;
      }
      // The client's last frame: a message it left unfinished is dropped, and Feed stops here
      // (the buffers are released there: `data` may point into them).
      phase_ = Phase::kClosed;
    } else {
      event.kind = opcode == kPing ? ClientEvent::kPing : ClientEvent::kPong;
      event.payload = std::move(unmasked);
    }
    events->push_back(std::move(event));
    return used;
  }
  if (opcode != kContinuation) {
    message_opcode_ = opcode;
    if (fin) {
      if (opcode == kText && !IsValidUtf8(unmasked))
        return Fail(kInvalidPayload, "text is not valid UTF-8"), 0;
      events->push_back(ClientEvent{opcode == kText ? ClientEvent::kText : ClientEvent::kBinary,
                                    std::move(unmasked), 0});
      return used;
    }
    Partial& state = partial();
    if (opcode == kText) {
      state.utf8.Reset();
      if (!state.utf8.Write(unmasked)) return Fail(kInvalidPayload, "text is not valid UTF-8"), 0;
    }
    phase_ = Phase::kInMessage;
    state.message = std::move(unmasked);
    return used;
  }
  Partial& state = partial();
  // Each fragment is checked as it comes (fail fast), and the end must not cut a sequence.
  if (message_opcode_ == kText && (!state.utf8.Write(unmasked) || (fin && !state.utf8.Finish())))
    return Fail(kInvalidPayload, "text is not valid UTF-8"), 0;
  std::string& message = state.message;
  message.append(unmasked);
  if (fin) {
    events->push_back(
        ClientEvent{message_opcode_ == kText ? ClientEvent::kText : ClientEvent::kBinary,
                    std::move(message), 0});
    std::string().swap(message);
    phase_ = Phase::kIdle;  // Feed releases the buffers once the pending bytes are consumed too
  }
  return used;
}

}  // namespace ws
}  // namespace channelstream::gateway
