// One REST answer before the HTTP layer adds CORS headers, and the shapes every part builds.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace channelstream::rest {

struct Reply {
  Reply() = default;
  Reply(int status_code, std::string body_text, std::string type = "application/json")
      : status(status_code), body(std::move(body_text)), content_type(std::move(type)) {}

  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

// Invalid UTF-8 (an undecodable path echoed in a 404) is replaced, never an exception.
Reply JsonReply(int status, const nlohmann::json& body);
Reply MethodNotAllowed();
Reply Redirect(const std::string& location);
Reply Html(int status, const std::string& html);

}  // namespace channelstream::rest
