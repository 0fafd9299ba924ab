// The split deployment over mutual TLS with tokens, as separate processes: a publish through the
// REST adapter reaches a WebSocket client through the gateway. And the binaries' refusals: a
// plaintext non-loopback listener, a gRPC port in use, a token over plaintext to a remote broker,
// an unreadable certificate: each exits 2 with one line on stderr.
#include <gtest/gtest.h>

#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "common/signing.h"
#include "tests/gateway_tests/test_clients.h"
#include "tests/grpc_security/child_process.h"
#include "tests/grpc_security/test_certs.h"

namespace channelstream::testing {
namespace {

class SplitTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    pki_ = new TestPki(MakeTestPki(std::string(tmp != nullptr ? tmp : "/tmp") + "/split_tls_pki"));
  }
  static void TearDownTestSuite() { delete pki_; }

  // Runs `argv` to its end; returns its exit code and leaves its output in `output`.
  static int RunToExit(const std::vector<std::string>& argv, std::string* output) {
    ChildProcess child(argv);
    const int code = child.WaitExit(15);
    *output = child.FinalOutput();
    return code;
  }
  static size_t CountLines(const std::string& text) {
    size_t lines = 0;
    for (char c : text) lines += c == '\n';
    return lines;
  }
  static HttpResult SignedPost(int port, const std::string& path, const nlohmann::json& body) {
    return HttpCall(
        port, http::verb::post, path, body.dump(),
        {{"x-channelstream-secret", common::SignTimestamped("secret", path, absl::Now())}});
  }

  static TestPki* pki_;
};

TestPki* SplitTlsTest::pki_ = nullptr;

TEST_F(SplitTlsTest, PublishThroughTlsRestAdapterReachesWebSocketThroughTlsGateway) {
  ChildProcess broker({"broker/broker", "--broker_listen", "127.0.0.1:0", "--grpc_tls_cert",
                       pki_->server.cert, "--grpc_tls_key", pki_->server.key, "--grpc_tls_ca",
                       pki_->ca, "--grpc_tls_require_client_cert", "true", "--grpc_backend_token",
                       "backend-secret-1", "--grpc_gateway_token", "gateway-secret-1"});
  const int broker_port = broker.PortAfter("serving gRPC on 127.0.0.1:");
  ASSERT_GT(broker_port, 0) << broker.output();
  const std::string address = "127.0.0.1:" + std::to_string(broker_port);
  const std::vector<std::string> tls = {"--broker_address",
                                        address,
                                        "--grpc_tls_ca",
                                        pki_->ca,
                                        "--grpc_tls_client_cert",
                                        pki_->client.cert,
                                        "--grpc_tls_client_key",
                                        pki_->client.key,
                                        "--port",
                                        "0",
                                        "--io_threads",
                                        "2"};
  auto with = [&](std::vector<std::string> argv, const std::vector<std::string>& more) {
    argv.insert(argv.end(), tls.begin(), tls.end());
    argv.insert(argv.end(), more.begin(), more.end());
    return argv;
  };
  ChildProcess rest(
      with({"rest_adapter/rest_adapter"}, {"--grpc_backend_token", "backend-secret-1"}));
  ChildProcess gateway(with(
      {"gateway/gateway"}, {"--grpc_gateway_token", "gateway-secret-1", "--gateway_id", "gw-tls"}));
  const int rest_port = rest.PortAfter("serving on http://127.0.0.1:");
  const int gateway_port = gateway.PortAfter("serving on http://127.0.0.1:");
  ASSERT_GT(rest_port, 0) << rest.output();
  ASSERT_GT(gateway_port, 0) << gateway.output();
  ASSERT_TRUE(broker.WaitFor("gateway 'gw-tls' connected")) << broker.output() << gateway.output();

  HttpResult connected =
      SignedPost(rest_port, "/connect", {{"username", "alice"}, {"channels", {"lobby"}}});
  ASSERT_EQ(connected.status, 200) << connected.body << rest.output();
  const std::string conn_id = nlohmann::json::parse(connected.body)["conn_id"];
  WsClient client;
  ASSERT_TRUE(client.Connect(gateway_port, "/ws?conn_id=" + conn_id));
  bool received = false;
  for (int n = 0; n < 20 && !received; ++n) {  // the attach travels to the broker asynchronously
    HttpResult published = SignedPost(
        rest_port, "/message",
        nlohmann::json::array(
            {{{"channel", "lobby"}, {"user", "alice"}, {"message", {{"over", "tls"}, {"n", n}}}}}));
    ASSERT_EQ(published.status, 200) << published.body;
    received = client
                   .ReadUntil(
                       [](const std::string& frame) {
                         return frame.find("\"over\": \"tls\"") != std::string::npos ||
                                frame.find("\"over\":\"tls\"") != std::string::npos;
                       },
                       0.3)
                   .has_value();
  }
  EXPECT_TRUE(received);

  // A REST adapter holding a wrong token: its requests fail, the broker logs why, without secrets.
  ChildProcess wrong(
      with({"rest_adapter/rest_adapter"}, {"--grpc_backend_token", "guessed-token"}));
  const int wrong_port = wrong.PortAfter("serving on http://127.0.0.1:");
  ASSERT_GT(wrong_port, 0);
  HttpResult refused =
      SignedPost(wrong_port, "/connect", {{"username", "mallory"}, {"channels", {"lobby"}}});
  EXPECT_GE(refused.status, 400);
  EXPECT_TRUE(
      broker.WaitFor("/channelstream.v1.Broker/Connect refused: UNAUTHENTICATED (invalid token) "
                     "(client certificate gateway-1)"))
      << broker.output();
  EXPECT_EQ(broker.output().find("guessed-token"), std::string::npos);
  EXPECT_EQ(broker.output().find("secret-1"), std::string::npos);

  // A gateway without a client certificate never gets a stream; it keeps retrying and says why.
  ChildProcess no_cert({"gateway/gateway", "--broker_address", address, "--grpc_tls_ca", pki_->ca,
                        "--port", "0", "--grpc_gateway_token", "gateway-secret-1",
                        "--broker_reconnect_delay", "0.2"});
  EXPECT_TRUE(no_cert.WaitFor("cannot open the broker stream")) << no_cert.output();
  EXPECT_EQ(broker.output().find("gateway '127.0.0.1"), std::string::npos);
}

