#include "gateway/settings.h"

#include <algorithm>

#include "gateway/ws_codec.h"

namespace channelstream::gateway {

GatewaySettings::GatewaySettings() : GatewaySettings(common::Config()) {}

GatewaySettings GatewaySettings::FromConfig(const common::Config& config) {
  return GatewaySettings(config);
}

GatewaySettings::GatewaySettings(const common::Config& config)
    : heartbeat_interval(config.GetDouble("heartbeat_interval")),
      ws_ping_interval(config.GetDouble("ws_ping_interval")),
      client_timeout(config.GetDouble("client_timeout")),
      wake_connections_after(config.GetDouble("wake_connections_after")),
      long_poll_gather(config.GetDouble("long_poll_gather")),
      write_delay(config.GetDouble("write_delay")),
      broker_reconnect_delay(config.GetDouble("broker_reconnect_delay")),
      rpc_timeout(config.GetDouble("rpc_timeout")),
      drain_timeout(config.GetDouble("drain_timeout")),
      max_queue_bytes(
          static_cast<size_t>(std::max<long long>(1, config.GetInt("max_queue_bytes")))),
      max_queue_messages(
          static_cast<size_t>(std::max<long long>(1, config.GetInt("max_queue_messages")))),
      max_client_message_bytes(
          static_cast<size_t>(std::max<long long>(125, config.GetInt("max_client_message_bytes")))),
      max_json_depth(static_cast<int>(config.GetInt("max_json_depth"))),
      allowed_origins(config.GetList("allowed_origins")),
      allow_cors(config.GetList("allow_cors")),
      heartbeat_frame(MakeRawFrame(ws::ServerFrame(ws::kText, "[]"))),
      ping_frame(MakeRawFrame(ws::ServerFrame(ws::kPing, ""))) {}

double GatewaySettings::tick_seconds() const {
  double tick = 1.0;
  if (heartbeat_interval > 0) tick = std::min(tick, heartbeat_interval);
  if (ws_ping_interval > 0) tick = std::min(tick, ws_ping_interval);
  if (client_timeout > 0) tick = std::min(tick, client_timeout / 4);
  return std::max(tick, 0.01);
}

}  // namespace channelstream::gateway
