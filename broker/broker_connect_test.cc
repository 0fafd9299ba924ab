// State model: users, connections, channels, channel config, info, admin info, limits.
#include <gtest/gtest.h>

#include "broker/broker_state_test_util.h"
#include "common/ids.h"

namespace channelstream::broker {
namespace {

using ConnectTest = BrokerStateTestBase;

absl::Status ConnectWith(BrokerState& state, const v1::ConnectRequest& request, absl::Time now,
                         v1::ConnectResponse* response = nullptr) {
  v1::ConnectResponse local;
  Outbox out;
  return state.Connect(request, now, response ? response : &local, &out);
}

TEST_F(ConnectTest, MissingUsernameNamesTheField) {
  v1::ConnectRequest request;
  absl::Status status = ConnectWith(*state, request, now);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "username: Missing data for required field.");
}

TEST_F(ConnectTest, UsernameLengthIsLimited) {
  v1::ConnectRequest request;
  request.set_username(std::string(513, 'u'));
  EXPECT_EQ(ConnectWith(*state, request, now).message(),
            "username: Length must be between 1 and 512.");
  request.set_username(std::string(512, 'u'));
  EXPECT_TRUE(ConnectWith(*state, request, now).ok());
}

TEST_F(ConnectTest, ChannelNameLengthIsLimited) {
  v1::ConnectRequest request;
  request.set_username("alice");
  request.add_channels(std::string(257, 'c'));
  absl::Status status = ConnectWith(*state, request, now);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "channels: Length must be between 1 and 256.");
  request.clear_channels();
  request.add_channels("");
  EXPECT_EQ(ConnectWith(*state, request, now).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(state->users().empty()) << "a rejected request changes nothing";
}

TEST_F(ConnectTest, BadConnIdIsRejected) {
  v1::ConnectRequest request;
  request.set_username("alice");
  request.set_conn_id("not-a-uuid");
  EXPECT_EQ(ConnectWith(*state, request, now).message(), "conn_id: Not a valid UUID.");
}

TEST_F(ConnectTest, GeneratesConnIdAndSortsChannels) {
  v1::ConnectRequest request;
  request.set_username("alice");
  request.add_channels("b");
  request.add_channels("a");
  request.mutable_info()->set_include_users(true);
  v1::ConnectResponse response;
  ASSERT_TRUE(ConnectWith(*state, request, now, &response).ok());
  EXPECT_TRUE(common::IsUuid(response.conn_id()));
  EXPECT_EQ(response.username(), "alice");
  ASSERT_EQ(response.channels_size(), 2);
  EXPECT_EQ(response.channels(0), "a");
  EXPECT_EQ(response.channels(1), "b");
  EXPECT_EQ(response.channels_info().channels().size(), 2u);
  ASSERT_EQ(response.channels_info().users_size(), 1);
  EXPECT_EQ(response.channels_info().users(0).user(), "alice");
}

TEST_F(ConnectTest, ClientGivenConnIdIsNormalizedAndReused) {
  const std::string id = "6D2D1D4E-0000-4000-8000-00000000000A";
  EXPECT_EQ(Connect("alice", {"a"}, id), common::NormalizeUuid(id));
  EXPECT_EQ(Connect("alice", {"b"}, common::NormalizeUuid(id)), common::NormalizeUuid(id));
  ASSERT_EQ(state->connections().size(), 1u);
  EXPECT_EQ(state->connections().begin()->second.channels.size(), 2u);
}

TEST_F(ConnectTest, ClientGivenConnIdInAnyCaseNamesOneConnection) {
  // Ids are held as 16 bytes: the text's case must not matter, malformed text names nothing.
  v1::ConnectRequest request;
  request.set_username("alice");
  request.set_conn_id("123E4567-E89B-42D3-A456-426614174000");
  v1::ConnectResponse response;
  ASSERT_TRUE(ConnectWith(*state, request, now, &response).ok());
  EXPECT_EQ(response.conn_id(), "123e4567-e89b-42d3-a456-426614174000");
  request.set_conn_id("123e4567-e89b-42d3-a456-426614174000");
  ASSERT_TRUE(ConnectWith(*state, request, now, &response).ok());
  EXPECT_EQ(state->connections().size(), 1u) << "the same connection, reconnected";

  v1::SubscribeRequest subscribe;
  v1::SubscribeResponse subscribed;
  subscribe.set_conn_id("123E4567-E89B-42D3-A456-426614174000");
  subscribe.add_channels("a");
  ASSERT_TRUE(state->Subscribe(subscribe, now, &subscribed, &out).ok());
  EXPECT_EQ(subscribed.channels_size(), 1);
  for (const char* malformed : {"garbage", "123e4567-e89b-42d3-a456-42661417400g", "123e4567"}) {
    subscribe.set_conn_id(malformed);
    absl::Status status = state->Subscribe(subscribe, now, &subscribed, &out);
    EXPECT_EQ(status.code(), absl::StatusCode::kNotFound) << malformed;
    EXPECT_EQ(status.message(), "conn_id: Unknown connection") << malformed;
    EXPECT_FALSE(state->Disconnect(malformed, now, &out)) << malformed;
  }
  EXPECT_TRUE(state->Disconnect("123E4567-E89B-42D3-A456-426614174000", now, &out));
  EXPECT_TRUE(state->connections().empty());
}

TEST_F(ConnectTest, ConnIdOfAnotherUserIsRejected) {
  const std::string id = Connect("alice", {});
  v1::ConnectRequest request;
  request.set_username("bob");
  request.set_conn_id(id);
  EXPECT_EQ(ConnectWith(*state, request, now).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ConnectTest, FreshStateOnlyForNewUsersAndUserStateMerged) {
  v1::ConnectRequest request;
  request.set_username("alice");
  request.set_fresh_user_state_json(R"({"color":"red","n":1})");
  request.set_user_state_json(R"({"n":2,"f":1.5,"b":true,"z":null})");
  request.mutable_state_public_keys()->add_values("color");
  v1::ConnectResponse response;
  ASSERT_TRUE(ConnectWith(*state, request, now, &response).ok());
  EXPECT_EQ(Json::parse(response.state_json()),
            Json::parse(R"({"color":"red","n":2,"f":1.5,"b":true,"z":null})"));
  EXPECT_EQ(Json::parse(response.public_state_json()), Json::parse(R"({"color":"red"})"));

  // Second connect: fresh state ignored, merge continues, public keys kept when not set.
  request.set_fresh_user_state_json(R"({"color":"blue","extra":1})");
  request.set_user_state_json(R"({"n":3})");
  request.clear_state_public_keys();
  ASSERT_TRUE(ConnectWith(*state, request, now, &response).ok());
  Json stateJson = Json::parse(response.state_json());
  EXPECT_EQ(stateJson["color"], "red");
  EXPECT_EQ(stateJson["n"], 3);
  EXPECT_FALSE(stateJson.contains("extra"));
  EXPECT_EQ(Json::parse(response.public_state_json()), Json::parse(R"({"color":"red"})"));
}

TEST_F(ConnectTest, StateValuesMustBeScalarsInAnObject) {
  v1::ConnectRequest request;
  request.set_username("alice");
  request.set_user_state_json(R"({"a":{"nested":1}})");
  EXPECT_EQ(ConnectWith(*state, request, now).code(), absl::StatusCode::kInvalidArgument);
  request.set_user_state_json("[1]");
  EXPECT_EQ(ConnectWith(*state, request, now).message(), "user_state: Not a valid mapping type.");
  request.set_user_state_json("{bad json");
  EXPECT_EQ(ConnectWith(*state, request, now).code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(ConnectTest, ConnectionsPerUserAreLimited) {
  options.max_connections_per_user = 2;
  Reset();
  Connect("alice", {});
  Connect("alice", {});
  v1::ConnectRequest request;
  request.set_username("alice");
  absl::Status status = ConnectWith(*state, request, now);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("max_connections_per_user"), std::string::npos);
}

TEST_F(ConnectTest, ChannelsPerConnectionAreLimited) {
  options.max_channels_per_connection = 2;
  Reset();
  v1::ConnectRequest request;
  request.set_username("alice");
  request.add_channels("a");
  request.add_channels("b");
  request.add_channels("c");
  absl::Status status = ConnectWith(*state, request, now);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("max_channels_per_connection"), std::string::npos);

  const std::string id = Connect("alice", {"a", "b"});
  v1::SubscribeRequest subscribe;
  subscribe.set_conn_id(id);
  subscribe.add_channels("c");
  v1::SubscribeResponse response;
  EXPECT_EQ(state->Subscribe(subscribe, now, &response, &out).code(),
            absl::StatusCode::kResourceExhausted);
}

TEST_F(ConnectTest, UserStatePayloadIsLimited) {
  options.max_payload_bytes = 20;
  Reset();
  v1::ConnectRequest request;
  request.set_username("alice");
  request.set_user_state_json(R"({"k":"01234567890123456789"})");
  absl::Status status = ConnectWith(*state, request, now);
  EXPECT_EQ(status.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_NE(status.message().find("max_payload_bytes"), std::string::npos);
}

TEST_F(ConnectTest, SubscribeErrorsNameTheField) {
  v1::SubscribeRequest request;
  v1::SubscribeResponse response;
  request.set_conn_id(common::NewUuid());
  request.add_channels("a");
  absl::Status status = state->Subscribe(request, now, &response, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "conn_id: Unknown connection");

  request.set_conn_id(Connect("alice", {}));
  request.clear_channels();
  status = state->Subscribe(request, now, &response, &out);
  EXPECT_EQ(status.message(), "channels: Shorter than minimum length 1.");
}

TEST_F(ConnectTest, SubscribeReportsNewChannelsAndAppliesConfigToNewOnes) {
  const std::string id = Connect("alice", {"a"});
  v1::SubscribeRequest request;
  request.set_conn_id(id);
  request.add_channels("a");
  request.add_channels("c");
  request.add_channels("b");
  (*request.mutable_channel_configs())["b"].set_store_history(true);
  (*request.mutable_channel_configs())["a"].set_store_history(true);  // existing: ignored
  v1::SubscribeResponse response;
  ASSERT_TRUE(state->Subscribe(request, now, &response, &out).ok());
  ASSERT_EQ(response.channels_size(), 3);
  EXPECT_EQ(response.channels(0), "a");
  EXPECT_EQ(response.channels(2), "c");
  ASSERT_EQ(response.subscribed_to_size(), 2);
  EXPECT_EQ(response.subscribed_to(0), "b");
  EXPECT_EQ(response.subscribed_to(1), "c");
  EXPECT_TRUE(state->channels().at("b").settings.store_history());
  EXPECT_FALSE(state->channels().at("a").settings.store_history());
}

TEST_F(ConnectTest, UnsubscribeIgnoresUnknownChannels) {
  const std::string id = Connect("alice", {"a", "b"});
  v1::UnsubscribeRequest request;
  request.set_conn_id(id);
  request.add_channels("b");
  request.add_channels("nope");
  v1::UnsubscribeResponse response;
  ASSERT_TRUE(state->Unsubscribe(request, now, &response, &out).ok());
  ASSERT_EQ(response.unsubscribed_from_size(), 1);
  EXPECT_EQ(response.unsubscribed_from(0), "b");
  ASSERT_EQ(response.channels_size(), 1);
  EXPECT_EQ(response.channels(0), "a");
  EXPECT_EQ(state->channels().at("b").conn_ids.size(), 0u);

  request.set_conn_id(common::NewUuid());
  EXPECT_EQ(state->Unsubscribe(request, now, &response, &out).code(), absl::StatusCode::kNotFound);
}

TEST_F(ConnectTest, ChannelDefaultsAndConfigChanges) {
  Connect("alice", {"a"});
  const ChannelRecord& channel = state->channels().at("a");
  EXPECT_FALSE(channel.settings.notify_presence());
  EXPECT_FALSE(channel.settings.store_history());
  EXPECT_EQ(channel.settings.history_size(), 10);
  EXPECT_FALSE(channel.settings.broadcast_presence_with_user_lists());
  EXPECT_FALSE(channel.settings.notify_state());
  EXPECT_TRUE(channel.settings.store_frames());
  EXPECT_EQ(channel.long_name, "a");

  v1::ChannelConfigRequest request;
  v1::ChannelConfig& config = (*request.mutable_channel_configs())["a"];
  config.set_notify_presence(true);
  config.set_history_size(3);
  config.set_long_name("Channel A");
  (*request.mutable_channel_configs())["new"].set_store_history(true);
  v1::ChannelConfigResponse response;
  ASSERT_TRUE(state->SetChannelConfig(request, now, &response).ok());
  EXPECT_TRUE(state->channels().at("a").settings.notify_presence());
  EXPECT_EQ(state->channels().at("a").settings.history_size(), 3);
  EXPECT_FALSE(state->channels().at("a").settings.store_history()) << "unset fields are kept";
  EXPECT_EQ(state->channels().at("a").long_name, "Channel A");
  EXPECT_TRUE(state->channels().at("new").settings.store_history());
  const auto& info = response.channels_info().channels();
  ASSERT_EQ(info.size(), 2u);
  EXPECT_EQ(info.at("a").long_name(), "Channel A");
  EXPECT_EQ(info.at("a").users_size(), 0) << "channel_config reports no users";
}

TEST_F(ConnectTest, ChannelConfigRejectsBadHistorySize) {
  v1::ChannelConfig config;
  config.set_history_size(-1);
  v1::ChannelConfigRequest request;
  (*request.mutable_channel_configs())["a"] = config;
  v1::ChannelConfigResponse response;
  EXPECT_EQ(state->SetChannelConfig(request, now, &response).code(),
            absl::StatusCode::kInvalidArgument);
  (*request.mutable_channel_configs())["a"].set_history_size(options.max_history_size + 1);
  absl::Status status = state->SetChannelConfig(request, now, &response);
  EXPECT_NE(status.message().find("max_history_size"), std::string::npos);
  EXPECT_TRUE(state->channels().empty());
}

TEST_F(ConnectTest, SetUserStateMergesAndReportsChanges) {
  v1::UserStateRequest request;
  request.set_user("ghost");
  v1::UserStateResponse response;
  absl::Status status = state->SetUserState(request, now, &response, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "user: Unknown user");
  request.clear_user();
  EXPECT_EQ(state->SetUserState(request, now, &response, &out).message(),
            "user: Missing data for required field.");

  Connect("alice", {});
  request.set_user("alice");
  request.set_user_state_json(R"({"a":1,"b":"x"})");
  request.mutable_state_public_keys()->add_values("a");
  ASSERT_TRUE(state->SetUserState(request, now, &response, &out).ok());
  EXPECT_EQ(response.changed_state_size(), 2);
  ASSERT_EQ(response.public_keys_size(), 1);

  v1::UserStateRequest again;
  again.set_user("alice");
  again.set_user_state_json(R"({"a":1,"b":"y"})");
  v1::UserStateResponse second;
  ASSERT_TRUE(state->SetUserState(again, now, &second, &out).ok());
  ASSERT_EQ(second.changed_state_size(), 1);
  EXPECT_EQ(second.changed_state(0).key(), "b");
  EXPECT_EQ(second.changed_state(0).value_json(), "\"y\"");
  EXPECT_EQ(Json::parse(second.user_state_json()), Json::parse(R"({"a":1,"b":"y"})"));
  ASSERT_EQ(second.public_keys_size(), 1) << "unset public keys are kept";
  EXPECT_EQ(second.public_keys(0), "a");
}

TEST_F(ConnectTest, InfoHonoursOptions) {
  v1::ConnectRequest request;
  request.set_username("alice");
  request.add_channels("a");
  request.add_channels("b");
  request.set_user_state_json(R"({"secret":1,"shown":2})");
  request.mutable_state_public_keys()->add_values("shown");
  ASSERT_TRUE(ConnectWith(*state, request, now).ok());
  Connect("bob", {"a"});

  v1::InfoRequest info;
  info.mutable_info()->set_include_users(true);
  info.mutable_info()->set_include_connections(true);
  info.mutable_info()->set_return_public_state(true);
  info.mutable_info()->add_exclude_channels("b");
  v1::InfoResponse response;
  ASSERT_TRUE(state->Info(info, &response).ok());
  const auto& channels = response.channels_info().channels();
  ASSERT_EQ(channels.size(), 1u);
  const v1::ChannelInfo& a = channels.at("a");
  EXPECT_EQ(a.total_connections(), 2);
  EXPECT_EQ(a.total_users(), 2);
  ASSERT_EQ(a.users_size(), 2);
  EXPECT_EQ(a.users(0), "alice");
  EXPECT_EQ(a.users(1), "bob");
  EXPECT_EQ(a.connections_size(), 2);
  ASSERT_EQ(response.channels_info().users_size(), 2);
  EXPECT_EQ(Json::parse(response.channels_info().users(0).state_json()),
            Json::parse(R"({"shown":2})"));

  v1::InfoRequest named;
  named.mutable_channels()->add_values("b");
  named.mutable_channels()->add_values("unknown");
  v1::InfoResponse named_response;
  ASSERT_TRUE(state->Info(named, &named_response).ok());
  ASSERT_EQ(named_response.channels_info().channels().size(), 1u);
  EXPECT_EQ(named_response.channels_info().channels().at("b").users_size(), 0);
  EXPECT_EQ(named_response.channels_info().users_size(), 0);
}

TEST_F(ConnectTest, AdminInfoCountsEverything) {
  Connect("alice", {"a"});
  Connect("alice", {"a"});
  Connect("bob", {"a"});
  ASSERT_TRUE(Publish("a", "alice", R"({"text":"hi"})").ok());
  Advance(absl::Seconds(5));
  v1::AdminInfoResponse admin;
  ASSERT_TRUE(state->AdminInfo(v1::AdminInfoRequest(), now, &admin).ok());
  EXPECT_EQ(admin.remembered_user_count(), 2);
  EXPECT_EQ(admin.unique_user_count(), 2);
  EXPECT_EQ(admin.total_connections(), 3);
  EXPECT_EQ(admin.total_channels(), 1);
  EXPECT_EQ(admin.total_unique_messages(), 1);
  EXPECT_EQ(admin.total_messages(), 3);
  ASSERT_EQ(admin.users_size(), 2);
  EXPECT_EQ(admin.users(0).user(), "alice");
  EXPECT_EQ(admin.users(0).connections_size(), 2);
  EXPECT_TRUE(common::IsUuid(admin.users(0).uuid()));
  EXPECT_DOUBLE_EQ(admin.uptime_seconds(), 5.0);
  EXPECT_FALSE(admin.version().empty());
}

TEST_F(ConnectTest, DisconnectRemovesTheConnection) {
  const std::string id = Connect("alice", {"a"});
  EXPECT_FALSE(state->Disconnect(common::NewUuid(), now, &out));
  EXPECT_TRUE(state->Disconnect(id, now, &out));
  EXPECT_TRUE(state->connections().empty());
  EXPECT_TRUE(state->channels().at("a").conn_ids.empty());
  EXPECT_TRUE(state->users().at("alice").conn_ids.empty());
  EXPECT_FALSE(state->Disconnect(id, now, &out));
}

}  // namespace
}  // namespace channelstream::broker
