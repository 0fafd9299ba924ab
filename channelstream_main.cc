// //:channelstream — broker, REST adapter and gateway in one process on one port: the embedded
// default, a drop-in for a Channelstream 0.7 server. The parts talk over an in-process gRPC
// channel, exactly the API they use when deployed apart, so both deployments run the same code.
#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "broker/broker_runtime.h"
#include "broker/grpc_server.h"
#include "common/config.h"
#include "common/grpc_security.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/ops_endpoints.h"
#include "common/process.h"
#include "gateway/gateway.h"
#include "rest_adapter/rest_adapter.h"

namespace channelstream {
namespace {

int Run(int argc, char** argv, char** envp) {
  common::Config config = common::LoadConfigOrExit(argc, argv, envp, "channelstream");
  common::BlockShutdownSignals();
  common::WarnAboutDefaultSecrets(config);

  broker::BrokerRuntime broker(config);
  if (absl::Status loaded = broker.LoadDurableState(); !loaded.ok())
    common::ExitWithStartupError(std::string(loaded.message()));
  const bool expose_broker = config.GetBool("embedded_broker_listen");
  absl::StatusOr<broker::BrokerGrpcServer> started = broker::StartBrokerGrpcServer(
      config, broker.service(), expose_broker ? config.GetString("broker_listen") : "");
  if (!started.ok()) common::ExitWithStartupError(std::string(started.status().message()));
  std::unique_ptr<grpc::Server> grpc_server = std::move(started->server);
  broker.Start();
  // In-process calls skip the transport and its token checks: they never leave this process.
  std::shared_ptr<grpc::Channel> channel =
      grpc_server->InProcessChannel(common::BrokerChannelArguments(config));

  rest::RestAdapter rest_adapter(config, channel);
  gateway::Gateway* gateway_ptr = nullptr;
  // Ready once the gateway's stream to the in-process broker is open.
  absl::StatusOr<std::unique_ptr<common::OpsEndpoints>> ops =
      common::OpsEndpoints::Create(config, [&gateway_ptr] {
        if (gateway_ptr == nullptr || !gateway_ptr->stats().broker_connected)
          return common::Readiness{false, "gateway stream to the broker not open"};
        return common::Readiness{};
      });
  if (!ops.ok()) common::ExitWithStartupError(std::string(ops.status().message()));
  common::HttpServerOptions options = common::HttpServerOptionsFromConfig(config);
  common::HttpServer http_server(options, [&](std::shared_ptr<common::HttpExchange> exchange) {
    if ((*ops)->Handle(exchange)) return;
    if (gateway_ptr != nullptr && gateway_ptr->Handle(exchange)) return;
    rest_adapter.Handle(std::move(exchange));
  });
  http_server.SetHeaderCheck(
      [&](const common::HttpRequestHeader& header, const boost::asio::ip::address& remote) {
        if (gateway::Gateway::Serves(header) || common::OpsEndpoints::Serves(header))
          return common::HeaderVerdict::Unauthenticated();
        return rest_adapter.CheckHeaders(header, remote);
      });
  (*ops)->Install(http_server);
  gateway::Gateway gateway(config, channel, http_server);
  gateway_ptr = &gateway;

  absl::Status listening = http_server.Listen();
  if (!listening.ok()) common::ExitWithStartupError(std::string(listening.message()));
  gateway.Start();
  http_server.Start();

  const bool tls = options.tls != nullptr;
  const std::string base =
      absl::StrCat(tls ? "https://" : "http://", options.host, ":", http_server.port());
  LOG_INFO("channelstream (all-in-one: broker + REST adapter + gateway) serving on ", base);
  LOG_INFO("  server API (signed): ", base, "/connect, /subscribe, /message, /info, ...");
  LOG_INFO("  clients: ", tls ? "wss://" : "ws://", options.host, ":", http_server.port(),
           "/ws?conn_id=..., ", base, "/listen?conn_id=...");
  LOG_INFO("  admin: ", base, "/admin  API explorer: ", base, "/api-explorer");
  if (expose_broker) LOG_INFO("  broker gRPC: ", config.GetString("broker_listen"));

  std::string signal = common::WaitForShutdownSignal([&] { common::ReloadTls(options); });
  LOG_INFO("received ", signal, ", shutting down");
  gateway.Drain();  // clients first take what is queued for them, within drain_timeout
  gateway.Stop();
  http_server.Stop();
  broker.Stop();
  grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  broker.SaveSnapshot().IgnoreError();  // logged; the journal still holds everything
  LOG_INFO("stopped");
  return 0;
}

}  // namespace
}  // namespace channelstream

int main(int argc, char** argv, char** envp) { return channelstream::Run(argc, argv, envp); }
