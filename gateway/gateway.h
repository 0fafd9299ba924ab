// The client edge: /ws (WebSocket), /listen (long poll) and /disconnect, served on an
// HttpServer's event loops and fed by one GatewayStream to the broker. Each delivery is framed
// once and the same immutable buffer is queued to every local recipient (see shard.h).
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "channelstream.grpc.pb.h"
#include "common/config.h"
#include "common/http_server.h"
#include "common/metrics.h"

namespace channelstream::gateway {

class BrokerLink;
class Shard;
struct GatewaySettings;

struct GatewayStats {
  uint64_t deliveries = 0;            // Delivery messages processed (summed over loops)
  uint64_t frames_queued = 0;         // frames queued to WebSocket clients
  uint64_t slow_consumer_closes = 0;  // clients closed for exceeding the queue limit
  uint64_t websockets = 0;            // open WebSocket sessions
  uint64_t long_polls = 0;            // long polls waiting
  uint64_t bytes_out = 0;             // bytes written to clients
  bool broker_connected = false;
};

class Gateway {
 public:
  // `network_channel`: broker_channel comes from CreateBrokerChannel (split gateway), not from
  // an in-process server (all-in-one, tests); see BrokerLink.
  Gateway(const common::Config& config, std::shared_ptr<grpc::Channel> broker_channel,
          common::HttpServer& server, bool network_channel = false);
  ~Gateway();

  // Opens the GatewayStream (reopened every broker_reconnect_delay while down) and starts the
  // per-loop timers. Call after server.Listen() (the port names the gateway in logs).
  void Start();
  // Graceful stop (SIGTERM), within drain_timeout: closes the listener, lets every client take
  // what is queued for it (WebSockets then get close 1001, long polls their answer), then ends
  // the broker stream once the broker has every detach. Call Stop() afterwards: it closes any
  // client still open hard.
  void Drain();
  // Closes every client and the broker stream. Call before server.Stop().
  void Stop();

  // True if the path is /ws, /listen or /disconnect and the gateway took the exchange.
  bool Handle(const std::shared_ptr<common::HttpExchange>& exchange);
  // True if the request is for /ws, /listen or /disconnect. Their bodies are read without
  // authentication (clients present only a conn_id), under max_unauthenticated_body_bytes.
  static bool Serves(const common::HttpRequestHeader& header);

  GatewayStats stats() const;

 private:
  void RegisterMetrics();
  void OnBrokerMessage(v1::GatewayDown* message);
  void OnDelivery(v1::Delivery* delivery);
  void OnStreamLost(uint64_t generation);
  uint64_t OpenClients() const;
  Shard* ShardFor(const common::HttpExchange& exchange) const;
  uint64_t NextHandle(size_t shard_index);
  // Access-Control-Allow-Origin for this request ("" for none).
  std::string CorsOrigin(const common::HttpRequest& request) const;

  // `since`: the positions the client presented (empty: resume after the broker's marks).
  void HandleWebSocket(const std::shared_ptr<common::HttpExchange>& exchange,
                       const std::string* conn_id,
                       google::protobuf::RepeatedPtrField<v1::Position> since);
  void HandleListen(const std::shared_ptr<common::HttpExchange>& exchange,
                    const std::string* conn_id, const std::string* callback,
                    google::protobuf::RepeatedPtrField<v1::Position> since);
  void HandleDisconnect(const std::shared_ptr<common::HttpExchange>& exchange,
                        const std::string* query_conn_id);
  void RespondJson(const std::shared_ptr<common::HttpExchange>& exchange,
                   boost::beast::http::status status, std::string body) const;

  std::string host_;
  std::string configured_id_;
  std::shared_ptr<const GatewaySettings> settings_;
  common::HttpServer& server_;
  std::unique_ptr<v1::Broker::Stub> stub_;  // unary calls (Disconnect)
  std::shared_ptr<BrokerLink> link_;
  std::vector<std::shared_ptr<Shard>> shards_;
  std::atomic<uint64_t> next_handle_{1};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> draining_{false};
  // Last: removed from the registry before the shards they read go away.
  std::vector<common::CallbackHandle> metric_callbacks_;
};

// The default gateway_id: this machine's hostname and the port, unique across machines (the
// bind address 0.0.0.0 would name every gateway alike). Falls back to `host` without a hostname.
std::string DefaultGatewayId(const std::string& host, int port);

}  // namespace channelstream::gateway
