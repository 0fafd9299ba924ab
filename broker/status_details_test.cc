// status_details.h / grpc_status.h: every field error carries its typed details, and they reach
// gRPC's binary error details intact.
#include "broker/status_details.h"

#include <gtest/gtest.h>

#include "broker/grpc_status.h"
#include "google/rpc/status.pb.h"

namespace channelstream::broker {
namespace {

TEST(StatusDetailsTest, FieldErrorKeepsItsTextAndNamesTheField) {
  absl::Status status = FieldError("username", "Missing data for required field.");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "username: Missing data for required field.");
  auto violations = FieldViolations(status);
  ASSERT_EQ(violations.size(), 1u);
  EXPECT_EQ(violations[0].field(), "username");
  EXPECT_EQ(violations[0].description(), "Missing data for required field.");
  EXPECT_EQ(FieldNotFound("user", "Unknown user").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(FieldViolations(FieldNotFound("user", "Unknown user"))[0].field(), "user");
  EXPECT_TRUE(FieldViolations(absl::InternalError("x")).empty());
}

TEST(StatusDetailsTest, ListNamesEveryBadItem) {
  FieldViolationList list;
  EXPECT_TRUE(list.Build().ok());
  list.AddItem(FieldError("user", "Missing data for required field."), "publications", 0);
  list.AddItem(absl::OkStatus(), "publications", 1);
  list.AddItem(FieldError("publications", "whole item"), "publications", 2);
  list.Add(FieldError("since", "bad"));
  absl::Status status = list.Build();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "user: Missing data for required field.");  // the first, as before
  auto violations = FieldViolations(status);
  ASSERT_EQ(violations.size(), 3u);
  EXPECT_EQ(violations[0].field(), "publications[0].user");
  EXPECT_EQ(violations[1].field(), "publications[2]");
  EXPECT_EQ(violations[2].field(), "since");
}

TEST(StatusDetailsTest, OnlyNotFoundErrorsStayNotFound) {
  FieldViolationList not_found;
  not_found.AddItem(FieldNotFound("conn_id", "Unknown connection"), "items", 0);
  EXPECT_EQ(not_found.Build().code(), absl::StatusCode::kNotFound);
  not_found.AddItem(FieldError("uuid", "Not a valid UUID."), "items", 1);
  EXPECT_EQ(not_found.Build().code(), absl::StatusCode::kInvalidArgument);
}

TEST(GrpcStatusTest, DetailsTravelAsGoogleRpcStatus) {
  grpc::Status status = ToGrpcStatus(FieldError("cursor", "Not a cursor."));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "cursor: Not a cursor.");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  EXPECT_EQ(details.code(), static_cast<int>(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_EQ(details.message(), "cursor: Not a cursor.");
  ASSERT_EQ(details.details_size(), 1);
  google::rpc::BadRequest bad_request;
  ASSERT_TRUE(details.details(0).UnpackTo(&bad_request));
  EXPECT_EQ(bad_request.field_violations(0).field(), "cursor");

  grpc::Status limit = ToGrpcStatus(LimitError("max_payload_bytes", "too large"));
  EXPECT_EQ(limit.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  ASSERT_TRUE(details.ParseFromString(limit.error_details()));
  google::rpc::QuotaFailure quota;
  ASSERT_TRUE(details.details(0).UnpackTo(&quota));
  EXPECT_EQ(quota.violations(0).subject(), "max_payload_bytes");
  EXPECT_EQ(quota.violations(0).description(), "too large");

  grpc::Status plain = ToGrpcStatus(absl::UnavailableError("shutting down"));
  EXPECT_EQ(plain.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(plain.error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

}  // namespace
}  // namespace channelstream::broker
