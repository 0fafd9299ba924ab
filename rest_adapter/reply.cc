#include "rest_adapter/reply.h"

namespace channelstream::rest {

Reply JsonReply(int status, const nlohmann::json& body) {
  return Reply{status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
}

Reply MethodNotAllowed() { return JsonReply(405, {{"request", "Method not allowed"}}); }

Reply Redirect(const std::string& location) {
  Reply reply{302, "", "text/plain"};
  reply.headers.emplace_back("Location", location);
  return reply;
}

Reply Html(int status, const std::string& html) {
  return Reply{status, html, "text/html; charset=utf-8"};
}

}  // namespace channelstream::rest
