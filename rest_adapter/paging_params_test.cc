#include "rest_adapter/paging_params.h"

#include <gtest/gtest.h>

#include "rest_adapter/translate.h"

namespace channelstream::rest {
namespace {

TEST(PagingParamsTest, NoParametersNoNextCursorUnlessThereIsMore) {
  FieldErrors errors;
  PagingParams paging;
  ReadPagingQuery({{"secret", "x"}}, errors, &paging);
  ReadPagingBody({{"info", Json::object()}}, errors, &paging);
  EXPECT_TRUE(errors.empty());
  EXPECT_FALSE(paging.given);
  Json answer = {{"channels", Json::object()}};
  AddNextCursor(paging, "", &answer);
  EXPECT_FALSE(answer.contains("next_cursor"));
  AddNextCursor(paging, "u:bob", &answer);
  EXPECT_EQ(answer["next_cursor"], "u:bob");
}

TEST(PagingParamsTest, BodyOverridesQueryAndAnsweredEvenOnTheLastPage) {
  FieldErrors errors;
  PagingParams paging;
  ReadPagingQuery({{"limit", "5"}, {"cursor", "c:a"}}, errors, &paging);
  EXPECT_EQ(paging.limit, 5);
  ReadPagingBody({{"limit", 7}, {"cursor", "u:x"}}, errors, &paging);
  EXPECT_TRUE(errors.empty());
  EXPECT_EQ(paging.limit, 7);
  EXPECT_EQ(paging.cursor, "u:x");
  Json answer = Json::object();
  AddNextCursor(paging, "", &answer);
  EXPECT_EQ(answer["next_cursor"], "");
}

TEST(PagingParamsTest, BadValues) {
  FieldErrors errors;
  PagingParams paging;
  ReadPagingQuery({{"limit", "ten"}}, errors, &paging);
  EXPECT_EQ(errors.json(), Json::parse(R"({"limit": ["Not a valid integer."]})"));
  FieldErrors body_errors;
  ReadPagingBody({{"limit", "3"}, {"cursor", 4}}, body_errors, &paging);
  EXPECT_TRUE(body_errors.json().contains("limit"));
  EXPECT_TRUE(body_errors.json().contains("cursor"));
  // Out of range values reach the broker, which names info_max_page_size.
  PagingParams huge;
  FieldErrors none;
  ReadPagingBody({{"limit", 1LL << 40}}, none, &huge);
  EXPECT_EQ(huge.limit, 2147483647);
  ReadPagingQuery({{"limit", "-9"}}, none, &huge);
  EXPECT_EQ(huge.limit, -1);
  EXPECT_TRUE(none.empty());
}

TEST(PagingParamsTest, TruncatedOnlyWhenCut) {
  v1::ChannelInfo channel;
  channel.set_name("a");
  EXPECT_FALSE(ChannelInfoToJson(channel, false).contains("truncated"));
  channel.set_truncated(true);
  EXPECT_EQ(ChannelInfoToJson(channel, false)["truncated"], true);
}

}  // namespace
}  // namespace channelstream::rest
