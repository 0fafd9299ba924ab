// The broker's limits and timings, read once from the config so the state model needs no Config.
#pragma once

#include <cstdint>

#include "absl/time/time.h"
#include "common/config.h"

namespace channelstream::broker {

// No member has an initializer of its own: a default-constructed BrokerOptions is the config key
// table's defaults (common/config_keys.cc) read through FromConfig, so the defaults are written
// once and cannot drift from what --help and make_config show.
struct BrokerOptions {
  BrokerOptions();
  static BrokerOptions FromConfig(const common::Config& config);

  absl::Duration gc_conns_after;
  absl::Duration gc_users_after;
  absl::Duration gc_channels_after;
  absl::Duration catchup_max_age;
  int64_t catchup_frames;
  // Catch-up bytes one attach may send (older frames past it are cut and reported), and the
  // budget of one broker->gateway message (catch-up chunks, delivery batches).
  int64_t max_catchup_bytes;
  int64_t catchup_chunk_bytes;
  int64_t max_payload_bytes;
  int64_t max_channels_per_connection;
  int64_t max_connections_per_user;
  int64_t max_history_size;
  int max_json_depth;
  // Info / AdminInfo paging (see InfoRequest in the proto).
  int64_t info_page_size;
  int64_t info_max_page_size;
  int64_t info_page_max_bytes;  // already capped at half of grpc_max_message_bytes

 private:
  explicit BrokerOptions(const common::Config& config);
};

}  // namespace channelstream::broker
