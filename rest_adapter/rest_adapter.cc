#include "rest_adapter/rest_adapter.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/bounded_json.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/positions_json.h"
#include "common/process.h"
#include "common/query.h"
#include "rest_adapter/admin_pages.h"
#include "rest_adapter/openapi.h"
#include "rest_adapter/paging_params.h"
#include "rest_adapter/request_readers.h"
#include "rest_adapter/translate.h"

namespace channelstream::rest {

namespace http = boost::beast::http;

namespace {

constexpr const char* kVersion = "1.0.0";

// Invalid UTF-8 (an undecodable path echoed in a 404) is replaced, never an exception.
Reply JsonReply(int status, const Json& body) {
  return Reply{status, body.dump(-1, ' ', false, Json::error_handler_t::replace)};
}

Reply Invalid(const FieldErrors& errors) { return JsonReply(422, errors.json()); }

// Broker errors carry "<field>: <message>"; 0.7 answered those with 422 {field: [message]}.
Reply FromStatus(const grpc::Status& status) {
  const std::string& text = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS: {
      size_t colon = text.find(": ");
      std::string field = colon == std::string::npos ? "_schema" : text.substr(0, colon);
      std::string message = colon == std::string::npos ? text : text.substr(colon + 2);
      return JsonReply(422, {{field, {message}}});
    }
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return JsonReply(503, {{"error", absl::StrCat("broker unavailable: ", text)}});
    default:
      LOG_ERROR("broker call failed: ", static_cast<int>(status.error_code()), " ", text);
      return JsonReply(500, {{"error", absl::StrCat("broker error: ", text)}});
  }
}

std::vector<std::string> Sorted(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::vector<std::string> sorted(items.begin(), items.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

std::map<std::string, std::string> ParseForm(const std::string& body) {
  std::map<std::string, std::string> form;
  for (absl::string_view pair : absl::StrSplit(body, '&', absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    std::string_view view(pair.data(), pair.size());
    std::string key = common::PercentDecode(view.substr(0, eq), true);
    std::string value = eq == absl::string_view::npos ? "" : common::PercentDecode(view.substr(eq + 1), true);
    form.emplace(std::move(key), std::move(value));
  }
  return form;
}

Reply Redirect(const std::string& location) {
  Reply reply{302, "", "text/plain"};
  reply.headers.emplace_back("Location", location);
  return reply;
}

Reply Html(const std::string& html) { return Reply{200, html, "text/html; charset=utf-8"}; }

}  // namespace

RestAdapter::RestAdapter(const common::Config& config, std::shared_ptr<grpc::Channel> broker_channel,
                         ClientEndpoints client_endpoints)
    : channel_(std::move(broker_channel)),
      broker_(v1::Broker::NewStub(channel_)),
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
  std::string cookie_key = config.GetString("cookie_secret");
  if (cookie_key.empty())
    cookie_key = absl::StrCat("cookie:", config.GetString("secret"), ":", config.GetString("admin_secret"));
  admin_ = std::make_unique<AdminSessions>(
      config.GetString("admin_user"), config.GetString("admin_secret"), cookie_key,
      absl::Seconds(config.GetDouble("admin_session_max_age")),
      static_cast<int>(config.GetInt("admin_signin_max_failures")),
      absl::Seconds(config.GetDouble("admin_signin_throttle")),
      static_cast<size_t>(config.GetInt("admin_signin_tracked_addresses")));
  rpc_timeout_ = absl::Seconds(config.GetDouble("rpc_timeout"));
  max_json_depth_ = static_cast<int>(config.GetInt("max_json_depth"));
  scheme_ = config.GetBool("enforce_https") ? "https" : config.GetString("http_scheme");
}

std::unique_ptr<grpc::ClientContext> RestAdapter::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::microseconds(absl::ToInt64Microseconds(rpc_timeout_)));
  return context;
}

void RestAdapter::Handle(std::shared_ptr<common::HttpExchange> exchange) {
  const common::HttpRequest& request = exchange->request();
  Reply reply = Serve(request, exchange->remote_address(), exchange->authenticated());
  exchange->Respond(ToResponse(request, std::move(reply)));
}

common::HttpResponse RestAdapter::ToResponse(const common::HttpRequestHeader& request, Reply reply) const {
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
  common::RequestTarget target = common::ParseTarget(std::string_view(header.target().data(), header.target().size()));
  Admission admission = Admit(header, target.path, remote, target.Find("secret"));
  if (admission.refusal) return common::HeaderVerdict::Refuse(ToResponse(header, std::move(*admission.refusal)));
  return admission.authenticated ? common::HeaderVerdict::Authenticated() : common::HeaderVerdict::Unauthenticated();
}

