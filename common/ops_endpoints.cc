#include "common/ops_endpoints.h"

#include <nlohmann/json.hpp>

#include "common/metrics.h"
#include "common/process_metrics.h"

namespace channelstream::common {

namespace http = boost::beast::http;

namespace {
std::string_view PathOf(const HttpRequestHeader& header) {
  std::string_view target(header.target().data(), header.target().size());
  return target.substr(0, target.find('?'));
}
}  // namespace

absl::StatusOr<std::unique_ptr<OpsEndpoints>> OpsEndpoints::Create(const Config& config,
                                                                   ReadinessCheck ready) {
  absl::StatusOr<AddressAllowlist> trusted =
      AddressAllowlist::Parse(config.GetList("trusted_proxies"), "trusted_proxies");
  if (!trusted.ok()) return trusted.status();
  RegisterProcessMetrics(GlobalMetrics());
  return std::unique_ptr<OpsEndpoints>(new OpsEndpoints(
      ClientAddressResolver(*std::move(trusted)), config.GetBool("access_log"), std::move(ready)));
}

OpsEndpoints::OpsEndpoints(ClientAddressResolver resolver, bool access_log, ReadinessCheck ready)
    : resolver_(std::move(resolver)),
      access_log_(access_log, GlobalMetrics()),
      ready_(std::move(ready)) {}

void OpsEndpoints::Install(HttpServer& server) {
  server.SetClientAddressResolver(
      [this](const HttpRequestHeader& header, const boost::asio::ip::address& peer) {
        return resolver_.Resolve(header, peer);
      });
  server.SetAccessObserver([this](const HttpAccessRecord& record) { access_log_.Record(record); });
}

bool OpsEndpoints::Serves(const HttpRequestHeader& header) {
  const std::string_view path = PathOf(header);
  return path == "/health" || path == "/ready" || path == "/metrics";
}

bool OpsEndpoints::Handle(const std::shared_ptr<HttpExchange>& exchange) const {
  const HttpRequest& request = exchange->request();
  if (!Serves(request)) return false;
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    HttpResponse response = MakeResponse(request, http::status::method_not_allowed,
                                         "{\"error\": \"method not allowed: use GET or HEAD\"}");
    response.set(http::field::allow, "GET, HEAD");
    exchange->Respond(std::move(response));
    return true;
  }
  const std::string_view path = PathOf(request);
  HttpResponse response;
  if (path == "/health") {
    response = MakeResponse(request, http::status::ok, "{\"status\": \"ok\"}");
  } else if (path == "/ready") {
    Readiness readiness = ready_ ? ready_() : Readiness{};
    nlohmann::json body = {{"status", readiness.ready ? "ready" : "unavailable"}};
    if (!readiness.ready) body["reason"] = readiness.reason;
    response = MakeResponse(request,
                            readiness.ready ? http::status::ok : http::status::service_unavailable,
                            body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  } else {
    response = MakeResponse(request, http::status::ok, GlobalMetrics().Render(),
                            "text/plain; version=0.0.4; charset=utf-8");
  }
  response.set(http::field::cache_control, "no-store");
  exchange->Respond(std::move(response));
  return true;
}

}  // namespace channelstream::common
