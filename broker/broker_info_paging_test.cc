// Info and AdminInfo pages: limits, cursors, the byte budget, and oversize channels.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "broker/broker_state_test_util.h"

namespace channelstream::broker {
namespace {

class InfoPagingTest : public BrokerStateTestBase {
 protected:
  v1::InfoResponse FetchInfo(int32_t limit, const std::string& cursor, bool include_users = true) {
    v1::InfoRequest request;
    request.mutable_info()->set_include_users(include_users);
    request.set_limit(limit);
    request.set_cursor(cursor);
    v1::InfoResponse response;
    absl::Status status = state->Info(request, &response);
    EXPECT_TRUE(status.ok()) << status;
    return response;
  }

  v1::AdminInfoResponse FetchAdmin(int32_t limit, const std::string& cursor) {
    v1::AdminInfoRequest request;
    request.set_limit(limit);
    request.set_cursor(cursor);
    v1::AdminInfoResponse response;
    absl::Status status = state->AdminInfo(request, now, &response);
    EXPECT_TRUE(status.ok()) << status;
    return response;
  }

  // Walks every Info page; returns the channel and user names in the order seen.
  void CollectInfo(int32_t limit, std::vector<std::string>* channels,
                   std::vector<std::string>* users, int* pages) {
    std::string cursor;
    *pages = 0;
    do {
      v1::InfoResponse page = FetchInfo(limit, cursor);
      ++*pages;
      std::set<std::string> sorted;  // a protobuf map has no order
      for (const auto& [name, info] : page.channels_info().channels()) sorted.insert(name);
      channels->insert(channels->end(), sorted.begin(), sorted.end());
      for (const v1::UserInfo& user : page.channels_info().users()) users->push_back(user.user());
      cursor = page.next_cursor();
      ASSERT_LT(*pages, 10000) << "paging does not end";
    } while (!cursor.empty());
  }

  void CollectAdmin(int32_t limit, std::vector<std::string>* channels,
                    std::vector<std::string>* users, int* pages) {
    std::string cursor;
    *pages = 0;
    do {
      v1::AdminInfoResponse page = FetchAdmin(limit, cursor);
      ++*pages;
      for (const v1::ChannelInfo& channel : page.channels()) channels->push_back(channel.name());
      for (const v1::AdminUser& user : page.users()) users->push_back(user.user());
      cursor = page.next_cursor();
      ASSERT_LT(*pages, 10000) << "paging does not end";
    } while (!cursor.empty());
  }

