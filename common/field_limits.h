// Bounds of the 0.7 request schema that are not configurable: checked by the REST adapter's
// readers (0.7's 422 answers), repeated by the broker for gRPC clients, published in
// /openapi.json. The configurable limits are keys of the table in common/config_keys.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"

namespace channelstream::common {

inline constexpr size_t kMaxUsernameLength = 512;     // username / user, in characters
inline constexpr size_t kMaxChannelNameLength = 256;  // a channel name, in characters
inline constexpr size_t kMaxLongNameLength = 4096;    // a channel's long_name, in bytes
inline constexpr size_t kMaxEpochLength = 64;         // a position's epoch (ours are 8 characters)
// history_size a channel_config request may name at all (the broker's max_history_size is lower).
inline constexpr int64_t kMaxRequestedHistorySize = 1000000;

// marshmallow's Length(min, max) message.
inline std::string LengthBetweenMessage(size_t min_length, size_t max_length) {
  return absl::StrCat("Length must be between ", min_length, " and ", max_length, ".");
}

}  // namespace channelstream::common
