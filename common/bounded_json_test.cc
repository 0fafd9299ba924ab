#include "common/bounded_json.h"

#include <string>

#include "gtest/gtest.h"

namespace channelstream::common {
namespace {

std::string Nested(int depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(BoundedJsonTest, ParsesOrdinaryJson) {
  BoundedJsonResult result = ParseBoundedJson(R"({"a": [1, 2.5, "x", true, null, {"b": {}}]})", 64);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.value["a"][5]["b"], nlohmann::json::object());
  EXPECT_EQ(result.value["a"][1], 2.5);
}

TEST(BoundedJsonTest, DepthAtTheLimitIsAcceptedOneMoreIsRefused) {
  EXPECT_TRUE(ParseBoundedJson(Nested(64), 64).ok());
  BoundedJsonResult deeper = ParseBoundedJson(Nested(65), 64);
  EXPECT_EQ(deeper.error, BoundedJsonResult::Error::kTooDeep);
  EXPECT_TRUE(deeper.value.is_discarded());
  EXPECT_TRUE(
      ParseBoundedJson(Nested(3, '{', '}').replace(1, 0, "\"a\":").replace(6, 0, "\"b\":"), 3)
          .ok());
}

TEST(BoundedJsonTest, HundredThousandLevelsAreRefusedWithoutRecursion) {
  // The input that crashed the server (SIGSEGV in dump/copy) before depth was bounded.
  BoundedJsonResult result = ParseBoundedJson(Nested(100000), 64);
  EXPECT_EQ(result.error, BoundedJsonResult::Error::kTooDeep);
  BoundedJsonResult objects = ParseBoundedJson(
      [] {
        std::string text;
        for (int i = 0; i < 100000; ++i) text += "{\"k\":";
        return text + "1" + std::string(100000, '}');
      }(),
      64);
  EXPECT_EQ(objects.error, BoundedJsonResult::Error::kTooDeep);
}

TEST(BoundedJsonTest, PathNamesKeysAndIndicesWhereTheLimitWasCrossed) {
  BoundedJsonResult result =
      ParseBoundedJson(R"([{"channel": "a"}, {"channel": "b", "message": {"x": [[[1]]]}}])", 4);
  ASSERT_EQ(result.error, BoundedJsonResult::Error::kTooDeep);
  EXPECT_EQ(result.path, (std::vector<std::string>{"1", "message", "x"}));
  EXPECT_TRUE(ParseBoundedJson("[[[[[1]]]]]", 4).path.empty());
  EXPECT_EQ(ParseBoundedJson(R"([{"a": [[[[1]]]]}])", 4).path,
            (std::vector<std::string>{"0", "a"}));
}

TEST(BoundedJsonTest, SyntaxErrorsAreInvalidNotTooDeep) {
  for (const char* text : {"", "{", "[1,]", "{\"a\" 1}", "tru", "[1] x", "// c\n1", "\"\\u12\""}) {
    BoundedJsonResult result = ParseBoundedJson(text, 64);
    EXPECT_EQ(result.error, BoundedJsonResult::Error::kInvalid) << text;
    EXPECT_TRUE(result.value.is_discarded()) << text;
  }
}

TEST(BoundedJsonTest, UnterminatedDeepInputIsInvalidOrTooDeepButNeverCrashes) {
  EXPECT_EQ(ParseBoundedJson(std::string(1000000, '['), 64).error,
            BoundedJsonResult::Error::kTooDeep);
  EXPECT_EQ(ParseBoundedJson(std::string(10, '['), 64).error, BoundedJsonResult::Error::kInvalid);
}

TEST(BoundedJsonTest, MessageNamesTheConfigKey) {
  EXPECT_EQ(TooDeepMessage(64), "Nested deeper than 64 levels (max_json_depth).");
}

}  // namespace
}  // namespace channelstream::common
