#include "broker/token_auth.h"

#include <gtest/gtest.h>

namespace channelstream::broker {
namespace {

const char* kPublish = "/channelstream.v1.Broker/Publish";
const char* kAdminInfo = "/channelstream.v1.Broker/AdminInfo";
const char* kStream = "/channelstream.v1.Broker/GatewayStream";
const char* kDisconnect = "/channelstream.v1.Broker/Disconnect";

TEST(TokenAuthTest, BackendTokenCallsTheUnaryApiButNotGatewayStream) {
  TokenAuthProcessor auth("backend-secret", "gateway-secret");
  EXPECT_TRUE(auth.Check(kPublish, "Bearer backend-secret").ok());
  EXPECT_TRUE(auth.Check(kAdminInfo, "Bearer backend-secret").ok());
  EXPECT_TRUE(auth.Check(kDisconnect, "Bearer backend-secret").ok());
  EXPECT_EQ(auth.Check(kStream, "Bearer backend-secret").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST(TokenAuthTest, GatewayTokenOpensStreamsAndDisconnectsOnly) {
  TokenAuthProcessor auth("backend-secret", "gateway-secret");
  EXPECT_TRUE(auth.Check(kStream, "Bearer gateway-secret").ok());
  EXPECT_TRUE(auth.Check(kDisconnect, "Bearer gateway-secret").ok());
  EXPECT_EQ(auth.Check(kPublish, "Bearer gateway-secret").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(auth.Check(kAdminInfo, "Bearer gateway-secret").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST(TokenAuthTest, WrongOrMissingTokenIsUnauthenticated) {
  TokenAuthProcessor auth("backend-secret", "gateway-secret");
  EXPECT_EQ(auth.Check(kPublish, "").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.Check(kPublish, "Bearer wrong").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.Check(kPublish, "Bearer backend-secretX").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.Check(kPublish, "Bearer ").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.Check(kPublish, "backend-secret").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.Check(kPublish, "Basic backend-secret").error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.Check("", "Bearer backend-secret").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(auth.Check("/other.Service/Call", "Bearer backend-secret").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST(TokenAuthTest, AnUnsetRoleMatchesNothing) {
  TokenAuthProcessor auth("backend-secret", "");
  EXPECT_EQ(auth.Check(kStream, "Bearer ").error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(auth.Check(kStream, "Bearer").error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

TEST(TokenAuthTest, HealthChecksNeedNoToken) {
  TokenAuthProcessor auth("backend-secret", "gateway-secret");
  EXPECT_TRUE(auth.Check("/grpc.health.v1.Health/Check", "").ok());
}

}  // namespace
}  // namespace channelstream::broker
