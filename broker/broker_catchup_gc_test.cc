// State model: gateway attachments, catch-up (lossless long polls), garbage collection.
#include <gtest/gtest.h>

#include "broker/broker_state_test_util.h"
#include "common/ids.h"

namespace channelstream::broker {
namespace {

class CatchupTest : public BrokerStateTestBase {
 protected:
  CatchupTest() { gw = state->AddGateway("gw"); }
  void Reset2() {
    Reset();
    gw = state->AddGateway("gw");
  }
  uint64_t gw = 0;
};

TEST_F(CatchupTest, UnknownConnIdIsNotFound) {
  v1::AttachResult result = Attach(gw, 7, common::NewUuid());
  EXPECT_FALSE(result.found());
  EXPECT_EQ(result.handle(), 7u);
}

TEST_F(CatchupTest, AttachReturnsFramesSinceCreationMarkedCatchup) {
  ASSERT_TRUE(Publish("room", "x", "0").ok());  // before the channel exists: nowhere
  const std::string early = Connect("early", {"room"});
  ASSERT_TRUE(Publish("room", "x", "1").ok());
  const std::string id = Connect("alice", {"room"});
  ASSERT_TRUE(Publish("room", "x", "2").ok());
  ASSERT_TRUE(Publish("room", "x", "3").ok());
  v1::AttachResult result = Attach(gw, 1, id);
  EXPECT_TRUE(result.found());
  EXPECT_EQ(result.username(), "alice");
  std::vector<Json> frames = Parse(result);
  ASSERT_EQ(frames.size(), 2u) << "frames before the connection existed are not its catch-up";
  EXPECT_EQ(frames[0]["message"], 2);
  EXPECT_EQ(frames[1]["message"], 3);
  EXPECT_EQ(frames[0]["catchup"], true);
  EXPECT_EQ(Parse(Attach(gw, 2, early)).size(), 3u);
}

TEST_F(CatchupTest, LongPollCycleLosesAndDuplicatesNothing) {
  const std::string id = Connect("alice", {"room"});
  int expected = 0;
  std::vector<int> received;
  for (int poll = 0; poll < 5; ++poll) {
    // Published between polls -> catch-up; published during the poll -> live.
    ASSERT_TRUE(Publish("room", "x", std::to_string(expected++)).ok());
    out.clear();
    v1::AttachResult result = Attach(gw, 100 + poll, id);
    for (const Json& frame : Parse(result)) received.push_back(frame["message"]);
    ASSERT_TRUE(Publish("room", "x", std::to_string(expected++)).ok());
    for (const Json& live : DeliveredTo(gw, 100 + poll)) received.push_back(live["message"]);
    // The answer carried everything: the gateway reports the last offset it delivered.
    v1::Detach detach;
    detach.set_handle(100 + poll);
    v1::ChannelMark* mark = detach.mutable_delivered()->add_marks();
    mark->set_channel("room");
    mark->set_seq(state->channels().at("room").seq);
    state->Detach(gw, 100 + poll, now, &detach);
    Advance(absl::Seconds(1));
  }
  ASSERT_EQ(static_cast<int>(received.size()), expected);
  for (int i = 0; i < expected; ++i) EXPECT_EQ(received[i], i);
}

TEST_F(CatchupTest, DetachWithMarksKeepsFramesInFlightDue) {
  // A long poll answered with the first live frame; the second was routed to it but was still in
  // flight when it detached, so the detach's marks stop at the first and the next attach
  // replays the second.
  const std::string id = Connect("alice", {"room", "other"});
  Attach(gw, 1, id);
  out.clear();
  ASSERT_TRUE(Publish("room", "x", "\"got\"").ok());
  ASSERT_TRUE(Publish("room", "x", "\"in flight\"").ok());
  std::vector<uint64_t> seqs;
  for (const Outbound& item : out) seqs.push_back(item.seq);
  ASSERT_EQ(seqs.size(), 2u);
  v1::Detach detach;
  detach.set_handle(1);
  v1::ChannelMark* mark = detach.mutable_delivered()->add_marks();
  mark->set_channel("room");
  mark->set_seq(seqs[0]);
  state->Detach(gw, 1, now, &detach);
  std::vector<Json> again = Parse(Attach(gw, 2, id));
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0]["message"], "in flight");
  EXPECT_EQ(again[0]["catchup"], true);
  // Without marks (the gateway stream ended) nothing since the attach counts as delivered.
  state->Detach(gw, 2, now);
  ASSERT_TRUE(Publish("room", "x", "\"routed\"").ok());
  std::vector<Json> third = Parse(Attach(gw, 3, id));
  ASSERT_EQ(third.size(), 2u);
  EXPECT_EQ(third[0]["message"], "in flight");
  EXPECT_EQ(third[1]["message"], "routed");
}

