#include "rest_adapter/request_guard.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/signing.h"

namespace channelstream::rest {

namespace ip = boost::asio::ip;

namespace {
GuardVerdict Refuse(int status, nlohmann::json body) { return {false, status, body.dump()}; }
}  // namespace

GuardVerdict CheckServerRequest(const common::AddressAllowlist& allowlist,
                                const SignaturePolicy& policy, const ip::address& remote,
                                const std::optional<std::string>& token, const std::string& path,
                                absl::Time now) {
  if (!allowlist.Allows(remote))
    return Refuse(403, {{"request", absl::StrCat("Address ", remote.to_string(),
                                                 " is not in allow_posting_from")}});
  if (!token || token->empty())
    return Refuse(403,
                  {{"request", "Missing signature (x-channelstream-secret header or ?secret=)"}});
  absl::StatusOr<common::VerifiedToken> verified = common::VerifyTimestamped(
      policy.secret, *token, now, policy.validate_age ? policy.max_age : absl::ZeroDuration());
  if (!verified.ok()) return Refuse(401, {{"request", "Bad Signature"}});
  if (policy.require_path && verified->value != path) {
    return Refuse(401,
                  {{"request", "Bad Signature"},
                   {"signed_value", verified->value},
                   {"expected_value", path},
                   {"detail", absl::StrCat("The signature is valid but signs '", verified->value,
                                           "', not this request's path '", path,
                                           "'. Sign the path, or set require_path_signature = "
                                           "false to accept any value signed with the secret "
                                           "(Channelstream 0.7.1 behaviour).")}});
  }
  return {true, 200, ""};
}

}  // namespace channelstream::rest