void RestAdapter::AddCorsHeaders(const common::HttpRequestHeader& request, common::HttpResponse& response) const {
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
  common::RequestTarget target = common::ParseTarget(std::string_view(request.target().data(), request.target().size()));
  try {
    return Dispatch(request, target, remote, admitted);
  } catch (const std::exception& e) {
    LOG_ERROR("REST ", target.path, ": ", e.what());
    return JsonReply(500, {{"error", "internal error"}});
  }
}

namespace {

// The signed server API (admin pages also accept the admin session).
struct Route {
  const char* path;
  bool admin_session_ok;
};
constexpr Route kRoutes[] = {
    {"/connect", false},       {"/subscribe", false}, {"/unsubscribe", false},
    {"/user_state", false},    {"/message", false},   {"/channel_config", false},
    {"/info", false},          {"/admin/admin.json", true}, {"/openapi.json", true},
    {"/api-explorer", true},
};

const Route* FindRoute(const std::string& path) {
  for (const Route& candidate : kRoutes)
    if (path == candidate.path) return &candidate;
  return nullptr;
}

// Preflights and the people-facing pages need no signature (the sign-in form is their way in).
bool IsOpenPath(http::verb method, const std::string& path) {
  return method == http::verb::options || path == "/admin/sign_in" || path == "/admin/sign_out" ||
         path == "/admin" || path == "/admin/";
}

}  // namespace

RestAdapter::Admission RestAdapter::Admit(const common::HttpRequestHeader& request, const std::string& path,
                                          const boost::asio::ip::address& remote,
                                          const std::string* query_secret) const {
  if (IsOpenPath(request.method(), path)) return {};
  const Route* route = FindRoute(path);
  if (route == nullptr) {
    LOG_DEBUG("not found: ", std::string(request.method_string()), " ", path, " from ", remote.to_string());
    return {JsonReply(404, {{"request", absl::StrCat("Not found: ", path)}})};
  }

  std::optional<std::string> token;
  auto header = request.find("x-channelstream-secret");
  if (header != request.end()) token = std::string(header->value());
  else if (query_secret != nullptr) token = *query_secret;
  if (route->admin_session_ok && !token && AdminSignedIn(request)) return {std::nullopt, true};
  if (route->admin_session_ok && !token && (path == "/api-explorer")) return {Redirect("/admin/sign_in")};
  GuardVerdict verdict =
      CheckServerRequest(allowlist_, signature_, remote, token, path, absl::Now());
  if (!verdict.allowed) {
    LOG_DEBUG("refused ", std::string(request.method_string()), " ", path, " from ", remote.to_string(), ": ",
              verdict.status, " ", verdict.body);
    return {Reply{verdict.status, verdict.body}};
  }
  return {std::nullopt, true};
}

Reply RestAdapter::Dispatch(const common::HttpRequest& request, const common::RequestTarget& target,
                            const boost::asio::ip::address& remote, bool admitted) {
  const std::string& path = target.path;
  const std::string* query_secret = target.Find("secret");
  const http::verb method = request.method();
  if (method == http::verb::options) return Reply{200, "", "text/plain"};

  // People-facing pages (session based).
  if (path == "/admin/sign_in") {
    if (method == http::verb::post) return AdminSignIn(request, remote);
    if (method != http::verb::get) return JsonReply(405, {{"request", "Method not allowed"}});
    return Html(SignInPage(""));
  }
  if (path == "/admin/sign_out") {
    auto cookie = request.find(http::field::cookie);
    if (cookie != request.end()) admin_->SignOut(std::string(cookie->value()), absl::Now());
    Reply reply = Redirect("/admin/sign_in");
    reply.headers.emplace_back("Set-Cookie", AdminSessions::SignOutCookie());
    return reply;
  }
  if (path == "/admin" || path == "/admin/") {
    if (!AdminSignedIn(request)) return Redirect("/admin/sign_in");
    return Html(AdminPage());
  }

  if (!admitted) {
    Admission admission = Admit(request, path, remote, query_secret);
    if (admission.refusal) return std::move(*admission.refusal);
  }

  if (path == "/api-explorer") {
    if (method != http::verb::get) return JsonReply(405, {{"request", "Method not allowed"}});
    return Html(ApiExplorerPage());
  }
  if (path == "/openapi.json") {
    if (method != http::verb::get) return JsonReply(405, {{"request", "Method not allowed"}});
    std::string host(request[http::field::host]);
    return JsonReply(200, OpenApiDocument(scheme_.empty() ? "http" : scheme_, host, kVersion,
                                                client_endpoints_ == ClientEndpoints::kServedHere));
  }
  if (path == "/admin/admin.json") {
    if (method != http::verb::get && method != http::verb::post)
      return JsonReply(405, {{"request", "Method not allowed"}});
    return AdminJson(target);
  }

  // Every other endpoint takes a JSON body.
  Json body = nullptr;
  if (!request.body().empty()) {
    common::BoundedJsonResult parsed = common::ParseBoundedJson(request.body(), max_json_depth_);
    if (parsed.error == common::BoundedJsonResult::Error::kTooDeep)
      return JsonReply(422, ErrorAtPath(parsed.path, common::TooDeepMessage(max_json_depth_)));
    if (!parsed.ok()) return JsonReply(400, {{"_schema", {"Invalid JSON body."}}});
    body = std::move(parsed.value);
  }
  if (path == "/message") {
    if (method == http::verb::post) return PublishMessages(body);
    if (method == http::verb::patch) return EditMessages(body);
    if (method == http::verb::delete_) return DeleteMessages(body);
    return JsonReply(405, {{"request", "Method not allowed"}});
  }
  if (method != http::verb::post) return JsonReply(405, {{"request", "Method not allowed"}});
  if (path == "/connect") return Connect(body);
  if (path == "/subscribe") return Subscribe(body);
  if (path == "/unsubscribe") return Unsubscribe(body);
  if (path == "/user_state") return UserState(body);
  if (path == "/channel_config") return ChannelConfig(body);
  return Info(body, target);
}

