#include "broker/broker_options.h"

#include <algorithm>

namespace channelstream::broker {

BrokerOptions::BrokerOptions() : BrokerOptions(common::Config()) {}

BrokerOptions BrokerOptions::FromConfig(const common::Config& config) {
  return BrokerOptions(config);
}

BrokerOptions::BrokerOptions(const common::Config& config)
    : gc_conns_after(absl::Seconds(config.GetDouble("gc_conns_after"))),
      gc_users_after(absl::Seconds(config.GetDouble("gc_users_after"))),
      gc_channels_after(absl::Seconds(config.GetDouble("gc_channels_after"))),
      catchup_max_age(absl::Seconds(config.GetDouble("catchup_max_age"))),
      catchup_frames(config.GetInt("catchup_frames")),
      max_catchup_bytes(config.GetInt("max_catchup_bytes")),
      // One stream message must stay far below the transport's limit, whatever the key says.
      catchup_chunk_bytes(
          std::max<int64_t>(4096, std::min(config.GetInt("catchup_chunk_bytes"),
                                           config.GetInt("grpc_max_message_bytes") / 4))),
      max_payload_bytes(config.GetInt("max_payload_bytes")),
      max_channels_per_connection(config.GetInt("max_channels_per_connection")),
      max_connections_per_user(config.GetInt("max_connections_per_user")),
      max_history_size(config.GetInt("max_history_size")),
      max_json_depth(static_cast<int>(config.GetInt("max_json_depth"))),
      info_page_size(std::max<int64_t>(1, config.GetInt("info_page_size"))),
      info_max_page_size(config.GetInt("info_max_page_size")),
      // Half the message limit leaves room for the counts and for protobuf's framing.
      info_page_max_bytes(std::min(config.GetInt("info_page_max_bytes"),
                                   config.GetInt("grpc_max_message_bytes") / 2)) {}

}  // namespace channelstream::broker
