#include "rest_adapter/request_readers.h"

#include <gtest/gtest.h>

namespace channelstream::rest {
namespace {

TEST(RequestReadersTest, WrongBodyTypeIsTheSchemaError) {
  // The handlers answered a non-object body with this literal before the readers existed.
  const std::string before = Json{{"_schema", {kInvalidType}}}.dump();
  for (const Json& body : {Json(nullptr), Json(1), Json("x"), Json::array()}) {
    FieldErrors errors;
    v1::ConnectRequest request;
    EXPECT_FALSE(ReadConnectRequest(body, errors, &request));
    EXPECT_EQ(errors.json().dump(), before);
  }
  FieldErrors errors;
  v1::PublishRequest publish;
  EXPECT_FALSE(ReadPublishRequest(Json::object(), errors, &publish));
  EXPECT_EQ(errors.json().dump(), before);
}

TEST(RequestReadersTest, ConnectNormalizesAndValidates) {
  Json body = {{"username", "alice"},
               {"conn_id", "6B1D2C4E-1111-4222-8333-444455556666"},
               {"channels", {"a", "b"}},
               {"user_state", {{"k", 1}}},
               {"state_public_keys", {"k"}}};
  FieldErrors errors;
  v1::ConnectRequest request;
  ASSERT_TRUE(ReadConnectRequest(body, errors, &request)) << errors.json().dump();
  EXPECT_EQ(request.conn_id(), "6b1d2c4e-1111-4222-8333-444455556666");
  EXPECT_EQ(request.channels_size(), 2);
  EXPECT_EQ(request.user_state_json(), "{\"k\":1}");
  ASSERT_TRUE(request.has_state_public_keys());

  body["username"] = "";
  body["conn_id"] = "nope";
  FieldErrors bad;
  EXPECT_FALSE(ReadConnectRequest(body, bad, &request));
  EXPECT_EQ(
      bad.json().dump(),
      R"({"conn_id":["Not a valid UUID."],"username":["Length must be between 1 and 512."]})");
}

TEST(RequestReadersTest, SubscribeNeedsChannels) {
  FieldErrors errors;
  v1::SubscribeRequest request;
  EXPECT_FALSE(ReadSubscribeRequest({{"conn_id", "6b1d2c4e-1111-4222-8333-444455556666"}}, errors,
                                    &request));
  EXPECT_EQ(errors.json().dump(), R"({"channels":["Missing data for required field."]})");
}

TEST(RequestReadersTest, PublishNamesItemErrorsByIndexAndKeepsExtras) {
  Json body = Json::array(
      {{{"user", "u"}, {"channel", "c"}, {"message", {{"text", "hi"}}}, {"color", "red"}},
       {{"channel", "c"}, {"timestamp", "yesterday"}},
       3});
  FieldErrors errors;
  v1::PublishRequest request;
  EXPECT_FALSE(ReadPublishRequest(body, errors, &request));
  EXPECT_EQ(
      errors.json().dump(),
      R"({"1":{"timestamp":["Not a valid datetime."],"user":["Missing data for required field."]},)"
      R"("2":{"_schema":["Invalid input type."]}})");
  ASSERT_GE(request.publications_size(), 1);
  EXPECT_EQ(request.publications(0).message_json(), R"({"text":"hi"})");
  EXPECT_EQ(request.publications(0).extra_json(), R"({"color":"red"})");
}

TEST(RequestReadersTest, InfoWithoutBodyMeansEverything) {
  FieldErrors errors;
  v1::InfoRequest request;
  ASSERT_TRUE(ReadInfoRequest(nullptr, errors, &request));
  EXPECT_FALSE(request.has_channels()) << "unset: every channel";
  EXPECT_TRUE(request.info().include_history());

  v1::InfoRequest some;
  ASSERT_TRUE(ReadInfoRequest({{"info", {{"channels", {"a"}}}}}, errors, &some));
  ASSERT_TRUE(some.has_channels());
  EXPECT_EQ(some.channels().values_size(), 1);
}

}  // namespace
}  // namespace channelstream::rest
