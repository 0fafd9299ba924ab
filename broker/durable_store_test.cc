// Durable state: a series of calls through the service with data_dir on, then a fresh service
// loading the directory must hold the very same state (users, connections with their marks,
// channels with history, frames and seq, gateways, counters). Plus the journal's damage rules.
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "broker/broker_service.h"
#include "broker/journal.h"

namespace channelstream::broker {
namespace {

namespace fs = std::filesystem;

// The whole state as comparable data: the snapshot message plus the indexes it leaves out.
struct StateView {
  durable::State state;
  std::map<std::string, std::vector<common::Uuid>> channel_conns, user_conns;
  std::map<std::string, std::map<std::string, int>> channel_user_counts;
};

StateView View(const BrokerState& state) {
  StateView view;
  state.SaveTo(&view.state);
  for (const auto& [name, channel] : state.channels()) {
    view.channel_conns[name].assign(channel.conn_ids.begin(), channel.conn_ids.end());
    for (const auto& [user, count] : channel.user_connections)
      view.channel_user_counts[name][user] = count;
  }
  for (const auto& [name, user] : state.users())
    view.user_conns[name].assign(user.conn_ids.begin(), user.conn_ids.end());
  return view;
}

void ExpectSame(const StateView& expected, const StateView& actual) {
  std::string differences;
  google::protobuf::util::MessageDifferencer differencer;
  differencer.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differencer.Compare(expected.state, actual.state)) << differences;
  EXPECT_EQ(expected.channel_conns, actual.channel_conns);
  EXPECT_EQ(expected.user_conns, actual.user_conns);
  EXPECT_EQ(expected.channel_user_counts, actual.channel_user_counts);
}

class DurableStoreTest : public ::testing::Test {
 protected:
  DurableStoreTest() {
    dir =
        fs::path(::testing::TempDir()) /
        ("durable_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir);
    options.catchup_max_age = absl::Hours(1);
    options.gc_conns_after = absl::Seconds(30);
  }

  std::unique_ptr<BrokerService> Open() {
    auto service = std::make_unique<BrokerService>(options, 100000, [this] { return now; });
    DurableStoreOptions durable;
    durable.data_dir = dir.string();
    absl::Status opened = service->OpenDurableStore(durable);
    EXPECT_TRUE(opened.ok()) << opened;
    return service;
  }

  StateView ViewOf(BrokerService& service) {
    StateView view;
    service.WithState([&](const BrokerState& state) { view = View(state); });
    return view;
  }

  // What a restart must give: the state with every gateway gone (RemoveGateway at load time).
  StateView ExpectedAfterRestart(BrokerService& service) {
    StateView view;
    service.WithState([&](const BrokerState& state) {
      BrokerState copy = state;
      std::vector<uint64_t> gateways;
      for (const auto& [id, gateway] : copy.gateways()) gateways.push_back(id);
      for (uint64_t id : gateways) copy.RemoveGateway(id, now);
      view = View(copy);
    });
    return view;
  }

  std::string Connect(BrokerService& s, const std::string& user, std::vector<std::string> channels,
                      const std::string& state_json = "") {
    v1::ConnectRequest request;
    request.set_username(user);
    for (const auto& c : channels) request.add_channels(c);
    request.set_user_state_json(state_json);
    request.mutable_state_public_keys()->add_values("color");
    v1::ChannelConfig config;
    config.set_store_history(true);
    config.set_history_size(5);
    config.set_notify_presence(true);
    config.set_notify_state(true);
    for (const auto& c : channels) (*request.mutable_channel_configs())[c] = config;
    v1::ConnectResponse response;
    EXPECT_TRUE(s.Connect(nullptr, &request, &response).ok());
    return response.conn_id();
  }

  void Publish(BrokerService& s, const std::string& channel, const std::string& text,
               std::vector<std::string> pm_users = {}) {
    v1::PublishRequest request;
    v1::Publication* p = request.add_publications();
    p->set_channel(channel);
    p->set_user("system");
    p->set_message_json("\"" + text + "\"");
    for (const auto& u : pm_users) p->add_pm_users(u);
    v1::PublishResponse response;
    EXPECT_TRUE(s.Publish(nullptr, &request, &response).ok());
    last_published_uuid = nlohmann::json::parse(response.messages(0).message_json())["uuid"];
  }

  // A gateway stream whose queue nobody drains (deliveries are not what these tests check).
  uint64_t OpenGateway(BrokerService& s) {
    sessions.push_back(std::make_shared<GatewaySession>(100000));
    return s.OpenGateway("gw", sessions.back(), [] {});
  }
  void Attach(BrokerService& s, uint64_t gateway, uint64_t handle, const std::string& conn_id) {
    v1::GatewayUp up;
    up.mutable_attach()->set_handle(handle);
    up.mutable_attach()->set_conn_id(conn_id);
    up.mutable_attach()->set_catchup(true);
    s.HandleGatewayUp(gateway, up);
  }

  // Everything the state model does, with time passing in between.
  void RunWorkload(BrokerService& s) {
    const std::string alice = Connect(s, "alice", {"lobby", "news"}, R"({"color": "red", "x": 1})");
    now += absl::Seconds(1);
    const std::string bob = Connect(s, "bob", {"lobby"});
    const std::string carol = Connect(s, "carol", {"news"});
    Publish(s, "lobby", "hello");
    Publish(s, "news", "headline");
    Publish(s, "", "private", {"alice", "bob"});
    now += absl::Seconds(1);
    const uint64_t gateway = OpenGateway(s);
    Attach(s, gateway, 7, alice);
    Attach(s, gateway, 8, bob);
    Publish(s, "lobby", "while attached");
    v1::GatewayUp detach;
    detach.mutable_detach()->set_handle(8);
    v1::ChannelMark* mark = detach.mutable_detach()->mutable_delivered()->add_marks();
    mark->set_channel("lobby");
    mark->set_seq(3);
    s.HandleGatewayUp(gateway, detach);
    Publish(s, "lobby", "after bob left");
    {
      v1::EditMessagesRequest request;
      v1::MessageEdit* edit = request.add_edits();
      edit->set_uuid(last_published_uuid);
      edit->set_channel("lobby");
      edit->set_message_json("\"edited\"");
      v1::EditMessagesResponse response;
      EXPECT_TRUE(s.EditMessages(nullptr, &request, &response).ok());
    }
    Publish(s, "news", "to be deleted");
    {
      v1::DeleteMessagesRequest request;
      v1::MessageDelete* del = request.add_deletes();
      del->set_uuid(last_published_uuid);
      del->set_channel("news");
      v1::DeleteMessagesResponse response;
      EXPECT_TRUE(s.DeleteMessages(nullptr, &request, &response).ok());
    }
    {
      v1::UserStateRequest request;
      request.set_user("alice");
      request.set_user_state_json(R"({"color": "blue"})");
      v1::UserStateResponse response;
      EXPECT_TRUE(s.SetUserState(nullptr, &request, &response).ok());
    }
    {
      v1::ChannelConfigRequest request;
      (*request.mutable_channel_configs())["quiet"].set_history_size(3);
      (*request.mutable_channel_configs())["quiet"].set_long_name("The quiet room");
      v1::ChannelConfigResponse response;
      EXPECT_TRUE(s.SetChannelConfig(nullptr, &request, &response).ok());
    }
    {
      v1::SubscribeRequest request;
      request.set_conn_id(carol);
      request.add_channels("quiet");
      v1::SubscribeResponse response;
      EXPECT_TRUE(s.Subscribe(nullptr, &request, &response).ok());
      v1::UnsubscribeRequest un;
      un.set_conn_id(carol);
      un.add_channels("news");
      v1::UnsubscribeResponse unresponse;
      EXPECT_TRUE(s.Unsubscribe(nullptr, &un, &unresponse).ok());
    }
    const std::string dave = Connect(s, "dave", {"lobby"});
    {
      v1::DisconnectRequest request;
      request.set_conn_id(dave);
      v1::DisconnectResponse response;
      EXPECT_TRUE(s.Disconnect(nullptr, &request, &response).ok());
    }
    now += absl::Seconds(40);  // bob's connection idles past gc_conns_after
    s.CollectGarbage();
    // Idle connections that stay: marks, private frames and history still to be caught up.
    const std::string erin = Connect(s, "erin", {"lobby", "news", "quiet"});
    Publish(s, "lobby", "last");
    Publish(s, "", "for erin", {"erin"});
    Attach(s, gateway, 9, erin);
    Publish(s, "news", "erin saw this live");
  }

  fs::path dir;
  BrokerOptions options;
  absl::Time now = absl::FromUnixSeconds(1800000000);
  std::string last_published_uuid;
  std::vector<std::shared_ptr<GatewaySession>> sessions;
};

std::vector<fs::path> Journals(const fs::path& dir) {
  std::vector<fs::path> journals;
  for (const auto& entry : fs::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind("journal-", 0) == 0)
      journals.push_back(entry.path());
  }
  std::sort(journals.begin(), journals.end());
  return journals;
}

TEST_F(DurableStoreTest, JournalAloneRestoresEverything) {
  StateView expected;
  {
    auto service = Open();
    RunWorkload(*service);
    expected = ExpectedAfterRestart(*service);
    EXPECT_GT(expected.state.connections_size(), 0);
  }  // no final snapshot: like a kill -9
  auto reloaded = Open();
  ExpectSame(expected, ViewOf(*reloaded));
}

TEST_F(DurableStoreTest, SnapshotPlusJournalRestoresEverything) {
  StateView expected;
  {
    auto service = Open();
    RunWorkload(*service);
    ASSERT_TRUE(service->MaybeWriteSnapshot(/*force=*/true).ok());
    RunWorkload(*service);  // journaled after the snapshot
    expected = ExpectedAfterRestart(*service);
  }
  auto reloaded = Open();
  ExpectSame(expected, ViewOf(*reloaded));
  // Loading again (from the snapshot written at load) gives the same state too.
  reloaded.reset();
  auto again = Open();
  ExpectSame(expected, ViewOf(*again));
}

TEST_F(DurableStoreTest, GracefulSnapshotRestoresEverythingAndDropsOldJournals) {
  StateView expected;
  {
    auto service = Open();
    RunWorkload(*service);
    ASSERT_TRUE(service->MaybeWriteSnapshot(/*force=*/true).ok());
    expected = ExpectedAfterRestart(*service);
  }
  EXPECT_EQ(Journals(dir).size(), 1u);  // the empty one started by the snapshot
  auto reloaded = Open();
  ExpectSame(expected, ViewOf(*reloaded));
  // A connection the restart left idle re-attaches and gets what it missed.
  StateView view = ViewOf(*reloaded);
  EXPECT_EQ(view.state.gateways_size(), 0);
}

TEST_F(DurableStoreTest, ReattachAfterRestartGetsCatchUp) {
  std::string alice;
  {
    auto service = Open();
    alice = Connect(*service, "alice", {"lobby"});
    const uint64_t gateway = OpenGateway(*service);
    Attach(*service, gateway, 1, alice);
    Publish(*service, "lobby", "seen live");
  }
  auto reloaded = Open();
  Publish(*reloaded, "lobby", "while away");
  auto session = std::make_shared<GatewaySession>(100);
  const uint64_t gateway = reloaded->OpenGateway("gw2", session, [] {});
  Attach(*reloaded, gateway, 1, alice);
  std::vector<GatewayItem> items;
  ASSERT_TRUE(session->PopAll(&items, 10));
  ASSERT_EQ(items.size(), 1u);
  v1::GatewayDown down = ToGatewayDown(items[0]);
  ASSERT_TRUE(down.has_attach_result());
  EXPECT_TRUE(down.attach_result().found());
  // The gateway stream ended with the old broker before its client reported marks: what was
  // routed to it stays due (at least once), then what came while it was away.
  ASSERT_EQ(down.attach_result().catchup_json_size(), 2);
  EXPECT_NE(down.attach_result().catchup_json(0).find("seen live"), std::string::npos);
  EXPECT_NE(down.attach_result().catchup_json(1).find("while away"), std::string::npos);
}

TEST_F(DurableStoreTest, TornLastRecordIsIgnored) {
  StateView before_last;
  {
    auto service = Open();
    RunWorkload(*service);
    before_last = ExpectedAfterRestart(*service);
    Publish(*service, "lobby", "torn");
  }
  const fs::path journal = Journals(dir).back();
  fs::resize_file(journal, fs::file_size(journal) - 3);  // the crash cut the last write short
  auto reloaded = Open();
  ExpectSame(before_last, ViewOf(*reloaded));
}

TEST_F(DurableStoreTest, CorruptRecordRefusesToStart) {
  {
    auto service = Open();
    RunWorkload(*service);
  }
  const fs::path journal = Journals(dir).back();
  {
    std::fstream file(journal, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(kRecordHeaderBytes + 2));  // inside the first record
    char byte = 0;
    file.seekg(static_cast<std::streamoff>(kRecordHeaderBytes + 2));
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    file.seekp(static_cast<std::streamoff>(kRecordHeaderBytes + 2));
    file.write(&byte, 1);
  }
  BrokerService service(options, 1000, [this] { return now; });
  DurableStoreOptions durable;
  durable.data_dir = dir.string();
  absl::Status opened = service.OpenDurableStore(durable);
  EXPECT_EQ(opened.code(), absl::StatusCode::kDataLoss) << opened;
  EXPECT_NE(opened.message().find(journal.string()), std::string::npos) << opened;
  EXPECT_NE(opened.message().find("byte offset 0"), std::string::npos) << opened;
}

TEST_F(DurableStoreTest, SecondBrokerOnTheSameDirectoryIsRefused) {
  auto first = Open();
  BrokerService second(options, 1000, [this] { return now; });
  DurableStoreOptions durable;
  durable.data_dir = dir.string();
  absl::Status opened = second.OpenDurableStore(durable);
  EXPECT_EQ(opened.code(), absl::StatusCode::kFailedPrecondition) << opened;
}

TEST(JournalTest, ReadsBackWhatWasAppended) {
  const std::string path = ::testing::TempDir() + "/journal_roundtrip.log";
  std::filesystem::remove(path);
  {
    auto writer = JournalWriter::Create(path, /*fsync=*/true);
    ASSERT_TRUE(writer.ok()) << writer.status();
    ASSERT_TRUE((*writer)->Append("one").ok());
    ASSERT_TRUE((*writer)->Append(std::string(100000, 'x')).ok());
  }
  std::vector<std::string> records;
  auto read = ReadJournal(path, [&](std::string_view payload, uint64_t) {
    records.emplace_back(payload);
    return absl::OkStatus();
  });
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->torn);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(records[0], "one");
  EXPECT_EQ(records[1].size(), 100000u);
}

}  // namespace
}  // namespace channelstream::broker