  static std::vector<std::string> Names(const std::string& prefix, int count) {
    std::vector<std::string> names;
    for (int i = 0; i < count; ++i) names.push_back(absl::StrCat(prefix, 100 + i));
    return names;
  }
};

TEST_F(InfoPagingTest, EmptyStateIsOneEmptyLastPage) {
  v1::InfoResponse info = FetchInfo(0, "");
  EXPECT_TRUE(info.channels_info().channels().empty());
  EXPECT_TRUE(info.channels_info().users().empty());
  EXPECT_EQ(info.next_cursor(), "");
  v1::AdminInfoResponse admin = FetchAdmin(0, "");
  EXPECT_EQ(admin.channels_size(), 0);
  EXPECT_EQ(admin.users_size(), 0);
  EXPECT_EQ(admin.next_cursor(), "");
  EXPECT_EQ(admin.version(), "0.8.0");
}

TEST_F(InfoPagingTest, ExactMultipleOfThePageSizeHasNoTrailingEmptyPage) {
  for (const std::string& channel : Names("ch", 4)) Connect("alice", {channel});
  v1::InfoResponse first = FetchInfo(2, "", /*include_users=*/false);
  EXPECT_EQ(first.channels_info().channels().size(), 2u);
  EXPECT_EQ(first.next_cursor(), "c:ch101");
  v1::InfoResponse second = FetchInfo(2, first.next_cursor(), false);
  EXPECT_EQ(second.channels_info().channels().size(), 2u);
  EXPECT_EQ(second.channels_info().channels().count("ch103"), 1u);
  EXPECT_EQ(second.next_cursor(), "");

  // 4 channels + 2 users with limit 3: two full pages, the second ending the listing.
  Connect("bob", {"ch100"});
  v1::AdminInfoResponse admin_first = FetchAdmin(3, "");
  EXPECT_EQ(admin_first.channels_size(), 3);
  EXPECT_EQ(admin_first.next_cursor(), "c:ch102");
  v1::AdminInfoResponse admin_second = FetchAdmin(3, admin_first.next_cursor());
  ASSERT_EQ(admin_second.channels_size(), 1);
  ASSERT_EQ(admin_second.users_size(), 2);
  EXPECT_EQ(admin_second.users(1).user(), "bob");
  EXPECT_EQ(admin_second.next_cursor(), "");
  EXPECT_EQ(admin_second.remembered_user_count(), 2);  // counts come with every page
}

TEST_F(InfoPagingTest, EveryChannelAndUserComesExactlyOnce) {
  const std::vector<std::string> users = Names("user", 23);
  const std::vector<std::string> channels = Names("ch", 7);
  for (size_t i = 0; i < users.size(); ++i) Connect(users[i], {channels[i % channels.size()]});
  Connect("idle", {});  // in no channel: AdminInfo lists it, Info does not
  for (int32_t limit : {1, 2, 5, 30, 31, 1000}) {
    SCOPED_TRACE(limit);
    std::vector<std::string> seen_channels, seen_users;
    int pages = 0;
    CollectInfo(limit, &seen_channels, &seen_users, &pages);
    EXPECT_EQ(seen_channels, channels);
    EXPECT_EQ(seen_users, users);
    EXPECT_EQ(pages, (30 + limit - 1) / limit);

    std::vector<std::string> admin_channels, admin_users;
    CollectAdmin(limit, &admin_channels, &admin_users, &pages);
    EXPECT_EQ(admin_channels, channels);
    std::vector<std::string> all_users = users;
    all_users.insert(all_users.begin(), "idle");
    EXPECT_EQ(admin_users, all_users);
  }
}

TEST_F(InfoPagingTest, NoLimitMeansInfoPageSize) {
  options.info_page_size = 4;
  Reset();
  for (const std::string& user : Names("user", 6)) Connect(user, {"lobby"});
  v1::InfoResponse page = FetchInfo(0, "");
  EXPECT_EQ(page.channels_info().channels().size(), 1u);
  EXPECT_EQ(page.channels_info().users_size(), 3);
  EXPECT_EQ(page.next_cursor(), "u:user102");
}

TEST_F(InfoPagingTest, CursorsPastTheEndOrAtUsersFromTheStart) {
  for (const std::string& user : Names("user", 3)) Connect(user, {"lobby"});
  v1::InfoResponse past_users = FetchInfo(10, "u:zzz");
  EXPECT_TRUE(past_users.channels_info().channels().empty());
  EXPECT_TRUE(past_users.channels_info().users().empty());
  EXPECT_EQ(past_users.next_cursor(), "");
  // Past the last channel: the users follow.
  v1::InfoResponse past_channels = FetchInfo(10, "c:zzz");
  EXPECT_TRUE(past_channels.channels_info().channels().empty());
  EXPECT_EQ(past_channels.channels_info().users_size(), 3);
  // "u:" starts at the first user (the admin panel's users table).
  v1::AdminInfoResponse users = FetchAdmin(2, "u:");
  EXPECT_EQ(users.channels_size(), 0);
  ASSERT_EQ(users.users_size(), 2);
  EXPECT_EQ(users.users(0).user(), "user100");
  EXPECT_EQ(users.next_cursor(), "u:user101");
  // A cursor naming an entry that is gone still works: the page starts after that name.
  v1::AdminInfoResponse after_gone = FetchAdmin(10, "u:user100x");
  ASSERT_EQ(after_gone.users_size(), 2);
  EXPECT_EQ(after_gone.users(0).user(), "user101");
}

TEST_F(InfoPagingTest, NamedChannelsPageAndExcludedOnesAreSkipped) {
  for (const std::string& channel : Names("ch", 5)) Connect(channel + "-user", {channel});
  v1::InfoRequest request;
  for (const char* name : {"ch104", "ch100", "nope", "ch102", "ch101"})
    request.mutable_channels()->add_values(name);
  request.mutable_info()->add_exclude_channels("ch101");
  request.mutable_info()->set_include_users(true);
  request.set_limit(2);
  v1::InfoResponse first;
  ASSERT_TRUE(state->Info(request, &first).ok());
  EXPECT_EQ(first.channels_info().channels().size(), 2u);
  EXPECT_EQ(first.channels_info().channels().count("ch102"), 1u);
  EXPECT_EQ(first.next_cursor(), "c:ch102");
  request.set_cursor(first.next_cursor());
  v1::InfoResponse second;
  ASSERT_TRUE(state->Info(request, &second).ok());
  EXPECT_EQ(second.channels_info().channels().size(), 1u);
  ASSERT_EQ(second.channels_info().users_size(), 1);
  EXPECT_EQ(second.channels_info().users(0).user(), "ch100-user");
  EXPECT_EQ(second.next_cursor(), "u:ch100-user");
  request.set_cursor(second.next_cursor());
  v1::InfoResponse third;
  ASSERT_TRUE(state->Info(request, &third).ok());
  ASSERT_EQ(third.channels_info().users_size(), 2);
  EXPECT_EQ(third.channels_info().users(1).user(), "ch104-user");
  EXPECT_EQ(third.next_cursor(), "");
}

TEST_F(InfoPagingTest, LimitAndCursorAreValidated) {
  options.info_max_page_size = 50;
  Reset();
  for (int32_t limit : {-1, 51}) {
    v1::InfoRequest info;
    info.set_limit(limit);
    v1::InfoResponse info_response;
    absl::Status status = state->Info(info, &info_response);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), "limit: Must be between 0 and 50 (info_max_page_size).");
    v1::AdminInfoRequest admin;
    admin.set_limit(limit);
    v1::AdminInfoResponse admin_response;
    EXPECT_EQ(state->AdminInfo(admin, now, &admin_response).code(),
              absl::StatusCode::kInvalidArgument);
  }
  v1::InfoRequest at_max;
  at_max.set_limit(50);
  v1::InfoResponse response;
  EXPECT_TRUE(state->Info(at_max, &response).ok());

