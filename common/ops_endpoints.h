// Operations endpoints every HTTP binary serves, unsigned and cheap (GET or HEAD):
//   /health   liveness: 200 {"status": "ok"} while the process answers at all;
//   /ready    200 {"status": "ready"} when this part can do its job (its broker reachable),
//             else 503 {"status": "unavailable", "reason": ...};
//   /metrics  Prometheus text exposition format 0.0.4 (common/metrics.h).
// Install() also sets the server's client-address resolver (trusted_proxies) and access log.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/access_log.h"
#include "common/client_address.h"
#include "common/config.h"
#include "common/http_server.h"

namespace channelstream::common {

struct Readiness {
  bool ready = true;
  std::string reason;  // why not, when not
};
using ReadinessCheck = std::function<Readiness()>;

class OpsEndpoints {
 public:
  // Reads trusted_proxies (an error names a bad entry) and access_log.
  static absl::StatusOr<std::unique_ptr<OpsEndpoints>> Create(const Config& config,
                                                              ReadinessCheck ready);

  // Resolver and access log on `server`; call before server.Start().
  void Install(HttpServer& server);
  // True for /health, /ready and /metrics (bodies, if any, are read as unauthenticated ones).
  static bool Serves(const HttpRequestHeader& header);
  // Answers /health, /ready and /metrics; false for any other path.
  bool Handle(const std::shared_ptr<HttpExchange>& exchange) const;

  const ClientAddressResolver& resolver() const { return resolver_; }

 private:
  OpsEndpoints(ClientAddressResolver resolver, bool access_log, ReadinessCheck ready);

  ClientAddressResolver resolver_;
  AccessLog access_log_;
  ReadinessCheck ready_;
};

}  // namespace channelstream::common
