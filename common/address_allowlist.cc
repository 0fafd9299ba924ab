#include "common/address_allowlist.h"

#include "absl/strings/str_cat.h"

namespace channelstream::common {

namespace ip = boost::asio::ip;

absl::StatusOr<AddressAllowlist> AddressAllowlist::Parse(const std::vector<std::string>& entries,
                                                         const std::string& key) {
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
      if (ec)
        return absl::InvalidArgumentError(absl::StrCat(key, ": not an address: '", entry, "'"));
      cidr = absl::StrCat(entry, address.is_v4() ? "/32" : "/128");
    }
    auto v4 = ip::make_network_v4(cidr, ec);
    if (!ec) {
      list.v4_.push_back(v4.canonical());
      continue;
    }
    ec.clear();
    auto v6 = ip::make_network_v6(cidr, ec);
    if (ec)
      return absl::InvalidArgumentError(
          absl::StrCat(key, ": not an address or CIDR range: '", entry, "'"));
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
      if (ip::make_network_v4(address.to_v4(), network.prefix_length()).canonical() == network)
        return true;
    }
    return false;
  }
  for (const auto& network : v6_) {
    if (ip::make_network_v6(address.to_v6(), network.prefix_length()).canonical() == network)
      return true;
  }
  return false;
}

}  // namespace channelstream::common
