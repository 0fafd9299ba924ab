#include "rest_adapter/request_guard.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/signing.h"

namespace channelstream::rest {
namespace {

using boost::asio::ip::make_address;

common::AddressAllowlist Allow(const std::vector<std::string>& entries) {
  absl::StatusOr<common::AddressAllowlist> list = common::AddressAllowlist::Parse(entries);
  EXPECT_TRUE(list.ok()) << list.status();
  return *list;
}

TEST(AddressAllowlistTest, SingleAddressesAndRanges) {
  common::AddressAllowlist list = Allow({"127.0.0.1", "10.1.0.0/16", "::1", "fd00::/8"});
  EXPECT_TRUE(list.Allows(make_address("127.0.0.1")));
  EXPECT_FALSE(list.Allows(make_address("127.0.0.2")));
  EXPECT_TRUE(list.Allows(make_address("10.1.255.3")));
  EXPECT_FALSE(list.Allows(make_address("10.2.0.1")));
  EXPECT_TRUE(list.Allows(make_address("::1")));
  EXPECT_TRUE(list.Allows(make_address("fd12::5")));
  EXPECT_FALSE(list.Allows(make_address("fe80::1")));
}

TEST(AddressAllowlistTest, IpV4MappedAddressesMatchTheirV4Entry) {
  common::AddressAllowlist list = Allow({"192.168.0.0/24"});
  EXPECT_TRUE(list.Allows(make_address("::ffff:192.168.0.7")));
}

TEST(AddressAllowlistTest, ZeroAddressAllowsAnything) {
  common::AddressAllowlist list = Allow({"0.0.0.0"});
  EXPECT_TRUE(list.Allows(make_address("8.8.8.8")));
  EXPECT_TRUE(list.Allows(make_address("2001:db8::1")));
}

TEST(AddressAllowlistTest, BadEntriesAreNamed) {
  for (const std::string bad : {"localhost", "10.0.0.0/33", "1.2.3", "10.0.0.1/8x"}) {
    absl::StatusOr<common::AddressAllowlist> list =
        common::AddressAllowlist::Parse({"127.0.0.1", bad});
    ASSERT_FALSE(list.ok()) << bad;
    EXPECT_NE(list.status().message().find(bad), std::string::npos) << list.status();
  }
}

class GuardTest : public ::testing::Test {
 protected:
  GuardVerdict Check(const std::optional<std::string>& token, const std::string& path = "/connect",
                     const std::string& remote = "127.0.0.1") {
    return CheckServerRequest(allowlist_, policy_, make_address(remote), token, path, now_);
  }
  std::string Sign(const std::string& value, absl::Duration ago = absl::ZeroDuration(),
                   const std::string& secret = "s3cret") {
    return common::SignTimestamped(secret, value, now_ - ago);
  }

  common::AddressAllowlist allowlist_ = Allow({"127.0.0.1"});
  SignaturePolicy policy_{"s3cret", true, absl::Seconds(60), true};
  absl::Time now_ = absl::FromUnixSeconds(1800000000);
};

TEST_F(GuardTest, PathSignedWithTheSecretPasses) { EXPECT_TRUE(Check(Sign("/connect")).allowed); }

TEST_F(GuardTest, MissingSignatureIs403) {
  GuardVerdict verdict = Check(std::nullopt);
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(verdict.status, 403);
  EXPECT_TRUE(nlohmann::json::parse(verdict.body).contains("request"));
}

TEST_F(GuardTest, AddressOutsideTheAllowlistIs403EvenWhenSigned) {
  GuardVerdict verdict = Check(Sign("/connect"), "/connect", "10.0.0.9");
  EXPECT_EQ(verdict.status, 403);
}

TEST_F(GuardTest, BadOrForeignSignatureIs401BadSignature) {
  for (const std::string& token : {Sign("/connect", absl::ZeroDuration(), "other"),
                                   std::string("garbage"), Sign("/connect") + "x"}) {
    GuardVerdict verdict = Check(token);
    EXPECT_EQ(verdict.status, 401) << token;
    EXPECT_EQ(nlohmann::json::parse(verdict.body), nlohmann::json({{"request", "Bad Signature"}}));
  }
}

TEST_F(GuardTest, ExpiredSignatureIs401OnlyWhenAgeIsValidated) {
  std::string old = Sign("/connect", absl::Seconds(61));
  EXPECT_EQ(Check(old).status, 401);
  policy_.validate_age = false;
  EXPECT_TRUE(Check(old).allowed);
}

TEST_F(GuardTest, OtherValueSignedNamesTheConfigKey) {
  GuardVerdict verdict = Check(Sign("channelstream"));
  EXPECT_EQ(verdict.status, 401);
  EXPECT_NE(verdict.body.find("require_path_signature"), std::string::npos) << verdict.body;
  EXPECT_NE(verdict.body.find("channelstream"), std::string::npos) << verdict.body;
  policy_.require_path = false;
  EXPECT_TRUE(Check(Sign("channelstream")).allowed);
}

}  // namespace
}  // namespace channelstream::rest
