// Where BrokerState draws every random id (conn_ids, user and channel uuids, message uuids; soon
// channel and user epochs). Live it draws from the CSPRNG. With durable state on, the draws of one
// call are recorded into its journal record and fed back when the journal is replayed, so the
// replayed state has the very same ids.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/ids.h"

namespace channelstream::broker {

class IdSource {
 public:
  common::Uuid NewUuid();
  std::string NewUuidText() { return NewUuid().ToString(); }
  // A channel history's / user frame log's epoch: a short random name (8 hex digits) from the
  // same recorded stream; it only has to differ from the history it replaces.
  std::string NewEpoch() { return NewUuidText().substr(0, 8); }

  // Recording: every id drawn from now on is also kept, until TakeRecorded().
  void StartRecording();
  std::vector<common::Uuid> TakeRecorded();

  // Replay: the next draws return these, in order (then random ones again).
  void StartReplay(std::vector<common::Uuid> ids);
  // Ends a replay; false when the call drew a different number of ids than were recorded.
  bool FinishReplay();

 private:
  bool recording_ = false;
  std::vector<common::Uuid> recorded_;
  bool replaying_ = false;
  std::vector<common::Uuid> replay_;
  size_t replay_next_ = 0;
  bool replay_overdrawn_ = false;
};

}  // namespace channelstream::broker
