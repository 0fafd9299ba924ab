#include "common/client_address.h"

#include <algorithm>
#include <vector>

#include "absl/strings/ascii.h"
#include "common/log.h"

namespace channelstream::common {

namespace ip = boost::asio::ip;
namespace http = boost::beast::http;

std::optional<ip::address> ParseForwardedHop(std::string_view hop) {
  while (!hop.empty() && absl::ascii_isspace(static_cast<unsigned char>(hop.front())))
    hop.remove_prefix(1);
  while (!hop.empty() && absl::ascii_isspace(static_cast<unsigned char>(hop.back())))
    hop.remove_suffix(1);
  if (hop.empty() || hop.size() > 64) return std::nullopt;
  std::string text(hop);
  if (text.front() == '[') {  // [v6] or [v6]:port
    const size_t close = text.find(']');
    if (close == std::string::npos) return std::nullopt;
    const std::string rest = text.substr(close + 1);
    if (!rest.empty() && (rest[0] != ':' || rest.size() == 1 ||
                          rest.find_first_not_of("0123456789", 1) != std::string::npos))
      return std::nullopt;
    text = text.substr(1, close - 1);
  } else if (std::count(text.begin(), text.end(), ':') == 1) {  // v4:port
    const size_t colon = text.find(':');
    if (colon + 1 == text.size() ||
        text.find_first_not_of("0123456789", colon + 1) != std::string::npos)
      return std::nullopt;
    text = text.substr(0, colon);
  }
  boost::system::error_code ec;
  ip::address address = ip::make_address(text, ec);
  if (ec) return std::nullopt;
  return address;
}

ip::address ClientAddressResolver::Resolve(const ip::address& peer,
                                           const std::optional<std::string_view>& forwarded_for,
                                           const std::optional<std::string_view>& real_ip) const {
  if (trusted_.empty() || !trusted_.Allows(peer)) return peer;
  if (forwarded_for) {
    std::vector<std::string_view> hops;
    for (std::string_view rest = *forwarded_for;;) {
      const size_t comma = rest.find(',');
      hops.push_back(rest.substr(0, comma));
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    std::vector<ip::address> parsed;
    for (std::string_view hop : hops) {
      std::optional<ip::address> address = ParseForwardedHop(hop);
      if (!address) {
        LOG_DEBUG("ignoring a malformed X-Forwarded-For from ", peer.to_string(), ": '",
                  std::string(*forwarded_for), "'");
        parsed.clear();
        break;
      }
      parsed.push_back(*address);
    }
    if (!parsed.empty()) {
      // Rightmost first: each trusted proxy appended the address it saw; the first hop no trusted
      // proxy vouches for is the client (anything left of it is the client's own claim).
      for (auto it = parsed.rbegin(); it != parsed.rend(); ++it) {
        if (!trusted_.Allows(*it)) return *it;
      }
      return parsed.front();  // a chain of trusted proxies only
    }
  }
  if (real_ip) {
    if (std::optional<ip::address> address = ParseForwardedHop(*real_ip)) return *address;
    LOG_DEBUG("ignoring a malformed X-Real-IP from ", peer.to_string(), ": '",
              std::string(*real_ip), "'");
  }
  return peer;
}

ip::address ClientAddressResolver::Resolve(const HttpRequestHeader& header,
                                           const ip::address& peer) const {
  if (trusted_.empty()) return peer;  // the common case costs no header lookup
  std::optional<std::string> forwarded_for;
  auto range = header.equal_range("X-Forwarded-For");
  for (auto it = range.first; it != range.second; ++it) {
    if (forwarded_for)
      *forwarded_for += ",";
    else
      forwarded_for.emplace();
    forwarded_for->append(it->value().data(), it->value().size());
  }
  std::optional<std::string_view> real_ip;
  auto real = header.find("X-Real-IP");
  if (real != header.end()) real_ip = std::string_view(real->value().data(), real->value().size());
  std::optional<std::string_view> forwarded_view;
  if (forwarded_for) forwarded_view = *forwarded_for;
  return Resolve(peer, forwarded_view, real_ip);
}

}  // namespace channelstream::common
