// The broker's gRPC server, the same for //broker:broker and the all-in-one binary: its service,
// grpc.health.v1, the shared limits and, on a listening address, TLS and token checks from
// Config.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/config.h"

namespace channelstream::broker {

struct BrokerGrpcServer {
  std::unique_ptr<grpc::Server> server;
  int port = 0;  // the port bound on `address` (useful with port 0), 0 without one
};

// Builds and starts the server: on `address` when it is non-empty (an error when that address
// cannot be bound, is in use, or the security settings refuse it), always reachable through
// InProcessChannel. Error messages are meant for ExitWithStartupError.
absl::StatusOr<BrokerGrpcServer> StartBrokerGrpcServer(const common::Config& config,
                                                       grpc::Service* service,
                                                       const std::string& address);

}  // namespace channelstream::broker
