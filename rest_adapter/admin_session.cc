#include "rest_adapter/admin_session.h"

#include <algorithm>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/ids.h"
#include "common/signing.h"

namespace channelstream::rest {

AdminSessions::AdminSessions(std::string admin_user, std::string admin_secret,
                             std::string cookie_key, absl::Duration max_age, int max_failures,
                             absl::Duration throttle, size_t max_tracked_addresses)
    : admin_user_(std::move(admin_user)),
      admin_secret_(std::move(admin_secret)),
      cookie_key_(std::move(cookie_key)),
      max_age_(max_age),
      max_failures_(max_failures),
      throttle_(throttle),
      max_tracked_addresses_(std::max<size_t>(1, max_tracked_addresses)) {}

std::string AdminSessions::MakeToken(absl::Time expires, const std::string& nonce) const {
  std::string payload = absl::StrCat(absl::ToUnixSeconds(expires), ".", nonce);
  return absl::StrCat(
      payload, ".",
      common::HmacSha256Base64Url(cookie_key_, absl::StrCat("admin-session:", payload)));
}

std::optional<absl::Time> AdminSessions::Verify(const std::string& token) const {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  int64_t expires = 0;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &expires)) return std::nullopt;
  if (!common::ConstantTimeEquals(token, MakeToken(absl::FromUnixSeconds(expires), parts[1])))
    return std::nullopt;
  return absl::FromUnixSeconds(expires);
}

void AdminSessions::PruneFailures(absl::Time now) {
  if (failures_.size() < max_tracked_addresses_) return;
  for (auto it = failures_.begin(); it != failures_.end();)
    it = now - it->second.last >= throttle_ ? failures_.erase(it) : std::next(it);
  while (failures_.size() >= max_tracked_addresses_) {
    auto oldest = std::min_element(
        failures_.begin(), failures_.end(),
        [](const auto& a, const auto& b) { return a.second.last < b.second.last; });
    failures_.erase(oldest);
  }
}

AdminSessions::SignIn AdminSessions::TrySignIn(const std::string& address, const std::string& user,
                                               const std::string& password, absl::Time now,
                                               std::string* cookie) {
  std::lock_guard<std::mutex> lock(mu_);
  if (failures_.find(address) == failures_.end()) PruneFailures(now);
  Failures& failures = failures_[address];
  if (failures.count >= max_failures_ && now - failures.last < throttle_) return SignIn::kThrottled;
  if (now - failures.last >= throttle_) failures.count = 0;
  // Both comparisons always run, so timing does not tell which one failed.
  bool user_ok = common::ConstantTimeEquals(user, admin_user_);
  bool password_ok = common::ConstantTimeEquals(password, admin_secret_);
  if (!(user_ok && password_ok)) {
    ++failures.count;
    failures.last = now;
    return SignIn::kBadCredentials;
  }
  failures_.erase(address);
  *cookie =
      absl::StrCat(kSessionCookie, "=", MakeToken(now + max_age_, common::NewUuid()),
                   "; Path=/; HttpOnly; SameSite=Strict; Max-Age=", absl::ToInt64Seconds(max_age_));
  return SignIn::kOk;
}

bool AdminSessions::IsSignedIn(const std::string& cookie_header, absl::Time now) const {
  std::optional<std::string> token = FindCookie(cookie_header, kSessionCookie);
  if (!token) return false;
  std::optional<absl::Time> expires = Verify(*token);
  if (!expires || *expires <= now) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return revoked_.find(*token) == revoked_.end();
}

void AdminSessions::SignOut(const std::string& cookie_header, absl::Time now) {
  std::optional<std::string> token = FindCookie(cookie_header, kSessionCookie);
  if (!token) return;
  std::optional<absl::Time> expires = Verify(*token);
  if (!expires || *expires <= now)
    return;  // only real sessions are remembered: bounded by sign-ins
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = revoked_.begin(); it != revoked_.end();)
    it = it->second <= now ? revoked_.erase(it) : std::next(it);
  revoked_.emplace(*token, *expires);
}

size_t AdminSessions::tracked_addresses() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failures_.size();
}

std::string AdminSessions::SignOutCookie() {
  return absl::StrCat(kSessionCookie, "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

std::optional<std::string> FindCookie(const std::string& cookie_header, const std::string& name) {
  for (absl::string_view part : absl::StrSplit(cookie_header, ';')) {
    part = absl::StripAsciiWhitespace(part);
    if (absl::ConsumePrefix(&part, name) && absl::ConsumePrefix(&part, "="))
      return std::string(part);
  }
  return std::nullopt;
}

}  // namespace channelstream::rest
