// The unit of encode-once fan-out: one delivery's bytes, framed once, shared read-only by every
// recipient on every event loop.
#pragma once

#include <google/protobuf/repeated_field.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace channelstream {

struct Frame {
  // The whole WebSocket text frame: header + "[" + payload + "]". Server frames are unmasked,
  // so the same bytes go to every WebSocket recipient.
  std::string bytes;
  // The client-visible JSON object inside the list (what long polls gather).
  size_t payload_offset = 0;
  size_t payload_size = 0;
  // Recipient handles (the broker's packed list, moved in without copying).
  google::protobuf::RepeatedField<uint64_t> handles;
  // The channel and its sequence number (empty / 0 for private messages): long polls report
  // what they delivered when they detach.
  std::string channel;
  uint64_t seq = 0;

  std::string_view payload() const { return std::string_view(bytes).substr(payload_offset, payload_size); }
};

using FramePtr = std::shared_ptr<const Frame>;

// Frames a delivery: one allocation for the bytes, none per recipient.
FramePtr MakeDeliveryFrame(std::string_view payload_json,
                           google::protobuf::RepeatedField<uint64_t>* handles,
                           std::string channel = "", uint64_t seq = 0);
// A frame of raw bytes (handshake response, control frames, catch-up lists).
FramePtr MakeRawFrame(std::string bytes);

}  // namespace channelstream
