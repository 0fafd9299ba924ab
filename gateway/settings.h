// The gateway's configuration, read once from Config, plus the frames every client shares.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/config.h"
#include "gateway/frame.h"

namespace channelstream::gateway {

struct GatewaySettings {
  double heartbeat_interval = 5;
  double ws_ping_interval = 20;
  double client_timeout = 60;
  double wake_connections_after = 5;
  double long_poll_gather = 0.25;
  double write_delay = 0.01;  // coalescing window for deliveries (see Shard::Push)
  double broker_reconnect_delay = 1;
  double rpc_timeout = 10;
  double drain_timeout = 5;  // SIGTERM: how long clients get to take what is queued (Gateway::Drain)
  size_t max_queue_bytes = 4 << 20;
  size_t max_queue_messages = 10000;
  size_t max_client_message_bytes = 65536;
  int max_json_depth = 64;  // /disconnect bodies
  std::vector<std::string> allowed_origins;  // WebSocket Origin allowlist (empty: any)
  std::vector<std::string> allow_cors;       // CORS origins (empty: *)

  FramePtr heartbeat_frame;  // the text frame "[]"
  FramePtr ping_frame;       // a protocol ping

  static GatewaySettings FromConfig(const common::Config& config);
  // How often each loop checks heartbeats, pings and timeouts.
  double tick_seconds() const;
};

}  // namespace channelstream::gateway
