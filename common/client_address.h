// The client's address behind reverse proxies: when the TCP peer is in trusted_proxies, the
// rightmost X-Forwarded-For hop that is not itself a trusted proxy (or X-Real-IP when there is no
// X-Forwarded-For). Anyone can write those headers, so they are believed only from a trusted peer.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "common/address_allowlist.h"
#include "common/http_server.h"

namespace channelstream::common {

class ClientAddressResolver {
 public:
  ClientAddressResolver() = default;  // trusts no proxy: always the peer
  explicit ClientAddressResolver(AddressAllowlist trusted) : trusted_(std::move(trusted)) {}

  boost::asio::ip::address Resolve(const HttpRequestHeader& header,
                                   const boost::asio::ip::address& peer) const;
  // `forwarded_for`: every X-Forwarded-For header joined with ','; nullopt when absent.
  boost::asio::ip::address Resolve(const boost::asio::ip::address& peer,
                                   const std::optional<std::string_view>& forwarded_for,
                                   const std::optional<std::string_view>& real_ip) const;

 private:
  AddressAllowlist trusted_;
};

// One hop as proxies write it: "1.2.3.4", "1.2.3.4:5678", "2001:db8::1", "[2001:db8::1]:443".
// nullopt for anything else ("unknown", obfuscated identifiers, garbage).
std::optional<boost::asio::ip::address> ParseForwardedHop(std::string_view hop);

}  // namespace channelstream::common
