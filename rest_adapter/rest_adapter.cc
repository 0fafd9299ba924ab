#include "rest_adapter/rest_adapter.h"

#include "absl/strings/str_cat.h"
#include "common/bounded_json.h"
#include "common/log.h"
#include "common/process.h"
#include "rest_adapter/admin_pages.h"
#include "rest_adapter/grpc_broker.h"
#include "rest_adapter/openapi.h"
#include "rest_adapter/validation.h"

namespace channelstream::rest {

namespace http = boost::beast::http;

namespace {

constexpr const char* kVersion = "1.0.0";

// The signed server API (admin pages also accept the admin session).
struct Route {
  const char* path;
  bool admin_session_ok;
};
constexpr Route kRoutes[] = {
    {"/connect", false},     {"/subscribe", false},       {"/unsubscribe", false},
    {"/user_state", false},  {"/message", false},         {"/channel_config", false},
    {"/info", false},        {"/admin/admin.json", true}, {"/openapi.json", true},
    {"/api-explorer", true},
};

const Route* FindRoute(const std::string& path) {
  for (const Route& candidate : kRoutes)
    if (path == candidate.path) return &candidate;
  return nullptr;
}

// Preflights and the people-facing pages need no signature (the sign-in form is their way in).
bool IsOpenPath(http::verb method, const std::string& path) {
  return method == http::verb::options || AdminSignIn::Serves(path);
}

}  // namespace

RestAdapter::RestAdapter(const common::Config& config,
                         std::shared_ptr<grpc::Channel> broker_channel,
                         ClientEndpoints client_endpoints)
    : RestAdapter(config,
                  std::make_unique<GrpcBroker>(std::move(broker_channel),
                                               absl::Seconds(config.GetDouble("rpc_timeout"))),
                  client_endpoints) {}

RestAdapter::RestAdapter(const common::Config& config, std::unique_ptr<BrokerApi> broker,
                         ClientEndpoints client_endpoints)
    : broker_(std::move(broker)),
      endpoints_(*broker_),
      admin_(config),
      client_endpoints_(client_endpoints) {
  absl::StatusOr<AddressAllowlist> allowlist =
      AddressAllowlist::Parse(config.GetList("allow_posting_from"));
  if (!allowlist.ok()) common::ExitWithStartupError(std::string(allowlist.status().message()));
  allowlist_ = *std::move(allowlist);
  signature_.secret = config.GetString("secret");
  signature_.validate_age = config.GetBool("validate_requests");
  signature_.max_age = absl::Seconds(config.GetDouble("signature_max_age"));
  signature_.require_path = config.GetBool("require_path_signature");
  allow_cors_ = config.GetList("allow_cors");
  max_json_depth_ = static_cast<int>(config.GetInt("max_json_depth"));
  scheme_ = config.GetBool("enforce_https") ? "https" : config.GetString("http_scheme");
}

void RestAdapter::Handle(std::shared_ptr<common::HttpExchange> exchange) {
  const common::HttpRequest& request = exchange->request();
  Reply reply = Serve(request, exchange->remote_address(), exchange->authenticated());
  exchange->Respond(ToResponse(request, std::move(reply)));
}

common::HttpResponse RestAdapter::ToResponse(const common::HttpRequestHeader& request,
                                             Reply reply) const {
  common::HttpResponse response{static_cast<http::status>(reply.status), request.version()};
  response.set(http::field::server, "channelstream");
  response.set(http::field::content_type, reply.content_type);
  for (const auto& [name, value] : reply.headers) response.insert(name, value);
  AddCorsHeaders(request, response);
  response.keep_alive(common::KeepAlive(request));
  response.body() = std::move(reply.body);
  return response;
}

common::HeaderVerdict RestAdapter::CheckHeaders(const common::HttpRequestHeader& header,
                                                const boost::asio::ip::address& remote) const {
  common::RequestTarget target =
      common::ParseTarget(std::string_view(header.target().data(), header.target().size()));
  Admission admission = Admit(header, target.path, remote, target.Find("secret"));
  if (admission.refusal)
    return common::HeaderVerdict::Refuse(ToResponse(header, std::move(*admission.refusal)));
  return admission.authenticated ? common::HeaderVerdict::Authenticated()
                                 : common::HeaderVerdict::Unauthenticated();
}

void RestAdapter::AddCorsHeaders(const common::HttpRequestHeader& request,
                                 common::HttpResponse& response) const {
  // 0.7: with allow_cors empty every response allows any origin (the demo apps rely on it).
  if (allow_cors_.empty()) {
    response.set(http::field::access_control_allow_origin, "*");
  } else {
    auto origin = request.find(http::field::origin);
    if (origin == request.end()) return;
    std::string value(origin->value());
    if (std::find(allow_cors_.begin(), allow_cors_.end(), value) == allow_cors_.end()) return;
    response.set(http::field::access_control_allow_origin, value);
    response.set(http::field::vary, "Origin");
  }
  if (request.method() == http::verb::options) {
    response.set(http::field::access_control_allow_methods, "GET, POST, PATCH, DELETE, OPTIONS");
    response.set(http::field::access_control_allow_headers,
                 "Content-Type, X-Channelstream-Secret, X-Requested-With");
    response.set(http::field::access_control_max_age, "86400");
  }
}

Reply RestAdapter::Serve(const common::HttpRequest& request, const boost::asio::ip::address& remote,
                         bool admitted) {
  common::RequestTarget target =
      common::ParseTarget(std::string_view(request.target().data(), request.target().size()));
  try {
    return Dispatch(request, target, remote, admitted);
  } catch (const std::exception& e) {
    LOG_ERROR("REST ", target.path, ": ", e.what());
    return JsonReply(500, {{"error", "internal error"}});
  }
}

RestAdapter::Admission RestAdapter::Admit(const common::HttpRequestHeader& request,
                                          const std::string& path,
                                          const boost::asio::ip::address& remote,
                                          const std::string* query_secret) const {
  if (IsOpenPath(request.method(), path)) return {};
  const Route* route = FindRoute(path);
  if (route == nullptr) {
    LOG_DEBUG("not found: ", std::string(request.method_string()), " ", path, " from ",
              remote.to_string());
    return {JsonReply(404, {{"request", absl::StrCat("Not found: ", path)}})};
  }

  std::optional<std::string> token;
  auto header = request.find("x-channelstream-secret");
  if (header != request.end())
    token = std::string(header->value());
  else if (query_secret != nullptr)
    token = *query_secret;
  if (route->admin_session_ok && !token && admin_.SignedIn(request)) return {std::nullopt, true};
  if (route->admin_session_ok && !token && (path == "/api-explorer"))
    return {Redirect("/admin/sign_in")};
  GuardVerdict verdict =
      CheckServerRequest(allowlist_, signature_, remote, token, path, absl::Now());
  if (!verdict.allowed) {
    LOG_DEBUG("refused ", std::string(request.method_string()), " ", path, " from ",
              remote.to_string(), ": ", verdict.status, " ", verdict.body);
    return {Reply{verdict.status, verdict.body}};
  }
  return {std::nullopt, true};
}

Reply RestAdapter::Dispatch(const common::HttpRequest& request, const common::RequestTarget& target,
                            const boost::asio::ip::address& remote, bool admitted) {
  const std::string& path = target.path;
  const http::verb method = request.method();
  if (method == http::verb::options) return Reply{200, "", "text/plain"};
  if (AdminSignIn::Serves(path)) return admin_.Serve(request, path, remote);

  if (!admitted) {
    Admission admission = Admit(request, path, remote, target.Find("secret"));
    if (admission.refusal) return std::move(*admission.refusal);
  }

  if (path == "/api-explorer") {
    if (method != http::verb::get) return MethodNotAllowed();
    return Html(200, ApiExplorerPage());
  }
  if (path == "/openapi.json") {
    if (method != http::verb::get) return MethodNotAllowed();
    std::string host(request[http::field::host]);
    return JsonReply(200, OpenApiDocument(scheme_.empty() ? "http" : scheme_, host, kVersion,
                                          client_endpoints_ == ClientEndpoints::kServedHere));
  }
  if (path == "/admin/admin.json") {
    if (method != http::verb::get && method != http::verb::post) return MethodNotAllowed();
    return endpoints_.AdminJson(target.params);
  }
  return DispatchJson(request, target);
}

Reply RestAdapter::DispatchJson(const common::HttpRequest& request,
                                const common::RequestTarget& target) {
  Json body = nullptr;
  if (!request.body().empty()) {
    common::BoundedJsonResult parsed = common::ParseBoundedJson(request.body(), max_json_depth_);
    if (parsed.error == common::BoundedJsonResult::Error::kTooDeep)
      return JsonReply(422, ErrorAtPath(parsed.path, common::TooDeepMessage(max_json_depth_)));
    if (!parsed.ok()) return JsonReply(400, {{"_schema", {"Invalid JSON body."}}});
    body = std::move(parsed.value);
  }
  const std::string& path = target.path;
  const http::verb method = request.method();
  if (path == "/message") {
    if (method == http::verb::post) return endpoints_.PublishMessages(body);
    if (method == http::verb::patch) return endpoints_.EditMessages(body);
    if (method == http::verb::delete_) return endpoints_.DeleteMessages(body);
    return MethodNotAllowed();
  }
  if (method != http::verb::post) return MethodNotAllowed();
  if (path == "/connect") return endpoints_.Connect(body);
  if (path == "/subscribe") return endpoints_.Subscribe(body);
  if (path == "/unsubscribe") return endpoints_.Unsubscribe(body);
  if (path == "/user_state") return endpoints_.UserState(body);
  if (path == "/channel_config") return endpoints_.ChannelConfig(body);
  return endpoints_.Info(body, target.params);
}

}  // namespace channelstream::rest
