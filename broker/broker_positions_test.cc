// State model: positions (offset + epoch) on every delivered object, exact recovery from a
// presented position, explicit recovery_failed, bounded and chunked catch-up, idempotent retries.
#include <gtest/gtest.h>

#include "broker/broker_state_test_util.h"
#include "broker/catchup.h"
#include "broker/gateway_session.h"
#include "broker/id_source.h"
#include "common/ids.h"

namespace channelstream::broker {
namespace {

class PositionsTest : public BrokerStateTestBase {
 protected:
  PositionsTest() { gw = state->AddGateway("gw"); }
  void Reset2() {
    Reset();
    gw = state->AddGateway("gw");
  }
  // A detach reporting what the gateway wrote: channel "" is the private stream.
  void DetachWithMarks(uint64_t handle,
                       const std::vector<std::pair<std::string, uint64_t>>& marks) {
    v1::Detach detach;
    detach.set_handle(handle);
    for (const auto& [channel, seq] : marks) {
      v1::ChannelMark* mark = detach.mutable_delivered()->add_marks();
      mark->set_channel(channel);
      mark->set_seq(seq);
    }
    state->Detach(gw, handle, now, &detach);
  }
  std::string Epoch(const std::string& channel) { return state->channels().at(channel).epoch; }
  uint64_t gw = 0;
};

TEST_F(PositionsTest, WithPositionAddsKeysWithoutReparsing) {
  EXPECT_EQ(WithPosition(R"({"a":1})", "e1", 7), R"({"a":1,"epoch":"e1","offset":7})");
  EXPECT_EQ(WithPosition("{}", "e1", 0), R"({"epoch":"e1","offset":0})");
  IdSource ids;
  EXPECT_NE(ids.NewEpoch(), ids.NewEpoch());
  EXPECT_EQ(ids.NewEpoch().size(), 8u);
}

TEST_F(PositionsTest, DeliveriesHistoryAndInfoCarryTheChannelPosition) {
  v1::ChannelConfig config;
  config.set_store_history(true);
  Configure("room", config);
  const std::string a = Connect("alice", {"room"});
  Attach(gw, 1, a);
  out.clear();
  v1::PublishResponse response;
  ASSERT_TRUE(Publish("room", "bob", R"({"t":1})", {}, {}, &response).ok());
  ASSERT_TRUE(Publish("room", "bob", R"({"t":2})").ok());
  std::vector<Json> live = DeliveredTo(gw, 1);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[0]["offset"], 1);
  EXPECT_EQ(live[1]["offset"], 2);
  EXPECT_EQ(live[0]["epoch"], Epoch("room"));
  EXPECT_EQ(live[0]["type"], "message") << "every 0.7 key stays";
  EXPECT_EQ(response.messages(0).seq(), 1u);
  EXPECT_EQ(response.messages(0).epoch(), Epoch("room"));
  EXPECT_EQ(state->channels().at("room").history.back()["offset"], 2);

  v1::InfoRequest info;
  info.mutable_channels()->add_values("room");
  v1::InfoResponse answer;
  ASSERT_TRUE(state->Info(info, &answer).ok());
  EXPECT_EQ(answer.channels_info().channels().at("room").offset(), 2u);
  EXPECT_EQ(answer.channels_info().channels().at("room").epoch(), Epoch("room"));
}

TEST_F(PositionsTest, ExtraKeysCannotForgeAPosition) {
  const std::string a = Connect("alice", {"room"});
  Attach(gw, 1, a);
  out.clear();
  v1::PublishRequest request;
  v1::Publication* p = request.add_publications();
  p->set_channel("room");
  p->set_user("bob");
  p->set_message_json("1");
  p->set_extra_json(R"({"offset": 999, "epoch": "forged"})");
  v1::PublishResponse response;
  ASSERT_TRUE(state->Publish(request, now, &response, &out).ok());
  const std::string& text = *out[0].payload_json;
  EXPECT_EQ(text.find("forged"), std::string::npos) << text;
  EXPECT_EQ(Json::parse(text)["offset"], 1);
}

TEST_F(PositionsTest, PresentedPositionResumesExactlyOnAnyConnection) {
  const std::string a = Connect("alice", {"room"});
  Attach(gw, 1, a);
  for (int i = 1; i <= 5; ++i) ASSERT_TRUE(Publish("room", "bob", std::to_string(i)).ok());
  // The gateway died without a word; the client knows it has offsets up to 3.
  state->RemoveGateway(gw, now);
  gw = state->AddGateway("other");
  std::vector<Json> frames = Parse(Attach(gw, 2, a, true, {At("room", 3, Epoch("room"))}));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["message"], 4);
  EXPECT_EQ(frames[1]["message"], 5);
  EXPECT_EQ(frames[1]["offset"], 5);
  EXPECT_EQ(frames[1]["catchup"], true);

