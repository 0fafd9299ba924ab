// gRPC round trip of every RPC, status mapping, and the gateway stream.
#include "broker/broker_service.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "broker/broker_service_test_util.h"
#include "broker/gateway_session.h"
#include "common/ids.h"

namespace channelstream::broker {
namespace {

using Json = nlohmann::json;
using Stream = grpc::ClientReaderWriter<v1::GatewayUp, v1::GatewayDown>;

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() : broker(config) {}

  std::string Connect(const std::string& user, const std::vector<std::string>& channels) {
    grpc::ClientContext context;
    v1::ConnectRequest request;
    request.set_username(user);
    for (const auto& c : channels) request.add_channels(c);
    v1::ConnectResponse response;
    grpc::Status status = broker.stub().Connect(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.conn_id();
  }

  std::string Publish(const std::string& channel, const std::string& message_json) {
    grpc::ClientContext context;
    v1::PublishRequest request;
    v1::Publication* p = request.add_publications();
    p->set_channel(channel);
    p->set_user("server");
    p->set_message_json(message_json);
    v1::PublishResponse response;
    grpc::Status status = broker.stub().Publish(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.messages_size() ? response.messages(0).message_json() : "";
  }

  std::unique_ptr<Stream> OpenStream(grpc::ClientContext* context) {
    std::unique_ptr<Stream> stream = broker.stub().GatewayStream(context);
    v1::GatewayUp hello;
    hello.mutable_hello()->set_gateway_id("test-gateway");
    EXPECT_TRUE(stream->Write(hello));
    return stream;
  }

  static v1::AttachResult AttachOn(Stream& stream, uint64_t handle, const std::string& conn_id) {
    v1::GatewayUp up;
    up.mutable_attach()->set_handle(handle);
    up.mutable_attach()->set_conn_id(conn_id);
    up.mutable_attach()->set_catchup(true);
    EXPECT_TRUE(stream.Write(up));
    v1::GatewayDown down;
    EXPECT_TRUE(stream.Read(&down));
    EXPECT_TRUE(down.has_attach_result());
    return down.attach_result();
  }

  common::Config config;
  InProcessBroker broker;
};

TEST_F(ServiceTest, ConnectRoundTripAndErrors) {
  grpc::ClientContext context;
  v1::ConnectRequest request;
  v1::ConnectResponse response;
  grpc::Status status = broker.stub().Connect(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "username: Missing data for required field.");

  grpc::ClientContext ok_context;
  request.set_username("alice");
  request.add_channels("room");
  ASSERT_TRUE(broker.stub().Connect(&ok_context, request, &response).ok());
  EXPECT_TRUE(common::IsUuid(response.conn_id()));
  EXPECT_EQ(response.channels_size(), 1);
}

TEST_F(ServiceTest, SubscribeAndUnsubscribeRoundTrip) {
  const std::string id = Connect("alice", {"a"});
  grpc::ClientContext context;
  v1::SubscribeRequest request;
  request.set_conn_id(id);
  request.add_channels("b");
  v1::SubscribeResponse response;
  ASSERT_TRUE(broker.stub().Subscribe(&context, request, &response).ok());
  EXPECT_EQ(response.channels_size(), 2);
  EXPECT_EQ(response.subscribed_to_size(), 1);

  grpc::ClientContext unknown;
  request.set_conn_id(common::NewUuid());
  grpc::Status status = broker.stub().Subscribe(&unknown, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "conn_id: Unknown connection");

  grpc::ClientContext unsubscribe_context;
  v1::UnsubscribeRequest unsubscribe;
  unsubscribe.set_conn_id(id);
  unsubscribe.add_channels("a");
  v1::UnsubscribeResponse unsubscribed;
  ASSERT_TRUE(broker.stub().Unsubscribe(&unsubscribe_context, unsubscribe, &unsubscribed).ok());
  ASSERT_EQ(unsubscribed.unsubscribed_from_size(), 1);
  EXPECT_EQ(unsubscribed.channels_size(), 1);
}

TEST_F(ServiceTest, SetUserStateRoundTrip) {
  Connect("alice", {});
  grpc::ClientContext context;
  v1::UserStateRequest request;
  request.set_user("alice");
  request.set_user_state_json(R"({"k":1})");
  v1::UserStateResponse response;
  ASSERT_TRUE(broker.stub().SetUserState(&context, request, &response).ok());
  EXPECT_EQ(Json::parse(response.user_state_json()), Json::parse(R"({"k":1})"));
  grpc::ClientContext missing;
  request.set_user("ghost");
  grpc::Status status = broker.stub().SetUserState(&missing, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message(), "user: Unknown user");
}

TEST_F(ServiceTest, PublishEditDeleteRoundTrip) {
  Connect("alice", {"a"});
  Json published = Json::parse(Publish("a", R"({"text":"x"})"));
  ASSERT_TRUE(common::IsUuid(published["uuid"]));

  grpc::ClientContext edit_context;
  v1::EditMessagesRequest edit;
  edit.add_edits()->set_uuid(published["uuid"]);
  edit.mutable_edits(0)->set_channel("a");
  edit.mutable_edits(0)->set_message_json(R"({"text":"y"})");
  v1::EditMessagesResponse edited;
  ASSERT_TRUE(broker.stub().EditMessages(&edit_context, edit, &edited).ok());
  EXPECT_EQ(Json::parse(edited.messages_json(0))["type"], "message:edit");

  grpc::ClientContext delete_context;
  v1::DeleteMessagesRequest del;
  del.add_deletes()->set_uuid(published["uuid"]);
  del.mutable_deletes(0)->set_channel("a");
  v1::DeleteMessagesResponse deleted;
  ASSERT_TRUE(broker.stub().DeleteMessages(&delete_context, del, &deleted).ok());
  EXPECT_EQ(Json::parse(deleted.messages_json(0))["type"], "message:delete");

  grpc::ClientContext too_big;
  v1::PublishRequest request;
  request.add_publications()->set_user("u");
  request.mutable_publications(0)->set_channel("a");
  request.mutable_publications(0)->set_message_json("\"" + std::string(70000, 'x') + "\"");
  v1::PublishResponse response;
  grpc::Status status = broker.stub().Publish(&too_big, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_NE(status.error_message().find("max_payload_bytes"), std::string::npos);
}

TEST_F(ServiceTest, ChannelConfigInfoAdminDisconnectRoundTrip) {
  grpc::ClientContext config_context;
  v1::ChannelConfigRequest config_request;
  (*config_request.mutable_channel_configs())["a"].set_store_history(true);
  v1::ChannelConfigResponse config_response;
  ASSERT_TRUE(
      broker.stub().SetChannelConfig(&config_context, config_request, &config_response).ok());
  EXPECT_TRUE(config_response.channels_info().channels().at("a").settings().store_history());

  const std::string id = Connect("alice", {"a"});
  Publish("a", "1");
  grpc::ClientContext info_context;
  v1::InfoRequest info;
  info.mutable_info()->set_include_history(true);
  v1::InfoResponse info_response;
  ASSERT_TRUE(broker.stub().Info(&info_context, info, &info_response).ok());
  EXPECT_EQ(info_response.channels_info().channels().at("a").history_json_size(), 1);

  grpc::ClientContext admin_context;
  v1::AdminInfoResponse admin;
  ASSERT_TRUE(broker.stub().AdminInfo(&admin_context, v1::AdminInfoRequest(), &admin).ok());
  EXPECT_EQ(admin.total_connections(), 1);
  EXPECT_EQ(admin.total_unique_messages(), 1);

  grpc::ClientContext disconnect_context;
  v1::DisconnectRequest disconnect;
  disconnect.set_conn_id(id);
  v1::DisconnectResponse disconnected;
  ASSERT_TRUE(broker.stub().Disconnect(&disconnect_context, disconnect, &disconnected).ok());
  EXPECT_TRUE(disconnected.existed());
  grpc::ClientContext again_context;
  ASSERT_TRUE(broker.stub().Disconnect(&again_context, disconnect, &disconnected).ok());
  EXPECT_FALSE(disconnected.existed());
}

TEST_F(ServiceTest, GatewayStreamAttachDeliverDetachCatchup) {
  const std::string id = Connect("alice", {"room"});
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream = OpenStream(&context);

  v1::AttachResult unknown = AttachOn(*stream, 9, common::NewUuid());
  EXPECT_FALSE(unknown.found());
  EXPECT_EQ(unknown.handle(), 9u);

  v1::AttachResult result = AttachOn(*stream, 1, id);
  EXPECT_TRUE(result.found());
  EXPECT_EQ(result.username(), "alice");

  Publish("room", R"({"n":1})");
  v1::GatewayDown down;
  ASSERT_TRUE(stream->Read(&down));
  ASSERT_TRUE(down.has_batch());
  ASSERT_EQ(down.batch().deliveries_size(), 1);
  const v1::Delivery& delivery = down.batch().deliveries(0);
  EXPECT_EQ(delivery.channel(), "room");
  ASSERT_EQ(delivery.handles_size(), 1);
  EXPECT_EQ(delivery.handles(0), 1u);
  EXPECT_EQ(Json::parse(delivery.payload_json())["message"]["n"], 1);

  // The socket closed after writing n=1: the detach reports it delivered.
  v1::GatewayUp detach;
  detach.mutable_detach()->set_handle(1);
  v1::ChannelMark* mark = detach.mutable_detach()->mutable_delivered()->add_marks();
  mark->set_channel("room");
  mark->set_seq(delivery.seq());
  ASSERT_TRUE(stream->Write(detach));
  ASSERT_TRUE(broker.WaitForState([&](const BrokerState& state) {
    return state.connections().at(common::Uuid::FromText(id)).attachments.empty();
  }));
  Publish("room", R"({"n":2})");
  v1::AttachResult again = AttachOn(*stream, 2, id);
  ASSERT_EQ(again.catchup_json_size(), 1);
  Json frame = Json::parse(again.catchup_json(0));
  EXPECT_EQ(frame["message"]["n"], 2);
  EXPECT_EQ(frame["catchup"], true);

  // Disconnect kicks the attached socket.
  grpc::ClientContext disconnect_context;
  v1::DisconnectRequest disconnect;
  disconnect.set_conn_id(id);
  v1::DisconnectResponse disconnected;
  ASSERT_TRUE(broker.stub().Disconnect(&disconnect_context, disconnect, &disconnected).ok());
  ASSERT_TRUE(stream->Read(&down));
  ASSERT_TRUE(down.has_kick());
  EXPECT_EQ(down.kick().handle(), 2u);

  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

TEST_F(ServiceTest, StreamEndDropsItsAttachmentsOnly) {
  const std::string a = Connect("alice", {"room"});
  const std::string b = Connect("bob", {"room"});
  grpc::ClientContext context_one, context_two;
  std::unique_ptr<Stream> one = OpenStream(&context_one);
  std::unique_ptr<Stream> two = OpenStream(&context_two);
  ASSERT_TRUE(AttachOn(*one, 1, a).found());
  ASSERT_TRUE(AttachOn(*two, 1, b).found());
  one->WritesDone();
  EXPECT_TRUE(one->Finish().ok());
  ASSERT_TRUE(broker.WaitForState([&](const BrokerState& state) {
    return state.connections().at(common::Uuid::FromText(a)).attachments.empty();
  }));
  Publish("room", "1");
  v1::GatewayDown down;
  ASSERT_TRUE(two->Read(&down));
  ASSERT_TRUE(down.has_batch()) << "the other gateway is undisturbed";
  ASSERT_EQ(down.batch().deliveries_size(), 1);
  EXPECT_EQ(down.batch().deliveries(0).handles(0), 1u);
  broker.service().WithState([&](const BrokerState& state) {
    EXPECT_EQ(state.connections().count(common::Uuid::FromText(a)), 1u)
        << "the connection stays known";
  });
  two->WritesDone();
  EXPECT_TRUE(two->Finish().ok());
}

TEST_F(ServiceTest, StreamWithoutHelloIsRejected) {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream = broker.stub().GatewayStream(&context);
  v1::GatewayUp up;
  up.mutable_detach()->set_handle(1);
  stream->Write(up);
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message().rfind("hello: ", 0), 0u);
}

TEST_F(ServiceTest, StopEndsOpenStreamsAndIsSafeTwice) {
  const std::string a = Connect("alice", {"room"});
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream = OpenStream(&context);
  ASSERT_TRUE(AttachOn(*stream, 1, a).found());
  broker.runtime().Stop();
  v1::GatewayDown down;
  EXPECT_FALSE(stream->Read(&down));
  stream->Finish();
  broker.runtime().Stop();
  broker.Stop();  // server shutdown returns: nothing is left open
}

TEST(GatewaySessionTest, OverflowClosesTheSession) {
  GatewaySession session(2);
  Outbound item;
  item.payload_json = std::make_shared<const std::string>("{}");
  EXPECT_TRUE(session.Push(item));
  EXPECT_TRUE(session.Push(item));
  EXPECT_FALSE(session.Push(item)) << "the third item overflows";
  EXPECT_TRUE(session.overflowed());
  EXPECT_TRUE(session.Push(item)) << "reported once";
  std::vector<GatewayItem> popped;
  EXPECT_FALSE(session.PopAll(&popped, 1));
}

TEST(GatewaySessionTest, PopsInOrderAndBuildsWireMessages) {
  GatewaySession session(10);
  v1::AttachResult result;
  result.set_handle(4);
  session.Push(result);
  Outbound delivery;
  delivery.payload_json = std::make_shared<const std::string>("{\"a\":1}");
  delivery.handles = {1, 2};
  delivery.channel = "c";
  delivery.seq = 7;
  session.Push(delivery);
  Outbound kick;
  kick.kind = Outbound::Kind::kKick;
  kick.handles = {3};
  session.Push(kick);
  std::vector<GatewayItem> items;
  ASSERT_TRUE(session.PopAll(&items, 1));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(ToGatewayDown(items[0]).attach_result().handle(), 4u);
  ASSERT_TRUE(session.PopAll(&items, 1));
  ASSERT_EQ(items.size(), 1u);
  v1::GatewayDown down = ToGatewayDown(items[0]);
  ASSERT_EQ(down.batch().deliveries_size(), 1) << "a single delivery is a batch of one";
  EXPECT_EQ(down.batch().deliveries(0).payload_json(), "{\"a\":1}");
  EXPECT_EQ(down.batch().deliveries(0).handles_size(), 2);
  EXPECT_EQ(down.batch().deliveries(0).seq(), 7u);
  ASSERT_TRUE(session.PopAll(&items, 1));
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(ToGatewayDown(items[0]).kick().handle(), 3u);
  session.Close();
  EXPECT_FALSE(session.PopAll(&items, 1));
}

TEST(GatewaySessionTest, PopAllMergesConsecutiveDeliveriesIntoBatches) {
  GatewaySession session(20);
  auto delivery = [](int n) {
    Outbound out;
    out.payload_json = std::make_shared<const std::string>("{\"n\":" + std::to_string(n) + "}");
    out.handles = {static_cast<uint64_t>(n)};
    out.channel = "c";
    out.seq = static_cast<uint64_t>(n);
    return out;
  };
  v1::AttachResult result;
  result.set_handle(9);
  Outbound kick;
  kick.kind = Outbound::Kind::kKick;
  kick.handles = {5};
  session.Push(result);
  session.Push(delivery(1));
  session.Push(delivery(2));
  session.Push(delivery(3));
  session.Push(kick);
  session.Push(delivery(4));
  std::vector<GatewayItem> items;
  ASSERT_TRUE(session.PopAll(&items, 100));
  ASSERT_EQ(items.size(), 6u);
  std::vector<v1::GatewayDown> messages = ToGatewayMessages(items, 1 << 20);
  ASSERT_EQ(messages.size(), 4u) << "attach, batch of three, kick, batch of one (order kept)";
  EXPECT_EQ(messages[0].attach_result().handle(), 9u);
  ASSERT_EQ(messages[1].batch().deliveries_size(), 3);
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(messages[1].batch().deliveries(i).seq(), static_cast<uint64_t>(i + 1));
  EXPECT_EQ(messages[2].kick().handle(), 5u);
  ASSERT_EQ(messages[3].batch().deliveries_size(), 1);
  EXPECT_EQ(messages[3].batch().deliveries(0).payload_json(), "{\"n\":4}");
  // `max` bounds one burst.
  for (int n = 0; n < 5; ++n) session.Push(delivery(n));
  ASSERT_TRUE(session.PopAll(&items, 2));
  EXPECT_EQ(items.size(), 2u);
  ASSERT_TRUE(session.PopAll(&items, 100));
  EXPECT_EQ(items.size(), 3u);
  session.Close();
  EXPECT_FALSE(session.PopAll(&items, 100));
}

}  // namespace
}  // namespace channelstream::broker
