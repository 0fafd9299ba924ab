// Admin sign-in: a signed, expiring session cookie, and a per-address throttle on failed
// sign-ins. Pure logic with an injected clock; thread-safe.
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
                absl::Duration max_age, int max_failures, absl::Duration throttle);

  enum class SignIn { kOk, kBadCredentials, kThrottled };
  // Checks credentials (constant time) unless the address is throttled; on kOk fills `cookie`
  // with the Set-Cookie value.
  SignIn TrySignIn(const std::string& address, const std::string& user, const std::string& password,
                   absl::Time now, std::string* cookie);
  // True when the Cookie header carries a valid, unexpired session.
  bool IsSignedIn(const std::string& cookie_header, absl::Time now) const;
  // Set-Cookie value that removes the session.
  static std::string SignOutCookie();

 private:
  std::string MakeToken(absl::Time expires) const;

  const std::string admin_user_;
  const std::string admin_secret_;
  const std::string cookie_key_;
  const absl::Duration max_age_;
  const int max_failures_;
  const absl::Duration throttle_;
  std::mutex mu_;
  struct Failures {
    int count = 0;
    absl::Time last;
  };
  std::map<std::string, Failures> failures_;
};

// The value of cookie `name` in a Cookie header, if present.
std::optional<std::string> FindCookie(const std::string& cookie_header, const std::string& name);

}  // namespace channelstream::rest
