// RestAdapter::Serve (the entry point Handle and the HTTP server use) with a fake broker: signed
// requests in, status codes and 0.7's JSON bodies out, including every error path.
#include <gtest/gtest.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "absl/time/clock.h"
#include "common/config.h"
#include "common/signing.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "rest_adapter/rest_adapter.h"

namespace channelstream::rest {
namespace {

using nlohmann::json;
namespace http = boost::beast::http;

constexpr char kSecret[] = "test-secret";
constexpr char kConnId[] = "5a2c0a1e-8d3f-4b6a-9c2e-1f0d3b4a5c6e";

// Answers every call with `status` (and the response a test filled in); keeps the last request.
class FakeBroker : public BrokerApi {
 public:
  grpc::Status status = grpc::Status::OK;
  int calls = 0;
  v1::ConnectRequest connect_request;
  v1::ConnectResponse connect_response;
  v1::SubscribeResponse subscribe_response;
  v1::PublishRequest publish_request;
  v1::PublishResponse publish_response;
  v1::EditMessagesResponse edit_response;
  v1::DeleteMessagesRequest delete_request;
  v1::UserStateResponse user_state_response;
  v1::InfoRequest info_request;
  v1::InfoResponse info_response;
  v1::AdminInfoRequest admin_request;
  v1::AdminInfoResponse admin_response;

  grpc::Status Connect(const v1::ConnectRequest& request, v1::ConnectResponse* response) override {
    connect_request = request;
    *response = connect_response;
    return Answer();
  }
  grpc::Status Subscribe(const v1::SubscribeRequest&, v1::SubscribeResponse* response) override {
    *response = subscribe_response;
    return Answer();
  }
  grpc::Status Unsubscribe(const v1::UnsubscribeRequest&, v1::UnsubscribeResponse*) override {
    return Answer();
  }
  grpc::Status SetUserState(const v1::UserStateRequest&, v1::UserStateResponse* response) override {
    *response = user_state_response;
    return Answer();
  }
  grpc::Status Publish(const v1::PublishRequest& request, v1::PublishResponse* response) override {
    publish_request = request;
    *response = publish_response;
    return Answer();
  }
  grpc::Status EditMessages(const v1::EditMessagesRequest&,
                            v1::EditMessagesResponse* response) override {
    *response = edit_response;
    return Answer();
  }
  grpc::Status DeleteMessages(const v1::DeleteMessagesRequest& request,
                              v1::DeleteMessagesResponse*) override {
    delete_request = request;
    return Answer();
  }
  grpc::Status SetChannelConfig(const v1::ChannelConfigRequest&,
                                v1::ChannelConfigResponse*) override {
    return Answer();
  }
  grpc::Status Info(const v1::InfoRequest& request, v1::InfoResponse* response) override {
    info_request = request;
    *response = info_response;
    return Answer();
  }
  grpc::Status AdminInfo(const v1::AdminInfoRequest& request,
                         v1::AdminInfoResponse* response) override {
    admin_request = request;
    *response = admin_response;
    return Answer();
  }

 private:
  grpc::Status Answer() {
    ++calls;
    return status;
  }
};

// A broker error with typed details, as broker/grpc_status.cc sends it.
grpc::Status WithBadRequest(grpc::StatusCode code, const std::string& message,
                            std::initializer_list<std::pair<std::string, std::string>> violations) {
  google::rpc::BadRequest bad_request;
  for (const auto& [field, description] : violations) {
    auto* violation = bad_request.add_field_violations();
    violation->set_field(field);
    violation->set_description(description);
  }
  google::rpc::Status details;
  details.set_code(static_cast<int>(code));
  details.set_message(message);
  details.add_details()->PackFrom(bad_request);
  return grpc::Status(code, message, details.SerializeAsString());
}

class RestEndpointsTest : public ::testing::Test {
 protected:
  RestEndpointsTest() {
    common::Config config;
    EXPECT_TRUE(config.Set("secret", kSecret, "test").ok());
    auto fake = std::make_unique<FakeBroker>();
    broker_ = fake.get();
    adapter_ = std::make_unique<RestAdapter>(config, std::move(fake));
  }

  // A request signed for its path, as 0.7 clients sign.
  Reply Call(http::verb method, const std::string& target, const std::string& body,
             const std::string& signed_value = "") {
    common::HttpRequest request{method, target, 11};
    std::string path = target.substr(0, target.find('?'));
    request.set(
        "x-channelstream-secret",
        common::SignTimestamped(kSecret, signed_value.empty() ? path : signed_value, absl::Now()));
    request.body() = body;
    request.prepare_payload();
    return adapter_->Serve(request, boost::asio::ip::make_address("127.0.0.1"));
  }
  Reply Post(const std::string& target, const json& body) {
    return Call(http::verb::post, target, body.dump());
  }

