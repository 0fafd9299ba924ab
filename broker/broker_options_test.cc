// BrokerOptions takes its defaults from the config key table and nothing else: every field of a
// default-constructed BrokerOptions is the table's default, and every field follows its own key.
#include "broker/broker_options.h"

#include <string>

#include "gtest/gtest.h"

namespace channelstream::broker {
namespace {

double TableDouble(const std::string& key) { return common::Config().GetDouble(key); }
long long TableInt(const std::string& key) { return common::Config().GetInt(key); }

TEST(BrokerOptionsTest, DefaultsAreTheConfigKeyTable) {
  const BrokerOptions options;
  EXPECT_EQ(options.gc_conns_after, absl::Seconds(TableDouble("gc_conns_after")));
  EXPECT_EQ(options.gc_users_after, absl::Seconds(TableDouble("gc_users_after")));
  EXPECT_EQ(options.gc_channels_after, absl::Seconds(TableDouble("gc_channels_after")));
  EXPECT_EQ(options.catchup_max_age, absl::Seconds(TableDouble("catchup_max_age")));
  EXPECT_EQ(options.catchup_frames, TableInt("catchup_frames"));
  EXPECT_EQ(options.max_catchup_bytes, TableInt("max_catchup_bytes"));
  EXPECT_EQ(options.catchup_chunk_bytes, TableInt("catchup_chunk_bytes"));
  EXPECT_EQ(options.max_payload_bytes, TableInt("max_payload_bytes"));
  EXPECT_EQ(options.max_channels_per_connection, TableInt("max_channels_per_connection"));
  EXPECT_EQ(options.max_connections_per_user, TableInt("max_connections_per_user"));
  EXPECT_EQ(options.max_history_size, TableInt("max_history_size"));
  EXPECT_EQ(options.max_json_depth, TableInt("max_json_depth"));
  EXPECT_EQ(options.info_page_size, TableInt("info_page_size"));
  EXPECT_EQ(options.info_max_page_size, TableInt("info_max_page_size"));
  EXPECT_EQ(options.info_page_max_bytes, TableInt("info_page_max_bytes"));
  // The 0.7 values users rely on, as a check that the table itself did not move by accident.
  EXPECT_EQ(options.gc_conns_after, absl::Seconds(30));
  EXPECT_EQ(options.gc_channels_after, absl::Hours(72));
}

TEST(BrokerOptionsTest, EachFieldReadsItsOwnKey) {
  common::Config config;
  const std::string source = "test";
  ASSERT_TRUE(config.Set("gc_conns_after", "31", source).ok());
  ASSERT_TRUE(config.Set("gc_users_after", "32", source).ok());
  ASSERT_TRUE(config.Set("gc_channels_after", "33", source).ok());
  ASSERT_TRUE(config.Set("catchup_max_age", "34", source).ok());
  ASSERT_TRUE(config.Set("catchup_frames", "35", source).ok());
  ASSERT_TRUE(config.Set("max_catchup_bytes", "36", source).ok());
  ASSERT_TRUE(config.Set("catchup_chunk_bytes", "5000", source).ok());
  ASSERT_TRUE(config.Set("max_payload_bytes", "38", source).ok());
  ASSERT_TRUE(config.Set("max_channels_per_connection", "39", source).ok());
  ASSERT_TRUE(config.Set("max_connections_per_user", "40", source).ok());
  ASSERT_TRUE(config.Set("max_history_size", "41", source).ok());
  ASSERT_TRUE(config.Set("max_json_depth", "42", source).ok());
  ASSERT_TRUE(config.Set("info_page_size", "43", source).ok());
  ASSERT_TRUE(config.Set("info_max_page_size", "44", source).ok());
  ASSERT_TRUE(config.Set("info_page_max_bytes", "45", source).ok());
  const BrokerOptions options = BrokerOptions::FromConfig(config);
  EXPECT_EQ(options.gc_conns_after, absl::Seconds(31));
  EXPECT_EQ(options.gc_users_after, absl::Seconds(32));
  EXPECT_EQ(options.gc_channels_after, absl::Seconds(33));
  EXPECT_EQ(options.catchup_max_age, absl::Seconds(34));
  EXPECT_EQ(options.catchup_frames, 35);
  EXPECT_EQ(options.max_catchup_bytes, 36);
  EXPECT_EQ(options.catchup_chunk_bytes, 5000);
  EXPECT_EQ(options.max_payload_bytes, 38);
  EXPECT_EQ(options.max_channels_per_connection, 39);
  EXPECT_EQ(options.max_connections_per_user, 40);
  EXPECT_EQ(options.max_history_size, 41);
  EXPECT_EQ(options.max_json_depth, 42);
  EXPECT_EQ(options.info_page_size, 43);
  EXPECT_EQ(options.info_max_page_size, 44);
  EXPECT_EQ(options.info_page_max_bytes, 45);
}

TEST(BrokerOptionsTest, MessageBudgetsStayBelowTheTransportLimit) {
  common::Config config;
  ASSERT_TRUE(config.Set("grpc_max_message_bytes", "1000000", "test").ok());
  const BrokerOptions options = BrokerOptions::FromConfig(config);
  EXPECT_EQ(options.catchup_chunk_bytes, 250000);
  EXPECT_EQ(options.info_page_max_bytes, 500000);
}

}  // namespace
}  // namespace channelstream::broker
