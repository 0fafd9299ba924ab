// Addresses and CIDR ranges (allow_posting_from, trusted_proxies); "0.0.0.0", "::" or "*" match
// any address. IPv4-mapped IPv6 addresses match their IPv4 entries.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/network_v4.hpp>
#include <boost/asio/ip/network_v6.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace channelstream::common {

class AddressAllowlist {
 public:
  // Errors name `key` and the entry that does not parse.
  static absl::StatusOr<AddressAllowlist> Parse(const std::vector<std::string>& entries,
                                                const std::string& key = "allow_posting_from");
  bool Allows(const boost::asio::ip::address& address) const;
  bool empty() const { return !any_ && v4_.empty() && v6_.empty(); }

 private:
  bool any_ = false;
  std::vector<boost::asio::ip::network_v4> v4_;
  std::vector<boost::asio::ip::network_v6> v6_;
};

}  // namespace channelstream::common