  static json Body(const Reply& reply) { return json::parse(reply.body); }

  FakeBroker* broker_;
  std::unique_ptr<RestAdapter> adapter_;
};

TEST_F(RestEndpointsTest, ConnectTranslatesBothWays) {
  broker_->connect_response.set_conn_id(kConnId);
  broker_->connect_response.set_username("alice");
  broker_->connect_response.set_state_json(R"({"a":1})");
  broker_->connect_response.add_channels("b");
  broker_->connect_response.add_channels("a");
  Reply reply = Post("/connect",
                     {{"username", "alice"}, {"channels", {"a", "b"}}, {"user_state", {{"a", 1}}}});
  ASSERT_EQ(reply.status, 200) << reply.body;
  json body = Body(reply);
  EXPECT_EQ(body["conn_id"], kConnId);
  EXPECT_EQ(body["username"], "alice");
  EXPECT_EQ(body["state"], json({{"a", 1}}));
  EXPECT_EQ(body["channels"], json({"a", "b"}));  // sorted, as 0.7 answered
  EXPECT_EQ(broker_->connect_request.username(), "alice");
  EXPECT_EQ(broker_->connect_request.channels_size(), 2);
  EXPECT_EQ(json::parse(broker_->connect_request.user_state_json()), json({{"a", 1}}));
  EXPECT_TRUE(broker_->connect_request.info().include_history());  // 0.7's default
}

TEST_F(RestEndpointsTest, BadSignatureIsRefusedBeforeTheBroker) {
  Reply reply = Call(http::verb::post, "/connect", R"({"username":"a"})", "/other-path");
  EXPECT_EQ(reply.status, 401) << reply.body;
  EXPECT_EQ(Body(reply)["request"], "Bad Signature");
  EXPECT_EQ(Body(reply)["signed_value"], "/other-path");
  common::HttpRequest unsigned_request{http::verb::post, "/connect", 11};
  Reply missing = adapter_->Serve(unsigned_request, boost::asio::ip::make_address("127.0.0.1"));
  EXPECT_EQ(missing.status, 403) << missing.body;
  Reply elsewhere = adapter_->Serve(unsigned_request, boost::asio::ip::make_address("10.1.2.3"));
  EXPECT_EQ(elsewhere.status, 403) << elsewhere.body;  // not in allow_posting_from
  EXPECT_EQ(broker_->calls, 0);
}

TEST_F(RestEndpointsTest, UnknownPathAndWrongMethod) {
  Reply unknown = Post("/nowhere", json::object());
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Body(unknown), json({{"request", "Not found: /nowhere"}}));
  Reply wrong = Call(http::verb::get, "/connect", "");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(Body(wrong), json({{"request", "Method not allowed"}}));
  Reply wrong_message = Call(http::verb::put, "/message", "[]");
  EXPECT_EQ(wrong_message.status, 405);
}

TEST_F(RestEndpointsTest, BadJsonIs400AndTooDeepIs422) {
  Reply bad = Call(http::verb::post, "/connect", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(Body(bad), json({{"_schema", {"Invalid JSON body."}}}));
  std::string deep = R"({"user_state":)" + std::string(200, '[') + std::string(200, ']') + "}";
  Reply too_deep = Call(http::verb::post, "/connect", deep);
  EXPECT_EQ(too_deep.status, 422) << too_deep.body;
  EXPECT_TRUE(Body(too_deep).contains("user_state")) << too_deep.body;
  EXPECT_EQ(broker_->calls, 0);
}

TEST_F(RestEndpointsTest, MissingAndInvalidFieldsAre422WithoutABrokerCall) {
  Reply missing = Post("/user_state", {{"user_state", json::object()}});
  EXPECT_EQ(missing.status, 422);
  EXPECT_EQ(Body(missing), json({{"user", {"Missing data for required field."}}}));
  Reply subscribe = Post("/subscribe", {{"conn_id", "not-a-uuid"}});
  EXPECT_EQ(subscribe.status, 422);
  EXPECT_EQ(Body(subscribe), json({{"conn_id", {"Not a valid UUID."}},
                                   {"channels", {"Missing data for required field."}}}));
  Reply wrong_type = Post("/subscribe", json::array({"x"}));
  EXPECT_EQ(Body(wrong_type), json({{"_schema", {"Invalid input type."}}}));
  Reply item = Post("/message", json::array({{{"channel", "a"}}, {{"user", "u"}, {"uuid", "x"}}}));
  EXPECT_EQ(item.status, 422);
  EXPECT_EQ(Body(item), json({{"0", {{"user", {"Missing data for required field."}}}},
                              {"1", {{"uuid", {"Not a valid UUID."}}}}}));
  EXPECT_EQ(broker_->calls, 0);
}

TEST_F(RestEndpointsTest, BrokerBadRequestDetailsBecome422) {
  broker_->status =
      WithBadRequest(grpc::StatusCode::INVALID_ARGUMENT, "user_state: Invalid value for key 'x'.",
                     {{"user_state", "Invalid value for key 'x'."}});
  Reply reply = Post("/connect", {{"username", "alice"}});
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(Body(reply), json({{"user_state", {"Invalid value for key 'x'."}}}));
}

TEST_F(RestEndpointsTest, BrokerItemViolationsAreNamedByIndexOnListBodies) {
  broker_->status = WithBadRequest(grpc::StatusCode::INVALID_ARGUMENT, "message: Not valid JSON.",
                                   {{"publications[0].message", "Not valid JSON."},
                                    {"publications[2].extra", "Not a valid mapping type."}});
  json item = {{"channel", "a"}, {"user", "u"}, {"message", "m"}};
  Reply reply = Post("/message", json::array({item, item, item}));
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(Body(reply), json({{"0", {{"message", {"Not valid JSON."}}}},
                               {"2", {{"extra", {"Not a valid mapping type."}}}}}));
  EXPECT_EQ(broker_->publish_request.publications_size(), 3);

  broker_->status = WithBadRequest(grpc::StatusCode::INVALID_ARGUMENT,
                                   "channels: Length must be between 1 and 256.",
                                   {{"channels[1]", "Length must be between 1 and 256."}});
  Reply channels = Post("/connect", {{"username", "alice"}});
  EXPECT_EQ(Body(channels), json({{"channels", {{"1", {"Length must be between 1 and 256."}}}}}));
}

TEST_F(RestEndpointsTest, BrokerWithoutDetailsIsReadFromTheMessage) {
  broker_->status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "cursor: Not a cursor.");
  Reply reply = Post("/info", json::object());
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(Body(reply), json({{"cursor", {"Not a cursor."}}}));
  broker_->status = grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "no field named");
  EXPECT_EQ(Body(Post("/info", json::object())), json({{"_schema", {"no field named"}}}));
}

