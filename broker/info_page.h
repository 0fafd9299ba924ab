// One page of an Info / AdminInfo listing: the cursor it starts after, and the two bounds that
// end it (an entry count and a byte budget). The listing order and the cursor format are
// documented at InfoRequest in proto/channelstream.proto.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "broker/broker_options.h"

namespace channelstream::broker {

// Where a page starts: after `after` in the channels section, or in the users section.
struct PageCursor {
  enum class Section { kChannels, kUsers };
  Section section = Section::kChannels;
  std::string after;  // empty: from the section's first entry

  // INVALID_ARGUMENT "cursor: ..." unless empty, "c:<name>" or "u:<name>".
  static absl::StatusOr<PageCursor> Parse(const std::string& cursor);
  static std::string AfterChannel(const std::string& name) { return "c:" + name; }
  static std::string AfterUser(const std::string& name) { return "u:" + name; }
};

// Protobuf's framing around one repeated entry (tag, length varint): an upper bound.
constexpr size_t kEntryOverheadBytes = 6;

class InfoPage {
 public:
  // INVALID_ARGUMENT "limit: ..." when the requested limit is negative or above
  // info_max_page_size; 0 means info_page_size.
  static absl::StatusOr<InfoPage> Start(int32_t requested_limit, const BrokerOptions& options);

  // False once the page holds `limit` entries (checked before filling the next one).
  bool HasRoomForAnother() const { return entries_ < limit_; }
  // For an entry of `bytes` just filled in: true keeps it; false means it would pass the byte
  // budget, so the caller drops it and ends the page. The first entry is always kept (the
  // caller has cut its lists to max_bytes()), so every page makes progress.
  bool Accept(size_t bytes);
  size_t max_bytes() const { return max_bytes_; }

 private:
  InfoPage(int64_t limit, size_t max_bytes) : limit_(limit), max_bytes_(max_bytes) {}

  int64_t limit_;
  size_t max_bytes_;
  int64_t entries_ = 0;
  size_t bytes_ = 0;
};

}  // namespace channelstream::broker