TEST_F(CatchupTest, AttachWithoutCatchupSkipsFrames) {
  const std::string id = Connect("alice", {"room"});
  ASSERT_TRUE(Publish("room", "x", "1").ok());
  EXPECT_EQ(Attach(gw, 1, id, /*catchup=*/false).catchup_json_size(), 0);
  state->Detach(gw, 1, now);
  EXPECT_EQ(Attach(gw, 1, id).catchup_json_size(), 0);
}

TEST_F(CatchupTest, CatchupRespectsRecipientFiltersAndPrivateFrames) {
  const std::string a = Connect("alice", {"room"});
  ASSERT_TRUE(Publish("room", "x", "\"for bob\"", {"bob"}).ok());
  ASSERT_TRUE(Publish("room", "x", "\"not alice\"", {}, {"alice"}).ok());
  ASSERT_TRUE(Publish("room", "x", "\"everyone\"").ok());
  ASSERT_TRUE(Publish("", "x", "\"private\"", {"alice"}).ok());
  Advance(absl::Seconds(1));
  std::vector<Json> frames = Parse(Attach(gw, 1, a));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["message"], "everyone");
  EXPECT_EQ(frames[1]["message"], "private");
  EXPECT_TRUE(frames[1]["channel"].is_null());
}

TEST_F(CatchupTest, CatchupIsBoundedByCountAndAge) {
  options.catchup_frames = 3;
  options.catchup_max_age = absl::Seconds(10);
  Reset2();
  const std::string a = Connect("alice", {"room"});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Publish("room", "x", std::to_string(i)).ok());
  std::vector<Json> frames = Parse(Attach(gw, 1, a));
  // The window lost offsets 1 and 2: said first, then what is left.
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0]["type"], "recovery_failed");
  EXPECT_EQ(frames[0]["reason"], "window_moved");
  EXPECT_EQ(frames[0]["since"]["offset"], 0);
  EXPECT_EQ(frames[0]["offset"], 2);
  EXPECT_EQ(frames[1]["message"], 2);
  EXPECT_EQ(frames[1]["offset"], 3);
  state->Detach(gw, 1, now);

  ASSERT_TRUE(Publish("room", "x", "old").ok() || true);
  ASSERT_TRUE(Publish("room", "x", "5").ok());
  Advance(absl::Seconds(11));
  ASSERT_TRUE(Publish("room", "x", "6").ok());
  frames = Parse(Attach(gw, 1, a));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["reason"], "window_moved");
  EXPECT_EQ(frames[0]["offset"], 6) << "offsets 1-6 were cut or aged out";
  EXPECT_EQ(frames[1]["message"], 6);
}

TEST_F(CatchupTest, NoFramesWhenStoreFramesIsOff) {
  v1::ChannelConfig config;
  config.set_store_frames(false);
  Configure("room", config);
  const std::string a = Connect("alice", {"room"});
  ASSERT_TRUE(Publish("room", "x", "1").ok());
  // Nothing to replay, and the client is told so rather than left with a silent gap.
  std::vector<Json> frames = Parse(Attach(gw, 1, a));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0]["type"], "recovery_failed");
  EXPECT_EQ(frames[0]["offset"], 1);
}

TEST_F(CatchupTest, GatewayLossDropsAttachmentsAndAnotherGatewayCatchesUp) {
  const std::string a = Connect("alice", {"room"});
  Attach(gw, 1, a);
  out.clear();
  ASSERT_TRUE(Publish("room", "x", "1").ok());
  EXPECT_EQ(DeliveredTo(gw, 1).size(), 1u);
  state->RemoveGateway(gw, now);
  EXPECT_TRUE(state->connections().at(common::Uuid::FromText(a)).attachments.empty());
  out.clear();
  ASSERT_TRUE(Publish("room", "x", "2").ok());
  EXPECT_TRUE(out.empty()) << "no gateway holds the connection";
  const uint64_t other = state->AddGateway("other");
  // The lost gateway reported nothing: what was routed through it stays due (at least once).
  std::vector<Json> frames = Parse(Attach(other, 1, a));
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0]["message"], 1);
  EXPECT_EQ(frames[1]["message"], 2);
}

