// The gateway over real sockets against a fake broker: WebSocket and long-poll clients, the
// queue limit, heartbeats, kicks, a dropped broker stream, and two gateways on one broker.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/config.h"
#include "common/http_server.h"
#include "gateway/gateway.h"
#include "tests/gateway_tests/fake_broker.h"
#include "tests/gateway_tests/test_clients.h"
#include "tests/gateway_tests/test_gateway.h"

namespace channelstream::testing {
namespace {

const char* kConn = "11111111-1111-4111-8111-111111111111";
const char* kConn2 = "22222222-2222-4222-8222-222222222222";
const char* kUnknown = "99999999-9999-4999-8999-999999999999";

class GatewayFakeBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&broker_);
    grpc_server_ = builder.BuildAndStart();
    channel_ = grpc_server_->InProcessChannel(grpc::ChannelArguments());
  }
  void TearDown() override {
    gateways_.clear();
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }
  TestGateway& StartGateway(std::map<std::string, std::string> overrides = {}) {
    overrides.emplace("broker_reconnect_delay", "0.1");
    gateways_.push_back(std::make_unique<TestGateway>(channel_, overrides));
    EXPECT_TRUE(broker_.WaitStreams(static_cast<int>(gateways_.size())));
    // The broker sees the stream as soon as the hello arrives; the gateway counts it open (and
    // serves clients) only once its own write of the hello completed, a moment later.
    EXPECT_TRUE(gateways_.back()->WaitConnected());
    return *gateways_.back();
  }
  std::unique_ptr<WsClient> OpenWs(int port, const std::string& conn_id) {
    auto client = std::make_unique<WsClient>();
    EXPECT_TRUE(client->Connect(port, "/ws?conn_id=" + conn_id));
    return client;
  }

  FakeBroker broker_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::vector<std::unique_ptr<TestGateway>> gateways_;
};

nlohmann::json Parse(const std::optional<std::string>& frame) {
  EXPECT_TRUE(frame.has_value());
  return frame ? nlohmann::json::parse(*frame) : nlohmann::json();
}

bool NotHeartbeat(const std::string& frame) { return frame != "[]"; }

TEST_F(GatewayFakeBrokerTest, WebSocketGetsCatchupThenDeliveries) {
  broker_.AddConnection(kConn, {R"({"n":0,"catchup":true})"});
  TestGateway& gateway = StartGateway();
  auto client = OpenWs(gateway.port(), kConn);
  ASSERT_TRUE(broker_.WaitAttached(kConn, 1));
  nlohmann::json catchup = Parse(client->ReadUntil(NotHeartbeat));
  ASSERT_TRUE(catchup.is_array());
  ASSERT_EQ(catchup.size(), 1u);
  EXPECT_EQ(catchup[0]["catchup"], true);

  EXPECT_EQ(broker_.Deliver(R"({"n":1})", {kConn}), 1);
  EXPECT_EQ(broker_.Deliver(R"({"n":2})", {kConn}), 1);
  std::vector<int> seen;
  while (seen.size() < 2) {
    nlohmann::json frame = Parse(client->ReadUntil(NotHeartbeat));
    ASSERT_TRUE(frame.is_array());
    for (const auto& item : frame) seen.push_back(item["n"].get<int>());
  }
  EXPECT_EQ(seen, (std::vector<int>{1, 2}));
  EXPECT_EQ(gateway.gateway().stats().deliveries, 2u);
}

TEST_F(GatewayFakeBrokerTest, UnknownOrMalformedConnIdIsClosedAtOnce) {
  TestGateway& gateway = StartGateway();
  for (std::string conn_id : {std::string(kUnknown), std::string("not-a-uuid"), std::string()}) {
    auto client = OpenWs(gateway.port(), conn_id);
    EXPECT_TRUE(client->WaitClosed(3)) << conn_id;
    EXPECT_EQ(client->close_code(), 1008) << conn_id;
  }
}

