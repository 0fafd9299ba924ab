// What one client session has delivered, per stream: the offsets its Detach reports to the
// broker, so frames that were queued or still in flight when the session ended stay due and come
// back as catch-up (and nothing the client got comes back twice). Usually one or two streams:
// a flat vector, empty (no heap) until the first sequenced frame.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "channelstream.pb.h"
#include "gateway/frame.h"

namespace channelstream::gateway {

class DeliveredMarks {
 public:
  // `channel` empty: the private stream. Offsets only grow.
  void Note(std::string_view channel, uint64_t offset);
  // A frame the client now has: its own offset, or those of a catch-up list.
  void Note(const Frame& frame);
  void Note(const google::protobuf::RepeatedPtrField<v1::ChannelMark>& marks);
  // Marks the detach as carrying marks and lists them.
  void FillDetach(v1::Detach* detach) const;

 private:
  std::vector<std::pair<std::string, uint64_t>> marks_;
};

}  // namespace channelstream::gateway
