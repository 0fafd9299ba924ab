#include <gtest/gtest.h>

#include "rest_adapter/openapi.h"
#include "rest_adapter/translate.h"
#include "rest_adapter/validation.h"

namespace channelstream::rest {
namespace {

TEST(ValidationTest, MarshmallowMessagesPerField) {
  Json body = {
      {"name", 5}, {"flag", "yes"}, {"list", {"a", 3}}, {"short", ""}, {"state", {{"k", {1}}}}};
  FieldErrors errors;
  EXPECT_FALSE(ReadString(body, "name", errors));
  EXPECT_FALSE(ReadString(body, "missing", errors, /*required=*/true));
  EXPECT_FALSE(ReadBool(body, "flag", errors));
  EXPECT_FALSE(ReadStringList(body, "list", errors));
  EXPECT_FALSE(ReadString(body, "short", errors, true, 1, 512));
  EXPECT_FALSE(ReadState(body, "state", errors));
  const Json& json = errors.json();
  EXPECT_EQ(json["name"], Json({"Not a valid string."}));
  EXPECT_EQ(json["missing"], Json({kMissing}));
  EXPECT_EQ(json["flag"], Json({"Not a valid boolean."}));
  EXPECT_TRUE(json.contains("list"));
  EXPECT_EQ(json["short"], Json({LengthMessage(1, 512)}));
  EXPECT_TRUE(json.contains("state"));
}

TEST(ValidationTest, ValidValuesPass) {
  Json body = {{"name", "alice"},
               {"flag", true},
               {"list", {"a", "b"}},
               {"state", {{"s", "x"}, {"n", 1.5}, {"z", nullptr}}}};
  FieldErrors errors;
  EXPECT_EQ(ReadString(body, "name", errors, true, 1, 512), "alice");
  EXPECT_EQ(ReadBool(body, "flag", errors), true);
  EXPECT_EQ(ReadStringList(body, "list", errors), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(ReadState(body, "state", errors).has_value());
  EXPECT_TRUE(errors.empty()) << errors.json();
}

TEST(ValidationTest, NestedErrorsAreNamedByIndex) {
  FieldErrors item;
  item.Add("user", kMissing);
  FieldErrors errors;
  errors.AddNested("0", item);
  EXPECT_EQ(errors.json(), Json::parse(R"({"0": {"user": ["Missing data for required field."]}})"));
}

TEST(TranslateTest, InfoOptionsHave07Defaults) {
  FieldErrors errors;
  v1::InfoOptions info = ReadInfoOptions(Json::object(), errors);
  EXPECT_TRUE(info.include_history());
  EXPECT_TRUE(info.include_users());
  EXPECT_FALSE(info.include_connections());
  EXPECT_FALSE(info.return_public_state());
  EXPECT_EQ(info.exclude_channels_size(), 0);
  info = ReadInfoOptions({{"info", {{"include_history", false}, {"exclude_channels", {"x"}}}}},
                         errors);
  EXPECT_FALSE(info.include_history());
  ASSERT_EQ(info.exclude_channels_size(), 1);
  EXPECT_TRUE(errors.empty()) << errors.json();
}

TEST(TranslateTest, ChannelConfigsAreValidated) {
  FieldErrors errors;
  auto configs = ReadChannelConfigs({{"good", {{"notify_presence", true}, {"history_size", 3}}},
                                     {"bad", {{"history_size", "many"}}}},
                                    errors);
  ASSERT_EQ(configs.count("good"), 1u);
  EXPECT_TRUE(configs["good"].notify_presence());
  EXPECT_EQ(configs["good"].history_size(), 3);
  EXPECT_TRUE(errors.json().contains("bad")) << errors.json();
}

TEST(TranslateTest, UptimeIsPythonTimedelta) {
  EXPECT_EQ(FormatUptime(0), "0:00:00");
  EXPECT_EQ(FormatUptime(3723.5), "1:02:03.500000");
  EXPECT_EQ(FormatUptime(86400 + 60), "1 day, 0:01:00");
  EXPECT_EQ(FormatUptime(2 * 86400), "2 days, 0:00:00");
}

TEST(OpenApiTest, DescribesEveryEndpoint) {
  Json doc = OpenApiDocument("http", "example.test:8000", "1.2.3", /*client_endpoints=*/true);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  EXPECT_EQ(doc["servers"][0]["url"], "http://example.test:8000");
  for (const char* path :
       {"/connect", "/subscribe", "/unsubscribe", "/user_state", "/channel_config", "/info"})
    EXPECT_TRUE(doc["paths"][path].contains("post")) << path;
  for (const char* method : {"post", "patch", "delete"})
    EXPECT_TRUE(doc["paths"]["/message"].contains(method));
  EXPECT_TRUE(doc["paths"].contains("/admin/admin.json"));
  for (const char* path : {"/ws", "/listen", "/disconnect"})
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
  // Every $ref resolves.
  std::function<void(const Json&)> check = [&](const Json& node) {
    if (node.is_object()) {
      auto ref = node.find("$ref");
      if (ref != node.end()) {
        std::string name =
            ref->get<std::string>().substr(std::string("#/components/schemas/").size());
        EXPECT_TRUE(doc["components"]["schemas"].contains(name)) << name;
      }
      for (const auto& [key, child] : node.items()) check(child);
    } else if (node.is_array()) {
      for (const Json& child : node) check(child);
    }
  };
  check(doc);
}

// A split deployment's REST adapter answers /ws, /listen and /disconnect with 404: its document
// must not offer them (the gateways serve them).
TEST(OpenApiTest, LeavesOutClientEndpointsServedByGateways) {
  Json doc = OpenApiDocument("http", "example.test:8000", "1.2.3", /*client_endpoints=*/false);
  for (const char* path : {"/ws", "/listen", "/disconnect"})
    EXPECT_FALSE(doc["paths"].contains(path)) << path;
  for (const char* path : {"/connect", "/message", "/info", "/admin/admin.json"})
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
}

}  // namespace
}  // namespace channelstream::rest
