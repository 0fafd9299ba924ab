// GatewaySettings takes its defaults from the config key table and nothing else: every field of a
// default-constructed GatewaySettings is the table's default, and every field follows its own key.
#include <string>
#include <vector>

#include "gateway/settings.h"
#include "gtest/gtest.h"

namespace channelstream::gateway {
namespace {

double TableDouble(const std::string& key) { return common::Config().GetDouble(key); }
long long TableInt(const std::string& key) { return common::Config().GetInt(key); }

TEST(GatewaySettingsTest, DefaultsAreTheConfigKeyTable) {
  const GatewaySettings settings;
  EXPECT_EQ(settings.heartbeat_interval, TableDouble("heartbeat_interval"));
  EXPECT_EQ(settings.ws_ping_interval, TableDouble("ws_ping_interval"));
  EXPECT_EQ(settings.client_timeout, TableDouble("client_timeout"));
  EXPECT_EQ(settings.wake_connections_after, TableDouble("wake_connections_after"));
  EXPECT_EQ(settings.long_poll_gather, TableDouble("long_poll_gather"));
  EXPECT_EQ(settings.write_delay, TableDouble("write_delay"));
  EXPECT_EQ(settings.broker_reconnect_delay, TableDouble("broker_reconnect_delay"));
  EXPECT_EQ(settings.rpc_timeout, TableDouble("rpc_timeout"));
  EXPECT_EQ(settings.drain_timeout, TableDouble("drain_timeout"));
  EXPECT_EQ(settings.max_queue_bytes, static_cast<size_t>(TableInt("max_queue_bytes")));
  EXPECT_EQ(settings.max_queue_messages, static_cast<size_t>(TableInt("max_queue_messages")));
  EXPECT_EQ(settings.max_client_message_bytes,
            static_cast<size_t>(TableInt("max_client_message_bytes")));
  EXPECT_EQ(settings.max_json_depth, TableInt("max_json_depth"));
  EXPECT_EQ(settings.allowed_origins, common::Config().GetList("allowed_origins"));
  EXPECT_EQ(settings.allow_cors, common::Config().GetList("allow_cors"));
  ASSERT_NE(settings.heartbeat_frame, nullptr);
  ASSERT_NE(settings.ping_frame, nullptr);
  // The documented values, as a check that the table itself did not move by accident.
  EXPECT_EQ(settings.heartbeat_interval, 5);
  EXPECT_EQ(settings.max_queue_bytes, 4u << 20);
}

TEST(GatewaySettingsTest, EachFieldReadsItsOwnKey) {
  common::Config config;
  const std::string source = "test";
  ASSERT_TRUE(config.Set("heartbeat_interval", "1.5", source).ok());
  ASSERT_TRUE(config.Set("ws_ping_interval", "2.5", source).ok());
  ASSERT_TRUE(config.Set("client_timeout", "3.5", source).ok());
  ASSERT_TRUE(config.Set("wake_connections_after", "4.5", source).ok());
  ASSERT_TRUE(config.Set("long_poll_gather", "5.5", source).ok());
  ASSERT_TRUE(config.Set("write_delay", "0.5", source).ok());
  ASSERT_TRUE(config.Set("broker_reconnect_delay", "7.5", source).ok());
  ASSERT_TRUE(config.Set("rpc_timeout", "8.5", source).ok());
  ASSERT_TRUE(config.Set("drain_timeout", "9.5", source).ok());
  ASSERT_TRUE(config.Set("max_queue_bytes", "1001", source).ok());
  ASSERT_TRUE(config.Set("max_queue_messages", "1002", source).ok());
  ASSERT_TRUE(config.Set("max_client_message_bytes", "1003", source).ok());
  ASSERT_TRUE(config.Set("max_json_depth", "17", source).ok());
  ASSERT_TRUE(config.Set("allowed_origins", "https://a.example", source).ok());
  ASSERT_TRUE(config.Set("allow_cors", "https://b.example", source).ok());
  const GatewaySettings settings = GatewaySettings::FromConfig(config);
  EXPECT_EQ(settings.heartbeat_interval, 1.5);
  EXPECT_EQ(settings.ws_ping_interval, 2.5);
  EXPECT_EQ(settings.client_timeout, 3.5);
  EXPECT_EQ(settings.wake_connections_after, 4.5);
  EXPECT_EQ(settings.long_poll_gather, 5.5);
  EXPECT_EQ(settings.write_delay, 0.5);
  EXPECT_EQ(settings.broker_reconnect_delay, 7.5);
  EXPECT_EQ(settings.rpc_timeout, 8.5);
  EXPECT_EQ(settings.drain_timeout, 9.5);
  EXPECT_EQ(settings.max_queue_bytes, 1001u);
  EXPECT_EQ(settings.max_queue_messages, 1002u);
  EXPECT_EQ(settings.max_client_message_bytes, 1003u);
  EXPECT_EQ(settings.max_json_depth, 17);
  EXPECT_EQ(settings.allowed_origins, std::vector<std::string>{"https://a.example"});
  EXPECT_EQ(settings.allow_cors, std::vector<std::string>{"https://b.example"});
}

}  // namespace
}  // namespace channelstream::gateway
