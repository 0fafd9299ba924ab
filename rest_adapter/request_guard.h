// Who may call the server API: the client address against allow_posting_from, then the
// itsdangerous signature (header x-channelstream-secret or ?secret=). Pure logic, no I/O.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/address_allowlist.h"

namespace channelstream::rest {

using ::channelstream::common::AddressAllowlist;  // allow_posting_from (common/address_allowlist.h)

struct SignaturePolicy {
  std::string secret;
  bool validate_age = true;  // validate_requests
  absl::Duration max_age = absl::Seconds(60);
  bool require_path = true;  // require_path_signature
};

// The outcome of checking one request: allowed, or the HTTP status and JSON body to answer.
struct GuardVerdict {
  bool allowed = false;
  int status = 0;
  std::string body;
};

// `token` is the header value (or ?secret=), nullopt when absent; `path` is the request path
// without the query string.
GuardVerdict CheckServerRequest(const common::AddressAllowlist& allowlist,
                                const SignaturePolicy& policy,
                                const boost::asio::ip::address& remote,
                                const std::optional<std::string>& token, const std::string& path,
                                absl::Time now);

}  // namespace channelstream::rest
