#include "rest_adapter/admin_session.h"

#include <gtest/gtest.h>

namespace channelstream::rest {
namespace {

class AdminSessionsTest : public ::testing::Test {
 protected:
  // "name=value; Path=..." -> "name=value", what a browser sends back.
  static std::string CookieHeader(const std::string& set_cookie) {
    return set_cookie.substr(0, set_cookie.find(';'));
  }

  AdminSessions sessions_{"admin", "pa55", "cookie-key", absl::Hours(1), 3, absl::Seconds(60)};
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
};

TEST_F(AdminSessionsTest, SignInIssuesAnExpiringCookie) {
  std::string cookie;
  ASSERT_EQ(sessions_.TrySignIn("1.2.3.4", "admin", "pa55", now_, &cookie),
            AdminSessions::SignIn::kOk);
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  std::string header = "other=1; " + CookieHeader(cookie);
  EXPECT_TRUE(sessions_.IsSignedIn(header, now_ + absl::Minutes(59)));
  EXPECT_FALSE(sessions_.IsSignedIn(header, now_ + absl::Minutes(61)));
}

TEST_F(AdminSessionsTest, WrongCredentialsAndTamperedCookiesAreRefused) {
  std::string cookie;
  EXPECT_EQ(sessions_.TrySignIn("1.2.3.4", "admin", "nope", now_, &cookie),
            AdminSessions::SignIn::kBadCredentials);
  EXPECT_EQ(sessions_.TrySignIn("1.2.3.4", "root", "pa55", now_, &cookie),
            AdminSessions::SignIn::kBadCredentials);
  ASSERT_EQ(sessions_.TrySignIn("1.2.3.4", "admin", "pa55", now_, &cookie),
            AdminSessions::SignIn::kOk);
  std::string header = CookieHeader(cookie);
  std::string tampered = header;
  tampered[tampered.size() - 2] = tampered[tampered.size() - 2] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(sessions_.IsSignedIn(tampered, now_));
  EXPECT_FALSE(sessions_.IsSignedIn("", now_));
  AdminSessions other_key{"admin", "pa55", "another-key", absl::Hours(1), 3, absl::Seconds(60)};
  EXPECT_FALSE(other_key.IsSignedIn(header, now_));
}

TEST_F(AdminSessionsTest, RepeatedFailuresThrottleThatAddressOnly) {
  std::string cookie;
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(sessions_.TrySignIn("1.2.3.4", "admin", "bad", now_, &cookie),
              AdminSessions::SignIn::kBadCredentials);
  // Even the right password is refused while throttled.
  EXPECT_EQ(sessions_.TrySignIn("1.2.3.4", "admin", "pa55", now_ + absl::Seconds(10), &cookie),
            AdminSessions::SignIn::kThrottled);
  EXPECT_EQ(sessions_.TrySignIn("5.6.7.8", "admin", "pa55", now_, &cookie),
            AdminSessions::SignIn::kOk);
  EXPECT_EQ(sessions_.TrySignIn("1.2.3.4", "admin", "pa55", now_ + absl::Seconds(80), &cookie),
            AdminSessions::SignIn::kOk);
}

TEST_F(AdminSessionsTest, SignOutRevokesTheSessionEvenForACopiedCookie) {
  std::string first, second;
  ASSERT_EQ(sessions_.TrySignIn("1.2.3.4", "admin", "pa55", now_, &first),
            AdminSessions::SignIn::kOk);
  ASSERT_EQ(sessions_.TrySignIn("1.2.3.4", "admin", "pa55", now_, &second),
            AdminSessions::SignIn::kOk);
  ASSERT_NE(CookieHeader(first),
            CookieHeader(second));  // issued in the same second, still distinct
  sessions_.SignOut(CookieHeader(first), now_ + absl::Minutes(1));
  EXPECT_FALSE(sessions_.IsSignedIn(CookieHeader(first), now_ + absl::Minutes(2)));
  EXPECT_TRUE(sessions_.IsSignedIn(CookieHeader(second), now_ + absl::Minutes(2)));
  sessions_.SignOut("channelstream_admin=forged.token.x", now_);  // not a session: nothing kept
}

TEST(AdminSessionsMemoryTest, FailureRecordsAreBoundedAndExpire) {
  AdminSessions sessions{"admin", "pa55", "key", absl::Hours(1), 3, absl::Seconds(60), 100};
  absl::Time now = absl::FromUnixSeconds(1800000000);
  std::string cookie;
  for (int i = 0; i < 1000; ++i)
    sessions.TrySignIn("10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256), "admin",
                       "bad", now, &cookie);
  EXPECT_LE(sessions.tracked_addresses(), 100u);
  // Once the throttle window has passed, old records go first.
  sessions.TrySignIn("192.0.2.1", "admin", "bad", now + absl::Seconds(61), &cookie);
  EXPECT_EQ(sessions.tracked_addresses(), 1u);
  // The newest throttled address is still throttled while the cap evicts others.
  for (int i = 0; i < 3; ++i)
    sessions.TrySignIn("192.0.2.9", "admin", "bad", now + absl::Seconds(62), &cookie);
  EXPECT_EQ(sessions.TrySignIn("192.0.2.9", "admin", "pa55", now + absl::Seconds(63), &cookie),
            AdminSessions::SignIn::kThrottled);
}

TEST(FindCookieTest, ParsesCookieHeaders) {
  EXPECT_EQ(FindCookie("a=1; channelstream_admin=xyz; b=2", "channelstream_admin"), "xyz");
  EXPECT_EQ(FindCookie("a=1;b=2", "b"), "2");
  EXPECT_EQ(FindCookie("a=1", "b"), std::nullopt);
  EXPECT_EQ(FindCookie("ab=1", "b"), std::nullopt);
}

}  // namespace
}  // namespace channelstream::rest
