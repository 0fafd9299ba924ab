#include "rest_adapter/admin_sign_in.h"

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "common/query.h"
#include "rest_adapter/admin_pages.h"

namespace channelstream::rest {
namespace http = boost::beast::http;
namespace {

constexpr char kSignInPath[] = "/admin/sign_in";

// An application/x-www-form-urlencoded body (the sign-in form).
std::map<std::string, std::string> ParseForm(const std::string& body) {
  std::map<std::string, std::string> form;
  for (absl::string_view pair : absl::StrSplit(body, '&', absl::SkipEmpty())) {
    size_t eq = pair.find('=');
    std::string_view view(pair.data(), pair.size());
    std::string key = common::PercentDecode(view.substr(0, eq), true);
    std::string value =
        eq == absl::string_view::npos ? "" : common::PercentDecode(view.substr(eq + 1), true);
    form.emplace(std::move(key), std::move(value));
  }
  return form;
}

}  // namespace

AdminSignIn::AdminSignIn(const common::Config& config) {
  std::string cookie_key = config.GetString("cookie_secret");
  if (cookie_key.empty())
    cookie_key =
        absl::StrCat("cookie:", config.GetString("secret"), ":", config.GetString("admin_secret"));
  sessions_ = std::make_unique<AdminSessions>(
      config.GetString("admin_user"), config.GetString("admin_secret"), cookie_key,
      absl::Seconds(config.GetDouble("admin_session_max_age")),
      static_cast<int>(config.GetInt("admin_signin_max_failures")),
      absl::Seconds(config.GetDouble("admin_signin_throttle")),
      static_cast<size_t>(config.GetInt("admin_signin_tracked_addresses")));
}

bool AdminSignIn::Serves(const std::string& path) {
  return path == kSignInPath || path == "/admin/sign_out" || path == "/admin" || path == "/admin/";
}

Reply AdminSignIn::Serve(const common::HttpRequest& request, const std::string& path,
                         const boost::asio::ip::address& remote) {
  const http::verb method = request.method();
  if (path == kSignInPath) {
    if (method == http::verb::post) return SignIn(request, remote);
    if (method != http::verb::get) return MethodNotAllowed();
    return Html(200, SignInPage(""));
  }
  if (path == "/admin/sign_out") {
    auto cookie = request.find(http::field::cookie);
    if (cookie != request.end()) sessions_->SignOut(std::string(cookie->value()), absl::Now());
    Reply reply = Redirect(kSignInPath);
    reply.headers.emplace_back("Set-Cookie", AdminSessions::SignOutCookie());
    return reply;
  }
  if (!SignedIn(request)) return Redirect(kSignInPath);
  return Html(200, AdminPage());
}

bool AdminSignIn::SignedIn(const common::HttpRequestHeader& request) const {
  auto cookie = request.find(http::field::cookie);
  return cookie != request.end() &&
         sessions_->IsSignedIn(std::string(cookie->value()), absl::Now());
}

Reply AdminSignIn::SignIn(const common::HttpRequest& request,
                          const boost::asio::ip::address& remote) {
  std::map<std::string, std::string> form = ParseForm(request.body());
  std::string cookie;
  switch (sessions_->TrySignIn(remote.to_string(), form["username"], form["password"], absl::Now(),
                               &cookie)) {
    case AdminSessions::SignIn::kOk: {
      Reply reply = Redirect("/admin");
      reply.headers.emplace_back("Set-Cookie", cookie);
      return reply;
    }
    case AdminSessions::SignIn::kThrottled:
      return Html(429,
                  SignInPage("Too many failed sign-ins from your address; wait and try again."));
    case AdminSessions::SignIn::kBadCredentials:
      break;
  }
  return Html(401, SignInPage("Wrong user name or password."));
}

}  // namespace channelstream::rest
