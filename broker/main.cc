// //broker:broker — the broker alone, serving its gRPC API on broker_listen (split deployment).
#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "broker/broker_runtime.h"
#include "broker/grpc_server.h"
#include "common/config.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/ops_endpoints.h"
#include "common/process.h"

namespace channelstream::broker {
namespace {

int Run(int argc, char** argv, char** envp) {
  common::Config config = common::LoadConfigOrExit(argc, argv, envp, "broker");
  common::BlockShutdownSignals();

  BrokerRuntime broker(config);
  if (absl::Status loaded = broker.LoadDurableState(); !loaded.ok())
    common::ExitWithStartupError(std::string(loaded.message()));
  const std::string address = config.GetString("broker_listen");
  absl::StatusOr<BrokerGrpcServer> grpc_server =
      StartBrokerGrpcServer(config, broker.service(), address);
  if (!grpc_server.ok()) common::ExitWithStartupError(std::string(grpc_server.status().message()));
  std::unique_ptr<grpc::Server>& server = grpc_server->server;
  const int port = grpc_server->port;
  broker.Start();
  // Port 0 asks for any free port: report the one bound.
  const std::string host = address.substr(0, address.rfind(':'));
  LOG_INFO("channelstream broker serving gRPC on ", host, ":", port);

  // metrics_listen: /metrics, /health and /ready for scrapers and orchestrators (off by default:
  // the broker otherwise opens no HTTP port).
  std::unique_ptr<common::OpsEndpoints> ops;
  std::unique_ptr<common::HttpServer> metrics_server;
  const std::string metrics_listen = config.GetString("metrics_listen");
  if (!metrics_listen.empty()) {
    absl::StatusOr<std::unique_ptr<common::OpsEndpoints>> created =
        common::OpsEndpoints::Create(config, [] { return common::Readiness{}; });
    if (!created.ok()) common::ExitWithStartupError(std::string(created.status().message()));
    ops = *std::move(created);
    const size_t colon = metrics_listen.rfind(':');
    common::HttpServerOptions options;
    options.host = colon == std::string::npos ? "" : metrics_listen.substr(0, colon);
    options.port = -1;
    if (colon != std::string::npos && colon + 1 < metrics_listen.size() &&
        metrics_listen.size() - colon <= 6 &&
        metrics_listen.find_first_not_of("0123456789", colon + 1) == std::string::npos)
      options.port = std::stoi(metrics_listen.substr(colon + 1));
    if (options.port < 0 || options.port > 65535 || options.host.empty())
      common::ExitWithStartupError(
          absl::StrCat("metrics_listen: expected host:port, got '", metrics_listen, "'"));
    options.threads = 1;  // a scrape every few seconds
    constexpr const char* kNotFound =
        "{\"error\": \"not found: this port serves /metrics, /health and /ready\"}";
    metrics_server = std::make_unique<common::HttpServer>(
        options, [&ops](std::shared_ptr<common::HttpExchange> exchange) {
          if (ops->Handle(exchange)) return;
          exchange->Respond(common::MakeResponse(exchange->request(),
                                                 boost::beast::http::status::not_found, kNotFound));
        });
    metrics_server->SetHeaderCheck(
        [](const common::HttpRequestHeader& header, const boost::asio::ip::address&) {
          if (common::OpsEndpoints::Serves(header)) return common::HeaderVerdict::Unauthenticated();
          return common::HeaderVerdict::Refuse(
              common::MakeResponse(header, boost::beast::http::status::not_found, kNotFound));
        });
    ops->Install(*metrics_server);
    absl::Status listening = metrics_server->Listen();
    if (!listening.ok())
      common::ExitWithStartupError(absl::StrCat("metrics_listen: ", listening.message()));
    metrics_server->Start();
    LOG_INFO("  metrics: http://", options.host, ":", metrics_server->port(), "/metrics");
  }

  std::string signal = common::WaitForShutdownSignal();
  LOG_INFO("received ", signal, ", shutting down");
  if (metrics_server) metrics_server->Stop();
  broker.Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  broker.SaveSnapshot().IgnoreError();  // logged; the journal still holds everything
  LOG_INFO("stopped");
  return 0;
}

}  // namespace
}  // namespace channelstream::broker

int main(int argc, char** argv, char** envp) {
  return channelstream::broker::Run(argc, argv, envp);
}
