#include "rest_adapter/request_guard.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "common/signing.h"

namespace channelstream::rest {

namespace ip = boost::asio::ip;

absl::StatusOr<AddressAllowlist> AddressAllowlist::Parse(const std::vector<std::string>& entries) {
  AddressAllowlist list;
  for (const std::string& entry : entries) {
    boost::system::error_code ec;
    if (entry == "0.0.0.0" || entry == "::" || entry == "*") {
      list.any_ = true;
      continue;
    }
    std::string cidr = entry;
    if (cidr.find('/') == std::string::npos) {
      ip::address address = ip::make_address(entry, ec);
      if (ec) return absl::InvalidArgumentError(absl::StrCat("allow_posting_from: not an address: '", entry, "'"));
      cidr = absl::StrCat(entry, address.is_v4() ? "/32" : "/128");
    }
    auto v4 = ip::make_network_v4(cidr, ec);
    if (!ec) {
      list.v4_.push_back(v4.canonical());
      continue;
    }
    ec.clear();
    auto v6 = ip::make_network_v6(cidr, ec);
    if (ec) return absl::InvalidArgumentError(absl::StrCat("allow_posting_from: not an address or CIDR range: '", entry, "'"));
    list.v6_.push_back(v6.canonical());
  }
  return list;
}

bool AddressAllowlist::Allows(const ip::address& raw) const {
  if (any_) return true;
  ip::address address = raw;
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = ip::make_address_v4(ip::v4_mapped, address.to_v6());
  if (address.is_v4()) {
    for (const auto& network : v4_) {
      if (ip::make_network_v4(address.to_v4(), network.prefix_length()).canonical() == network) return true;
    }
    return false;
  }
  for (const auto& network : v6_) {
    if (ip::make_network_v6(address.to_v6(), network.prefix_length()).canonical() == network) return true;
  }
  return false;
}

namespace {
GuardVerdict Refuse(int status, nlohmann::json body) { return {false, status, body.dump()}; }
}  // namespace

GuardVerdict CheckServerRequest(const AddressAllowlist& allowlist, const SignaturePolicy& policy,
                                const ip::address& remote, const std::optional<std::string>& token,
                                const std::string& path, absl::Time now) {
  if (!allowlist.Allows(remote))
    return Refuse(403, {{"request", absl::StrCat("Address ", remote.to_string(),
                                                 " is not in allow_posting_from")}});
  if (!token || token->empty())
    return Refuse(403, {{"request", "Missing signature (x-channelstream-secret header or ?secret=)"}});
  absl::StatusOr<VerifiedToken> verified = VerifyTimestamped(
      policy.secret, *token, now, policy.validate_age ? policy.max_age : absl::ZeroDuration());
  if (!verified.ok()) return Refuse(401, {{"request", "Bad Signature"}});
  if (policy.require_path && verified->value != path) {
    return Refuse(401, {{"request", "Bad Signature"},
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
