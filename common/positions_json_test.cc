#include "common/positions_json.h"

#include <gtest/gtest.h>

namespace channelstream::common {
namespace {

using Positions = google::protobuf::RepeatedPtrField<v1::Position>;

TEST(PositionsJsonTest, ReadsChannelsAndTheUserStream) {
  Positions positions;
  ASSERT_FALSE(ReadPositionsText(
      R"({"channels": {"room": {"offset": 12, "epoch": "e1"}}, "user": {"offset": 0, "epoch": "e2"}})",
      64, &positions));
  ASSERT_EQ(positions.size(), 2);
  EXPECT_EQ(positions[0].channel(), "room");
  EXPECT_EQ(positions[0].offset(), 12u);
  EXPECT_EQ(positions[0].epoch(), "e1");
  EXPECT_EQ(positions[1].channel(), "");
  EXPECT_EQ(positions[1].epoch(), "e2");
}

TEST(PositionsJsonTest, WritesWhatItReads) {
  const std::string text =
      R"({"channels":{"a b":{"epoch":"e1","offset":3}},"user":{"epoch":"e2","offset":9}})";
  Positions positions;
  ASSERT_FALSE(ReadPositionsText(text, 64, &positions));
  EXPECT_EQ(PositionsToJson(positions).dump(), text);
}

TEST(PositionsJsonTest, ErrorsNameTheField) {
  auto error = [](const std::string& text) {
    Positions positions;
    auto error = ReadPositionsText(text, 64, &positions);
    return error ? error->field + ": " + error->message : std::string("no error");
  };
  EXPECT_EQ(error("nope"), "since: Not valid JSON.");
  EXPECT_EQ(error("[1]"), "since: Not a valid mapping type.");
  EXPECT_EQ(error(R"({"chanels": {}})"), "since.chanels: Unknown field (expected channels, user).");
  EXPECT_EQ(error(R"({"channels": {"a": {"offset": -1, "epoch": "e"}}})"),
            "since.channels.a.offset: Not a valid non-negative integer.");
  EXPECT_EQ(error(R"({"channels": {"a": {"offset": 1}}})"),
            "since.channels.a.epoch: Not a valid string.");
  EXPECT_EQ(error(R"({"user": 3})"),
            "since.user: Not a valid position ({\"offset\": n, \"epoch\": \"...\"}).");
  EXPECT_EQ(error(R"({"channels": {"a": [[[[1]]]]}})").substr(0, 16), "since.channels.a");
  Positions positions;
  EXPECT_TRUE(ReadPositionsText(R"({"channels": {"a": [[[[1]]]]}})", 3, &positions));
  EXPECT_FALSE(ReadPositions(nlohmann::json(), &positions)) << "null: nothing presented";
}

}  // namespace
}  // namespace channelstream::common