  v1::AdminInfoRequest bad_cursor;
  bad_cursor.set_cursor("ch1");
  v1::AdminInfoResponse admin_response;
  absl::Status status = state->AdminInfo(bad_cursor, now, &admin_response);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(), "cursor: ")) << status;
}

TEST_F(InfoPagingTest, ByteBudgetEndsAPageEarly) {
  options.info_page_max_bytes = 4000;
  Reset();
  const std::vector<std::string> users = Names("user", 20);
  const std::string state_json = absl::StrCat(R"({"bio":")", std::string(900, 'x'), R"("})");
  for (const std::string& user : users) {
    v1::ConnectRequest request;
    request.set_username(user);
    request.add_channels("lobby");
    request.set_user_state_json(state_json);
    v1::ConnectResponse response;
    ASSERT_TRUE(state->Connect(request, now, &response, &out).ok());
  }
  std::vector<std::string> seen_users;
  std::string cursor;
  int pages = 0;
  do {
    v1::AdminInfoResponse page = FetchAdmin(1000, cursor);
    ++pages;
    EXPECT_LE(page.ByteSizeLong(), 4000u + 200u);  // entries within the budget, plus the counts
    for (const v1::AdminUser& user : page.users()) {
      EXPECT_FALSE(user.truncated());
      seen_users.push_back(user.user());
    }
    cursor = page.next_cursor();
    ASSERT_LT(pages, 100);
  } while (!cursor.empty());
  EXPECT_EQ(seen_users, users);
  EXPECT_GE(pages, 5);  // ~1 KiB per user: at most 3 per page

  std::vector<std::string> info_channels, info_users;
  CollectInfo(1000, &info_channels, &info_users, &pages);
  EXPECT_EQ(info_users, users);
  EXPECT_GE(pages, 5);
}

