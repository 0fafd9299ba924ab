#include "broker/grpc_server.h"

#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/str_cat.h"
#include "broker/token_auth.h"
#include "common/grpc_security.h"
#include "common/log.h"

namespace channelstream::broker {

absl::StatusOr<BrokerGrpcServer> StartBrokerGrpcServer(const common::Config& config,
                                                       grpc::Service* service,
                                                       const std::string& address) {
  // Read when the server is built: load balancers and orchestrators probe grpc.health.v1.
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  common::ApplyServerLimits(config, &builder);
  builder.RegisterService(service);
  BrokerGrpcServer result;
  if (!address.empty()) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        common::BrokerServerCredentials(config, address);
    if (!credentials.ok()) return credentials.status();
    if (common::TokenAuthEnabled(config))
      (*credentials)->SetAuthMetadataProcessor(TokenAuthProcessor::FromConfig(config));
    builder.AddListeningPort(address, *credentials, &result.port);
  }
  result.server = builder.BuildAndStart();
  if (result.server == nullptr || (!address.empty() && result.port == 0)) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot listen on broker_listen '", address, "' (address in use or invalid)"));
  }
  if (!address.empty()) {
    const bool tls = !config.GetString("grpc_tls_cert").empty();
    LOG_INFO(
        "broker gRPC security: ", tls ? "TLS" : "plaintext",
        tls && config.GetBool("grpc_tls_require_client_cert") ? " with client certificates" : "",
        common::TokenAuthEnabled(config) ? ", bearer tokens checked" : ", no tokens");
  }
  return result;
}

}  // namespace channelstream::broker
