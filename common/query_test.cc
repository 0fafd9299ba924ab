#include "common/query.h"

#include <gtest/gtest.h>

namespace channelstream::common {
namespace {

TEST(ParseTarget, SplitsPathAndDecodesParameters) {
  RequestTarget target = ParseTarget("/listen?conn_id=ab%2Dcd&callback=cb_1&x=a+b&conn_id=second");
  EXPECT_EQ(target.path, "/listen");
  ASSERT_NE(target.Find("conn_id"), nullptr);
  EXPECT_EQ(*target.Find("conn_id"), "ab-cd");
  EXPECT_EQ(*target.Find("callback"), "cb_1");
  EXPECT_EQ(*target.Find("x"), "a b");
  EXPECT_EQ(target.Find("missing"), nullptr);
}

TEST(ParseTarget, HandlesOddInput) {
  EXPECT_EQ(ParseTarget("/ws").path, "/ws");
  EXPECT_TRUE(ParseTarget("/ws?").params.empty());
  EXPECT_EQ(*ParseTarget("/ws?flag&&k=").Find("flag"), "");
  EXPECT_EQ(PercentDecode("%zz%4", false), "%zz%4");
  EXPECT_EQ(PercentDecode("%41%62", false), "Ab");
}

TEST(CallbackName, AllowsOnlySafeCharacters) {
  EXPECT_TRUE(IsValidCallbackName("jQuery_123.cb$"));
  EXPECT_FALSE(IsValidCallbackName(""));
  EXPECT_FALSE(IsValidCallbackName("alert(1)"));
  EXPECT_FALSE(IsValidCallbackName("a b"));
  EXPECT_FALSE(IsValidCallbackName(std::string(129, 'a')));
}

}  // namespace
}  // namespace channelstream::common
