// Positions and catch-up: what a connection gets when a client attaches. Every stream (a channel,
// or the user's private messages) numbers its events 1, 2, 3... (the offset) within an epoch; a
// client resumes "after offset N of epoch E". The planner turns the connection's streams into the
// frames it missed, oldest first, and says explicitly where that is impossible
// (`recovery_failed`): the epoch changed, the window of kept frames moved past the position, or
// the per-attach byte budget cut the oldest frames. Pure functions over the records.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "broker/records.h"

namespace channelstream::broker {

// `encoded_object` (a serialized JSON object) with the position keys "epoch" and "offset" added
// at its end, without parsing it again.
std::string WithPosition(std::string_view encoded_object, std::string_view epoch, uint64_t offset);
// The same in place, for a string this code still owns.
void AppendPosition(std::string* encoded_object, std::string_view epoch, uint64_t offset);

// One stream of a connection, as the planner reads it.
struct CatchupStream {
  std::string channel;                 // empty: the user's private messages
  const CatchupLog* frames = nullptr;  // may be null (nothing kept)
  std::string epoch;                   // the stream's current epoch
  uint64_t offset = 0;                 // its last event
  uint64_t trimmed_through = 0;        // events up to here are no longer recoverable
  uint64_t resume_after = 0;           // the connection's mark: what the client has
  // Set when the client presented a position for this stream: it replaces resume_after when
  // its epoch is the current one, otherwise recovery failed (epoch_changed).
  bool presented = false;
  uint64_t presented_offset = 0;
  std::string presented_epoch;
};

struct CatchupPlan {
  // Client-visible objects, in delivery order: recovery_failed objects first, then the frames
  // by time. Each carries "catchup": true and its position keys.
  std::vector<std::string> items;
  // Per item: the index of its stream and the offset it brings the client to (what a gateway
  // reports as delivered once it has written the item).
  std::vector<std::pair<int, uint64_t>> item_marks;
  std::vector<uint64_t> resume_after;  // per stream: the mark the attach starts from
  size_t bytes = 0;
  size_t failures = 0;
};

// `user` filters channel frames (only_users / exclude_users). `max_bytes` bounds the sum of the
// items' sizes; past it the oldest frames are cut and reported.
CatchupPlan PlanCatchup(const std::vector<CatchupStream>& streams, const std::string& user,
                        size_t max_bytes);

}  // namespace channelstream::broker
