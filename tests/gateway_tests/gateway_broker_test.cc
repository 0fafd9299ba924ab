// Gateways against the real broker (BrokerRuntime): several gateways on one broker, a conn_id
// from Connect served by any of them, catch-up after moving to another gateway, the queue limit,
// and a gateway process killed mid-stream while another keeps serving.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>

#include "broker/broker_runtime.h"
#include "channelstream.grpc.pb.h"
#include "common/config.h"
#include "common/http_server.h"
#include "gateway/gateway.h"
#include "tests/gateway_tests/test_clients.h"
#include "tests/gateway_tests/test_gateway.h"

namespace channelstream::testing {
namespace {

// The //gateway:gateway binary as a child process (so it can be SIGKILLed).
class GatewayProcess {
 public:
  explicit GatewayProcess(const std::string& broker_address) {
    int fds[2];
    EXPECT_EQ(pipe(fds), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      execl("gateway/gateway", "gateway", "--port", "0", "--broker_address", broker_address.c_str(),
            "--io_threads", "2", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    stderr_ = fdopen(fds[0], "r");
    char line[1024];
    const std::string banner = "serving on http://127.0.0.1:";
    while (fgets(line, sizeof line, stderr_) != nullptr) {
      const char* found = std::strstr(line, banner.c_str());
      if (found != nullptr) {
        port_ = std::atoi(found + banner.size());
        break;
      }
    }
  }
  ~GatewayProcess() {
    Kill();
    if (stderr_ != nullptr) fclose(stderr_);
  }
  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  FILE* stderr_ = nullptr;
};

class GatewayBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    broker_config_.Set("gc_conns_after", "30", "test").IgnoreError();
    broker_ = std::make_unique<broker::BrokerRuntime>(broker_config_);
    grpc::ServerBuilder builder;
    builder.RegisterService(broker_->service());
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &grpc_port_);
    grpc_server_ = builder.BuildAndStart();
    ASSERT_NE(grpc_server_, nullptr);
    broker_->Start();
    channel_ = grpc_server_->InProcessChannel(grpc::ChannelArguments());
    stub_ = v1::Broker::NewStub(channel_);
  }
  void TearDown() override {
    gateways_.clear();
    broker_->Stop();
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
    broker_.reset();
  }
  TestGateway& StartGateway(std::map<std::string, std::string> overrides = {}) {
    overrides.emplace("broker_reconnect_delay", "0.1");
    gateways_.push_back(std::make_unique<TestGateway>(channel_, overrides));
    EXPECT_TRUE(gateways_.back()->WaitConnected());
    return *gateways_.back();
  }
  std::string Connect(const std::string& user, const std::vector<std::string>& channels) {
    v1::ConnectRequest request;
    request.set_username(user);
    for (const auto& channel : channels) request.add_channels(channel);
    v1::ConnectResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->Connect(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.conn_id();
  }
  void Publish(const std::string& channel, const nlohmann::json& message, int copies = 1) {
    v1::PublishRequest request;
    for (int i = 0; i < copies; ++i) {
      auto* publication = request.add_publications();
      publication->set_channel(channel);
      publication->set_user("publisher");
      publication->set_message_json(message.dump());
    }
    v1::PublishResponse response;
    grpc::ClientContext context;
    grpc::Status status = stub_->Publish(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  // Waits until the broker holds `count` gateway streams. Tests that publish "while a gateway is
  // down" wait for the broker to see the stream end: a publication routed to a gateway before
  // that counts as delivered there (no acknowledgements on this path yet).
  bool WaitOpenGateways(size_t count, double seconds = 5) {
    return PollUntil([&] { return broker_->open_gateways() == count; }, seconds);
  }
  // Waits until the broker has `count` connections attached through a gateway: a client's attach
  // is asynchronous, and a publication that beats it arrives as catch-up instead of live.
  bool WaitAttached(size_t count, double seconds = 5) {
    return PollUntil([&] { return broker_->attached_connections() == count; }, seconds);
  }
  std::unique_ptr<WsClient> OpenWs(int port, const std::string& conn_id) {
    auto client = std::make_unique<WsClient>();
    EXPECT_TRUE(client->Connect(port, "/ws?conn_id=" + conn_id));
    return client;
  }
  // Reads until a "message" item satisfying `pred` arrives; returns it (null on timeout).
  template <typename Pred>
  nlohmann::json ReadMessage(WsClient& client, Pred pred, double timeout = 5) {
    nlohmann::json found;
    client.ReadUntil(
        [&](const std::string& frame) {
          for (const auto& item : nlohmann::json::parse(frame)) {
            if (item.value("type", "") == "message" && pred(item)) {
              found = item;
              return true;
            }
          }
          return false;
        },
        timeout);
    return found;
  }

  common::Config broker_config_;
  std::unique_ptr<broker::BrokerRuntime> broker_;
  std::unique_ptr<grpc::Server> grpc_server_;
  int grpc_port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Broker::Stub> stub_;
  std::vector<std::unique_ptr<TestGateway>> gateways_;
};

TEST_F(GatewayBrokerTest, ConnIdFromConnectWorksOnEitherGateway) {
  TestGateway& first = StartGateway();
  TestGateway& second = StartGateway();
  std::string a = Connect("alice", {"room"});
  std::string b = Connect("bob", {"room"});
  auto on_first = OpenWs(first.port(), a);
  auto on_second = OpenWs(second.port(), b);
  // The attach is asynchronous: publish until both have their copy.
  nlohmann::json got_first, got_second;
  for (int n = 0; n < 20 && (got_first.is_null() || got_second.is_null()); ++n) {
    Publish("room", {{"n", n}});
    if (got_first.is_null())
      got_first = ReadMessage(
          *on_first, [](const auto&) { return true; }, 0.3);
    if (got_second.is_null())
      got_second = ReadMessage(
          *on_second, [](const auto&) { return true; }, 0.3);
  }
  ASSERT_FALSE(got_first.is_null());
  ASSERT_FALSE(got_second.is_null());
  EXPECT_EQ(got_first["channel"], "room");
  EXPECT_EQ(got_first["user"], "publisher");
  EXPECT_EQ(got_first["type"], "message");
  EXPECT_EQ(got_second["channel"], "room");
}

TEST_F(GatewayBrokerTest, ReconnectToAnotherGatewayGetsCatchup) {
  TestGateway& first = StartGateway();
  TestGateway& second = StartGateway();
  std::string conn = Connect("carol", {"news"});
  auto client = OpenWs(first.port(), conn);
  nlohmann::json live;
  for (int n = 0; n < 20 && live.is_null(); ++n) {
    Publish("news", {{"live", n}});
    live = ReadMessage(
        *client, [](const auto&) { return true; }, 0.3);
  }
  ASSERT_FALSE(live.is_null());  // (a publish that beat the attach arrives as catch-up)

  first.Stop();  // the gateway goes away mid-stream; its client is closed
  EXPECT_TRUE(client->WaitClosed(3));
  ASSERT_TRUE(WaitOpenGateways(1));
  Publish("news", {{"missed", true}});
  auto moved = OpenWs(second.port(), conn);
  nlohmann::json caught =
      ReadMessage(*moved, [](const auto& item) { return item["message"].contains("missed"); });
  ASSERT_FALSE(caught.is_null());
  EXPECT_EQ(caught["catchup"], true);
  // And live traffic continues on the new gateway.
  Publish("news", {{"after", true}});
  nlohmann::json after =
      ReadMessage(*moved, [](const auto& item) { return item["message"].contains("after"); });
  ASSERT_FALSE(after.is_null());
  EXPECT_EQ(after["catchup"], false);
}

TEST_F(GatewayBrokerTest, LongPollOnRealBroker) {
  TestGateway& gateway = StartGateway({{"wake_connections_after", "3"}});
  std::string conn = Connect("dave", {"lp"});
  HttpResult result;
  std::thread poller(
      [&] { result = HttpCall(gateway.port(), http::verb::get, "/listen?conn_id=" + conn); });
  const bool attached =
      WaitAttached(1);  // the poll waits wake_connections_after: publish within it
  Publish("lp", {{"n", 1}});
  poller.join();
  ASSERT_TRUE(attached) << "the long poll never attached";
  ASSERT_EQ(result.status, 200) << result.body;
  nlohmann::json list = nlohmann::json::parse(result.body);
  ASSERT_EQ(list.size(), 1u) << result.body;
  EXPECT_EQ(list[0]["message"]["n"], 1);
  HttpResult unknown = HttpCall(gateway.port(), http::verb::get,
                                "/listen?conn_id=99999999-9999-4999-8999-999999999999");
  EXPECT_EQ(unknown.status, 401);
  HttpResult disconnect = HttpCall(gateway.port(), http::verb::get, "/disconnect?conn_id=" + conn);
  EXPECT_EQ(disconnect.body, "true");
  EXPECT_EQ(HttpCall(gateway.port(), http::verb::get, "/disconnect?conn_id=" + conn).body, "false");
}

TEST_F(GatewayBrokerTest, SlowConsumerOnRealBroker) {
  TestGateway& gateway = StartGateway({{"max_queue_bytes", "131072"}});
  std::string conn = Connect("slow", {"flood"});
  WsClient slow;
  ASSERT_TRUE(slow.Connect(gateway.port(), "/ws?conn_id=" + conn, {}, nullptr, 4096));
  ASSERT_TRUE(WaitAttached(1));  // deliveries before the attach would come as one catch-up
  const std::string filler(8 * 1024, 'y');
  for (int round = 0; round < 40 && gateway.gateway().stats().slow_consumer_closes == 0; ++round) {
    Publish("flood", {{"fill", filler}}, 20);
  }
  EXPECT_EQ(gateway.gateway().stats().slow_consumer_closes, 1u);
  EXPECT_TRUE(slow.WaitClosed(10));
  EXPECT_EQ(slow.close_code(), 1008);
}

TEST_F(GatewayBrokerTest, KilledGatewayProcessLeavesTheOtherServing) {
  TestGateway& survivor = StartGateway();
  GatewayProcess doomed("127.0.0.1:" + std::to_string(grpc_port_));
  ASSERT_GT(doomed.port(), 0) << "gateway binary did not start";
  std::string conn = Connect("erin", {"live"});
  std::string watcher = Connect("frank", {"live"});
  auto other = OpenWs(survivor.port(), watcher);
  // The process prints its banner before its broker stream is open; until then it turns
  // WebSockets away, so (re)open the victim until a delivery comes through it.
  std::unique_ptr<WsClient> victim;
  nlohmann::json got;
  ASSERT_TRUE(WaitOpenGateways(2, 10));
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (int n = 0; got.is_null() && std::chrono::steady_clock::now() < until; ++n) {
    if (victim == nullptr || victim->closed()) {
      victim = std::make_unique<WsClient>();
      if (!victim->Connect(doomed.port(), "/ws?conn_id=" + conn)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
    }
    Publish("live", {{"warmup", n}});
    got = ReadMessage(
        *victim, [](const auto&) { return true; }, 0.3);
  }
  ASSERT_FALSE(got.is_null()) << "no delivery through the gateway process";

  doomed.Kill();
  EXPECT_TRUE(victim->WaitClosed(3));
  ASSERT_TRUE(WaitOpenGateways(1));
  Publish("live", {{"while_down", true}});
  EXPECT_FALSE(ReadMessage(*other, [](const auto& item) {
                 return item["message"].contains("while_down");
               }).is_null());
  auto moved = OpenWs(survivor.port(), conn);
  nlohmann::json caught =
      ReadMessage(*moved, [](const auto& item) { return item["message"].contains("while_down"); });
  ASSERT_FALSE(caught.is_null());
  EXPECT_EQ(caught["catchup"], true);
}

}  // namespace
}  // namespace channelstream::testing
