// //gateway:gateway — the client edge alone (split deployment): /ws, /listen and /disconnect on
// its own HTTP port, fed by the broker at broker_address. Run several against one broker.
#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/grpc_security.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/ops_endpoints.h"
#include "common/process.h"
#include "gateway/gateway.h"

namespace channelstream::gateway {
namespace {

constexpr const char* kNotFound =
    "{\"error\": \"not found: this gateway serves /ws, /listen and /disconnect\"}";

int Run(int argc, char** argv, char** envp) {
  common::Config config = common::LoadConfigOrExit(argc, argv, envp, "gateway");
  common::BlockShutdownSignals();

  absl::StatusOr<std::shared_ptr<grpc::Channel>> broker_channel =
      common::CreateBrokerChannel(config, "grpc_gateway_token");
  if (!broker_channel.ok())
    common::ExitWithStartupError(std::string(broker_channel.status().message()));
  std::shared_ptr<grpc::Channel> channel = *std::move(broker_channel);
  Gateway* gateway_ptr = nullptr;
  absl::StatusOr<std::unique_ptr<common::OpsEndpoints>> ops =
      common::OpsEndpoints::Create(config, [&gateway_ptr] {
        if (gateway_ptr == nullptr || !gateway_ptr->stats().broker_connected)
          return common::Readiness{false, "broker stream not open (broker_address unreachable?)"};
        return common::Readiness{};
      });
  if (!ops.ok()) common::ExitWithStartupError(std::string(ops.status().message()));
  common::HttpServerOptions options = common::HttpServerOptionsFromConfig(config);
  common::HttpServer http_server(options, [&](std::shared_ptr<common::HttpExchange> exchange) {
    if ((*ops)->Handle(exchange)) return;
    if (gateway_ptr != nullptr && gateway_ptr->Handle(exchange)) return;
    exchange->Respond(common::MakeResponse(exchange->request(),
                                           boost::beast::http::status::not_found, kNotFound));
  });
  // Nothing here is signed: every body is read under max_unauthenticated_body_bytes, and other
  // paths are answered 404 from their headers alone.
  http_server.SetHeaderCheck(
      [](const common::HttpRequestHeader& header, const boost::asio::ip::address&) {
        if (Gateway::Serves(header) || common::OpsEndpoints::Serves(header))
          return common::HeaderVerdict::Unauthenticated();
        return common::HeaderVerdict::Refuse(
            common::MakeResponse(header, boost::beast::http::status::not_found, kNotFound));
      });
  (*ops)->Install(http_server);
  Gateway gateway(config, channel, http_server, /*network_channel=*/true);
  gateway_ptr = &gateway;

  absl::Status listening = http_server.Listen();
  if (!listening.ok()) common::ExitWithStartupError(std::string(listening.message()));
  gateway.Start();
  http_server.Start();

  const bool tls = options.tls != nullptr;
  LOG_INFO("channelstream gateway serving on ", tls ? "https://" : "http://", options.host, ":",
           http_server.port(), " (", http_server.loops().size(), " event loops), broker at ",
           config.GetString("broker_address"));
  LOG_INFO("  clients: ", tls ? "wss://" : "ws://", options.host, ":", http_server.port(),
           "/ws?conn_id=...  ", tls ? "https://" : "http://", options.host, ":", http_server.port(),
           "/listen?conn_id=...  /disconnect");

  std::string signal = common::WaitForShutdownSignal([&] { common::ReloadTls(options); });
  LOG_INFO("received ", signal, ", shutting down");
  gateway.Drain();  // clients first take what is queued for them, within drain_timeout
  gateway.Stop();
  http_server.Stop();
  GatewayStats stats = gateway.stats();
  LOG_INFO("stopped (", stats.deliveries, " deliveries, ", stats.frames_queued, " frames queued, ",
           stats.slow_consumer_closes, " slow consumers closed)");
  return 0;
}

}  // namespace
}  // namespace channelstream::gateway

int main(int argc, char** argv, char** envp) {
  return channelstream::gateway::Run(argc, argv, envp);
}