Reply RestAdapter::Connect(const Json& body) {
  FieldErrors errors;
  v1::ConnectRequest request;
  if (!ReadConnectRequest(body, errors, &request)) return Invalid(errors);

  v1::ConnectResponse response;
  grpc::Status status = broker_->Connect(NewContext().get(), request, &response);
  if (!status.ok()) return FromStatus(status);
  return JsonReply(200, {{"conn_id", response.conn_id()},
                         {"username", response.username()},
                         {"state", ParseStoredJson(response.state_json())},
                         {"public_state", ParseStoredJson(response.public_state_json())},
                         {"channels", Sorted(response.channels())},
                         {"channels_info", ChannelsInfoToJson(response.channels_info(),
                                                                    request.info().include_connections())},
                         {"positions", common::PositionsToJson(response.positions())}});
}

Reply RestAdapter::Subscribe(const Json& body) {
  FieldErrors errors;
  v1::SubscribeRequest request;
  if (!ReadSubscribeRequest(body, errors, &request)) return Invalid(errors);

  v1::SubscribeResponse response;
  grpc::Status status = broker_->Subscribe(NewContext().get(), request, &response);
  if (!status.ok()) return FromStatus(status);
  return JsonReply(200, {{"channels", Sorted(response.channels())},
                         {"channels_info", ChannelsInfoToJson(response.channels_info(),
                                                                    request.info().include_connections())},
                         {"subscribed_to", Sorted(response.subscribed_to())}});
}

Reply RestAdapter::Unsubscribe(const Json& body) {
  FieldErrors errors;
  v1::UnsubscribeRequest request;
  if (!ReadUnsubscribeRequest(body, errors, &request)) return Invalid(errors);

  v1::UnsubscribeResponse response;
  grpc::Status status = broker_->Unsubscribe(NewContext().get(), request, &response);
  if (!status.ok()) return FromStatus(status);
  return JsonReply(200, {{"channels", Sorted(response.channels())},
                         {"channels_info", ChannelsInfoToJson(response.channels_info(),
                                                                    request.info().include_connections())},
                         {"unsubscribed_from", Sorted(response.unsubscribed_from())}});
}

Reply RestAdapter::UserState(const Json& body) {
  FieldErrors errors;
  v1::UserStateRequest request;
  if (!ReadUserStateRequest(body, errors, &request)) return Invalid(errors);

  v1::UserStateResponse response;
  grpc::Status status = broker_->SetUserState(NewContext().get(), request, &response);
  if (!status.ok()) return FromStatus(status);
  Json changed = Json::array();
  for (const v1::StateChange& change : response.changed_state())
    changed.push_back({{"key", change.key()}, {"value", ParseStoredJson(change.value_json())}});
  return JsonReply(200, {{"user_state", ParseStoredJson(response.user_state_json())},
                         {"changed_state", changed},
                         {"public_keys", std::vector<std::string>(response.public_keys().begin(),
                                                                  response.public_keys().end())}});
}

namespace {

Json MessagesToJson(const google::protobuf::RepeatedPtrField<std::string>& messages) {
  Json list = Json::array();
  for (const std::string& message : messages) list.push_back(ParseStoredJson(message));
  return list;
}

}  // namespace

