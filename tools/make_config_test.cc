#include "tools/make_config.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"

namespace channelstream::tools {
namespace {

TEST(MakeConfigTest, EveryKeyWithItsDefaultAndHelp) {
  absl::StatusOr<std::string> ini = RenderIni(common::Config());
  ASSERT_TRUE(ini.ok()) << ini.status();
  for (const common::ConfigKey& key : common::AllConfigKeys()) {
    EXPECT_TRUE(
        absl::StrContains(*ini, std::string("\n") + key.name + " = " + key.default_value + "\n"))
        << key.name;
    EXPECT_TRUE(absl::StrContains(*ini, key.help)) << key.name;
  }
}

TEST(MakeConfigTest, RoundTripsThroughTheIniLoaderWithEnvironmentValues) {
  std::string port = "CHANNELSTREAM_PORT=9123";
  std::string cors = "CHANNELSTREAM_ALLOW_CORS=http://a.example,http://b.example";
  char* envp[] = {port.data(), cors.data(), nullptr};
  common::Config from_env;
  ASSERT_TRUE(from_env.LoadEnvironment(envp).ok());
  absl::StatusOr<std::string> ini = RenderIni(from_env);
  ASSERT_TRUE(ini.ok());
  common::Config loaded;
  ASSERT_TRUE(loaded.LoadIniText(*ini, "generated.ini").ok());
  EXPECT_EQ(loaded.GetInt("port"), 9123);
  EXPECT_EQ(loaded.GetList("allow_cors"),
            (std::vector<std::string>{"http://a.example", "http://b.example"}));
  EXPECT_EQ(loaded.values(), from_env.values());
}

TEST(MakeConfigTest, RefusesValuesAnIniCannotHold) {
  common::Config config;
  ASSERT_TRUE(config.Set("secret", "two\nlines", "test").ok());
  absl::StatusOr<std::string> ini = RenderIni(config);
  ASSERT_FALSE(ini.ok());
  EXPECT_TRUE(absl::StrContains(ini.status().message(), "secret"));
}

}  // namespace
}  // namespace channelstream::tools
