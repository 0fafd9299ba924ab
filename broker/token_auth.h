// Bearer-token checks on the broker's gRPC API, run by gRPC for every call before the service
// sees it. Two separate credentials: the backend token (REST adapters, backend services: the
// unary API) and the gateway token (gateways: GatewayStream and Disconnect). A backend token
// cannot attach connections, a gateway token cannot publish or read admin info.
#pragma once

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/auth_metadata_processor.h>

#include <string>

#include "absl/strings/string_view.h"
#include "common/config.h"

namespace channelstream::broker {

class TokenAuthProcessor : public grpc::AuthMetadataProcessor {
 public:
  // Empty tokens match nothing (that role cannot call at all).
  TokenAuthProcessor(const std::string& backend_token, const std::string& gateway_token);
  static std::shared_ptr<TokenAuthProcessor> FromConfig(const common::Config& config);

  // The check itself: no I/O, so gRPC may run it inline.
  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

  // The decision for a method path ("/channelstream.v1.Broker/Publish") and the value of the
  // authorization header (empty when absent): OK, UNAUTHENTICATED or PERMISSION_DENIED.
  grpc::Status Check(absl::string_view path, absl::string_view authorization) const;

 private:
  enum class Role { kNone, kBackend, kGateway };
  Role RoleOf(absl::string_view authorization) const;

  // SHA-256 of each token: compared in constant time and of fixed length, so neither the
  // content nor the length of a token leaks through timing.
  std::string backend_digest_;
  std::string gateway_digest_;
};

}  // namespace channelstream::broker
