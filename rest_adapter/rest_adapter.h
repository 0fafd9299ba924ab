// The Channelstream 0.7 server API over HTTP (see shared/CONTRACT-0.7.md): routing, address and
// signature checks, CORS, the JSON body; then the endpoint (endpoints.h: JSON -> broker call ->
// JSON), the admin panel's pages (admin_sign_in.h), /openapi.json and the API explorer.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>

#include "common/config.h"
#include "common/http_server.h"
#include "common/query.h"
#include "rest_adapter/admin_sign_in.h"
#include "rest_adapter/broker_api.h"
#include "rest_adapter/endpoints.h"
#include "rest_adapter/reply.h"
#include "rest_adapter/request_guard.h"

namespace channelstream::rest {

class RestAdapter {
 public:
  // Where /ws, /listen and /disconnect are served: on this port (all-in-one), or only by the
  // gateways (split deployment; here they 404). /openapi.json lists them only in the first case.
  enum class ClientEndpoints { kServedHere, kOnGateways };

  // Exits the process with a clear message if the configuration cannot work (bad
  // allow_posting_from entry): better at startup than on the first request.
  // Calls the broker over `broker_channel` (rest::GrpcBroker, rpc_timeout per call).
  RestAdapter(const common::Config& config, std::shared_ptr<grpc::Channel> broker_channel,
              ClientEndpoints client_endpoints = ClientEndpoints::kServedHere);
  // Calls `broker` (tests: a fake).
  RestAdapter(const common::Config& config, std::unique_ptr<BrokerApi> broker,
              ClientEndpoints client_endpoints = ClientEndpoints::kServedHere);

  // Answers every request it is given (unknown paths: 404 JSON).
  void Handle(std::shared_ptr<common::HttpExchange> exchange);
  // The HttpServer's HeaderCheck: address, signature and session checks from the headers alone,
  // so a refused request's body is never read; unknown paths are refused the same way.
  common::HeaderVerdict CheckHeaders(const common::HttpRequestHeader& header,
                                     const boost::asio::ip::address& remote) const;

  // The request entry point Handle uses, without the network. `admitted`: CheckHeaders already
  // passed. The answer before CORS headers (ToResponse adds them).
  Reply Serve(const common::HttpRequest& request, const boost::asio::ip::address& remote,
              bool admitted = false);
  common::HttpResponse ToResponse(const common::HttpRequestHeader& request, Reply reply) const;

 private:
  // Where a request stands before its body is read.
  struct Admission {
    std::optional<Reply> refusal;  // answer this instead
    bool authenticated = false;    // signed, or an admin session
  };
  Admission Admit(const common::HttpRequestHeader& request, const std::string& path,
                  const boost::asio::ip::address& remote, const std::string* query_secret) const;
  Reply Dispatch(const common::HttpRequest& request, const common::RequestTarget& target,
                 const boost::asio::ip::address& remote, bool admitted);
  // The signed endpoints that take a JSON body.
  Reply DispatchJson(const common::HttpRequest& request, const common::RequestTarget& target);
  void AddCorsHeaders(const common::HttpRequestHeader& request,
                      common::HttpResponse& response) const;

  std::unique_ptr<BrokerApi> broker_;
  Endpoints endpoints_;
  AdminSignIn admin_;
  AddressAllowlist allowlist_;
  SignaturePolicy signature_;
  std::vector<std::string> allow_cors_;
  std::string scheme_;  // http_scheme / enforce_https for generated URLs
  int max_json_depth_;
  ClientEndpoints client_endpoints_;
};

}  // namespace channelstream::rest
