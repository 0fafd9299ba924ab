// The broker's gRPC listener with TLS, mutual TLS and bearer tokens, against clients built the
// way gateways and REST adapters build theirs (CreateBrokerChannel): every refusal is a clean
// status on the client and, for tokens, one log line on the broker without the secret.
#include "common/grpc_security.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "broker/broker_runtime.h"
#include "broker/grpc_server.h"
#include "channelstream.grpc.pb.h"
#include "common/config.h"
#include "health.grpc.pb.h"
#include "tests/grpc_security/test_certs.h"

namespace channelstream::testing {
namespace {

using Settings = std::map<std::string, std::string>;

class GrpcSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    pki_ =
        new TestPki(MakeTestPki(std::string(tmp != nullptr ? tmp : "/tmp") + "/grpc_security_pki"));
  }
  static void TearDownTestSuite() { delete pki_; }
  void TearDown() override {
    if (runtime_ != nullptr) runtime_->Stop();
    if (server_ != nullptr)
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  static common::Config MakeConfig(const Settings& settings) {
    common::Config config;
    for (const auto& [key, value] : settings)
      EXPECT_TRUE(config.Set(key, value, "test").ok()) << key;
    return config;
  }
  Settings TlsBroker() const {
    return {{"grpc_tls_cert", pki_->server.cert}, {"grpc_tls_key", pki_->server.key}};
  }
  Settings TlsClient() const { return {{"grpc_tls_ca", pki_->ca}}; }
  static Settings Plus(Settings a, const Settings& b) {
    for (const auto& [key, value] : b) a[key] = value;
    return a;
  }

  absl::Status StartBroker(const Settings& settings, const std::string& address = "127.0.0.1:0") {
    broker_config_ = MakeConfig(settings);
    runtime_ = std::make_unique<broker::BrokerRuntime>(broker_config_);
    absl::StatusOr<broker::BrokerGrpcServer> started =
        broker::StartBrokerGrpcServer(broker_config_, runtime_->service(), address);
    if (!started.ok()) return started.status();
    server_ = std::move(started->server);
    port_ = started->port;
    runtime_->Start();
    return absl::OkStatus();
  }
  std::string Address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::shared_ptr<grpc::Channel> Client(Settings settings,
                                        const std::string& token_key = "grpc_backend_token") {
    settings["broker_address"] = Address();
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        common::CreateBrokerChannel(MakeConfig(settings), token_key);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return channel.ok() ? *channel : nullptr;
  }

  static void Deadline(grpc::ClientContext* context) {
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
  }
  static grpc::Status Info(const std::shared_ptr<grpc::Channel>& channel,
                           const std::string& metadata_token = "") {
    grpc::ClientContext context;
    Deadline(&context);
    if (!metadata_token.empty()) context.AddMetadata("authorization", "Bearer " + metadata_token);
    v1::InfoRequest request;
    v1::InfoResponse response;
    return v1::Broker::NewStub(channel)->Info(&context, request, &response);
  }
  static grpc::Status Publish(const std::shared_ptr<grpc::Channel>& channel,
                              size_t payload_bytes = 2) {
    grpc::ClientContext context;
    Deadline(&context);
    v1::PublishRequest request;
    auto* publication = request.add_publications();
    publication->set_channel("room");
    publication->set_user("publisher");
    publication->set_message_json("{\"t\": \"" + std::string(payload_bytes, 'x') + "\"}");
    v1::PublishResponse response;
    grpc::Status status = v1::Broker::NewStub(channel)->Publish(&context, request, &response);
    if (!status.ok()) std::fprintf(stderr, "Publish: %s\n", status.error_message().c_str());
    return status;
  }
  // Opens a GatewayStream and says hello; returns how it ended (OK when the broker kept it open
  // until we cancelled it).
  grpc::Status GatewayStream(const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext context;
    auto stub = v1::Broker::NewStub(channel);
    auto stream = stub->GatewayStream(&context);
    v1::GatewayUp hello;
    hello.mutable_hello()->set_gateway_id("test-gateway");
    stream->Write(hello);
    bool opened = false;
    for (int i = 0; i < 200 && !opened; ++i) {
      opened = runtime_->open_gateways() == 1;
      if (!opened) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (opened) {
      context.TryCancel();
      stream->Finish().ok();
      return grpc::Status::OK;
    }
    v1::GatewayDown down;
    while (stream->Read(&down)) {
    }
    return stream->Finish();
  }
  static grpc::health::v1::HealthCheckResponse::ServingStatus Health(
      const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext context;
    Deadline(&context);
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status =
        grpc::health::v1::Health::NewStub(channel)->Check(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.status();
  }
  static std::shared_ptr<grpc::Channel> Plaintext(const std::string& address) {
    return grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  }

  static TestPki* pki_;
  common::Config broker_config_;
  std::unique_ptr<broker::BrokerRuntime> runtime_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TestPki* GrpcSecurityTest::pki_ = nullptr;

TEST_F(GrpcSecurityTest, TlsBrokerServesTlsClientsAndHealthAnswersServing) {
  ASSERT_TRUE(StartBroker(TlsBroker()).ok());
  auto channel = Client(TlsClient());
  EXPECT_TRUE(Info(channel).ok());
  EXPECT_EQ(Health(channel), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(GrpcSecurityTest, PlaintextHealthAnswersServingToo) {
  ASSERT_TRUE(StartBroker({}).ok());
  EXPECT_EQ(Health(Plaintext(Address())), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(GrpcSecurityTest, PlaintextClientOnTlsPortFailsCleanly) {
  ASSERT_TRUE(StartBroker(TlsBroker()).ok());
  grpc::Status status = Info(Plaintext(Address()));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_TRUE(Info(Client(TlsClient())).ok());  // and the broker still serves TLS clients
}

TEST_F(GrpcSecurityTest, BrokerCertificateFromAnotherCaIsRefused) {
  ASSERT_TRUE(StartBroker(TlsBroker()).ok());
  EXPECT_EQ(Info(Client({{"grpc_tls_ca", pki_->other_ca}})).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcSecurityTest, ExpiredBrokerCertificateIsRefused) {
  ASSERT_TRUE(StartBroker({{"grpc_tls_cert", pki_->expired_server.cert},
                           {"grpc_tls_key", pki_->expired_server.key}})
                  .ok());
  EXPECT_EQ(Info(Client(TlsClient())).error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcSecurityTest, MutualTlsRefusesMissingExpiredAndForeignClientCertificates) {
  ASSERT_TRUE(StartBroker(Plus(TlsBroker(), {{"grpc_tls_ca", pki_->ca},
                                             {"grpc_tls_require_client_cert", "true"}}))
                  .ok());
  EXPECT_EQ(Info(Client(TlsClient())).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Info(Client(Plus(TlsClient(), {{"grpc_tls_client_cert", pki_->expired_client.cert},
                                           {"grpc_tls_client_key", pki_->expired_client.key}})))
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Info(Client(Plus(TlsClient(), {{"grpc_tls_client_cert", pki_->other_client.cert},
                                           {"grpc_tls_client_key", pki_->other_client.key}})))
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Info(Client(Plus(TlsClient(), {{"grpc_tls_client_cert", pki_->client.cert},
                                             {"grpc_tls_client_key", pki_->client.key}})))
                  .ok());
}

TEST_F(GrpcSecurityTest, BackendTokenCannotOpenGatewayStream) {
  const Settings tokens = {{"grpc_backend_token", "backend-secret-1"},
                           {"grpc_gateway_token", "gateway-secret-1"}};
  ASSERT_TRUE(StartBroker(Plus(TlsBroker(), tokens)).ok());
  auto backend = Client(Plus(TlsClient(), tokens), "grpc_backend_token");
  EXPECT_TRUE(Info(backend).ok());
  EXPECT_TRUE(Publish(backend).ok());
  ::testing::internal::CaptureStderr();
  grpc::Status status = GatewayStream(backend);
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_NE(log.find("/channelstream.v1.Broker/GatewayStream refused: PERMISSION_DENIED"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("backend-secret-1"), std::string::npos);
  EXPECT_EQ(runtime_->open_gateways(), 0u);
}

TEST_F(GrpcSecurityTest, GatewayTokenOpensGatewayStreamButCannotPublish) {
  const Settings tokens = {{"grpc_backend_token", "backend-secret-1"},
                           {"grpc_gateway_token", "gateway-secret-1"}};
  ASSERT_TRUE(StartBroker(Plus(TlsBroker(), tokens)).ok());
  auto gateway = Client(Plus(TlsClient(), tokens), "grpc_gateway_token");
  EXPECT_TRUE(GatewayStream(gateway).ok());
  EXPECT_EQ(Publish(gateway).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Info(gateway).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(GrpcSecurityTest, WrongOrMissingTokenIsUnauthenticatedWithALogLine) {
  ASSERT_TRUE(StartBroker(Plus(TlsBroker(), {{"grpc_backend_token", "backend-secret-1"}})).ok());
  ::testing::internal::CaptureStderr();
  grpc::Status wrong = Info(Client(Plus(TlsClient(), {{"grpc_backend_token", "guessed-token"}})));
  grpc::Status missing = Info(Client(TlsClient()));
  const std::string log = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(wrong.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_NE(log.find("/channelstream.v1.Broker/Info refused: UNAUTHENTICATED (invalid token)"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("refused: UNAUTHENTICATED (missing authorization"), std::string::npos) << log;
  EXPECT_EQ(log.find("guessed-token"), std::string::npos);
  EXPECT_EQ(log.find("backend-secret-1"), std::string::npos);
  // Probes need no token.
  EXPECT_EQ(Health(Client(TlsClient())), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(GrpcSecurityTest, TokensOverLoopbackPlaintextWorkWithCallCredentialsAndMetadata) {
  const Settings tokens = {{"grpc_backend_token", "backend-secret-1"},
                           {"grpc_gateway_token", "gateway-secret-1"}};
  ASSERT_TRUE(StartBroker(tokens).ok());
  EXPECT_TRUE(Info(Client(tokens, "grpc_backend_token")).ok());
  EXPECT_TRUE(GatewayStream(Client(tokens, "grpc_gateway_token")).ok());
  // A backend on plain insecure credentials adding the header itself (what a Python client does).
  EXPECT_TRUE(Info(Plaintext(Address()), "backend-secret-1").ok());
  EXPECT_EQ(Info(Plaintext(Address())).error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(Info(Plaintext(Address()), "gateway-secret-1").error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(GrpcSecurityTest, NonLoopbackPlaintextListenerRefusesToStart) {
  absl::Status status = StartBroker({}, "0.0.0.0:0");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.message().find("grpc_allow_insecure"), std::string::npos);
  runtime_.reset();
  EXPECT_TRUE(StartBroker({{"grpc_allow_insecure", "true"}}, "0.0.0.0:0").ok());
}

TEST_F(GrpcSecurityTest, PortInUseIsAnError) {
  ASSERT_TRUE(StartBroker({}).ok());
  common::Config config;
  broker::BrokerRuntime second(config);
  absl::StatusOr<broker::BrokerGrpcServer> again =
      broker::StartBrokerGrpcServer(config, second.service(), Address());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.status().message().find("cannot listen on broker_listen"), std::string::npos);
}

TEST_F(GrpcSecurityTest, MessagesOverGrpcMaxMessageBytesAreRefused) {
  ASSERT_TRUE(StartBroker({{"grpc_max_message_bytes", "4096"}}).ok());
  auto channel = Client({});
  EXPECT_TRUE(Publish(channel, 100).ok());
  EXPECT_EQ(Publish(channel, 8000).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

}  // namespace
}  // namespace channelstream::testing
