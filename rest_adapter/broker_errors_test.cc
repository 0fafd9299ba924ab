// broker_errors.h: the broker's typed error details read into 0.7's 422 bodies.
#include "rest_adapter/broker_errors.h"

#include <gtest/gtest.h>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace channelstream::rest {
namespace {

std::string Details(const google::rpc::BadRequest& bad_request) {
  google::rpc::Status status;
  status.set_code(3);
  status.add_details()->PackFrom(bad_request);
  return status.SerializeAsString();
}

void AddViolation(google::rpc::BadRequest* bad_request, const std::string& field,
                  const std::string& text) {
  auto* violation = bad_request->add_field_violations();
  violation->set_field(field);
  violation->set_description(text);
}

TEST(BrokerErrorsTest, SplitsFieldPaths) {
  EXPECT_EQ(SplitFieldPath("user"), std::vector<std::string>({"user"}));
  EXPECT_EQ(SplitFieldPath("publications[2].user"),
            std::vector<std::string>({"publications", "2", "user"}));
  EXPECT_EQ(SplitFieldPath("channels[10]"), std::vector<std::string>({"channels", "10"}));
  EXPECT_TRUE(SplitFieldPath("").empty());
}

TEST(BrokerErrorsTest, EveryViolationLandsAtItsPath) {
  google::rpc::BadRequest bad_request;
  AddViolation(&bad_request, "edits[0].uuid", "Not a valid UUID.");
  AddViolation(&bad_request, "edits[0].timestamp", "Not a valid datetime.");
  AddViolation(&bad_request, "edits[3].uuid", "Missing data for required field.");
  AddViolation(&bad_request, "", "whole request");
  Json errors = FieldErrorsFromDetails(Details(bad_request), "edits");
  EXPECT_EQ(
      errors,
      Json({{"0", {{"uuid", {"Not a valid UUID."}}, {"timestamp", {"Not a valid datetime."}}}},
            {"3", {{"uuid", {"Missing data for required field."}}}},
            {"_schema", {"whole request"}}}));
  // Not a list body: the repeated field keeps its name.
  Json named = FieldErrorsFromDetails(Details(bad_request), "");
  EXPECT_EQ(named["edits"]["3"], Json({{"uuid", {"Missing data for required field."}}}));
}

TEST(BrokerErrorsTest, TwoMessagesForOneFieldAreBothKept) {
  google::rpc::BadRequest bad_request;
  AddViolation(&bad_request, "user", "first");
  AddViolation(&bad_request, "user", "second");
  EXPECT_EQ(FieldErrorsFromDetails(Details(bad_request), ""),
            Json({{"user", {"first", "second"}}}));
}

TEST(BrokerErrorsTest, UnknownOrBrokenDetailsFallBackToTheMessage) {
  EXPECT_TRUE(FieldErrorsFromDetails("", "").empty());
  EXPECT_TRUE(FieldErrorsFromDetails("\xff\xff not a proto", "").empty());
  google::rpc::Status other;
  google::rpc::QuotaFailure::Violation unrelated;  // an Any of a type we do not read
  other.add_details()->PackFrom(unrelated);
  Reply reply = BrokerErrorReply(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                                              "user: Unknown user", other.SerializeAsString()));
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(Json::parse(reply.body), Json({{"user", {"Unknown user"}}}));
}

}  // namespace
}  // namespace channelstream::rest