TEST_F(GatewayFakeBrokerTest, OneDeliveryReachesEveryLocalRecipient) {
  broker_.AddConnection(kConn);
  broker_.AddConnection(kConn2);
  TestGateway& gateway = StartGateway();
  std::vector<std::unique_ptr<WsClient>> clients;
  for (int i = 0; i < 6; ++i) clients.push_back(OpenWs(gateway.port(), i % 2 ? kConn : kConn2));
  ASSERT_TRUE(broker_.WaitAttached(kConn, 3));
  ASSERT_TRUE(broker_.WaitAttached(kConn2, 3));
  EXPECT_EQ(broker_.Deliver(R"({"hello":"all"})", {kConn, kConn2}), 6);
  for (auto& client : clients) {
    nlohmann::json frame = Parse(client->ReadUntil(NotHeartbeat));
    ASSERT_EQ(frame.size(), 1u);
    EXPECT_EQ(frame[0]["hello"], "all");
  }
  EXPECT_EQ(gateway.gateway().stats().frames_queued, 6u);
}

TEST_F(GatewayFakeBrokerTest, HeartbeatsAndClientTimeout) {
  broker_.AddConnection(kConn);
  TestGateway& gateway = StartGateway(
      {{"heartbeat_interval", "0.1"}, {"client_timeout", "1"}, {"ws_ping_interval", "100"}});
  auto silent = OpenWs(gateway.port(), kConn);
  auto talker = OpenWs(gateway.port(), kConn);
  ASSERT_TRUE(broker_.WaitAttached(kConn, 2));
  EXPECT_EQ(silent->Read(), std::optional<std::string>("[]"));
  // The talker sends text (0.7's heartbeat) and stays; the silent one is timed out.
  auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
  while (std::chrono::steady_clock::now() < until) {
    talker->SendText("ping");
    talker->Read(0.1);
  }
  EXPECT_FALSE(talker->closed());
  EXPECT_TRUE(silent->WaitClosed(3));
  EXPECT_EQ(silent->close_code(), 1001);
  EXPECT_TRUE(broker_.WaitAttached(kConn, 1));  // the timed-out socket was detached
}

TEST_F(GatewayFakeBrokerTest, ClientBurstIsReadToTheEnd) {
  // Sockets are edge-triggered: a burst far larger than one read must still be read to its
  // last frame (a reader that stops before EAGAIN stalls once the client stops sending).
  // 600 KB of allowed messages, then one over max_client_message_bytes (65536): only a gateway
  // that kept up with every byte sees the oversized header and closes 1009.
  broker_.AddConnection(kConn);
  TestGateway& gateway = StartGateway({{"heartbeat_interval", "100"}, {"ws_ping_interval", "100"}});
  auto client = OpenWs(gateway.port(), kConn);
  ASSERT_TRUE(broker_.WaitAttached(kConn, 1));
  const std::string allowed(60000, 'a');
  for (int i = 0; i < 10; ++i) client->SendText(allowed);
  EXPECT_FALSE(client->Read(0.2).has_value());
  EXPECT_FALSE(client->closed());
  client->SendText(std::string(70000, 'b'));
  EXPECT_TRUE(client->WaitClosed(5));
  EXPECT_EQ(client->close_code(), 1009);
}

TEST_F(GatewayFakeBrokerTest, ClientThatSendsAndHangsUpIsClosedAtOnce) {
  // The last message and the FIN arrive in one edge-triggered event: the gateway must read on to
  // the end of stream then (no later edge reports it), not wait for client_timeout.
  broker_.AddConnection(kConn);
  TestGateway& gateway = StartGateway({{"client_timeout", "60"}, {"heartbeat_interval", "100"}});
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket raw(io);
  raw.connect(
      {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(gateway.port())});
  const std::string upgrade =
      std::string("GET /ws?conn_id=") + kConn +
      " HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  boost::asio::write(raw, boost::asio::buffer(upgrade));
  std::string answer;
  boost::asio::read_until(raw, boost::asio::dynamic_buffer(answer), "\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 101", 0), 0u) << answer;
  ASSERT_TRUE(broker_.WaitAttached(kConn, 1));
  const unsigned char text_frame[] = {0x81, 0x82, 0, 0, 0, 0, 'h', 'i'};  // masked "hi", zero key
  boost::asio::write(raw, boost::asio::buffer(text_frame, sizeof text_frame));
  raw.close();
  EXPECT_TRUE(broker_.WaitAttached(kConn, 0, 2));
}