Reply RestAdapter::PublishMessages(const Json& body) {
  FieldErrors errors;
  v1::PublishRequest request;
  if (!ReadPublishRequest(body, errors, &request)) return Invalid(errors);

  v1::PublishResponse response;
  grpc::Status status = broker_->Publish(NewContext().get(), request, &response);
  if (!status.ok()) return FromStatus(status);
  Json echo = Json::array();
  for (const v1::PublishedMessage& message : response.messages())
    echo.push_back(ParseStoredJson(message.message_json()));
  return JsonReply(200, echo);
}

Reply RestAdapter::EditMessages(const Json& body) {
  FieldErrors errors;
  v1::EditMessagesRequest request;
  if (!ReadEditMessagesRequest(body, errors, &request)) return Invalid(errors);

  v1::EditMessagesResponse response;
  grpc::Status status = broker_->EditMessages(NewContext().get(), request, &response);
  if (!status.ok()) return FromStatus(status);
  return JsonReply(200, MessagesToJson(response.messages_json()));
}

Reply RestAdapter::DeleteMessages(const Json& body) {
  FieldErrors errors;
  v1::DeleteMessagesRequest request;
  if (!ReadDeleteMessagesRequest(body, errors, &request)) return Invalid(errors);

  v1::DeleteMessagesResponse response;
  grpc::Status status = broker_->DeleteMessages(NewContext().get(), request, &response);
  if (!status.ok()) return FromStatus(status);
  return JsonReply(200, MessagesToJson(response.messages_json()));
}

Reply RestAdapter::ChannelConfig(const Json& body) {
  FieldErrors errors;
  v1::ChannelConfigRequest request;
  if (!ReadChannelConfigRequest(body, errors, &request)) return Invalid(errors);
  v1::ChannelConfigResponse response;
  grpc::Status status = broker_->SetChannelConfig(NewContext().get(), request, &response);
  if (!status.ok()) return FromStatus(status);
  return JsonReply(200, ChannelsInfoToJson(response.channels_info(), false));
}

Reply RestAdapter::Info(const Json& body, const common::RequestTarget& target) {
  v1::InfoRequest request;
  FieldErrors errors;
  PagingParams paging;
  ReadPagingQuery(target.params, errors, &paging);
  ReadPagingBody(body, errors, &paging);
  if (!ReadInfoRequest(body, errors, &request)) return Invalid(errors);
  if (!errors.empty()) return Invalid(errors);
  request.set_limit(paging.limit);
  request.set_cursor(paging.cursor);
  v1::InfoResponse response;
  grpc::Status status = broker_->Info(NewContext().get(), request, &response);
  if (!status.ok()) return FromStatus(status);
  Json answer = ChannelsInfoToJson(response.channels_info(), request.info().include_connections());
  AddNextCursor(paging, response.next_cursor(), &answer);
  return JsonReply(200, answer);
}

Reply RestAdapter::AdminJson(const common::RequestTarget& target) {
  FieldErrors errors;
  PagingParams paging;
  ReadPagingQuery(target.params, errors, &paging);
  if (!errors.empty()) return Invalid(errors);
  v1::AdminInfoRequest request;
  request.set_limit(paging.limit);
  request.set_cursor(paging.cursor);
  v1::AdminInfoResponse response;
  grpc::Status status = broker_->AdminInfo(NewContext().get(), request, &response);
  if (!status.ok()) return FromStatus(status);
  Json answer = AdminInfoToJson(response);
  AddNextCursor(paging, response.next_cursor(), &answer);
  return JsonReply(200, answer);
}

bool RestAdapter::AdminSignedIn(const common::HttpRequestHeader& request) const {
  auto cookie = request.find(http::field::cookie);
  return cookie != request.end() && admin_->IsSignedIn(std::string(cookie->value()), absl::Now());
}

Reply RestAdapter::AdminSignIn(const common::HttpRequest& request, const boost::asio::ip::address& remote) {
  std::map<std::string, std::string> form = ParseForm(request.body());
  std::string cookie;
  switch (admin_->TrySignIn(remote.to_string(), form["username"], form["password"], absl::Now(), &cookie)) {
    case AdminSessions::SignIn::kOk: {
      Reply reply = Redirect("/admin");
      reply.headers.emplace_back("Set-Cookie", cookie);
      return reply;
    }
    case AdminSessions::SignIn::kThrottled: {
      Reply reply{429, SignInPage("Too many failed sign-ins from your address; wait and try again."),
                  "text/html; charset=utf-8"};
      return reply;
    }
    case AdminSessions::SignIn::kBadCredentials:
      break;
  }
  return Reply{401, SignInPage("Wrong user name or password."), "text/html; charset=utf-8"};
}

}  // namespace channelstream::rest
