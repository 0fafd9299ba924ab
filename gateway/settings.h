// The gateway's configuration, read once from Config, plus the frames every client shares.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/config.h"
#include "gateway/frame.h"

namespace channelstream::gateway {

// No member has an initializer of its own: a default-constructed GatewaySettings is the config
// key table's defaults (common/config_keys.cc) read through FromConfig, so the defaults are
// written once and cannot drift from what --help and make_config show.
struct GatewaySettings {
  GatewaySettings();
  static GatewaySettings FromConfig(const common::Config& config);

  double heartbeat_interval;
  double ws_ping_interval;
  double client_timeout;
  double wake_connections_after;
  double long_poll_gather;
  double write_delay;  // coalescing window for deliveries (see Shard::Push)
  double broker_reconnect_delay;
  double rpc_timeout;
  double drain_timeout;  // SIGTERM: how long clients get to take what is queued (Gateway::Drain)
  size_t max_queue_bytes;
  size_t max_queue_messages;
  size_t max_client_message_bytes;
  int max_json_depth;                        // /disconnect bodies
  std::vector<std::string> allowed_origins;  // WebSocket Origin allowlist (empty: any)
  std::vector<std::string> allow_cors;       // CORS origins (empty: *)

  FramePtr heartbeat_frame;  // the text frame "[]"
  FramePtr ping_frame;       // a protocol ping

  // How often each loop checks heartbeats, pings and timeouts.
  double tick_seconds() const;

 private:
  explicit GatewaySettings(const common::Config& config);
};

}  // namespace channelstream::gateway
