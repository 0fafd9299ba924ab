// Request-target helpers for the client endpoints: path, decoded query parameters, and the
// JSONP callback-name rule.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace channelstream::common {

struct RequestTarget {
  std::string path;
  std::map<std::string, std::string> params;  // percent-decoded; the first occurrence wins

  const std::string* Find(const std::string& key) const {
    auto it = params.find(key);
    return it == params.end() ? nullptr : &it->second;
  }
};

RequestTarget ParseTarget(std::string_view target);
std::string PercentDecode(std::string_view text, bool plus_is_space);
// JSONP callback names: non-empty, at most 128 of [A-Za-z0-9_.$], so the answer cannot inject
// script.
bool IsValidCallbackName(std::string_view name);

}  // namespace channelstream::common
