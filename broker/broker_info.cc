// Read-only views: channels_info for connect/subscribe/info, and the admin summary. Info and
// AdminInfo answer in pages (see InfoRequest in the proto and broker/info_page.h).
#include <algorithm>
#include <limits>
#include <set>

#include "broker/broker_state.h"
#include "broker/info_page.h"
#include "common/ids.h"

namespace channelstream::broker {
namespace {

constexpr size_t kUnbounded = std::numeric_limits<size_t>::max();
constexpr size_t kConnIdTextBytes = 36;
// A map entry of ChannelsInfo.channels wraps the key and the value: two more tags and lengths.
constexpr size_t kMapEntryOverheadBytes = 3 * kEntryOverheadBytes;

// Counts the bytes of list entries added to one message, refusing those past `max_bytes`.
class ListBudget {
 public:
  ListBudget(size_t used, size_t max_bytes) : used_(used), max_bytes_(max_bytes) {}
  bool Take(size_t entry_bytes) {
    const size_t cost = entry_bytes + kEntryOverheadBytes;
    if (cut_ || cost > max_bytes_ || used_ > max_bytes_ - cost) {
      cut_ = true;
      return false;
    }
    used_ += cost;
    return true;
  }
  bool cut() const { return cut_; }

 private:
  size_t used_;
  size_t max_bytes_;
  bool cut_ = false;
};

}  // namespace

void BrokerState::FillChannelInfo(const ChannelRecord& channel, bool include_history,
                                  bool include_users, bool include_connections,
                                  v1::ChannelInfo* info, size_t max_bytes) const {
  info->set_uuid(channel.uuid);
  info->set_name(channel.name);
  info->set_long_name(channel.long_name);
  *info->mutable_settings() = channel.settings;
  info->set_last_active(common::FormatTimestamp(channel.last_active));
  info->set_offset(channel.seq);
  info->set_epoch(channel.epoch);
  info->set_total_connections(static_cast<int32_t>(channel.conn_ids.size()));
  info->set_total_users(static_cast<int32_t>(channel.user_connections.size()));
  // Past max_bytes the lists are cut: users and connections keep their first entries, history
  // its newest (what a reader most likely wants).
  ListBudget budget(max_bytes == kUnbounded ? 0 : info->ByteSizeLong(), max_bytes);
  if (include_users) {
    for (const auto& [user, count] : channel.user_connections) {
      if (!budget.Take(user.size())) break;
      info->add_users(user);
    }
  }
  if (include_connections) {
    for (const common::Uuid& conn_id : channel.conn_ids) {
      if (!budget.Take(kConnIdTextBytes)) break;
      info->add_connections(conn_id.ToString());
    }
  }
  if (include_history) {
    std::vector<std::string> newest_first;
    for (auto message = channel.history.rbegin(); message != channel.history.rend(); ++message) {
      std::string text = DumpJson(*message);
      if (!budget.Take(text.size())) break;
      newest_first.push_back(std::move(text));
    }
    for (auto text = newest_first.rbegin(); text != newest_first.rend(); ++text)
      info->add_history_json(std::move(*text));
  }
  if (budget.cut()) info->set_truncated(true);
}

void BrokerState::FillChannelsInfo(const std::vector<std::string>& names,
                                   const v1::InfoOptions& options, v1::ChannelsInfo* info) const {
  const std::set<std::string> excluded(options.exclude_channels().begin(),
                                       options.exclude_channels().end());
  // Connect, Subscribe, Unsubscribe and ChannelConfig answer with these: one answer stays within
  // info_page_max_bytes (far below the transport's limit). Channels cut to fit say `truncated`;
  // users past the budget are left out (Info pages through all of them).
  const size_t budget = static_cast<size_t>(options_.info_page_max_bytes);
  size_t used = 0;
  std::set<std::string> users;
  for (const std::string& name : names) {
    if (excluded.count(name) != 0) continue;
    auto it = channels_.find(name);
    if (it == channels_.end()) continue;
    v1::ChannelInfo& channel = (*info->mutable_channels())[name];
    // Every channel keeps at least its summary, however many there are.
    FillChannelInfo(it->second, options.include_history(), options.include_users(),
                    options.include_connections(), &channel, used < budget ? budget - used : 0);
    used += channel.ByteSizeLong() + kMapEntryOverheadBytes + name.size();
    if (options.include_users()) {
      for (const auto& [user, count] : it->second.user_connections) users.insert(user);
    }
  }
  for (const std::string& name : users) {
    auto user = users_.find(name);
    if (user == users_.end()) continue;
    v1::UserInfo* entry = info->add_users();
    FillUserInfo(user->second, options.return_public_state(), entry);
    used += entry->ByteSizeLong() + kEntryOverheadBytes;
    if (used > budget) {
      info->mutable_users()->RemoveLast();
      break;
    }
  }
}

void BrokerState::FillUserInfo(const UserRecord& user, bool public_state,
                               v1::UserInfo* info) const {
  info->set_user(user.name);
  info->set_state_json(DumpJson(public_state ? user.PublicState() : user.state()));
}

bool BrokerState::InSelectedChannel(const UserRecord& user,
                                    const ChannelSelection& selection) const {
  for (const common::Uuid& conn_id : user.conn_ids) {
    auto conn = connections_.find(conn_id);
    if (conn == connections_.end()) continue;
    for (const auto& [name, seen] : conn->second.channels)
      if (selection.Contains(name)) return true;
  }
  return false;
}

bool BrokerState::ChannelSelection::Contains(const std::string& name) const {
  if (excluded.count(name) != 0) return false;
  return all || named.count(name) != 0;
}

absl::Status BrokerState::Info(const v1::InfoRequest& request, v1::InfoResponse* response) const {
  absl::StatusOr<InfoPage> page = InfoPage::Start(request.limit(), options_);
  if (!page.ok()) return page.status();
  absl::StatusOr<PageCursor> cursor = PageCursor::Parse(request.cursor());
  if (!cursor.ok()) return cursor.status();
  const v1::InfoOptions& options = request.info();
  ChannelSelection selection;
  selection.all = !request.has_channels();
  selection.named.insert(request.channels().values().begin(), request.channels().values().end());
  selection.excluded.insert(options.exclude_channels().begin(), options.exclude_channels().end());
  v1::ChannelsInfo* info = response->mutable_channels_info();

  const bool in_channels = cursor->section == PageCursor::Section::kChannels;
  std::string last_channel = in_channels ? cursor->after : "";
  // Channels, by name: every channel, or the named ones that exist.
  auto channel = in_channels ? channels_.upper_bound(cursor->after) : channels_.end();
  auto named = in_channels ? selection.named.upper_bound(cursor->after) : selection.named.end();
  while (true) {
    const ChannelRecord* record = nullptr;
    if (selection.all) {
      if (channel == channels_.end()) break;
      record = &(channel++)->second;
    } else {
      if (named == selection.named.end()) break;
      auto found = channels_.find(*named++);
      if (found == channels_.end()) continue;
      record = &found->second;
    }
    if (selection.excluded.count(record->name) != 0) continue;
    if (!page->HasRoomForAnother()) {
      response->set_next_cursor(PageCursor::AfterChannel(last_channel));
      return absl::OkStatus();
    }
    v1::ChannelInfo& entry = (*info->mutable_channels())[record->name];
    FillChannelInfo(*record, options.include_history(), options.include_users(),
                    options.include_connections(), &entry, page->max_bytes());
    if (!page->Accept(record->name.size() + entry.ByteSizeLong() + kMapEntryOverheadBytes)) {
      info->mutable_channels()->erase(record->name);
      response->set_next_cursor(PageCursor::AfterChannel(last_channel));
      return absl::OkStatus();
    }
    last_channel = record->name;
  }
  if (!options.include_users()) return absl::OkStatus();

  // Then the users of the selected channels, by name.
  std::string last_user = in_channels ? "" : cursor->after;
  for (auto user = in_channels ? users_.begin() : users_.upper_bound(cursor->after);
       user != users_.end(); ++user) {
    if (!InSelectedChannel(user->second, selection)) continue;
    if (!page->HasRoomForAnother()) {
      response->set_next_cursor(PageCursor::AfterUser(last_user));
      return absl::OkStatus();
    }
    v1::UserInfo* entry = info->add_users();
    FillUserInfo(user->second, options.return_public_state(), entry);
    if (!page->Accept(entry->ByteSizeLong() + kEntryOverheadBytes)) {
      info->mutable_users()->RemoveLast();
      response->set_next_cursor(PageCursor::AfterUser(last_user));
      return absl::OkStatus();
    }
    last_user = user->first;
  }
  return absl::OkStatus();
}

void BrokerState::FillAdminUser(const UserRecord& user, v1::AdminUser* entry,
                                size_t max_bytes) const {
  entry->set_user(user.name);
  entry->set_uuid(user.uuid.ToString());
  entry->set_state_json(DumpJson(user.state()));
  ListBudget budget(entry->ByteSizeLong(), max_bytes);
  for (const common::Uuid& conn_id : user.conn_ids) {
    if (!budget.Take(kConnIdTextBytes)) break;
    entry->add_connections(conn_id.ToString());
  }
  if (budget.cut()) entry->set_truncated(true);
}

absl::Status BrokerState::AdminInfo(const v1::AdminInfoRequest& request, absl::Time now,
                                    v1::AdminInfoResponse* response) const {
  absl::StatusOr<InfoPage> page = InfoPage::Start(request.limit(), options_);
  if (!page.ok()) return page.status();
  absl::StatusOr<PageCursor> cursor = PageCursor::Parse(request.cursor());
  if (!cursor.ok()) return cursor.status();

  // The counts come with every page.
  int64_t unique_users = 0;
  for (const auto& [name, user] : users_) {
    if (!user.conn_ids.empty()) ++unique_users;
  }
  response->set_remembered_user_count(static_cast<int64_t>(users_.size()));
  response->set_unique_user_count(unique_users);
  response->set_total_connections(static_cast<int64_t>(connections_.size()));
  response->set_total_channels(static_cast<int64_t>(channels_.size()));
  response->set_total_messages(counters_.total_messages);
  response->set_total_unique_messages(counters_.total_unique_messages);
  response->set_uptime_seconds(absl::ToDoubleSeconds(now - start_));
  response->set_version("0.8.0");

  const bool in_channels = cursor->section == PageCursor::Section::kChannels;
  std::string last_channel = in_channels ? cursor->after : "";
  for (auto channel = in_channels ? channels_.upper_bound(cursor->after) : channels_.end();
       channel != channels_.end(); ++channel) {
    if (!page->HasRoomForAnother()) {
      response->set_next_cursor(PageCursor::AfterChannel(last_channel));
      return absl::OkStatus();
    }
    v1::ChannelInfo* entry = response->add_channels();
    FillChannelInfo(channel->second, true, true, true, entry, page->max_bytes());
    if (!page->Accept(entry->ByteSizeLong() + kEntryOverheadBytes)) {
      response->mutable_channels()->RemoveLast();
      response->set_next_cursor(PageCursor::AfterChannel(last_channel));
      return absl::OkStatus();
    }
    last_channel = channel->first;
  }
  std::string last_user = in_channels ? "" : cursor->after;
  for (auto user = in_channels ? users_.begin() : users_.upper_bound(cursor->after);
       user != users_.end(); ++user) {
    if (!page->HasRoomForAnother()) {
      response->set_next_cursor(PageCursor::AfterUser(last_user));
      return absl::OkStatus();
    }
    v1::AdminUser* entry = response->add_users();
    FillAdminUser(user->second, entry, page->max_bytes());
    if (!page->Accept(entry->ByteSizeLong() + kEntryOverheadBytes)) {
      response->mutable_users()->RemoveLast();
      response->set_next_cursor(PageCursor::AfterUser(last_user));
      return absl::OkStatus();
    }
    last_user = user->first;
  }
  return absl::OkStatus();
}

}  // namespace channelstream::broker
