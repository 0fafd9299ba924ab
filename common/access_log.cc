#include "common/access_log.h"

#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/log.h"

namespace channelstream::common {

namespace {
// A 4xx body is the reason the client was refused; logs keep its start only.
constexpr size_t kMaxReasonBytes = 200;

// Buckets for request latency (seconds): sub-millisecond local answers up to long polls.
const std::vector<double>& LatencyBuckets() {
  static const std::vector<double> buckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                              0.25,   0.5,   1,      2.5,   5,    10,    30};
  return buckets;
}
}  // namespace

std::string RedactTarget(std::string_view target) {
  const size_t question = target.find('?');
  if (question == std::string_view::npos) return std::string(target);
  std::string out(target.substr(0, question + 1));
  std::string_view query = target.substr(question + 1);
  bool first = true;
  while (true) {
    const size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    if (!first) out += '&';
    first = false;
    const size_t eq = pair.find('=');
    std::string_view name = pair.substr(0, eq);
    if (absl::AsciiStrToLower(std::string(name)) == "secret") {
      absl::StrAppend(&out, std::string(name), "=***");
    } else {
      out.append(pair.data(), pair.size());
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return out;
}

std::string EndpointLabel(std::string_view target) {
  static constexpr std::array<std::string_view, 19> kKnown = {
      "/connect",        "/subscribe",
      "/unsubscribe",    "/user_state",
      "/message",        "/channel_config",
      "/info",           "/admin/admin.json",
      "/admin",          "/admin/sign_in",
      "/admin/sign_out", "/api-explorer",
      "/openapi.json",   "/ws",
      "/listen",         "/disconnect",
      "/health",         "/ready",
      "/metrics"};
  std::string_view path = target.substr(0, target.find('?'));
  for (std::string_view known : kKnown) {
    if (path == known) return std::string(known);
  }
  return "other";
}

AccessLog::AccessLog(bool log_lines, MetricsRegistry& registry)
    : log_lines_(log_lines), registry_(registry) {}

void AccessLog::Record(const HttpAccessRecord& record) const {
  const std::string endpoint = EndpointLabel(record.target);
  registry_
      .GetCounter("channelstream_http_requests_total",
                  "HTTP requests answered, by endpoint and status.",
                  {{"endpoint", endpoint}, {"status", absl::StrCat(record.status)}})
      ->Add();
  // Long polls and WebSockets last as long as the client wants: their duration is no latency.
  if (endpoint != "/listen" && endpoint != "/ws") {
    registry_
        .GetHistogram(
            "channelstream_http_request_duration_seconds",
            "Time from request headers read to response sent, by endpoint (not /listen, /ws).",
            LatencyBuckets(), {{"endpoint", endpoint}})
        ->Observe(record.seconds);
  }
  if (!log_lines_ || !LogEnabled(LogLevel::kInfo)) return;
  LogFields fields = {{"method", record.method},
                      {"path", RedactTarget(record.target)},
                      {"status", absl::StrCat(record.status)},
                      {"duration_ms", absl::StrFormat("%.3f", record.seconds * 1000)},
                      {"bytes", absl::StrCat(record.body_bytes)},
                      {"client", record.client.to_string()}};
  if (record.status >= 400 && record.status < 500 && !record.body.empty()) {
    fields.emplace_back("reason", std::string(record.body.substr(0, kMaxReasonBytes)));
  }
  LogLineWithFields(LogLevel::kInfo, "access", fields);
}

}  // namespace channelstream::common
