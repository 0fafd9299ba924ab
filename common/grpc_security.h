// Transport security of the broker's gRPC API, built from Config: server and channel credentials
// (TLS, optional mutual TLS, bearer tokens), the refusal of plaintext off loopback, and the limits
// every gRPC server and channel shares (exclusive port, message sizes). Checking tokens on the
// broker is broker/token_auth's job; this file only decides which credentials carry them.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/config.h"

namespace channelstream::common {

// True for 127.0.0.0/8, ::1, "localhost" and unix: sockets, given a gRPC address or target
// ("127.0.0.1:8001", "[::1]:8001", "dns:///localhost:8001", "unix:/run/broker.sock").
bool IsLoopbackAddress(const std::string& address);

// True when the broker checks bearer tokens (grpc_backend_token or grpc_gateway_token set).
bool TokenAuthEnabled(const Config& config);

// Credentials for a broker listener on `address`: TLS when grpc_tls_cert/grpc_tls_key are set
// (client certificates verified with grpc_tls_ca, required with grpc_tls_require_client_cert);
// plaintext otherwise, which off loopback needs grpc_allow_insecure. With tokens over plaintext
// the credentials are "local" ones, so a token processor can be attached (insecure ones cannot
// hold one). Errors name the keys and are meant for ExitWithStartupError.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> BrokerServerCredentials(
    const Config& config, const std::string& address);

// Every ServerBuilder: the port is ours alone (gRPC sets SO_REUSEPORT by default, so a second
// broker would silently share the port) and grpc_max_message_bytes both ways.
void ApplyServerLimits(const Config& config, grpc::ServerBuilder* builder);

// Channel arguments every broker channel uses (grpc_max_message_bytes both ways; gRPC's reconnect
// backoff fixed at broker_reconnect_delay), also for the all-in-one's in-process channel.
grpc::ChannelArguments BrokerChannelArguments(const Config& config);
// broker_reconnect_delay in milliseconds as gRPC's reconnect backoff takes it (at least 100).
int ReconnectBackoffMillis(const Config& config);

// The channel a gateway or REST adapter opens to broker_address: TLS when grpc_tls_ca or
// grpc_tls_client_cert is set (client certificate for mutual TLS), the token in `token_key`
// ("grpc_gateway_token" or "grpc_backend_token") sent as `authorization: Bearer` on every call.
// Plaintext to a non-loopback broker needs grpc_allow_insecure.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateBrokerChannel(const Config& config,
                                                                   const std::string& token_key);

}  // namespace channelstream::common