TEST_F(RestEndpointsTest, NotFoundIs422NamingTheField) {
  broker_->status = WithBadRequest(grpc::StatusCode::NOT_FOUND, "conn_id: Unknown connection",
                                   {{"conn_id", "Unknown connection"}});
  Reply reply = Post("/subscribe", {{"conn_id", kConnId}, {"channels", {"a"}}});
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(Body(reply), json({{"conn_id", {"Unknown connection"}}}));
}

TEST_F(RestEndpointsTest, ResourceExhaustedIs422NamingTheLimit) {
  google::rpc::QuotaFailure quota;
  auto* violation = quota.add_violations();
  violation->set_subject("max_payload_bytes");
  violation->set_description("message is larger than 10 bytes");
  google::rpc::Status details;
  details.set_code(static_cast<int>(grpc::StatusCode::RESOURCE_EXHAUSTED));
  details.add_details()->PackFrom(quota);
  broker_->status = grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "max_payload_bytes: message is larger than 10 bytes",
                                 details.SerializeAsString());
  Reply reply =
      Post("/message", json::array({{{"channel", "a"}, {"user", "u"}, {"message", "long"}}}));
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(Body(reply), json({{"max_payload_bytes", {"message is larger than 10 bytes"}}}));
}

TEST_F(RestEndpointsTest, UnavailableIs503AndOtherErrorsAre500) {
  broker_->status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused");
  Reply unavailable = Post("/connect", {{"username", "alice"}});
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(Body(unavailable), json({{"error", "broker unavailable: connection refused"}}));
  broker_->status = grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow");
  EXPECT_EQ(Post("/connect", {{"username", "alice"}}).status, 503);
  broker_->status = grpc::Status(grpc::StatusCode::INTERNAL, "boom");
  Reply internal = Post("/connect", {{"username", "alice"}});
  EXPECT_EQ(internal.status, 500);
  EXPECT_EQ(Body(internal), json({{"error", "broker error: boom"}}));
}

