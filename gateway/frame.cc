#include "gateway/frame.h"

#include "gateway/ws_codec.h"

namespace channelstream::gateway {

FramePtr MakeDeliveryFrame(std::string_view payload_json,
                           google::protobuf::RepeatedField<uint64_t>* handles, std::string channel,
                           uint64_t seq, bool catchup) {
  auto frame = std::make_shared<Frame>();
  const size_t list_size = payload_json.size() + 2;
  uint8_t header[ws::kMaxServerHeaderBytes];
  const size_t header_size = ws::WriteServerHeader(ws::kText, list_size, header);
  frame->bytes.reserve(header_size + list_size);
  frame->bytes.append(reinterpret_cast<const char*>(header), header_size);
  frame->bytes.push_back('[');
  frame->bytes.append(payload_json);
  frame->bytes.push_back(']');
  frame->payload_offset = header_size + 1;
  frame->payload_size = payload_json.size();
  if (handles != nullptr) frame->handles.Swap(handles);
  frame->channel = std::move(channel);
  frame->seq = seq;
  frame->catchup = catchup;
  return frame;
}

FramePtr MakeRawFrame(std::string bytes) {
  auto frame = std::make_shared<Frame>();
  frame->bytes = std::move(bytes);
  return frame;
}

}  // namespace channelstream::gateway
