#include "common/config.h"

#include <gtest/gtest.h>

namespace channelstream::common {
namespace {

TEST(ConfigTest, DefaultsMatchChannelstream07) {
  Config config;
  EXPECT_EQ(config.GetInt("port"), 8000);
  EXPECT_EQ(config.GetString("secret"), "secret");
  EXPECT_EQ(config.GetString("admin_user"), "admin");
  EXPECT_TRUE(config.GetBool("validate_requests"));
  EXPECT_TRUE(config.GetBool("require_path_signature"));
  EXPECT_EQ(config.GetList("allow_posting_from"), std::vector<std::string>{"127.0.0.1"});
  EXPECT_TRUE(config.GetList("allow_cors").empty());
  EXPECT_DOUBLE_EQ(config.GetDouble("wake_connections_after"), 5);
}

TEST(ConfigTest, IniSectionAndLists) {
  Config config;
  ASSERT_TRUE(config
                  .LoadIniText("[app:main]\nuse = egg:x\n[channelstream]\nport = 9000\n"
                               "allow_posting_from = 127.0.0.1, 10.0.0.0/8\n; comment\n",
                               "t.ini")
                  .ok());
  EXPECT_EQ(config.GetInt("port"), 9000);
  EXPECT_EQ(config.GetList("allow_posting_from"),
            (std::vector<std::string>{"127.0.0.1", "10.0.0.0/8"}));
}

TEST(ConfigTest, UnknownKeyAndBadValuesAreNamed) {
  Config config;
  absl::Status status = config.LoadIniText("[channelstream]\nprot = 1\n", "t.ini");
  EXPECT_FALSE(status.ok());
  EXPECT_NE(status.message().find("t.ini:2: unknown key 'prot'"), std::string::npos);
  status = config.Set("port", "eighty", "--port");
  EXPECT_NE(status.message().find("'port' must be an integer"), std::string::npos);
  status = config.Set("port", "70000", "--port");
  EXPECT_NE(status.message().find("'port' must be 0-65535, got '70000'"), std::string::npos);
  EXPECT_TRUE(config.Set("port", "65535", "--port").ok());
  EXPECT_FALSE(config.Set("validate_requests", "maybe", "x").ok());
  EXPECT_FALSE(config.Set("log_level", "LOUD", "x").ok());
  status = config.Set("write_delay", "5", "--write_delay");
  EXPECT_NE(status.message().find("'write_delay' must be 0-1 seconds"), std::string::npos);
  EXPECT_TRUE(config.Set("write_delay", "0", "x").ok());
  EXPECT_TRUE(config.Set("write_delay", "1", "x").ok());
  EXPECT_FALSE(config.Set("heartbeat_interval", "-1", "x").ok());
  EXPECT_FALSE(config.LoadIniText("port = 1\n", "nosection.ini").ok());
}

TEST(ConfigTest, AddressPortsAreRangeChecked) {
  Config config;
  // 99999 used to reach gRPC, which bound port 34463 (99999 - 65536).
  absl::Status status = config.Set("broker_listen", "127.0.0.1:99999", "--broker_listen");
  EXPECT_NE(
      status.message().find(
          "--broker_listen: 'broker_listen' must be host:port (port 0-65535, 0: any free port), "
          "got '127.0.0.1:99999'"),
      std::string::npos)
      << status;
  EXPECT_TRUE(config.Set("broker_listen", "127.0.0.1:0", "x").ok());  // any free port
  EXPECT_TRUE(config.Set("broker_listen", "0.0.0.0:65535", "x").ok());
  EXPECT_TRUE(config.Set("broker_listen", "[::1]:8001", "x").ok());
  EXPECT_TRUE(config.Set("broker_listen", "unix:/run/channelstream/broker.sock", "x").ok());
  EXPECT_FALSE(config.Set("broker_listen", "127.0.0.1:-1", "x").ok());
  EXPECT_FALSE(config.Set("broker_listen", "127.0.0.1:", "x").ok());
  EXPECT_FALSE(config.Set("broker_listen", "127.0.0.1", "x").ok());
  EXPECT_FALSE(config.Set("broker_listen", "127.0.0.1:80a", "x").ok());
  EXPECT_FALSE(config.Set("broker_listen", "", "x").ok());
  status = config.Set("broker_listen", "::1:8001", "x");
  EXPECT_NE(status.message().find("in brackets"), std::string::npos) << status;

  // Connecting to port 0 means nothing: 1-65535.
  status = config.Set("broker_address", "127.0.0.1:0", "--broker_address");
  EXPECT_NE(
      status.message().find("'broker_address' must be host:port (port 1-65535), got '127.0.0.1:0'"),
      std::string::npos)
      << status;
  EXPECT_FALSE(config.Set("broker_address", "broker.internal:70000", "x").ok());
  EXPECT_FALSE(config.Set("broker_address", "dns:///broker.internal:99999", "x").ok());
  EXPECT_FALSE(config.Set("broker_address", "ipv4:10.0.0.1:8001,10.0.0.2:0", "x").ok());
  EXPECT_TRUE(config.Set("broker_address", "broker.internal:8001", "x").ok());
  EXPECT_TRUE(config.Set("broker_address", "dns:///broker.internal:8001", "x").ok());
  EXPECT_TRUE(config.Set("broker_address", "dns://10.0.0.53:53/broker.internal:8001", "x").ok());
  EXPECT_TRUE(config.Set("broker_address", "ipv4:10.0.0.1:8001,10.0.0.2:8001", "x").ok());
  EXPECT_TRUE(config.Set("broker_address", "unix:/run/channelstream/broker.sock", "x").ok());

  // Empty is "none" for metrics_listen (its default).
  EXPECT_TRUE(config.Set("metrics_listen", "", "x").ok());
  EXPECT_TRUE(config.Set("metrics_listen", "127.0.0.1:0", "x").ok());
  EXPECT_FALSE(config.Set("metrics_listen", "127.0.0.1:65536", "x").ok());

  status = config.Set("port", "99999", "--port");
  EXPECT_NE(status.message().find("'port' must be 0-65535, got '99999'"), std::string::npos)
      << status;
}

TEST(ConfigTest, DrainTimeout) {
  Config config;
  EXPECT_DOUBLE_EQ(config.GetDouble("drain_timeout"), 5);
  EXPECT_TRUE(config.Set("drain_timeout", "0", "x").ok());
  EXPECT_FALSE(config.Set("drain_timeout", "-1", "x").ok());
  EXPECT_FALSE(config.Set("drain_timeout", "86400", "x").ok());
}

TEST(ConfigTest, CommandLineOverEnvironmentOverIni) {
  char arg0[] = "channelstream", arg1[] = "--port", arg2[] = "9100", arg3[] = "--log-level=DEBUG";
  char* argv[] = {arg0, arg1, arg2, arg3};
  char env0[] = "CHANNELSTREAM_PORT=9200", env1[] = "CHANNELSTREAM_SECRET=abc",
       env2[] = "PATH=/bin";
  char* envp[] = {env0, env1, env2, nullptr};
  absl::StatusOr<Config> config = ParseCommandLine(4, argv, envp, "channelstream");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->GetInt("port"), 9100);
  EXPECT_EQ(config->GetString("secret"), "abc");
  EXPECT_EQ(config->GetString("log_level"), "DEBUG");
}

TEST(ConfigTest, CommandLineErrors) {
  char arg0[] = "x", arg1[] = "--nope", arg2[] = "1";
  char* argv[] = {arg0, arg1, arg2};
  EXPECT_FALSE(ParseCommandLine(3, argv, nullptr, "x").ok());
  char missing[] = "--port";
  char* argv2[] = {arg0, missing};
  EXPECT_FALSE(ParseCommandLine(2, argv2, nullptr, "x").ok());
  char dash_i[] = "-i", nofile[] = "/nonexistent/config.ini";
  char* argv3[] = {arg0, dash_i, nofile};
  EXPECT_FALSE(ParseCommandLine(3, argv3, nullptr, "x").ok());
  char bad_env[] = "CHANNELSTREAM_PORT=abc";
  char* envp[] = {bad_env, nullptr};
  char* argv4[] = {arg0};
  EXPECT_FALSE(ParseCommandLine(1, argv4, envp, "x").ok());
}

}  // namespace
}  // namespace channelstream::common
