// State model: publications, routing, history, presence, state changes, edit and delete.
#include <gtest/gtest.h>

#include <algorithm>

#include "broker/broker_state_test_util.h"
#include "common/ids.h"

namespace channelstream::broker {
namespace {

// Handles come in connection order (random ids); compare them as sets.
std::vector<uint64_t> SortedHandles(const Outbound& item) {
  std::vector<uint64_t> handles = item.handles;
  std::sort(handles.begin(), handles.end());
  return handles;
}

class MessagesTest : public BrokerStateTestBase {
 protected:
  MessagesTest() { gw = state->AddGateway("gw"); }
  void Reset2() {
    Reset();
    gw = state->AddGateway("gw");
  }
  uint64_t gw = 0;
};

TEST_F(MessagesTest, ChannelMessageReachesEverySubscriberOnceWithPackedHandles) {
  const std::string a1 = Connect("alice", {"room"});
  const std::string a2 = Connect("alice", {"room"});
  const std::string b = Connect("bob", {"room"});
  Connect("carol", {"other"});
  Attach(gw, 1, a1);
  Attach(gw, 2, a2);
  Attach(gw, 3, b);
  const uint64_t gw2 = state->AddGateway("gw2");
  const std::string c = Connect("carol", {"room"});
  Attach(gw2, 9, c);
  out.clear();

  v1::PublishResponse response;
  ASSERT_TRUE(Publish("room", "bob", R"({"text":"hi"})", {}, {}, &response).ok());
  ASSERT_EQ(out.size(), 2u) << "one delivery per gateway";
  EXPECT_EQ(out[0].gateway, gw);
  EXPECT_EQ(SortedHandles(out[0]), (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(out[0].channel, "room");
  EXPECT_EQ(out[0].seq, response.messages(0).seq());
  EXPECT_EQ(out[1].gateway, gw2);
  EXPECT_EQ(out[0].payload_json.get(), out[1].payload_json.get()) << "encoded once";

  Json message = Json::parse(*out[0].payload_json);
  EXPECT_EQ(message["type"], "message");
  EXPECT_EQ(message["user"], "bob");
  EXPECT_EQ(message["channel"], "room");
  EXPECT_EQ(message["message"], Json::parse(R"({"text":"hi"})"));
  EXPECT_EQ(message["catchup"], false);
  EXPECT_TRUE(message["edited"].is_null());
  EXPECT_TRUE(common::IsUuid(message["uuid"]));
  EXPECT_EQ(message["timestamp"], common::FormatTimestamp(now));
  EXPECT_FALSE(message.contains("pm_users"));
  EXPECT_FALSE(message.contains("exclude_users"));
  EXPECT_FALSE(message.contains("no_history"));
}

TEST_F(MessagesTest, EchoKeepsExtraKeysAndGivenUuidAndTimestamp) {
  const std::string a = Connect("alice", {"room"});
  Attach(gw, 1, a);
  out.clear();
  v1::PublishRequest request;
  v1::Publication* p = request.add_publications();
  p->set_channel("room");
  p->set_user("alice");
  p->set_message_json(R"({"text":"x"})");
  p->set_uuid("AAAAAAAA-0000-4000-8000-000000000001");
  p->set_timestamp("2020-01-02T03:04:05");
  p->set_extra_json(R"({"topic":"news","pm_users":["sneaky"]})");
  v1::PublishResponse response;
  ASSERT_TRUE(state->Publish(request, now, &response, &out).ok());
  Json echo = Json::parse(response.messages(0).message_json());
  EXPECT_EQ(echo["uuid"], "aaaaaaaa-0000-4000-8000-000000000001");
  EXPECT_EQ(echo["timestamp"], "2020-01-02T03:04:05.000000");
  EXPECT_EQ(echo["topic"], "news");
  EXPECT_TRUE(echo["edited"].is_null());
  EXPECT_EQ(echo["pm_users"], Json::array());
  std::vector<Json> delivered = DeliveredTo(gw, 1);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0]["topic"], "news");
  EXPECT_FALSE(delivered[0].contains("pm_users"));
}

TEST_F(MessagesTest, PmUsersAndExcludeUsersFilterChannelMessages) {
  Attach(gw, 1, Connect("alice", {"room"}));
  Attach(gw, 2, Connect("bob", {"room"}));
  Attach(gw, 3, Connect("carol", {"room"}));
  out.clear();
  ASSERT_TRUE(Publish("room", "x", "{}", {"alice", "bob"}, {"bob"}).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].handles, std::vector<uint64_t>{1});
  out.clear();
  ASSERT_TRUE(Publish("room", "x", "{}", {}, {"carol"}).ok());
  EXPECT_EQ(SortedHandles(out[0]), (std::vector<uint64_t>{1, 2}));
}

TEST_F(MessagesTest, PrivateMessageReachesEveryConnectionOfTheUser) {
  Attach(gw, 1, Connect("alice", {"a"}));
  Attach(gw, 2, Connect("alice", {}));
  Attach(gw, 3, Connect("bob", {"a"}));
  out.clear();
  v1::PublishResponse response;
  ASSERT_TRUE(Publish("", "bob", R"({"t":1})", {"alice", "nobody"}, {}, &response).ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(SortedHandles(out[0]), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(out[0].channel, "");
  // Private messages are numbered in the user's own stream (channel empty).
  EXPECT_EQ(out[0].seq, 1u);
  const Json delivered = Json::parse(*out[0].payload_json);
  EXPECT_TRUE(delivered["channel"].is_null());
  EXPECT_EQ(delivered["offset"], 1);
  EXPECT_EQ(delivered["epoch"], state->users().at("alice").epoch);
  EXPECT_EQ(response.messages(0).seq(), 0u);
}

TEST_F(MessagesTest, ItemsWithoutChannelOrPmUsersAreDropped) {
  Attach(gw, 1, Connect("alice", {"a"}));
  out.clear();
  v1::PublishResponse response;
  ASSERT_TRUE(Publish("", "bob", "{}", {}, {}, &response).ok());
  EXPECT_EQ(response.messages_size(), 0);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(state->counters().total_unique_messages, 0);
}

// Backends calling the gRPC API directly get the same depth bound as REST clients: every `_json`
// field is refused before anything recursive touches it.
TEST_F(MessagesTest, DeeplyNestedJsonFieldsAreInvalidArguments) {
  const std::string too_deep = std::string(65, '[') + std::string(65, ']');
  const std::string deepest_allowed = std::string(64, '[') + std::string(64, ']');
  Connect("alice", {"a"});
  v1::PublishRequest request;
  v1::Publication* item = request.add_publications();
  item->set_channel("a");
  item->set_user("u");
  item->set_message_json(too_deep);
  v1::PublishResponse response;
  absl::Status status = state->Publish(request, now, &response, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "message: Nested deeper than 64 levels (max_json_depth).");
  item->set_message_json("{}");
  item->set_extra_json("{\"x\": " + too_deep + "}");
  EXPECT_EQ(state->Publish(request, now, &response, &out).message(),
            "extra: Nested deeper than 64 levels (max_json_depth).");
  item->clear_extra_json();
  item->set_message_json(deepest_allowed);
  EXPECT_TRUE(state->Publish(request, now, &response, &out).ok());

  v1::EditMessagesRequest edit_request;
  v1::MessageEdit* edit = edit_request.add_edits();
  edit->set_uuid(
      nlohmann::json::parse(response.messages(0).message_json())["uuid"].get<std::string>());
  edit->set_message_json(too_deep);
  v1::EditMessagesResponse edit_response;
  EXPECT_EQ(state->EditMessages(edit_request, now, &edit_response, &out).code(),
            absl::StatusCode::kInvalidArgument);

  v1::UserStateRequest state_request;
  state_request.set_user("alice");
  state_request.set_user_state_json("{\"k\": " + too_deep + "}");
  v1::UserStateResponse state_response;
  EXPECT_EQ(state->SetUserState(state_request, now, &state_response, &out).message(),
            "user_state: Nested deeper than 64 levels (max_json_depth).");
}

TEST_F(MessagesTest, PublishValidation) {
  v1::PublishRequest request;
  request.add_publications()->set_channel("a");
  v1::PublishResponse response;
  EXPECT_EQ(state->Publish(request, now, &response, &out).message(),
            "user: Missing data for required field.");
  request.mutable_publications(0)->set_user("u");
  request.mutable_publications(0)->set_message_json("{nope");
  EXPECT_EQ(state->Publish(request, now, &response, &out).code(),
            absl::StatusCode::kInvalidArgument);
  request.mutable_publications(0)->set_message_json("{}");
  request.mutable_publications(0)->set_timestamp("yesterday");
  EXPECT_EQ(state->Publish(request, now, &response, &out).message(),
            "timestamp: Not a valid datetime.");
  request.mutable_publications(0)->clear_timestamp();
  request.mutable_publications(0)->set_uuid("x");
  EXPECT_EQ(state->Publish(request, now, &response, &out).message(), "uuid: Not a valid UUID.");
  request.mutable_publications(0)->clear_uuid();
  request.mutable_publications(0)->set_message_json(
      "\"" + std::string(options.max_payload_bytes, 'x') + "\"");
  absl::Status status = state->Publish(request, now, &response, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("max_payload_bytes"), std::string::npos);
}

TEST_F(MessagesTest, HistoryIsCappedAndHonoursNoHistory) {
  v1::ChannelConfig config;
  config.set_store_history(true);
  config.set_history_size(2);
  Configure("a", config);
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(Publish("a", "u", std::to_string(i)).ok());
  ASSERT_TRUE(Publish("a", "u", "99", {}, {}, nullptr, /*no_history=*/true).ok());
  const auto& history = state->channels().at("a").history;
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0]["message"], 2);
  EXPECT_EQ(history[1]["message"], 3);

  v1::InfoRequest info;
  info.mutable_channels()->add_values("a");
  info.mutable_info()->set_include_history(true);
  v1::InfoResponse response;
  ASSERT_TRUE(state->Info(info, &response).ok());
  ASSERT_EQ(response.channels_info().channels().at("a").history_json_size(), 2);

  v1::ChannelConfig shrink;
  shrink.set_history_size(1);
  Configure("a", shrink);
  EXPECT_EQ(state->channels().at("a").history.size(), 1u);
}

TEST_F(MessagesTest, NoHistoryWithoutStoreHistory) {
  Connect("alice", {"a"});
  ASSERT_TRUE(Publish("a", "u", "1").ok());
  EXPECT_TRUE(state->channels().at("a").history.empty());
}

TEST_F(MessagesTest, PresenceGoesToOtherUsersOnFirstJoinAndLastPart) {
  v1::ChannelConfig config;
  config.set_notify_presence(true);
  config.set_broadcast_presence_with_user_lists(true);
  Configure("room", config);
  const std::string b = Connect("bob", {"room"});
  Attach(gw, 2, b);
  out.clear();

  v1::ConnectRequest request;
  request.set_username("alice");
  request.add_channels("room");
  request.set_user_state_json(R"({"avatar":"a.png","secret":"s"})");
  request.mutable_state_public_keys()->add_values("avatar");
  v1::ConnectResponse response;
  ASSERT_TRUE(state->Connect(request, now, &response, &out).ok());
  Attach(gw, 1, response.conn_id());
  std::vector<Json> to_bob = DeliveredTo(gw, 2);
  ASSERT_EQ(to_bob.size(), 1u);
  EXPECT_EQ(to_bob[0]["type"], "presence");
  EXPECT_EQ(to_bob[0]["user"], "alice");
  EXPECT_EQ(to_bob[0]["channel"], "room");
  EXPECT_EQ(to_bob[0]["message"]["action"], "joined");
  EXPECT_EQ(to_bob[0]["users"], Json::parse(R"(["alice","bob"])"));
  EXPECT_EQ(to_bob[0]["state"], Json::parse(R"({"avatar":"a.png"})"));
  EXPECT_EQ(to_bob[0]["catchup"], false);

  // A second connection of alice: no presence.
  out.clear();
  const std::string a2 = Connect("alice", {"room"});
  EXPECT_TRUE(out.empty());
  EXPECT_TRUE(state->Disconnect(a2, now, &out));
  EXPECT_TRUE(DeliveredTo(gw, 2).empty());

  EXPECT_TRUE(state->Disconnect(response.conn_id(), now, &out));
  to_bob = DeliveredTo(gw, 2);
  ASSERT_EQ(to_bob.size(), 1u);
  EXPECT_EQ(to_bob[0]["message"]["action"], "parted");
  EXPECT_EQ(to_bob[0]["users"], Json::parse(R"(["bob"])"));
  EXPECT_FALSE(to_bob[0].contains("state"));
}

TEST_F(MessagesTest, NoPresenceWithoutNotifyPresenceOrUserLists) {
  Attach(gw, 2, Connect("bob", {"quiet"}));
  out.clear();
  Connect("alice", {"quiet"});
  EXPECT_TRUE(out.empty());

  v1::ChannelConfig config;
  config.set_notify_presence(true);
  Configure("loud", config);
  Attach(gw, 3, Connect("bob", {"loud"}));
  out.clear();
  Connect("carol", {"loud"});
  std::vector<Json> to_bob = DeliveredTo(gw, 3);
  ASSERT_EQ(to_bob.size(), 1u);
  EXPECT_FALSE(to_bob[0].contains("users"));
}

TEST_F(MessagesTest, UserStateChangeGoesToNotifyStateChannelsWithPublicKeysOnly) {
  v1::ChannelConfig config;
  config.set_notify_state(true);
  Configure("watch", config);
  const std::string a = Connect("alice", {"watch", "plain"});
  Attach(gw, 1, a);
  Attach(gw, 2, Connect("bob", {"watch", "plain"}));
  out.clear();

  v1::UserStateRequest request;
  request.set_user("alice");
  request.set_user_state_json(R"({"mood":"happy","secret":"x"})");
  request.mutable_state_public_keys()->add_values("mood");
  v1::UserStateResponse response;
  ASSERT_TRUE(state->SetUserState(request, now, &response, &out).ok());
  ASSERT_EQ(out.size(), 1u) << "only the notify_state channel";
  EXPECT_EQ(out[0].channel, "watch");
  Json change = Json::parse(*out[0].payload_json);
  EXPECT_EQ(change["type"], "user_state_change");
  EXPECT_EQ(change["user"], "alice");
  EXPECT_EQ(change["message"]["state"], Json::parse(R"({"mood":"happy"})"));
  EXPECT_EQ(change["message"]["changed"], Json::parse(R"([{"key":"mood","value":"happy"}])"));
  EXPECT_TRUE(common::IsUuid(change["uuid"]));

  out.clear();
  v1::UserStateRequest hidden;
  hidden.set_user("alice");
  hidden.set_user_state_json(R"({"secret":"y"})");
  ASSERT_TRUE(state->SetUserState(hidden, now, &response, &out).ok());
  EXPECT_TRUE(out.empty()) << "no public key changed";
}

TEST_F(MessagesTest, EditUpdatesHistoryAndFramesAndEmitsEdit) {
  v1::ChannelConfig config;
  config.set_store_history(true);
  Configure("a", config);
  const std::string b = Connect("bob", {"a"});
  Attach(gw, 1, Connect("alice", {"a"}));
  v1::PublishResponse published;
  ASSERT_TRUE(Publish("a", "alice", R"({"text":"old"})", {}, {"carol"}, &published).ok());
  const std::string uuid = Json::parse(published.messages(0).message_json())["uuid"];
  out.clear();

  v1::EditMessagesRequest request;
  v1::MessageEdit* edit = request.add_edits();
  edit->set_uuid(uuid);
  edit->set_channel("a");
  edit->set_message_json(R"({"text":"new"})");
  v1::EditMessagesResponse response;
  ASSERT_TRUE(state->EditMessages(request, now, &response, &out).ok());
  ASSERT_EQ(response.messages_json_size(), 1);
  Json event = Json::parse(response.messages_json(0));
  EXPECT_EQ(event["type"], "message:edit");
  EXPECT_EQ(event["message"]["text"], "new");
  EXPECT_EQ(event["user"], "alice");
  EXPECT_EQ(event["edited"], common::FormatTimestamp(now));
  std::vector<Json> delivered = DeliveredTo(gw, 1);
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_EQ(delivered[0]["type"], "message:edit");

  EXPECT_EQ(state->channels().at("a").history[0]["message"]["text"], "new");
  EXPECT_EQ(state->channels().at("a").history[0]["edited"], common::FormatTimestamp(now));
  // bob was never attached: his catch-up holds the edited original and the edit.
  std::vector<Json> catchup = Parse(Attach(gw, 2, b));
  ASSERT_EQ(catchup.size(), 2u);
  EXPECT_EQ(catchup[0]["message"]["text"], "new");
  EXPECT_EQ(catchup[0]["catchup"], true);
  EXPECT_EQ(catchup[1]["type"], "message:edit");

  request.mutable_edits(0)->clear_uuid();
  EXPECT_EQ(state->EditMessages(request, now, &response, &out).message(),
            "uuid: Missing data for required field.");
}

TEST_F(MessagesTest, DeleteRemovesFromHistoryAndFramesAndEmitsDelete) {
  v1::ChannelConfig config;
  config.set_store_history(true);
  Configure("a", config);
  const std::string b = Connect("bob", {"a"});
  Attach(gw, 1, Connect("alice", {"a"}));
  v1::PublishResponse published;
  ASSERT_TRUE(Publish("a", "alice", R"({"text":"gone"})", {}, {}, &published).ok());
  ASSERT_TRUE(Publish("a", "alice", R"({"text":"stays"})").ok());
  const std::string uuid = Json::parse(published.messages(0).message_json())["uuid"];
  out.clear();

  v1::DeleteMessagesRequest request;
  v1::MessageDelete* del = request.add_deletes();
  del->set_uuid(uuid);
  del->set_channel("a");
  v1::DeleteMessagesResponse response;
  ASSERT_TRUE(state->DeleteMessages(request, now, &response, &out).ok());
  Json event = Json::parse(response.messages_json(0));
  EXPECT_EQ(event["type"], "message:delete");
  EXPECT_EQ(event["uuid"], uuid);
  ASSERT_EQ(DeliveredTo(gw, 1).size(), 1u);
  ASSERT_EQ(state->channels().at("a").history.size(), 1u);
  EXPECT_EQ(state->channels().at("a").history[0]["message"]["text"], "stays");
  std::vector<Json> catchup = Parse(Attach(gw, 2, b));
  ASSERT_EQ(catchup.size(), 2u);
  EXPECT_EQ(catchup[0]["message"]["text"], "stays");
  EXPECT_EQ(catchup[1]["type"], "message:delete");
}

TEST_F(MessagesTest, PrivateEditAndDeleteFollowPmUsers) {
  const std::string a = Connect("alice", {});
  Attach(gw, 1, a);
  v1::PublishResponse published;
  ASSERT_TRUE(Publish("", "bob", R"({"t":"p"})", {"alice"}, {}, &published).ok());
  const std::string uuid = Json::parse(published.messages(0).message_json())["uuid"];
  out.clear();
  v1::EditMessagesRequest edit;
  edit.add_edits()->set_uuid(uuid);
  edit.mutable_edits(0)->add_pm_users("alice");
  edit.mutable_edits(0)->set_message_json(R"({"t":"q"})");
  v1::EditMessagesResponse edit_response;
  ASSERT_TRUE(state->EditMessages(edit, now, &edit_response, &out).ok());
  ASSERT_EQ(DeliveredTo(gw, 1).size(), 1u);
  EXPECT_EQ(state->users().at("alice").frames.front().payload["message"]["t"], "q");

  out.clear();
  v1::DeleteMessagesRequest del;
  del.add_deletes()->set_uuid(uuid);
  del.mutable_deletes(0)->add_pm_users("alice");
  v1::DeleteMessagesResponse del_response;
  ASSERT_TRUE(state->DeleteMessages(del, now, &del_response, &out).ok());
  ASSERT_EQ(DeliveredTo(gw, 1).size(), 1u);
  EXPECT_EQ(DeliveredTo(gw, 1)[0]["type"], "message:delete");
}

TEST_F(MessagesTest, CountersCountPublicationsAndRecipients) {
  Connect("alice", {"a"});
  Connect("bob", {"a"});
  ASSERT_TRUE(Publish("a", "x", "1").ok());
  ASSERT_TRUE(Publish("a", "x", "2", {}, {"bob"}).ok());
  EXPECT_EQ(state->counters().total_unique_messages, 2);
  EXPECT_EQ(state->counters().total_messages, 3);
}

// Every bad item is named in the BadRequest details; the text stays the first error's.
TEST_F(MessagesTest, EveryBadItemIsAViolation) {
  Connect("alice", {"a"});
  v1::PublishRequest request;
  request.add_publications()->set_channel("a");  // no user
  v1::Publication* good = request.add_publications();
  good->set_channel("a");
  good->set_user("u");
  v1::Publication* bad_uuid = request.add_publications();
  bad_uuid->set_user("u");
  bad_uuid->set_uuid("not-a-uuid");
  v1::PublishResponse response;
  absl::Status status = state->Publish(request, now, &response, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "user: Missing data for required field.");
  auto violations = broker::FieldViolations(status);
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0].field(), "publications[0].user");
  EXPECT_EQ(violations[1].field(), "publications[2].uuid");
  EXPECT_EQ(violations[1].description(), "Not a valid UUID.");
  EXPECT_EQ(response.messages_size(), 0);  // a bad item rejects the whole request

  v1::DeleteMessagesRequest deletes;
  deletes.add_deletes()->set_uuid("x");
  deletes.add_deletes();
  v1::DeleteMessagesResponse deleted;
  status = state->DeleteMessages(deletes, now, &deleted, &out);
  violations = broker::FieldViolations(status);
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0].field(), "deletes[0].uuid");
  EXPECT_EQ(violations[1].field(), "deletes[1].uuid");
  EXPECT_EQ(violations[1].description(), "Missing data for required field.");

  v1::ConnectRequest connect;
  connect.set_username("bob");
  connect.add_channels("ok");
  connect.add_channels("");
  connect.add_channels(std::string(257, 'c'));
  v1::ConnectResponse connected;
  status = state->Connect(connect, now, &connected, &out);
  EXPECT_EQ(status.message(), "channels: Length must be between 1 and 256.");
  violations = broker::FieldViolations(status);
  ASSERT_EQ(violations.size(), 2u);
  EXPECT_EQ(violations[0].field(), "channels[1]");
  EXPECT_EQ(violations[1].field(), "channels[2]");
}

}  // namespace
}  // namespace channelstream::broker
