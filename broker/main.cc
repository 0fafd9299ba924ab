// //broker:broker — the broker alone, serving its gRPC API on broker_listen (split deployment).
#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "broker/broker_runtime.h"
#include "broker/grpc_server.h"
#include "common/config.h"
#include "common/log.h"
#include "common/process.h"

namespace channelstream {
namespace {

int Run(int argc, char** argv, char** envp) {
  Config config = LoadConfigOrExit(argc, argv, envp, "broker");
  BlockShutdownSignals();

  BrokerRuntime broker(config);
  const std::string address = config.GetString("broker_listen");
  absl::StatusOr<BrokerGrpcServer> grpc_server = StartBrokerGrpcServer(config, broker.service(), address);
  if (!grpc_server.ok()) ExitWithStartupError(std::string(grpc_server.status().message()));
  std::unique_ptr<grpc::Server>& server = grpc_server->server;
  const int port = grpc_server->port;
  broker.Start();
  // Port 0 asks for any free port: report the one bound.
  const std::string host = address.substr(0, address.rfind(':'));
  LOG_INFO("channelstream broker serving gRPC on ", host, ":", port);

  std::string signal = WaitForShutdownSignal();
  LOG_INFO("received ", signal, ", shutting down");
  broker.Stop();
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  LOG_INFO("stopped");
  return 0;
}

}  // namespace
}  // namespace channelstream

int main(int argc, char** argv, char** envp) { return channelstream::Run(argc, argv, envp); }
