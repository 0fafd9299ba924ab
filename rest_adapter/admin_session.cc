#include "rest_adapter/admin_session.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/signing.h"

namespace channelstream::rest {

AdminSessions::AdminSessions(std::string admin_user, std::string admin_secret, std::string cookie_key,
                             absl::Duration max_age, int max_failures, absl::Duration throttle)
    : admin_user_(std::move(admin_user)),
      admin_secret_(std::move(admin_secret)),
      cookie_key_(std::move(cookie_key)),
      max_age_(max_age),
      max_failures_(max_failures),
      throttle_(throttle) {}

std::string AdminSessions::MakeToken(absl::Time expires) const {
  std::string payload = absl::StrCat(absl::ToUnixSeconds(expires));
  return absl::StrCat(payload, ".", HmacSha256Base64Url(cookie_key_, absl::StrCat("admin-session:", payload)));
}

AdminSessions::SignIn AdminSessions::TrySignIn(const std::string& address, const std::string& user,
                                               const std::string& password, absl::Time now,
                                               std::string* cookie) {
  std::lock_guard<std::mutex> lock(mu_);
  Failures& failures = failures_[address];
  if (failures.count >= max_failures_ && now - failures.last < throttle_) return SignIn::kThrottled;
  if (now - failures.last >= throttle_) failures.count = 0;
  // Both comparisons always run, so timing does not tell which one failed.
  bool user_ok = ConstantTimeEquals(user, admin_user_);
  bool password_ok = ConstantTimeEquals(password, admin_secret_);
  if (!(user_ok && password_ok)) {
    ++failures.count;
    failures.last = now;
    return SignIn::kBadCredentials;
  }
  failures_.erase(address);
  *cookie = absl::StrCat(kSessionCookie, "=", MakeToken(now + max_age_), "; Path=/; HttpOnly; SameSite=Strict; Max-Age=",
                         absl::ToInt64Seconds(max_age_));
  return SignIn::kOk;
}

bool AdminSessions::IsSignedIn(const std::string& cookie_header, absl::Time now) const {
  std::optional<std::string> token = FindCookie(cookie_header, kSessionCookie);
  if (!token) return false;
  size_t dot = token->find('.');
  if (dot == std::string::npos) return false;
  int64_t expires = 0;
  if (!absl::SimpleAtoi(token->substr(0, dot), &expires)) return false;
  if (!ConstantTimeEquals(*token, MakeToken(absl::FromUnixSeconds(expires)))) return false;
  return absl::FromUnixSeconds(expires) > now;
}

std::string AdminSessions::SignOutCookie() {
  return absl::StrCat(kSessionCookie, "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

std::optional<std::string> FindCookie(const std::string& cookie_header, const std::string& name) {
  for (absl::string_view part : absl::StrSplit(cookie_header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "=")) return std::string(part);
  }
  return std::nullopt;
}

}  // namespace channelstream::rest
