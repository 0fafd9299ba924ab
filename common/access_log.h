// One access-log line per HTTP request (method, path with secrets masked, status, duration,
// bytes, client after trusted proxies, and the reason of a 4xx) plus the request metrics
// channelstream_http_requests_total{endpoint,status} and
// channelstream_http_request_duration_seconds{endpoint}.
#pragma once

#include <string>
#include <string_view>

#include "common/http_server.h"
#include "common/metrics.h"

namespace channelstream::common {

// The target with the value of every `secret` query parameter replaced by "***" (0.7 clients
// may sign with ?secret=; a token in a log file is a token anyone with the log can replay).
std::string RedactTarget(std::string_view target);

// The metrics label for a path: known routes by name, anything else "other" (unbounded label
// values would make every scanned URL a new time series).
std::string EndpointLabel(std::string_view target);

class AccessLog {
 public:
  // `log_lines`: access_log. Metrics are recorded either way.
  AccessLog(bool log_lines, MetricsRegistry& registry);
  void Record(const HttpAccessRecord& record) const;

 private:
  bool log_lines_;
  MetricsRegistry& registry_;
};

}  // namespace channelstream::common
