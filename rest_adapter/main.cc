// //rest_adapter:rest_adapter — the signed 0.7 REST API, admin panel and API explorer alone
// (split deployment), turning each request into gRPC calls to the broker at broker_address.
#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "common/config.h"
#include "common/grpc_security.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/ops_endpoints.h"
#include "common/process.h"
#include "rest_adapter/broker_channel_keeper.h"
#include "rest_adapter/broker_readiness.h"
#include "rest_adapter/rest_adapter.h"

namespace channelstream::rest {
namespace {

int Run(int argc, char** argv, char** envp) {
  common::Config config = common::LoadConfigOrExit(argc, argv, envp, "rest_adapter");
  common::BlockShutdownSignals();
  common::WarnAboutDefaultSecrets(config);

  absl::StatusOr<std::shared_ptr<grpc::Channel>> broker_channel =
      common::CreateBrokerChannel(config, "grpc_backend_token");
  if (!broker_channel.ok())
    common::ExitWithStartupError(std::string(broker_channel.status().message()));
  std::shared_ptr<grpc::Channel> channel = *std::move(broker_channel);
  BrokerChannelKeeper keeper(channel);  // a restarted broker is seen within broker_reconnect_delay
  // /ws, /listen and /disconnect are the gateways' here: /openapi.json leaves them out.
  RestAdapter rest_adapter(config, channel, RestAdapter::ClientEndpoints::kOnGateways);
  absl::StatusOr<std::unique_ptr<common::OpsEndpoints>> ops = common::OpsEndpoints::Create(
      config, BrokerChannelReadiness(channel, config.GetDouble("ready_timeout")));
  if (!ops.ok()) common::ExitWithStartupError(std::string(ops.status().message()));
  common::HttpServerOptions options = common::HttpServerOptionsFromConfig(config);
  // The handler makes blocking gRPC calls; the HTTP server runs handlers on its loop threads,
  // so io_threads bounds how many broker calls are in flight at once.
  common::HttpServer http_server(options, [&](std::shared_ptr<common::HttpExchange> exchange) {
    if ((*ops)->Handle(exchange)) return;
    rest_adapter.Handle(std::move(exchange));
  });
  http_server.SetHeaderCheck(
      [&](const common::HttpRequestHeader& header, const boost::asio::ip::address& remote) {
        if (common::OpsEndpoints::Serves(header)) return common::HeaderVerdict::Unauthenticated();
        return rest_adapter.CheckHeaders(header, remote);
      });
  (*ops)->Install(http_server);
  absl::Status listening = http_server.Listen();
  if (!listening.ok()) common::ExitWithStartupError(std::string(listening.message()));
  http_server.Start();

  const std::string base =
      absl::StrCat(options.tls ? "https://" : "http://", options.host, ":", http_server.port());
  LOG_INFO("channelstream REST adapter serving on ", base, ", broker at ",
           config.GetString("broker_address"));
  LOG_INFO("  server API (signed): ", base, "/connect, /subscribe, /message, /info, ...");
  LOG_INFO("  admin: ", base, "/admin  API explorer: ", base, "/api-explorer");

  std::string signal = common::WaitForShutdownSignal([&] { common::ReloadTls(options); });
  LOG_INFO("received ", signal, ", shutting down");
  http_server.Stop();
  LOG_INFO("stopped");
  return 0;
}

}  // namespace
}  // namespace channelstream::rest

int main(int argc, char** argv, char** envp) { return channelstream::rest::Run(argc, argv, envp); }
