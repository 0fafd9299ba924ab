// Read-only views: channels_info for connect/subscribe/info, and the admin summary.
#include <algorithm>
#include <set>

#include "broker/broker_state.h"
#include "common/ids.h"

namespace channelstream {

void BrokerState::FillChannelInfo(const ChannelRecord& channel, bool include_history,
                                  bool include_users, bool include_connections,
                                  v1::ChannelInfo* info) const {
  info->set_uuid(channel.uuid);
  info->set_name(channel.name);
  info->set_long_name(channel.long_name);
  *info->mutable_settings() = channel.settings;
  if (include_history) {
    for (const Json& message : channel.history) info->add_history_json(DumpJson(message));
  }
  info->set_last_active(FormatTimestamp(channel.last_active));
  info->set_offset(channel.seq);
  info->set_epoch(channel.epoch);
  info->set_total_connections(static_cast<int32_t>(channel.conn_ids.size()));
  info->set_total_users(static_cast<int32_t>(channel.user_connections.size()));
  if (include_users) {
    for (const auto& [user, count] : channel.user_connections) info->add_users(user);
  }
  if (include_connections) {
    for (const Uuid& conn_id : channel.conn_ids) info->add_connections(conn_id.ToString());
  }
}

void BrokerState::FillChannelsInfo(const std::vector<std::string>& names,
                                   const v1::InfoOptions& options,
                                   v1::ChannelsInfo* info) const {
  const std::set<std::string> excluded(options.exclude_channels().begin(),
                                       options.exclude_channels().end());
  std::set<std::string> users;
  for (const std::string& name : names) {
    if (excluded.count(name) != 0) continue;
    auto it = channels_.find(name);
    if (it == channels_.end()) continue;
    FillChannelInfo(it->second, options.include_history(), options.include_users(),
                    options.include_connections(), &(*info->mutable_channels())[name]);
    if (options.include_users()) {
      for (const auto& [user, count] : it->second.user_connections) users.insert(user);
    }
  }
  for (const std::string& name : users) {
    auto user = users_.find(name);
    if (user == users_.end()) continue;
    v1::UserInfo* entry = info->add_users();
    entry->set_user(name);
    entry->set_state_json(DumpJson(options.return_public_state() ? user->second.PublicState()
                                                                 : user->second.state()));
  }
}

void BrokerState::Info(const v1::InfoRequest& request, v1::InfoResponse* response) const {
  std::vector<std::string> names;
  if (request.channels().empty()) {
    if (request.all_channels()) {
      for (const auto& [name, channel] : channels_) names.push_back(name);
    }
  } else {
    std::set<std::string> unique(request.channels().begin(), request.channels().end());
    names.assign(unique.begin(), unique.end());
  }
  FillChannelsInfo(names, request.info(), response->mutable_channels_info());
}

void BrokerState::AdminInfo(absl::Time now, v1::AdminInfoResponse* response) const {
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
  for (const auto& [name, channel] : channels_)
    FillChannelInfo(channel, true, true, true, response->add_channels());
  for (const auto& [name, user] : users_) {
    v1::AdminUser* entry = response->add_users();
    entry->set_user(name);
    entry->set_uuid(user.uuid.ToString());
    entry->set_state_json(DumpJson(user.state()));
    for (const Uuid& conn_id : user.conn_ids) entry->add_connections(conn_id.ToString());
  }
  response->set_uptime_seconds(absl::ToDoubleSeconds(now - start_));
  response->set_version("0.8.0");
}

}  // namespace channelstream