TEST_F(CatchupTest, DisconnectKicksAttachedSockets) {
  const std::string a = Connect("alice", {"room"});
  Attach(gw, 5, a);
  out.clear();
  EXPECT_TRUE(state->Disconnect(a, now, &out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, Outbound::Kind::kKick);
  EXPECT_EQ(out[0].gateway, gw);
  EXPECT_EQ(out[0].handles, std::vector<uint64_t>{5});
  out.clear();
  state->Detach(gw, 5, now);  // the gateway's late detach is harmless
  EXPECT_TRUE(out.empty());
}

TEST_F(CatchupTest, IdleConnectionsAreCollectedWithPartedPresence) {
  v1::ChannelConfig config;
  config.set_notify_presence(true);
  Configure("room", config);
  const std::string idle = Connect("idle", {"room"});
  const std::string attached = Connect("watcher", {"room"});
  Attach(gw, 1, attached);
  Advance(options.gc_conns_after - absl::Seconds(1));
  out.clear();
  state->CollectGarbage(now, &out);
  EXPECT_EQ(state->connections().size(), 2u);
  Advance(absl::Seconds(1));
  state->CollectGarbage(now, &out);
  EXPECT_EQ(state->connections().count(common::Uuid::FromText(idle)), 0u);
  EXPECT_EQ(state->connections().count(common::Uuid::FromText(attached)), 1u)
      << "attached connections stay";
  std::vector<Json> to_watcher = DeliveredTo(gw, 1);
  ASSERT_EQ(to_watcher.size(), 1u);
  EXPECT_EQ(to_watcher[0]["message"]["action"], "parted");
  EXPECT_EQ(to_watcher[0]["user"], "idle");
}

TEST_F(CatchupTest, DetachStartsTheIdleClock) {
  const std::string a = Connect("alice", {"room"});
  Attach(gw, 1, a);
  Advance(options.gc_conns_after * 3);
  state->CollectGarbage(now, &out);
  ASSERT_EQ(state->connections().count(common::Uuid::FromText(a)), 1u);
  state->Detach(gw, 1, now);
  Advance(options.gc_conns_after - absl::Seconds(1));
  state->CollectGarbage(now, &out);
  EXPECT_EQ(state->connections().count(common::Uuid::FromText(a)), 1u);
  Advance(absl::Seconds(2));
  state->CollectGarbage(now, &out);
  EXPECT_EQ(state->connections().count(common::Uuid::FromText(a)), 0u);
}

TEST_F(CatchupTest, UsersAndChannelsAreForgottenAfterTheirIdleTimes) {
  const std::string a = Connect("alice", {"room"});
  ASSERT_TRUE(state->Disconnect(a, now, &out));
  Advance(options.gc_users_after - absl::Seconds(1));
  state->CollectGarbage(now, &out);
  EXPECT_EQ(state->users().count("alice"), 1u);
  Advance(absl::Seconds(1));
  state->CollectGarbage(now, &out);
  EXPECT_EQ(state->users().count("alice"), 0u);
  EXPECT_EQ(state->channels().count("room"), 1u) << "72 h by default";
  Advance(options.gc_channels_after);
  state->CollectGarbage(now, &out);
  EXPECT_EQ(state->channels().count("room"), 0u);
}

TEST_F(CatchupTest, UsersWithConnectionsAreKept) {
  const std::string a = Connect("alice", {"room"});
  Attach(gw, 1, a);
  Advance(options.gc_users_after * 2);
  state->CollectGarbage(now, &out);
  EXPECT_EQ(state->users().count("alice"), 1u);
  EXPECT_EQ(state->channels().count("room"), 1u);
}

TEST_F(CatchupTest, ReusedHandleReplacesTheOldAttachment) {
  const std::string a = Connect("alice", {"room"});
  const std::string b = Connect("bob", {"room"});
  Attach(gw, 1, a);
  Attach(gw, 1, b);
  EXPECT_TRUE(state->connections().at(common::Uuid::FromText(a)).attachments.empty());
  out.clear();
  ASSERT_TRUE(Publish("room", "x", "1").ok());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].handles, std::vector<uint64_t>{1});
}

}  // namespace
}  // namespace channelstream::broker