TEST_F(GatewayFakeBrokerTest, KickClosesTheClient) {
  broker_.AddConnection(kConn);
  TestGateway& gateway = StartGateway();
  auto client = OpenWs(gateway.port(), kConn);
  ASSERT_TRUE(broker_.WaitAttached(kConn, 1));
  broker_.Kick(kConn);
  EXPECT_TRUE(client->WaitClosed(3));
  EXPECT_EQ(client->close_code(), 1000);
}

TEST_F(GatewayFakeBrokerTest, OriginAllowlist) {
  broker_.AddConnection(kConn);
  TestGateway& gateway = StartGateway({{"allowed_origins", "http://good.example"}});
  std::map<std::string, std::string> upgrade = {{"Connection", "Upgrade"},
                                                {"Upgrade", "websocket"},
                                                {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                                                {"Sec-WebSocket-Version", "13"},
                                                {"Origin", "http://evil.example"}};
  EXPECT_EQ(
      HttpCall(gateway.port(), http::verb::get, std::string("/ws?conn_id=") + kConn, "", upgrade)
          .status,
      403);
  WsClient bad;
  EXPECT_FALSE(bad.Connect(gateway.port(), std::string("/ws?conn_id=") + kConn,
                           {{"Origin", "http://evil.example"}}));
  WsClient good;
  EXPECT_TRUE(good.Connect(gateway.port(), std::string("/ws?conn_id=") + kConn,
                           {{"Origin", "http://good.example"}}));
}

TEST_F(GatewayFakeBrokerTest, SlowConsumerIsClosedAndCounted) {
  broker_.AddConnection(kConn);
  broker_.AddConnection(kConn2);
  TestGateway& gateway =
      StartGateway({{"max_queue_bytes", "262144"}, {"max_queue_messages", "100000"}});
  WsClient slow;
  ASSERT_TRUE(slow.Connect(gateway.port(), std::string("/ws?conn_id=") + kConn, {}, nullptr, 4096));
  auto fast = OpenWs(gateway.port(), kConn2);
  ASSERT_TRUE(broker_.WaitAttached(kConn, 1));
  ASSERT_TRUE(broker_.WaitAttached(kConn2, 1));

  // The test paces the fast client (each batch is read before the next is sent, well under the
  // limit); the slow client never reads and its receive window is tiny.
  constexpr int kMessages = 240;
  constexpr int kBatch = 8;
  const std::string filler(16 * 1024, 'x');
  std::atomic<int> fast_received{0};
  std::thread reader([&] {
    while (fast_received < kMessages) {
      auto frame = fast->ReadUntil(NotHeartbeat, 10);
      if (!frame) break;
      fast_received += static_cast<int>(nlohmann::json::parse(*frame).size());
    }
  });
  for (int i = 0; i < kMessages; ++i) {
    broker_.Deliver(nlohmann::json{{"n", i}, {"fill", filler}}.dump(), {kConn, kConn2});
    if ((i + 1) % kBatch == 0) {
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
      while (fast_received < i + 1 && std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  reader.join();
  EXPECT_EQ(fast_received, kMessages);
  EXPECT_FALSE(fast->closed());
  // The slow client finds the close frame after what was already in flight.
  EXPECT_TRUE(slow.WaitClosed(10));
  EXPECT_EQ(slow.close_code(), 1008);
  EXPECT_EQ(slow.close_reason(), "slow consumer: queue limit");
  EXPECT_EQ(gateway.gateway().stats().slow_consumer_closes, 1u);
}

TEST_F(GatewayFakeBrokerTest, StopClosesClientsAsGoingAwayNotAsBrokerStreamLost) {
  broker_.AddConnection(kConn);
  TestGateway& gateway = StartGateway();
  auto client = OpenWs(gateway.port(), kConn);
  ASSERT_TRUE(broker_.WaitAttached(kConn, 1));
  // Stopping ends the broker stream too; that end is ours, not a lost broker (was 1012).
  gateway.Stop();
  EXPECT_TRUE(client->WaitClosed(3));
  EXPECT_EQ(client->close_code(), 1001);
  EXPECT_EQ(client->close_reason(), "going away");
}

TEST_F(GatewayFakeBrokerTest, DrainDeliversWhatIsQueuedThenGoingAwayAndEndsTheStream) {
  broker_.AddConnection(kConn);
  TestGateway& gateway = StartGateway({{"drain_timeout", "5"}, {"heartbeat_interval", "0"}});
  auto client = OpenWs(gateway.port(), kConn);
  ASSERT_TRUE(broker_.WaitAttached(kConn, 1));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(broker_.Deliver(nlohmann::json{{"n", i}}.dump(), {kConn}), 1);
  ASSERT_TRUE(PollUntil([&] { return gateway.gateway().stats().frames_queued == 3; }));
  const auto started = std::chrono::steady_clock::now();
  std::thread drain([&] { gateway.gateway().Drain(); });
  std::vector<int> seen;
  while (!client->closed()) {
    std::optional<std::string> frame = client->Read(3);
    if (!frame) break;
    for (const auto& item : nlohmann::json::parse(*frame)) seen.push_back(item["n"].get<int>());
  }
  drain.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
  EXPECT_EQ(seen, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(client->close_code(), 1001);
  EXPECT_EQ(client->close_reason(), "going away");
  // The gateway half-closed its stream after the detach; the broker ended it.
  EXPECT_TRUE(broker_.WaitStreams(0));
  EXPECT_EQ(gateway.gateway().stats().websockets, 0u);
}

TEST_F(GatewayFakeBrokerTest, DroppedBrokerStreamClosesClientsAndReconnects) {
  broker_.AddConnection(kConn);
  TestGateway& gateway = StartGateway();
  auto client = OpenWs(gateway.port(), kConn);
  ASSERT_TRUE(broker_.WaitAttached(kConn, 1));
  broker_.DropStreams();
  EXPECT_TRUE(client->WaitClosed(3));
  EXPECT_EQ(client->close_code(), 1012);
  // The gateway reopens its stream (the old one is gone with its attachments); a reconnecting
  // client is served again. Until the gateway has its new stream it turns clients away, so retry.
  ASSERT_TRUE(broker_.WaitStreamsOpened(2));
  ASSERT_TRUE(broker_.WaitStreams(1));
  ASSERT_TRUE(broker_.WaitAttached(kConn, 0));
  ASSERT_TRUE(gateway.WaitConnected());
  std::unique_ptr<WsClient> again;
  for (int attempt = 0; attempt < 50; ++attempt) {
    again = std::make_unique<WsClient>();
    if (again->Connect(gateway.port(), std::string("/ws?conn_id=") + kConn) &&
        broker_.WaitAttached(kConn, 1, 0.5))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(broker_.WaitAttached(kConn, 1));
  ASSERT_NE(again, nullptr);
  broker_.Deliver(R"({"after":"reconnect"})", {kConn});
  nlohmann::json frame = Parse(again->ReadUntil(NotHeartbeat));
  EXPECT_EQ(frame[0]["after"], "reconnect");
}

TEST_F(GatewayFakeBrokerTest, TwoGatewaysOneKilledTheOtherKeepsServing) {
  broker_.AddConnection(kConn);
  TestGateway& first = StartGateway();
  TestGateway& second = StartGateway();
  auto on_first = OpenWs(first.port(), kConn);
  auto on_second = OpenWs(second.port(), kConn);
  ASSERT_TRUE(broker_.WaitAttached(kConn, 2));
  EXPECT_EQ(broker_.Deliver(R"({"n":1})", {kConn}), 2);
  EXPECT_EQ(Parse(on_first->ReadUntil(NotHeartbeat))[0]["n"], 1);
  EXPECT_EQ(Parse(on_second->ReadUntil(NotHeartbeat))[0]["n"], 1);

  first.Stop();  // mid-stream: its clients are closed, its stream ends
  EXPECT_TRUE(on_first->WaitClosed(3));
  ASSERT_TRUE(broker_.WaitStreams(1));
  EXPECT_EQ(broker_.Deliver(R"({"n":2})", {kConn}), 1);
  EXPECT_EQ(Parse(on_second->ReadUntil(NotHeartbeat))[0]["n"], 2);
  // A client of the stopped gateway reconnects to the other one.
  auto moved = OpenWs(second.port(), kConn);
  ASSERT_TRUE(broker_.WaitAttached(kConn, 2));
  EXPECT_EQ(broker_.Deliver(R"({"n":3})", {kConn}), 2);
  EXPECT_EQ(Parse(moved->ReadUntil(NotHeartbeat))[0]["n"], 3);
}

TEST_F(GatewayFakeBrokerTest, LongPollGathersAndAnswersJsonp) {
  broker_.AddConnection(kConn);
  TestGateway& gateway =
      StartGateway({{"wake_connections_after", "3"}, {"long_poll_gather", "0.3"}});
  HttpResult result;
  std::thread poller([&] {
    result = HttpCall(gateway.port(), http::verb::get,
                      std::string("/listen?conn_id=") + kConn + "&callback=cb_1");
  });
  ASSERT_TRUE(broker_.WaitAttached(kConn, 1));
  broker_.Deliver(R"({"n":1})", {kConn});
  broker_.Deliver(R"({"n":2})", {kConn});
  poller.join();
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.headers["Access-Control-Allow-Origin"], "*");
  ASSERT_EQ(result.body.rfind("cb_1(", 0), 0u) << result.body;
  std::string inner = result.body.substr(5, result.body.rfind(')') - 5);
  EXPECT_EQ(nlohmann::json::parse(inner), nlohmann::json::parse(R"([{"n":1},{"n":2}])"));
  EXPECT_TRUE(broker_.WaitAttached(kConn, 0));  // detached once answered
}

TEST_F(GatewayFakeBrokerTest, LongPollTimesOutEmptyAndRejectsBadInput) {
  broker_.AddConnection(kConn, {R"({"old":true})"});
  TestGateway& gateway =
      StartGateway({{"wake_connections_after", "0.3"}, {"long_poll_gather", "0.05"}});
  HttpResult first =
      HttpCall(gateway.port(), http::verb::get, std::string("/listen?conn_id=") + kConn);
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(nlohmann::json::parse(first.body), nlohmann::json::parse(R"([{"old":true}])"));
  HttpResult empty =
      HttpCall(gateway.port(), http::verb::get, std::string("/listen?conn_id=") + kConn);
  EXPECT_EQ(empty.status, 200);
  EXPECT_EQ(empty.body, "[]");
  EXPECT_EQ(
      HttpCall(gateway.port(), http::verb::get, std::string("/listen?conn_id=") + kUnknown).status,
      401);
  EXPECT_EQ(HttpCall(gateway.port(), http::verb::get, "/listen?conn_id=nope").status, 401);
  EXPECT_EQ(HttpCall(gateway.port(), http::verb::get,
                     std::string("/listen?conn_id=") + kConn + "&callback=alert(1)")
                .status,
            422);
}

TEST_F(GatewayFakeBrokerTest, DisconnectGetAndPost) {
  broker_.AddConnection(kConn);
  TestGateway& gateway = StartGateway({{"allow_cors", "http://app.example"}});
  HttpResult first =
      HttpCall(gateway.port(), http::verb::get, std::string("/disconnect?conn_id=") + kConn, "",
               {{"Origin", "http://app.example"}});
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "true");
  EXPECT_EQ(first.headers["Access-Control-Allow-Origin"], "http://app.example");
  HttpResult second = HttpCall(gateway.port(), http::verb::post, "/disconnect",
                               nlohmann::json{{"conn_id", kConn}}.dump());
  EXPECT_EQ(second.body, "false");
  EXPECT_EQ(second.headers.count("Access-Control-Allow-Origin"), 0u);
  EXPECT_EQ(HttpCall(gateway.port(), http::verb::post, "/disconnect", "[1]").status, 422);
  EXPECT_EQ(HttpCall(gateway.port(), http::verb::get, "/disconnect").status, 422);
  EXPECT_EQ(HttpCall(gateway.port(), http::verb::get, "/disconnect?conn_id=x").status, 422);
}

TEST_F(GatewayFakeBrokerTest, OtherPathsAreNotTaken) {
  TestGateway& gateway = StartGateway();
  EXPECT_EQ(HttpCall(gateway.port(), http::verb::get, "/info").status, 404);
  EXPECT_EQ(HttpCall(gateway.port(), http::verb::get, "/wsx").status, 404);
  EXPECT_EQ(HttpCall(gateway.port(), http::verb::get, "/ws?conn_id=x").status,
            400);  // not an upgrade
}

}  // namespace
}  // namespace channelstream::testing
