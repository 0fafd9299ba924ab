#include "common/grpc_security.h"

#include <gtest/gtest.h>

#include <map>

namespace channelstream::common {
namespace {

Config With(const std::map<std::string, std::string>& values) {
  Config config;
  for (const auto& [key, value] : values) EXPECT_TRUE(config.Set(key, value, "test").ok()) << key;
  return config;
}

TEST(GrpcSecurityTest, LoopbackAddresses) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1:8001"));
  EXPECT_TRUE(IsLoopbackAddress("127.1.2.3:0"));
  EXPECT_TRUE(IsLoopbackAddress("localhost:8001"));
  EXPECT_TRUE(IsLoopbackAddress("[::1]:8001"));
  EXPECT_TRUE(IsLoopbackAddress("dns:///localhost:8001"));
  EXPECT_TRUE(IsLoopbackAddress("ipv4:127.0.0.1:8001"));
  EXPECT_TRUE(IsLoopbackAddress("unix:/run/broker.sock"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0:8001"));
  EXPECT_FALSE(IsLoopbackAddress("[::]:8001"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.5:8001"));
  EXPECT_FALSE(IsLoopbackAddress("broker.internal:8001"));
  EXPECT_FALSE(IsLoopbackAddress("[::1:8001"));
}

int IntArg(const grpc::ChannelArguments& arguments, const char* name) {
  grpc_channel_args args;
  arguments.SetChannelArgs(&args);
  for (size_t i = 0; i < args.num_args; ++i) {
    if (std::string(args.args[i].key) == name && args.args[i].type == GRPC_ARG_INTEGER)
      return args.args[i].value.integer;
  }
  return -1;
}

TEST(GrpcSecurityTest, ReconnectBackoffIsBrokerReconnectDelay) {
  // gRPC's default backoff grows to 120 s: a broker back after 45 s was seen again up to 30 s late.
  for (const char* name : {GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, GRPC_ARG_MIN_RECONNECT_BACKOFF_MS,
                           GRPC_ARG_MAX_RECONNECT_BACKOFF_MS}) {
    EXPECT_EQ(IntArg(BrokerChannelArguments(Config()), name), 1000) << name;
    EXPECT_EQ(IntArg(BrokerChannelArguments(With({{"broker_reconnect_delay", "0.25"}})), name), 250)
        << name;
    EXPECT_EQ(IntArg(BrokerChannelArguments(With({{"broker_reconnect_delay", "0"}})), name), 100)
        << name;  // gRPC's floor
  }
}

TEST(GrpcSecurityTest, LoopbackPlaintextStaysInsecure) {
  auto credentials = BrokerServerCredentials(Config(), "127.0.0.1:0");
  ASSERT_TRUE(credentials.ok()) << credentials.status();
  auto channel = CreateBrokerChannel(Config(), "grpc_backend_token");
  ASSERT_TRUE(channel.ok()) << channel.status();
}

TEST(GrpcSecurityTest, NonLoopbackPlaintextRefusedUnlessAllowed) {
  auto refused = BrokerServerCredentials(Config(), "0.0.0.0:8001");
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("grpc_tls_cert"), std::string::npos);
  EXPECT_NE(refused.status().message().find("grpc_allow_insecure"), std::string::npos);
  EXPECT_TRUE(
      BrokerServerCredentials(With({{"grpc_allow_insecure", "true"}}), "0.0.0.0:8001").ok());

  auto client =
      CreateBrokerChannel(With({{"broker_address", "10.0.0.5:8001"}}), "grpc_gateway_token");
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("grpc_tls_ca"), std::string::npos);
  EXPECT_TRUE(CreateBrokerChannel(
                  With({{"broker_address", "10.0.0.5:8001"}, {"grpc_allow_insecure", "true"}}),
                  "grpc_gateway_token")
                  .ok());
}

TEST(GrpcSecurityTest, TokensOverPlaintextOnlyOnLoopback) {
  const Config tokens = With({{"grpc_backend_token", "b-token"},
                              {"grpc_gateway_token", "g-token"},
                              {"grpc_allow_insecure", "true"},
                              {"broker_address", "10.0.0.5:8001"}});
  EXPECT_TRUE(BrokerServerCredentials(tokens, "127.0.0.1:0").ok());
  auto server = BrokerServerCredentials(tokens, "0.0.0.0:8001");
  ASSERT_FALSE(server.ok());
  EXPECT_NE(server.status().message().find("plaintext"), std::string::npos);
  auto client = CreateBrokerChannel(tokens, "grpc_gateway_token");
  ASSERT_FALSE(client.ok());
  EXPECT_NE(client.status().message().find("grpc_gateway_token"), std::string::npos);
  EXPECT_EQ(client.status().message().find("g-token"), std::string::npos);  // never the secret
}

TEST(GrpcSecurityTest, TokenRulesAndFileErrors) {
  auto same = BrokerServerCredentials(
      With({{"grpc_backend_token", "x"}, {"grpc_gateway_token", "x"}}), "127.0.0.1:0");
  ASSERT_FALSE(same.ok());
  EXPECT_NE(same.status().message().find("must differ"), std::string::npos);
  EXPECT_FALSE(BrokerServerCredentials(With({{"grpc_backend_token", "a b"}}), "127.0.0.1:0").ok());

  auto half = BrokerServerCredentials(With({{"grpc_tls_cert", "/nonexistent.pem"}}), "127.0.0.1:0");
  ASSERT_FALSE(half.ok());
  EXPECT_NE(half.status().message().find("grpc_tls_key"), std::string::npos);
  auto missing = BrokerServerCredentials(
      With({{"grpc_tls_cert", "/nonexistent.pem"}, {"grpc_tls_key", "/nonexistent.key"}}),
      "127.0.0.1:0");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot read grpc_tls_cert '/nonexistent.pem'"),
            std::string::npos);
  auto client_ca =
      CreateBrokerChannel(With({{"grpc_tls_ca", "/nonexistent-ca.pem"}}), "grpc_backend_token");
  ASSERT_FALSE(client_ca.ok());
  EXPECT_NE(client_ca.status().message().find("grpc_tls_ca"), std::string::npos);
  auto mtls_without_tls =
      BrokerServerCredentials(With({{"grpc_tls_require_client_cert", "true"}}), "127.0.0.1:0");
  EXPECT_FALSE(mtls_without_tls.ok());
}

}  // namespace
}  // namespace channelstream::common
