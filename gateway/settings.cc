#include "gateway/settings.h"

#include <algorithm>

#include "gateway/ws_codec.h"

namespace channelstream::gateway {

GatewaySettings GatewaySettings::FromConfig(const common::Config& config) {
  GatewaySettings s;
  s.heartbeat_interval = config.GetDouble("heartbeat_interval");
  s.ws_ping_interval = config.GetDouble("ws_ping_interval");
  s.client_timeout = config.GetDouble("client_timeout");
  s.wake_connections_after = config.GetDouble("wake_connections_after");
  s.long_poll_gather = config.GetDouble("long_poll_gather");
  s.write_delay = config.GetDouble("write_delay");
  s.broker_reconnect_delay = config.GetDouble("broker_reconnect_delay");
  s.rpc_timeout = config.GetDouble("rpc_timeout");
  s.drain_timeout = config.GetDouble("drain_timeout");
  s.max_queue_bytes = static_cast<size_t>(std::max<long long>(1, config.GetInt("max_queue_bytes")));
  s.max_queue_messages = static_cast<size_t>(std::max<long long>(1, config.GetInt("max_queue_messages")));
  s.max_json_depth = static_cast<int>(config.GetInt("max_json_depth"));
  s.max_client_message_bytes =
      static_cast<size_t>(std::max<long long>(125, config.GetInt("max_client_message_bytes")));
  s.allowed_origins = config.GetList("allowed_origins");
  s.allow_cors = config.GetList("allow_cors");
  s.heartbeat_frame = MakeRawFrame(ws::ServerFrame(ws::kText, "[]"));
  s.ping_frame = MakeRawFrame(ws::ServerFrame(ws::kPing, ""));
  return s;
}

double GatewaySettings::tick_seconds() const {
  double tick = 1.0;
  if (heartbeat_interval > 0) tick = std::min(tick, heartbeat_interval);
  if (ws_ping_interval > 0) tick = std::min(tick, ws_ping_interval);
  if (client_timeout > 0) tick = std::min(tick, client_timeout / 4);
  return std::max(tick, 0.01);
}

}  // namespace channelstream::gateway