  // The connection was collected meanwhile: a fresh /connect presents the same positions.
  DetachWithMarks(2, {{"room", 5}});
  ASSERT_TRUE(Publish("room", "bob", "6").ok());
  v1::ConnectRequest request;
  request.set_username("alice");
  request.add_channels("room");
  *request.add_since() = At("room", 5, Epoch("room"));
  v1::ConnectResponse response;
  ASSERT_TRUE(state->Connect(request, now, &response, &out).ok());
  frames = Parse(Attach(gw, 3, response.conn_id()));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0]["message"], 6);
  // Without since, a new connection starts at the channel's present.
  EXPECT_EQ(Parse(Attach(gw, 4, Connect("alice", {"room"}))).size(), 0u);
}

TEST_F(PositionsTest, AnotherEpochIsReportedNotReplayed) {
  const std::string a = Connect("alice", {"room"});
  Attach(gw, 1, a);
  ASSERT_TRUE(Publish("room", "bob", "1").ok());
  DetachWithMarks(1, {{"room", 1}});
  ASSERT_TRUE(Publish("room", "bob", "2").ok());
  std::vector<Json> frames = Parse(Attach(gw, 2, a, true, {At("room", 40, "oldepoch")}));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["type"], "recovery_failed");
  EXPECT_EQ(frames[0]["channel"], "room");
  EXPECT_EQ(frames[0]["reason"], "epoch_changed");
  EXPECT_EQ(frames[0]["since"]["epoch"], "oldepoch");
  EXPECT_EQ(frames[0]["epoch"], Epoch("room"));
  EXPECT_EQ(frames[0]["offset"], 1) << "continues from the connection's own mark";
  EXPECT_EQ(frames[1]["message"], 2);
  // An offset beyond the channel's present in the same epoch is just as unknown.
  DetachWithMarks(2, {{"room", 2}});
  frames = Parse(Attach(gw, 3, a, true, {At("room", 99, Epoch("room"))}));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0]["reason"], "unknown_position");
}

TEST_F(PositionsTest, DeletedMessagesLeaveHolesNotAMovedWindow) {
  const std::string a = Connect("alice", {"room"});
  v1::PublishResponse first;
  ASSERT_TRUE(Publish("room", "bob", "1", {}, {}, &first).ok());
  ASSERT_TRUE(Publish("room", "bob", "2").ok());
  v1::DeleteMessagesRequest request;
  v1::MessageDelete* del = request.add_deletes();
  del->set_uuid(Json::parse(first.messages(0).message_json())["uuid"]);
  del->set_channel("room");
  v1::DeleteMessagesResponse response;
  ASSERT_TRUE(state->DeleteMessages(request, now, &response, &out).ok());
  std::vector<Json> frames = Parse(Attach(gw, 1, a));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["message"], 2);
  EXPECT_EQ(frames[1]["type"], "message:delete");
}

TEST_F(PositionsTest, PrivateStreamHasItsOwnPositionAndMarks) {
  const std::string a = Connect("alice", {});
  Attach(gw, 1, a);
  out.clear();
  ASSERT_TRUE(Publish("", "bob", "1", {"alice"}).ok());
  ASSERT_TRUE(Publish("", "bob", "2", {"alice"}).ok());
  std::vector<Json> live = DeliveredTo(gw, 1);
  ASSERT_EQ(live.size(), 2u);
  EXPECT_EQ(live[1]["offset"], 2);
  EXPECT_EQ(live[1]["epoch"], state->users().at("alice").epoch);
  EXPECT_EQ(out[1].seq, 2u);
  // The socket wrote the first only.
  DetachWithMarks(1, {{"", 1}});
  std::vector<Json> frames = Parse(Attach(gw, 2, a));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0]["message"], 2);
  v1::ConnectRequest request;
  request.set_username("alice");
  v1::ConnectResponse response;
  ASSERT_TRUE(state->Connect(request, now, &response, &out).ok());
  ASSERT_EQ(response.positions_size(), 1);
  EXPECT_EQ(response.positions(0).channel(), "");
  EXPECT_EQ(response.positions(0).offset(), 2u);
  EXPECT_EQ(response.positions(0).epoch(), state->users().at("alice").epoch);
}