TEST_F(SplitTlsTest, NonLoopbackPlaintextListenerRefusesToStart) {
  std::string output;
  EXPECT_EQ(RunToExit({"broker/broker", "--broker_listen", "0.0.0.0:0"}, &output), 2);
  EXPECT_EQ(CountLines(output), 1u) << output;
  EXPECT_NE(output.find("grpc_tls_cert"), std::string::npos) << output;
  EXPECT_NE(output.find("grpc_allow_insecure"), std::string::npos) << output;
  EXPECT_EQ(RunToExit({"channelstream", "--port", "0", "--embedded_broker_listen", "true",
                       "--broker_listen", "0.0.0.0:0", "--secret", "s", "--admin_secret", "a"},
                      &output),
            2);
  EXPECT_EQ(CountLines(output), 1u) << output;
  EXPECT_NE(output.find("grpc_allow_insecure"), std::string::npos) << output;
}

TEST_F(SplitTlsTest, GrpcPortInUseExits2) {
  ChildProcess first({"broker/broker", "--broker_listen", "127.0.0.1:0"});
  const int port = first.PortAfter("serving gRPC on 127.0.0.1:");
  ASSERT_GT(port, 0);
  std::string output;
  EXPECT_EQ(
      RunToExit({"broker/broker", "--broker_listen", "127.0.0.1:" + std::to_string(port)}, &output),
      2);
  EXPECT_NE(output.find("channelstream: cannot listen on broker_listen '127.0.0.1:" +
                        std::to_string(port)),
            std::string::npos)
      << output;
}

TEST_F(SplitTlsTest, ClientsRefuseTokensOverPlaintextAndUnreadableCertificates) {
  std::string output;
  EXPECT_EQ(RunToExit({"gateway/gateway", "--port", "0", "--broker_address", "10.1.2.3:8001",
                       "--grpc_gateway_token", "gateway-secret-1"},
                      &output),
            2);
  EXPECT_NE(output.find("grpc_tls_ca"), std::string::npos) << output;
  EXPECT_EQ(output.find("gateway-secret-1"), std::string::npos);
  EXPECT_EQ(RunToExit({"rest_adapter/rest_adapter", "--port", "0", "--grpc_tls_ca",
                       "/nonexistent/ca.pem"},
                      &output),
            2);
  EXPECT_NE(output.find("cannot read grpc_tls_ca '/nonexistent/ca.pem'"), std::string::npos)
      << output;
  EXPECT_EQ(RunToExit({"broker/broker", "--broker_listen", "127.0.0.1:0", "--grpc_tls_cert",
                       pki_->server.cert, "--grpc_tls_key", pki_->client.key},
                      &output),
            2);
  EXPECT_NE(output.find("is not the key of grpc_tls_cert"), std::string::npos) << output;
}

}  // namespace
}  // namespace channelstream::testing