TEST_F(RestEndpointsTest, MessageEndpoints) {
  broker_->publish_response.add_messages()->set_message_json(R"({"uuid":"u1","message":"hi"})");
  Reply published = Post(
      "/message", json::array({{{"channel", "a"}, {"user", "u"}, {"message", "hi"}, {"k", 1}}}));
  ASSERT_EQ(published.status, 200) << published.body;
  EXPECT_EQ(Body(published), json::array({{{"uuid", "u1"}, {"message", "hi"}}}));
  EXPECT_EQ(json::parse(broker_->publish_request.publications(0).extra_json()), json({{"k", 1}}));

  broker_->edit_response.add_messages_json(R"({"uuid":"u1","message":"edited"})");
  Reply edited = Call(http::verb::patch, "/message",
                      json::array({{{"uuid", kConnId}, {"message", "edited"}}}).dump());
  ASSERT_EQ(edited.status, 200) << edited.body;
  EXPECT_EQ(Body(edited)[0]["message"], "edited");

  Reply deleted = Call(http::verb::delete_, "/message", json::array({{{"uuid", kConnId}}}).dump());
  ASSERT_EQ(deleted.status, 200) << deleted.body;
  EXPECT_EQ(Body(deleted), json::array());
  EXPECT_EQ(broker_->delete_request.deletes(0).uuid(), kConnId);
}

TEST_F(RestEndpointsTest, UserStateAndSubscribe) {
  broker_->user_state_response.set_user_state_json(R"({"a":2})");
  auto* change = broker_->user_state_response.add_changed_state();
  change->set_key("a");
  change->set_value_json("2");
  Reply state = Post("/user_state", {{"user", "alice"}, {"user_state", {{"a", 2}}}});
  ASSERT_EQ(state.status, 200) << state.body;
  EXPECT_EQ(Body(state), json({{"user_state", {{"a", 2}}},
                               {"changed_state", json::array({{{"key", "a"}, {"value", 2}}})},
                               {"public_keys", json::array()}}));

  broker_->subscribe_response.add_channels("z");
  broker_->subscribe_response.add_channels("b");
  broker_->subscribe_response.add_subscribed_to("z");
  Reply subscribed = Post("/subscribe", {{"conn_id", kConnId}, {"channels", {"z"}}});
  ASSERT_EQ(subscribed.status, 200) << subscribed.body;
  EXPECT_EQ(Body(subscribed)["channels"], json({"b", "z"}));
  EXPECT_EQ(Body(subscribed)["subscribed_to"], json({"z"}));
}

TEST_F(RestEndpointsTest, InfoAndAdminJsonPage) {
  broker_->info_response.set_next_cursor("c:b");
  Reply info = Call(http::verb::post, "/info?limit=2", "");
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_FALSE(broker_->info_request.has_channels());  // 0.7: no body is every channel
  EXPECT_EQ(broker_->info_request.limit(), 2);
  EXPECT_EQ(Body(info)["next_cursor"], "c:b");

  Reply bad_limit = Call(http::verb::get, "/admin/admin.json?limit=ten", "");
  EXPECT_EQ(bad_limit.status, 422);
  EXPECT_EQ(Body(bad_limit), json({{"limit", {"Not a valid integer."}}}));

  broker_->admin_response.set_version("9.9");
  Reply admin = Call(http::verb::get, "/admin/admin.json?cursor=u:x", "");
  ASSERT_EQ(admin.status, 200) << admin.body;
  EXPECT_EQ(Body(admin)["version"], "9.9");
  EXPECT_EQ(broker_->admin_request.cursor(), "u:x");
}

TEST_F(RestEndpointsTest, AdminPagesNeedASessionNotASignature) {
  common::HttpRequest page{http::verb::get, "/admin", 11};
  Reply redirect = adapter_->Serve(page, boost::asio::ip::make_address("127.0.0.1"));
  EXPECT_EQ(redirect.status, 302);
  common::HttpRequest sign_in{http::verb::post, "/admin/sign_in", 11};
  sign_in.body() = "username=admin&password=wrong";
  EXPECT_EQ(adapter_->Serve(sign_in, boost::asio::ip::make_address("127.0.0.1")).status, 401);
  sign_in.body() = "username=admin&password=admin_secret";
  Reply signed_in = adapter_->Serve(sign_in, boost::asio::ip::make_address("127.0.0.1"));
  ASSERT_EQ(signed_in.status, 302);
  std::string cookie;
  for (const auto& [name, value] : signed_in.headers)
    if (name == "Set-Cookie") cookie = value.substr(0, value.find(';'));
  ASSERT_FALSE(cookie.empty());
  page.set(http::field::cookie, cookie);
  EXPECT_EQ(adapter_->Serve(page, boost::asio::ip::make_address("127.0.0.1")).status, 200);
  common::HttpRequest admin_json{http::verb::get, "/admin/admin.json", 11};
  admin_json.set(http::field::cookie, cookie);
  EXPECT_EQ(adapter_->Serve(admin_json, boost::asio::ip::make_address("127.0.0.1")).status, 200);
}

}  // namespace
}  // namespace channelstream::rest
