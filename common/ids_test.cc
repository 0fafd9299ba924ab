#include "common/ids.h"

#include <gtest/gtest.h>

#include <set>

namespace channelstream::common {
namespace {

TEST(IdsTest, UuidsAreV4AndDistinct) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    std::string id = NewUuid();
    ASSERT_TRUE(IsUuid(id)) << id;
    EXPECT_EQ(id[14], '4');
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_FALSE(IsUuid("not-a-uuid"));
  EXPECT_FALSE(IsUuid("123e4567-e89b-12d3-a456-42661417400g"));
  EXPECT_TRUE(IsUuid("123E4567-E89B-12D3-A456-426614174000"));
}

TEST(IdsTest, BinaryUuidRoundTripsAndOrdersLikeItsText) {
  std::set<std::string> texts;
  std::set<Uuid> ids;
  for (int i = 0; i < 1000; ++i) {
    Uuid id = Uuid::Random();
    std::string text = id.ToString();
    ASSERT_TRUE(IsUuid(text)) << text;
    EXPECT_EQ(text[14], '4');
    Uuid parsed;
    ASSERT_TRUE(Uuid::Parse(text, &parsed));
    EXPECT_EQ(parsed, id);
    texts.insert(text);
    ids.insert(id);
  }
  ASSERT_EQ(ids.size(), 1000u);
  auto text = texts.begin();
  for (const Uuid& id : ids) EXPECT_EQ(id.ToString(), *text++);

  Uuid upper;
  ASSERT_TRUE(Uuid::Parse("123E4567-E89B-12D3-A456-426614174000", &upper));
  EXPECT_EQ(upper.ToString(), "123e4567-e89b-12d3-a456-426614174000");
  Uuid untouched = upper;
  EXPECT_FALSE(Uuid::Parse("123e4567-e89b-12d3-a456-42661417400g", &untouched));
  EXPECT_FALSE(Uuid::Parse("123e4567e89b-12d3-a456-4266141740000", &untouched));
  EXPECT_FALSE(Uuid::Parse("", &untouched));
  EXPECT_EQ(untouched, upper);
  EXPECT_TRUE(Uuid::FromText("nope").nil());
  EXPECT_EQ(Uuid().ToString(), "00000000-0000-0000-0000-000000000000");
}

TEST(IdsTest, TimestampRoundTrip) {
  absl::Time time = absl::FromUnixMicros(1764044853123456);
  std::string text = FormatTimestamp(time);
  EXPECT_EQ(text, "2025-11-25T04:27:33.123456");
  absl::Time parsed;
  ASSERT_TRUE(ParseTimestamp(text, &parsed));
  EXPECT_EQ(parsed, time);
  EXPECT_TRUE(ParseTimestamp("2025-11-25T04:27:33", &parsed));
  EXPECT_TRUE(ParseTimestamp("2025-11-25T04:27:33.5Z", &parsed));
  EXPECT_FALSE(ParseTimestamp("yesterday", &parsed));
}

}  // namespace
}  // namespace channelstream::common
