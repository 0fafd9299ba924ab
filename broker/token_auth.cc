#include "broker/token_auth.h"

#include <grpc/grpc_security_constants.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace channelstream::broker {
namespace {

constexpr absl::string_view kService = "/channelstream.v1.Broker/";
constexpr absl::string_view kBearer = "Bearer ";

std::string Digest(absl::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

bool DigestMatches(const std::string& expected, const std::string& presented) {
  return !expected.empty() &&
         CRYPTO_memcmp(expected.data(), presented.data(), expected.size()) == 0;
}

// Who is calling, for the log line: the client certificate's identity under mutual TLS.
std::string PeerDescription(const grpc::AuthContext* context) {
  if (context == nullptr) return "";
  std::vector<grpc::string_ref> transport =
      context->FindPropertyValues(GRPC_TRANSPORT_SECURITY_TYPE_PROPERTY_NAME);
  if (transport.empty() || transport[0] != GRPC_SSL_TRANSPORT_SECURITY_TYPE) return "";
  std::string text;
  for (const grpc::string_ref& name : context->GetPeerIdentity())
    absl::StrAppend(&text, text.empty() ? " (client certificate " : ", ",
                    absl::string_view(name.data(), name.size()));
  return text.empty() ? text : text + ")";
}

}  // namespace

TokenAuthProcessor::TokenAuthProcessor(const std::string& backend_token,
                                       const std::string& gateway_token)
    : backend_digest_(backend_token.empty() ? "" : Digest(backend_token)),
      gateway_digest_(gateway_token.empty() ? "" : Digest(gateway_token)) {}

std::shared_ptr<TokenAuthProcessor> TokenAuthProcessor::FromConfig(const common::Config& config) {
  return std::make_shared<TokenAuthProcessor>(config.GetString("grpc_backend_token"),
                                              config.GetString("grpc_gateway_token"));
}

TokenAuthProcessor::Role TokenAuthProcessor::RoleOf(absl::string_view authorization) const {
  if (!absl::StartsWith(authorization, kBearer)) return Role::kNone;
  const std::string presented = Digest(authorization.substr(kBearer.size()));
  // Both compared every time, so the time taken does not tell which one matched.
  const bool backend = DigestMatches(backend_digest_, presented);
  const bool gateway = DigestMatches(gateway_digest_, presented);
  if (backend) return Role::kBackend;
  if (gateway) return Role::kGateway;
  return Role::kNone;
}

grpc::Status TokenAuthProcessor::Check(absl::string_view path,
                                       absl::string_view authorization) const {
  // Health checks carry no secret and reveal nothing but SERVING: probes need no token.
  if (absl::StartsWith(path, "/grpc.health.v1.Health/")) return grpc::Status::OK;
  const Role role = RoleOf(authorization);
  if (role == Role::kNone) {
    return grpc::Status(
        grpc::StatusCode::UNAUTHENTICATED,
        authorization.empty() ? "missing authorization: Bearer token" : "invalid token");
  }
  const bool gateway_call = path == absl::StrCat(kService, "GatewayStream") ||
                            path == absl::StrCat(kService, "Disconnect");
  const bool backend_call =
      absl::StartsWith(path, kService) && path != absl::StrCat(kService, "GatewayStream");
  if ((role == Role::kGateway && gateway_call) || (role == Role::kBackend && backend_call))
    return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      role == Role::kGateway ? "the gateway token does not allow this call"
                                             : "the backend token does not allow this call");
}

grpc::Status TokenAuthProcessor::Process(const InputMetadata& auth_metadata,
                                         grpc::AuthContext* context,
                                         OutputMetadata* consumed_auth_metadata, OutputMetadata*) {
  absl::string_view path, authorization;
  for (const auto& [name, value] : auth_metadata) {
    const absl::string_view key(name.data(), name.size());
    if (key == ":path") path = absl::string_view(value.data(), value.size());
    if (key == "authorization") authorization = absl::string_view(value.data(), value.size());
  }
  grpc::Status status = Check(path, authorization);
  if (!status.ok()) {
    // The method and the reason only: never the presented token.
    LOG_WARNING("gRPC call ", path, " refused: ",
                status.error_code() == grpc::StatusCode::UNAUTHENTICATED ? "UNAUTHENTICATED"
                                                                         : "PERMISSION_DENIED",
                " (", status.error_message(), ")", PeerDescription(context));
    return status;
  }
  // The service never needs the token: keep it out of the handler's metadata.
  if (!authorization.empty())
    consumed_auth_metadata->emplace("authorization", std::string(authorization));
  return status;
}

}  // namespace channelstream::broker
