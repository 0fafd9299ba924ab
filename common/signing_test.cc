#include "common/signing.h"

#include <gtest/gtest.h>

namespace channelstream::common {
namespace {

// Vectors from Debian's python3-itsdangerous 2.2: TimestampSigner(secret).sign(value) with
// time.time() patched to the given second.
struct Vector {
  const char* secret;
  const char* value;
  int64_t seconds;
  const char* token;
};
const Vector kVectors[] = {
    {"secret", "/connect", 1764044853, "/connect.aSUwNQ.lz_6znSAtqf_u3hIA7kWPDDX6x8"},
    {"s3cr3t", "channelstream", 1700000000, "channelstream.ZVPxAA.Q0HNbU--KnmDrtXPPxUH2i0wWs8"},
    {"secret", "/message", 1, "/message.AQ.GZeLdTIIoM8WMs_d8XNYrTpbzOY"},
};

TEST(SigningTest, MatchesItsdangerous) {
  for (const Vector& v : kVectors) {
    EXPECT_EQ(SignTimestamped(v.secret, v.value, absl::FromUnixSeconds(v.seconds)), v.token);
    auto verified = VerifyTimestamped(v.secret, v.token, absl::FromUnixSeconds(v.seconds + 5),
                                      absl::Seconds(60));
    ASSERT_TRUE(verified.ok()) << verified.status();
    EXPECT_EQ(verified->value, v.value);
    EXPECT_EQ(verified->age, absl::Seconds(5));
  }
}

TEST(SigningTest, RejectsTamperingWrongSecretAndAge) {
  const Vector& v = kVectors[0];
  absl::Time now = absl::FromUnixSeconds(v.seconds);
  EXPECT_FALSE(VerifyTimestamped("other", v.token, now, absl::Seconds(60)).ok());
  std::string tampered = v.token;
  tampered[1] = 'k';
  EXPECT_FALSE(VerifyTimestamped(v.secret, tampered, now, absl::Seconds(60)).ok());
  EXPECT_FALSE(VerifyTimestamped(v.secret, "", now, absl::Seconds(60)).ok());
  EXPECT_FALSE(VerifyTimestamped(v.secret, "....", now, absl::Seconds(60)).ok());
  auto expired = VerifyTimestamped(v.secret, v.token, now + absl::Seconds(61), absl::Seconds(60));
  EXPECT_TRUE(absl::IsDeadlineExceeded(expired.status()));
  // max_age 0 (validate_requests = false): any age accepted.
  EXPECT_TRUE(
      VerifyTimestamped(v.secret, v.token, now + absl::Hours(1000), absl::ZeroDuration()).ok());
  // A value containing the separator still round-trips.
  std::string token = SignTimestamped("k", "a.b.c", now);
  auto verified = VerifyTimestamped("k", token, now, absl::Seconds(60));
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->value, "a.b.c");
}

}  // namespace
}  // namespace channelstream::common
