#include "gateway/delivered_marks.h"

#include <algorithm>

namespace channelstream::gateway {

void DeliveredMarks::Note(std::string_view channel, uint64_t offset) {
  if (offset == 0) return;
  for (auto& [name, mark] : marks_) {
    if (name == channel) {
      mark = std::max(mark, offset);
      return;
    }
  }
  marks_.emplace_back(std::string(channel), offset);
}

void DeliveredMarks::Note(const Frame& frame) {
  Note(frame.channel, frame.seq);
  for (const auto& [channel, offset] : frame.list_marks) Note(channel, offset);
}

void DeliveredMarks::Note(const google::protobuf::RepeatedPtrField<v1::ChannelMark>& marks) {
  for (const v1::ChannelMark& mark : marks) Note(mark.channel(), mark.seq());
}

void DeliveredMarks::FillDetach(v1::Detach* detach) const {
  v1::ChannelMarks* delivered = detach->mutable_delivered();  // set even when empty: marks known
  for (const auto& [channel, offset] : marks_) {
    v1::ChannelMark* mark = delivered->add_marks();
    mark->set_channel(channel);
    mark->set_seq(offset);
  }
}

}  // namespace channelstream::gateway