TEST_F(InfoPagingTest, AChannelLargerThanTheBudgetStartsAPageAndIsCut) {
  options.info_page_max_bytes = 10000;
  Reset();
  v1::ChannelConfig config;
  config.set_store_history(true);
  config.set_history_size(100);
  Configure("big", config);
  Configure("small", config);
  Connect("alice", {"big", "small"});
  for (int i = 0; i < 30; ++i)
    ASSERT_TRUE(Publish("big", "alice",
                        absl::StrCat(R"({"n":)", i, R"(,"pad":")", std::string(1000, 'p'), R"("})"))
                    .ok());
  ASSERT_TRUE(Publish("small", "alice", R"({"n":0})").ok());

  v1::AdminInfoResponse first = FetchAdmin(10, "");
  ASSERT_GE(first.channels_size(), 1);
  const v1::ChannelInfo& big = first.channels(0);
  EXPECT_EQ(big.name(), "big");
  EXPECT_TRUE(big.truncated());
  EXPECT_LE(big.ByteSizeLong(), 10000u);
  ASSERT_GT(big.history_json_size(), 3);
  EXPECT_LT(big.history_json_size(), 30);
  // The newest messages are kept, oldest first.
  EXPECT_EQ(Json::parse(big.history_json(big.history_json_size() - 1))["message"]["n"], 29);
  EXPECT_EQ(big.users_size(), 1);

  // What the cut left of the budget may hold more; the rest follows on later pages.
  std::vector<std::string> channels, users;
  int pages = 0;
  CollectAdmin(10, &channels, &users, &pages);
  EXPECT_EQ(channels, (std::vector<std::string>{"big", "small"}));
  EXPECT_EQ(users, std::vector<std::string>{"alice"});

  // Listed second, it would not fit beside another entry: it starts the next page.
  v1::AdminInfoResponse after_a = FetchAdmin(10, "c:a");
  ASSERT_GE(after_a.channels_size(), 1);  // "a" does not exist: big is first again
  EXPECT_EQ(after_a.channels(0).name(), "big");
  Configure("a", config);
  // Larger than what a cut leaves over (less than one history entry of "big").
  ASSERT_TRUE(
      Publish("a", "alice", absl::StrCat(R"({"pad":")", std::string(2000, 'a'), R"("})")).ok());
  v1::AdminInfoResponse a_first = FetchAdmin(10, "");
  ASSERT_EQ(a_first.channels_size(), 1);
  EXPECT_EQ(a_first.channels(0).name(), "a");
  EXPECT_EQ(a_first.next_cursor(), "c:a");

  v1::InfoRequest info;
  info.mutable_info()->set_include_history(true);
  info.set_cursor("c:a");
  v1::InfoResponse info_response;
  ASSERT_TRUE(state->Info(info, &info_response).ok());
  ASSERT_GE(info_response.channels_info().channels().size(), 1u);
  EXPECT_TRUE(info_response.channels_info().channels().at("big").truncated());
}

}  // namespace
}  // namespace channelstream::broker

namespace channelstream::broker {
namespace {

class ConnectAnswerBoundsTest : public BrokerStateTestBase {};

TEST_F(ConnectAnswerBoundsTest, ChannelsInfoOfConnectStaysWithinThePageBudget) {
  options.info_page_max_bytes = 20000;
  options.max_history_size = 1000;
  Reset();
  v1::ChannelConfig config;
  config.set_store_history(true);
  config.set_history_size(1000);
  Configure("big", config);
  const std::string payload = "\"" + std::string(1000, 'x') + "\"";
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(Publish("big", "bob", payload).ok());
  v1::ConnectRequest request;
  request.set_username("alice");
  request.add_channels("big");
  request.mutable_info()->set_include_history(true);
  request.mutable_info()->set_include_users(true);
  v1::ConnectResponse response;
  ASSERT_TRUE(state->Connect(request, now, &response, &out).ok());
  const v1::ChannelInfo& big = response.channels_info().channels().at("big");
  EXPECT_TRUE(big.truncated());
  EXPECT_GT(big.history_json_size(), 0);
  EXPECT_LT(big.history_json_size(), 100);
  EXPECT_LE(response.channels_info().ByteSizeLong(), 20000u + 200u);
  // The newest history is what stays.
  EXPECT_EQ(Json::parse(big.history_json(big.history_json_size() - 1))["offset"], 100);
}

}  // namespace
}  // namespace channelstream::broker
