// Admin sign-in: a signed, expiring session cookie that sign-out revokes, and a per-address
// throttle on failed sign-ins whose memory is bounded. Pure logic with an injected clock;
// thread-safe.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "absl/time/time.h"

namespace channelstream::rest {

inline constexpr const char* kSessionCookie = "channelstream_admin";

class AdminSessions {
 public:
  AdminSessions(std::string admin_user, std::string admin_secret, std::string cookie_key,
                absl::Duration max_age, int max_failures, absl::Duration throttle,
                size_t max_tracked_addresses = 10000);

  enum class SignIn { kOk, kBadCredentials, kThrottled };
  // Checks credentials (constant time) unless the address is throttled; on kOk fills `cookie`
  // with the Set-Cookie value.
  SignIn TrySignIn(const std::string& address, const std::string& user, const std::string& password,
                   absl::Time now, std::string* cookie);
  // True when the Cookie header carries a valid, unexpired session that was not signed out.
  bool IsSignedIn(const std::string& cookie_header, absl::Time now) const;
  // Revokes the session the Cookie header carries (if valid), so a copy of the cookie stops
  // working too. Revocations are kept until the session would have expired. In a deployment with
  // several REST adapters sharing cookie_secret, only the adapter that served the sign-out knows.
  void SignOut(const std::string& cookie_header, absl::Time now);
  // Set-Cookie value that removes the session from the browser.
  static std::string SignOutCookie();

  size_t tracked_addresses() const;

 private:
  // "expires.nonce.mac": the nonce tells sessions apart so one can be revoked alone.
  std::string MakeToken(absl::Time expires, const std::string& nonce) const;
  // The token's expiry if it is authentic, else nullopt.
  std::optional<absl::Time> Verify(const std::string& token) const;
  // Drops failure records older than the throttle window; if still over the cap, the oldest.
  void PruneFailures(absl::Time now);

  const std::string admin_user_;
  const std::string admin_secret_;
  const std::string cookie_key_;
  const absl::Duration max_age_;
  const int max_failures_;
  const absl::Duration throttle_;
  const size_t max_tracked_addresses_;
  mutable std::mutex mu_;
  struct Failures {
    int count = 0;
    absl::Time last;
  };
  std::map<std::string, Failures> failures_;
  std::map<std::string, absl::Time> revoked_;  // token -> when it expires anyway
};

// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string> FindCookie(const std::string& cookie_header, const std::string& name);

}  // namespace channelstream::rest
