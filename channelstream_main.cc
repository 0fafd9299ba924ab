// //:channelstream — broker, REST adapter and gateway in one process on one port: the embedded
// default, a drop-in for a Channelstream 0.7 server. The parts talk over an in-process gRPC
// channel, exactly the API they use when deployed apart, so both deployments run the same code.
#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "broker/broker_runtime.h"
#include "common/config.h"
#include "common/http_server.h"
#include "common/log.h"
#include "common/process.h"
#include "gateway/gateway.h"
#include "rest_adapter/rest_adapter.h"

namespace channelstream {
namespace {

void WarnAboutDefaultSecrets(const Config& config) {
  // 0.7.1 starts with its default secrets too, warning about each (its demo apps rely on them).
  for (const char* key : {"secret", "admin_secret"}) {
    const ConfigKey* spec = FindConfigKey(key);
    if (config.GetString(key) == spec->default_value)
      LOG_WARNING("'", key, "' is the default value; set it before exposing this server");
  }
}

int Run(int argc, char** argv, char** envp) {
  Config config = LoadConfigOrExit(argc, argv, envp, "channelstream");
  BlockShutdownSignals();
  WarnAboutDefaultSecrets(config);

  BrokerRuntime broker(config);
  grpc::ServerBuilder builder;
  builder.RegisterService(broker.service());
  int grpc_port = 0;
  const bool expose_broker = config.GetBool("embedded_broker_listen");
  if (expose_broker) {
    builder.AddListeningPort(config.GetString("broker_listen"), grpc::InsecureServerCredentials(),
                             &grpc_port);
  }
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  if (grpc_server == nullptr || (expose_broker && grpc_port == 0))
    ExitWithStartupError(absl::StrCat("cannot start the broker's gRPC server on '",
                                      config.GetString("broker_listen"), "'"));
  broker.Start();
  std::shared_ptr<grpc::Channel> channel = grpc_server->InProcessChannel(grpc::ChannelArguments());

  RestAdapter rest_adapter(config, channel);
  Gateway* gateway_ptr = nullptr;
  HttpServerOptions options = HttpServerOptionsFromConfig(config);
  HttpServer http_server(options, [&](std::shared_ptr<HttpExchange> exchange) {
    if (gateway_ptr != nullptr && gateway_ptr->Handle(exchange)) return;
    rest_adapter.Handle(std::move(exchange));
  });
  http_server.SetHeaderCheck([&](const HttpRequestHeader& header, const boost::asio::ip::address& remote) {
    if (Gateway::Serves(header)) return HeaderVerdict::Unauthenticated();
    return rest_adapter.CheckHeaders(header, remote);
  });
  Gateway gateway(config, channel, http_server);
  gateway_ptr = &gateway;

  absl::Status listening = http_server.Listen();
  if (!listening.ok()) ExitWithStartupError(std::string(listening.message()));
  gateway.Start();
  http_server.Start();

  const bool tls = options.tls != nullptr;
  const std::string base = absl::StrCat(tls ? "https://" : "http://", options.host, ":", http_server.port());
  LOG_INFO("channelstream (all-in-one: broker + REST adapter + gateway) serving on ", base);
  LOG_INFO("  server API (signed): ", base, "/connect, /subscribe, /message, /info, ...");
  LOG_INFO("  clients: ", tls ? "wss://" : "ws://", options.host, ":", http_server.port(), "/ws?conn_id=..., ", base,
           "/listen?conn_id=...");
  LOG_INFO("  admin: ", base, "/admin  API explorer: ", base, "/api-explorer");
  if (expose_broker) LOG_INFO("  broker gRPC: ", config.GetString("broker_listen"));

  std::string signal = WaitForShutdownSignal([&] { ReloadTls(options); });
  LOG_INFO("received ", signal, ", shutting down");
  gateway.Stop();
  http_server.Stop();
  broker.Stop();
  grpc_server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  LOG_INFO("stopped");
  return 0;
}

}  // namespace
}  // namespace channelstream

int main(int argc, char** argv, char** envp) { return channelstream::Run(argc, argv, envp); }
