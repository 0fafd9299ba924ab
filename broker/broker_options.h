// The broker's limits and timings, read once from the config so the state model needs no Config.
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "common/bounded_json.h"
#include "common/config.h"

namespace channelstream::broker {

struct BrokerOptions {
  absl::Duration gc_conns_after = absl::Seconds(30);
  absl::Duration gc_users_after = absl::Hours(24);
  absl::Duration gc_channels_after = absl::Hours(72);
  absl::Duration catchup_max_age = absl::Seconds(60);
  int64_t catchup_frames = 100;
  // Catch-up bytes one attach may send (older frames past it are cut and reported), and the
  // budget of one broker->gateway message (catch-up chunks, delivery batches).
  int64_t max_catchup_bytes = 8 << 20;
  int64_t catchup_chunk_bytes = 1 << 20;
  int64_t max_payload_bytes = 65536;
  int64_t max_channels_per_connection = 1000;
  int64_t max_connections_per_user = 1000;
  int64_t max_history_size = 1000;
  int max_json_depth = common::kDefaultMaxJsonDepth;
  // Info / AdminInfo paging (see InfoRequest in the proto).
  int64_t info_page_size = 1000;
  int64_t info_max_page_size = 10000;
  int64_t info_page_max_bytes = 3 << 20;  // already capped at half of grpc_max_message_bytes

  static BrokerOptions FromConfig(const common::Config& config);
};

}  // namespace channelstream::broker