TEST_F(PositionsTest, CatchupOverBudgetKeepsTheNewestAndReportsTheCut) {
  options.max_catchup_bytes = 2000;
  Reset2();
  const std::string a = Connect("alice", {"room"});
  const std::string big = "\"" + std::string(300, 'x') + "\"";
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Publish("room", "bob", big).ok());
  v1::AttachResult result = Attach(gw, 1, a);
  std::vector<Json> frames = Parse(result);
  ASSERT_GE(frames.size(), 2u);
  EXPECT_EQ(frames[0]["type"], "recovery_failed");
  EXPECT_EQ(frames[0]["reason"], "catchup_limit");
  const uint64_t cut = frames[0]["offset"];
  EXPECT_EQ(frames[1]["offset"], cut + 1) << "the rest follows the cut without a gap";
  EXPECT_EQ(frames.back()["offset"], 10);
  size_t bytes = 0;
  for (int i = 1; i < result.catchup_json_size(); ++i) bytes += result.catchup_json(i).size();
  EXPECT_LE(bytes, 2000u);
  ASSERT_EQ(result.catchup_marks_size(), 1);
  EXPECT_EQ(result.catchup_marks(0).seq(), 10u);
}

TEST_F(PositionsTest, CatchupPastOneChunkFollowsAsDeliveriesToTheHandle) {
  options.catchup_chunk_bytes = 1000;
  Reset2();
  const std::string a = Connect("alice", {"room"});
  const std::string big = "\"" + std::string(300, 'x') + "\"";
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(Publish("room", "bob", big).ok());
  out.clear();
  v1::AttachResult result = Attach(gw, 1, a);
  ASSERT_GE(result.catchup_json_size(), 1);
  ASSERT_LT(result.catchup_json_size(), 10);
  const uint64_t first_chunk_end = result.catchup_marks(0).seq();
  EXPECT_EQ(first_chunk_end, static_cast<uint64_t>(result.catchup_json_size()));
  ASSERT_EQ(out.size() + result.catchup_json_size(), 10u);
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_TRUE(out[i].catchup);
    EXPECT_EQ(out[i].handles, std::vector<uint64_t>{1});
    EXPECT_EQ(out[i].channel, "room");
    EXPECT_EQ(out[i].seq, first_chunk_end + 1 + i);
    EXPECT_EQ(Json::parse(*out[i].payload_json)["catchup"], true);
  }
  // The stream batches them within the same budget.
  std::vector<GatewayItem> items(out.begin(), out.end());
  for (const v1::GatewayDown& message : ToGatewayMessages(items, 1000))
    EXPECT_LE(message.ByteSizeLong(), 1000u + 400u);
}

TEST_F(PositionsTest, RetriedUuidIsStoredAndDeliveredOnce) {
  v1::ChannelConfig config;
  config.set_store_history(true);
  Configure("room", config);
  Attach(gw, 1, Connect("alice", {"room"}));
  out.clear();
  const std::string uuid = common::NewUuid();
  v1::PublishRequest request;
  v1::Publication* p = request.add_publications();
  p->set_channel("room");
  p->set_user("bob");
  p->set_message_json("1");
  p->set_uuid(uuid);
  v1::PublishResponse first, second;
  ASSERT_TRUE(state->Publish(request, now, &first, &out).ok());
  ASSERT_TRUE(state->Publish(request, now, &second, &out).ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_FALSE(first.messages(0).duplicate());
  EXPECT_TRUE(second.messages(0).duplicate());
  EXPECT_EQ(second.messages(0).seq(), first.messages(0).seq());
  EXPECT_EQ(state->channels().at("room").history.size(), 1u);
  // Private retries likewise.
  p->set_channel("");
  p->add_pm_users("alice");
  p->set_uuid(common::NewUuid());
  out.clear();
  ASSERT_TRUE(state->Publish(request, now, &first, &out).ok());
  ASSERT_TRUE(state->Publish(request, now, &second, &out).ok());
  EXPECT_EQ(out.size(), 1u);
  EXPECT_TRUE(second.messages(1).duplicate());
}

TEST_F(PositionsTest, ConnectRejectsMalformedPositions) {
  v1::ConnectRequest request;
  request.set_username("alice");
  *request.add_since() = At("room", 1, std::string(65, 'e'));
  v1::ConnectResponse response;
  absl::Status status = state->Connect(request, now, &response, &out);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message().substr(0, 6), "since:");
}

}  // namespace
}  // namespace channelstream::broker
