// The admin panel's people-facing pages: the sign-in form and its POST, sign-out, and /admin
// itself (the panel page, for a signed-in session). Everything else the panel uses is signed
// server API or accepts the session (rest_adapter.cc asks SignedIn).
#pragma once

#include <boost/asio/ip/address.hpp>
#include <memory>
#include <optional>

#include "common/config.h"
#include "common/http_server.h"
#include "rest_adapter/admin_session.h"
#include "rest_adapter/reply.h"

namespace channelstream::rest {

class AdminSignIn {
 public:
  explicit AdminSignIn(const common::Config& config);

  // Whether `path` is one of these pages (they need no signature).
  static bool Serves(const std::string& path);
  // The answer for one of these pages.
  Reply Serve(const common::HttpRequest& request, const std::string& path,
              const boost::asio::ip::address& remote);
  // The request carries a live admin session cookie.
  bool SignedIn(const common::HttpRequestHeader& request) const;

 private:
  Reply SignIn(const common::HttpRequest& request, const boost::asio::ip::address& remote);

  std::unique_ptr<AdminSessions> sessions_;
};

}  // namespace channelstream::rest
