// The Channelstream 0.7 server API over HTTP (see shared/CONTRACT-0.7.md): signature and address
// checks, 0.7's validation and JSON shapes, each endpoint turned into one broker gRPC call. Also
// serves the admin panel, /openapi.json and the API explorer.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "channelstream.grpc.pb.h"
#include "common/config.h"
#include "common/http_server.h"
#include "common/query.h"
#include "rest_adapter/admin_session.h"
#include "rest_adapter/request_guard.h"
#include "rest_adapter/validation.h"

namespace channelstream::rest {

// One answer, before CORS headers are added.
struct Reply {
  Reply() = default;
  Reply(int status_code, std::string body_text, std::string type = "application/json")
      : status(status_code), body(std::move(body_text)), content_type(std::move(type)) {}

  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

class RestAdapter {
 public:
  // Where /ws, /listen and /disconnect are served: on this port (all-in-one), or only by the
  // gateways (split deployment; here they 404). /openapi.json lists them only in the first case.
  enum class ClientEndpoints { kServedHere, kOnGateways };

  // Exits the process with a clear message if the configuration cannot work (bad
  // allow_posting_from entry): better at startup than on the first request.
  RestAdapter(const common::Config& config, std::shared_ptr<grpc::Channel> broker_channel,
              ClientEndpoints client_endpoints = ClientEndpoints::kServedHere);

  // Answers every request it is given (unknown paths: 404 JSON).
  void Handle(std::shared_ptr<common::HttpExchange> exchange);
  // The HttpServer's HeaderCheck: address, signature and session checks from the headers alone,
  // so a refused request's body is never read; unknown paths are refused the same way.
  common::HeaderVerdict CheckHeaders(const common::HttpRequestHeader& header, const boost::asio::ip::address& remote) const;

  // The routing core without the network, for tests. `admitted`: CheckHeaders already passed.
  Reply Serve(const common::HttpRequest& request, const boost::asio::ip::address& remote,
                    bool admitted = false);

 private:
  // Where a request stands before its body is read.
  struct Admission {
    std::optional<Reply> refusal;  // answer this instead
    bool authenticated = false;          // signed, or an admin session
  };
  Admission Admit(const common::HttpRequestHeader& request, const std::string& path,
                  const boost::asio::ip::address& remote, const std::string* query_secret) const;
  Reply Dispatch(const common::HttpRequest& request, const common::RequestTarget& target,
                       const boost::asio::ip::address& remote, bool admitted);
  common::HttpResponse ToResponse(const common::HttpRequestHeader& request, Reply reply) const;

  // Server API endpoints; `body` is the parsed JSON (null when the body was empty).
  Reply Connect(const Json& body);
  Reply Subscribe(const Json& body);
  Reply Unsubscribe(const Json& body);
  Reply UserState(const Json& body);
  Reply PublishMessages(const Json& body);
  Reply EditMessages(const Json& body);
  Reply DeleteMessages(const Json& body);
  Reply ChannelConfig(const Json& body);
  // Both page with `limit` and `cursor` (query parameters; for /info also body keys).
  Reply Info(const Json& body, const common::RequestTarget& target);
  Reply AdminJson(const common::RequestTarget& target);

  // Admin panel.
  Reply AdminSignIn(const common::HttpRequest& request, const boost::asio::ip::address& remote);
  bool AdminSignedIn(const common::HttpRequestHeader& request) const;

  std::unique_ptr<grpc::ClientContext> NewContext() const;
  void AddCorsHeaders(const common::HttpRequestHeader& request, common::HttpResponse& response) const;

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Broker::Stub> broker_;
  AddressAllowlist allowlist_;
  SignaturePolicy signature_;
  std::vector<std::string> allow_cors_;
  std::unique_ptr<AdminSessions> admin_;
  absl::Duration rpc_timeout_;
  std::string scheme_;  // http_scheme / enforce_https for generated URLs
  int max_json_depth_;
  ClientEndpoints client_endpoints_;
};

}  // namespace channelstream::rest
