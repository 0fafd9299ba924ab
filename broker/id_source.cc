#include "broker/id_source.h"

#include <utility>

namespace channelstream::broker {

common::Uuid IdSource::NewUuid() {
  common::Uuid id;
  if (replaying_ && replay_next_ < replay_.size()) {
    id = replay_[replay_next_++];
  } else {
    if (replaying_) replay_overdrawn_ = true;
    id = common::Uuid::Random();
  }
  if (recording_) recorded_.push_back(id);
  return id;
}

void IdSource::StartRecording() {
  recording_ = true;
  recorded_.clear();
}

std::vector<common::Uuid> IdSource::TakeRecorded() {
  recording_ = false;
  return std::move(recorded_);
}

void IdSource::StartReplay(std::vector<common::Uuid> ids) {
  replaying_ = true;
  replay_ = std::move(ids);
  replay_next_ = 0;
  replay_overdrawn_ = false;
}

bool IdSource::FinishReplay() {
  const bool exact = !replay_overdrawn_ && replay_next_ == replay_.size();
  replaying_ = false;
  replay_.clear();
  replay_next_ = 0;
  return exact;
}

}  // namespace channelstream::broker
