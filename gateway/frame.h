// The unit of encode-once fan-out: one delivery's bytes, framed once, shared read-only by every
// recipient on every event loop.
#pragma once

#include <google/protobuf/repeated_field.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace channelstream::gateway {

struct Frame {
  // The whole WebSocket text frame: header + "[" + payload + "]". Server frames are unmasked,
  // so the same bytes go to every WebSocket recipient.
  std::string bytes;
  // The client-visible JSON object inside the list (what long polls gather).
  size_t payload_offset = 0;
  size_t payload_size = 0;
  // Recipient handles (the broker's packed list, moved in without copying).
  google::protobuf::RepeatedField<uint64_t> handles;
  // The stream and the offset this frame brings the client to (channel empty: its private
  // messages; seq 0: not sequenced): sessions report what they delivered when they detach.
  std::string channel;
  uint64_t seq = 0;
  // Catch-up the broker sent past its AttachResult: exempt from the slow-consumer limit (the
  // broker bounds it by max_catchup_bytes).
  bool catchup = false;
  // A catch-up list frame: the offset per stream it brings the client to.
  std::vector<std::pair<std::string, uint64_t>> list_marks;

  std::string_view payload() const {
    return std::string_view(bytes).substr(payload_offset, payload_size);
  }
};

using FramePtr = std::shared_ptr<const Frame>;

// Frames a delivery: one allocation for the bytes, none per recipient.
FramePtr MakeDeliveryFrame(std::string_view payload_json,
                           google::protobuf::RepeatedField<uint64_t>* handles,
                           std::string channel = "", uint64_t seq = 0, bool catchup = false);
// A frame of raw bytes (handshake response, control frames, catch-up lists).
FramePtr MakeRawFrame(std::string bytes);

}  // namespace channelstream::gateway
