// Users, connections and channels: connect, subscribe, unsubscribe, user state, channel config,
// disconnect.
#include "broker/broker_state.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "broker/catchup.h"
#include "common/field_limits.h"
#include "common/ids.h"
#include "common/text.h"

namespace channelstream::broker {
namespace {

using common::kMaxChannelNameLength;
using common::kMaxEpochLength;  // a client may only echo the epochs we hand out
using common::kMaxUsernameLength;
using common::LengthBetweenMessage;

std::vector<std::string> ChannelNames(const ConnectionRecord& conn) {
  std::vector<std::string> names;
  names.reserve(conn.channels.size());
  for (const auto& [name, seen] : conn.channels) names.push_back(name);
  return names;
}

v1::ChannelSettings DefaultSettings() {
  v1::ChannelSettings settings;
  settings.set_history_size(10);
  settings.set_store_frames(true);
  return settings;
}

// The stored state is bounded by max_payload_bytes after the merge; a text that is already
// larger is refused before parsing it.
absl::Status CheckStateSize(const std::string& text, const std::string& field,
                            const BrokerOptions& options) {
  if (static_cast<int64_t>(text.size()) <= options.max_payload_bytes) return absl::OkStatus();
  return LimitError("max_payload_bytes", absl::StrCat(field, " is larger than the limit"));
}

}  // namespace

BrokerState::BrokerState(BrokerOptions options, absl::Time start)
    : options_(options), start_(start) {}

absl::Status BrokerState::ValidateChannelNames(
    const google::protobuf::RepeatedPtrField<std::string>& names, const std::string& field) const {
  broker::FieldViolationList violations;  // every bad name, as "channels[i]"
  for (int i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (name.empty() || common::Utf8Length(name) > kMaxChannelNameLength)
      violations.AddItem(FieldError(field, LengthBetweenMessage(1, kMaxChannelNameLength)), field,
                         i);
  }
  return violations.Build();
}

absl::Status BrokerState::ValidateChannelConfig(const v1::ChannelConfig& config) const {
  if (config.has_history_size()) {
    if (config.history_size() < 0)
      return FieldError("history_size", "Must be greater than or equal to 0.");
    if (config.history_size() > options_.max_history_size)
      return LimitError("max_history_size",
                        absl::StrCat("history_size must be at most ", options_.max_history_size));
  }
  if (config.has_long_name() && config.long_name().size() > common::kMaxLongNameLength)
    return FieldError("long_name", LengthBetweenMessage(0, common::kMaxLongNameLength));
  return absl::OkStatus();
}

absl::Status BrokerState::ValidatePositions(
    const google::protobuf::RepeatedPtrField<v1::Position>& positions,
    const std::string& field) const {
  // One per subscribed channel plus the private stream.
  if (positions.size() > options_.max_channels_per_connection + 1)
    return LimitError("max_channels_per_connection",
                      absl::StrCat(field, ": more positions than a connection has streams"));
  for (const v1::Position& position : positions) {
    if (common::Utf8Length(position.channel()) > kMaxChannelNameLength)
      return FieldError(field, absl::StrCat("channel: Length must be between 0 and ",
                                            kMaxChannelNameLength, "."));
    if (position.epoch().size() > kMaxEpochLength)
      return FieldError(field,
                        absl::StrCat("epoch: Length must be between 0 and ", kMaxEpochLength, "."));
  }
  return absl::OkStatus();
}

void BrokerState::ApplyChannelConfig(const v1::ChannelConfig& config, ChannelRecord* channel) {
  v1::ChannelSettings& s = channel->settings;
  if (config.has_notify_presence()) s.set_notify_presence(config.notify_presence());
  if (config.has_store_history()) s.set_store_history(config.store_history());
  if (config.has_history_size()) s.set_history_size(config.history_size());
  if (config.has_broadcast_presence_with_user_lists())
    s.set_broadcast_presence_with_user_lists(config.broadcast_presence_with_user_lists());
  if (config.has_notify_state()) s.set_notify_state(config.notify_state());
  if (config.has_store_frames()) s.set_store_frames(config.store_frames());
  if (config.has_long_name()) channel->long_name = config.long_name();
  while (channel->history.size() > static_cast<size_t>(std::max(0, s.history_size())))
    channel->history.pop_front();
  if (!s.store_history()) channel->history.clear();
  if (!s.store_frames()) channel->frames.clear();
}

ChannelRecord& BrokerState::GetOrCreateChannel(const std::string& name,
                                               const v1::ChannelConfig* config, absl::Time now) {
  auto it = channels_.find(name);
  if (it != channels_.end()) return it->second;
  ChannelRecord& channel = channels_[name];
  channel.name = name;
  channel.uuid = ids_.NewUuidText();
  channel.epoch = ids_.NewEpoch();
  channel.long_name = name;
  channel.settings = DefaultSettings();
  channel.last_active = now;
  if (config != nullptr) ApplyChannelConfig(*config, &channel);
  return channel;
}

bool BrokerState::SubscribeConnection(ConnectionRecord& conn, const std::string& channel_name,
                                      const v1::ChannelConfig* config, absl::Time now,
                                      Outbox* out) {
  ChannelRecord& channel = GetOrCreateChannel(channel_name, config, now);
  channel.last_active = now;
  // Catch-up for this channel starts now: older frames were never meant for this connection.
  if (!conn.channels.try_emplace(channel_name, channel.seq).second) return false;
  channel.conn_ids.insert(conn.id);
  if (++channel.user_connections[conn.user] == 1 && channel.settings.notify_presence())
    EmitPresence(channel, conn.user, "joined", now, out);
  return true;
}

bool BrokerState::UnsubscribeConnection(ConnectionRecord& conn, const std::string& channel_name,
                                        absl::Time now, Outbox* out) {
  if (conn.channels.erase(channel_name) == 0) return false;
  auto it = channels_.find(channel_name);
  if (it == channels_.end()) return true;
  ChannelRecord& channel = it->second;
  channel.conn_ids.erase(conn.id);
  channel.last_active = now;
  auto count = channel.user_connections.find(conn.user);
  if (count != channel.user_connections.end() && --count->second <= 0) {
    channel.user_connections.erase(count);
    if (channel.settings.notify_presence()) EmitPresence(channel, conn.user, "parted", now, out);
  }
  return true;
}

void BrokerState::EmitPresence(ChannelRecord& channel, const std::string& user, const char* action,
                               absl::Time now, Outbox* out) {
  Json payload = {{"uuid", ids_.NewUuidText()},
                  {"type", "presence"},
                  {"user", user},
                  {"channel", channel.name},
                  {"message", {{"action", action}}},
                  {"timestamp", common::FormatTimestamp(now)},
                  {"catchup", false}};
  if (channel.settings.broadcast_presence_with_user_lists()) {
    Json users = Json::array();
    for (const auto& [name, count] : channel.user_connections) users.push_back(name);
    payload["users"] = std::move(users);
  }
  if (std::string(action) == "joined") {
    auto it = users_.find(user);
    payload["state"] = it != users_.end() ? it->second.PublicState() : Json::object();
  }
  EmitToChannel(channel, payload, {}, {user}, now, out);
}

absl::Status BrokerState::Connect(const v1::ConnectRequest& request, absl::Time now,
                                  v1::ConnectResponse* response, Outbox* out) {
  // Validate everything before changing anything.
  if (request.username().empty()) return FieldError("username", "Missing data for required field.");
  if (common::Utf8Length(request.username()) > kMaxUsernameLength)
    return FieldError("username", LengthBetweenMessage(1, kMaxUsernameLength));
  common::Uuid conn_id;
  const bool conn_id_given = !request.conn_id().empty();
  if (conn_id_given && !common::Uuid::Parse(request.conn_id(), &conn_id))
    return FieldError("conn_id", "Not a valid UUID.");
  if (absl::Status s = ValidateChannelNames(request.channels(), "channels"); !s.ok()) return s;
  if (absl::Status s = ValidatePositions(request.since(), "since"); !s.ok()) return s;
  for (const auto& [name, config] : request.channel_configs()) {
    if (absl::Status s = ValidateChannelConfig(config); !s.ok()) return s;
  }
  if (absl::Status s =
          CheckStateSize(request.fresh_user_state_json(), "fresh_user_state", options_);
      !s.ok())
    return s;
  if (absl::Status s = CheckStateSize(request.user_state_json(), "user_state", options_); !s.ok())
    return s;
  absl::StatusOr<Json> fresh = ParseStateObject(request.fresh_user_state_json(), "fresh_user_state",
                                                options_.max_json_depth);
  if (!fresh.ok()) return fresh.status();
  absl::StatusOr<Json> update =
      ParseStateObject(request.user_state_json(), "user_state", options_.max_json_depth);
  if (!update.ok()) return update.status();

  auto existing_user = users_.find(request.username());
  Json new_state = existing_user != users_.end() ? existing_user->second.state() : *fresh;
  for (const auto& item : update->items()) new_state[item.key()] = item.value();
  if (static_cast<int64_t>(DumpJson(new_state).size()) > options_.max_payload_bytes)
    return LimitError("max_payload_bytes", "user_state is larger than the limit");

  auto existing_conn = conn_id_given ? connections_.find(conn_id) : connections_.end();
  if (existing_conn != connections_.end() && existing_conn->second.user != request.username())
    return FieldError("conn_id", "Connection belongs to another user.");
  if (existing_conn == connections_.end() && existing_user != users_.end() &&
      static_cast<int64_t>(existing_user->second.conn_ids.size()) >=
          options_.max_connections_per_user)
    return LimitError(
        "max_connections_per_user",
        absl::StrCat("user already holds ", options_.max_connections_per_user, " connections"));
  std::set<std::string> wanted(request.channels().begin(), request.channels().end());
  if (existing_conn != connections_.end()) {
    for (const auto& [name, seen] : existing_conn->second.channels) wanted.insert(name);
  }
  if (static_cast<int64_t>(wanted.size()) > options_.max_channels_per_connection)
    return LimitError("max_channels_per_connection",
                      absl::StrCat("a connection may subscribe at most ",
                                   options_.max_channels_per_connection, " channels"));

  // Apply.
  UserRecord& user = users_[request.username()];
  if (user.name.empty()) {
    user.name = request.username();
    user.uuid = ids_.NewUuid();
    user.epoch = ids_.NewEpoch();
  }
  user.set_state(std::move(new_state));
  if (request.has_state_public_keys())
    user.public_keys.assign(request.state_public_keys().values().begin(),
                            request.state_public_keys().values().end());
  user.last_active = now;

  if (!conn_id_given) {
    do conn_id = ids_.NewUuid();
    while (connections_.count(conn_id) != 0);
  }
  auto [conn_it, created] = connections_.try_emplace(conn_id);
  ConnectionRecord& conn = conn_it->second;
  if (created) {
    conn.id = conn_id;
    conn.user = user.name;
    conn.seen_user_seq = user.frame_seq;
  }
  conn.last_active = now;
  user.conn_ids.insert(conn_id);
  for (const std::string& name : request.channels()) {
    auto config = request.channel_configs().find(name);
    SubscribeConnection(conn, name,
                        config != request.channel_configs().end() ? &config->second : nullptr, now,
                        out);
  }
  if (request.since_size() > 0) {
    conn.pending_since = std::make_shared<const std::vector<v1::Position>>(request.since().begin(),
                                                                           request.since().end());
  }

  response->set_conn_id(conn_id.ToString());
  response->set_username(user.name);
  response->set_state_json(DumpJson(user.state()));
  response->set_public_state_json(DumpJson(user.PublicState()));
  std::vector<std::string> channels = ChannelNames(conn);
  for (const std::string& name : channels) response->add_channels(name);
  FillChannelsInfo(channels, request.info(), response->mutable_channels_info());
  for (const auto& [name, seen] : conn.channels) {
    const ChannelRecord& channel = channels_.at(name);
    v1::Position* position = response->add_positions();
    position->set_channel(name);
    position->set_offset(channel.seq);
    position->set_epoch(channel.epoch);
  }
  v1::Position* own = response->add_positions();
  own->set_offset(user.frame_seq);
  own->set_epoch(user.epoch);
  return absl::OkStatus();
}

absl::Status BrokerState::Subscribe(const v1::SubscribeRequest& request, absl::Time now,
                                    v1::SubscribeResponse* response, Outbox* out) {
  if (request.conn_id().empty()) return FieldError("conn_id", "Missing data for required field.");
  auto it = FindConnection(request.conn_id());
  if (it == connections_.end()) return FieldNotFound("conn_id", "Unknown connection");
  if (request.channels().empty()) return FieldError("channels", "Shorter than minimum length 1.");
  if (absl::Status s = ValidateChannelNames(request.channels(), "channels"); !s.ok()) return s;
  for (const auto& [name, config] : request.channel_configs()) {
    if (absl::Status s = ValidateChannelConfig(config); !s.ok()) return s;
  }
  ConnectionRecord& conn = it->second;
  std::set<std::string> wanted(request.channels().begin(), request.channels().end());
  for (const auto& [name, seen] : conn.channels) wanted.insert(name);
  if (static_cast<int64_t>(wanted.size()) > options_.max_channels_per_connection)
    return LimitError("max_channels_per_connection",
                      absl::StrCat("a connection may subscribe at most ",
                                   options_.max_channels_per_connection, " channels"));
  std::set<std::string> added;
  for (const std::string& name : request.channels()) {
    auto config = request.channel_configs().find(name);
    if (SubscribeConnection(conn, name,
                            config != request.channel_configs().end() ? &config->second : nullptr,
                            now, out))
      added.insert(name);
  }
  conn.last_active = now;
  std::vector<std::string> channels = ChannelNames(conn);
  for (const std::string& name : channels) response->add_channels(name);
  for (const std::string& name : added) response->add_subscribed_to(name);
  FillChannelsInfo(channels, request.info(), response->mutable_channels_info());
  return absl::OkStatus();
}

absl::Status BrokerState::Unsubscribe(const v1::UnsubscribeRequest& request, absl::Time now,
                                      v1::UnsubscribeResponse* response, Outbox* out) {
  if (request.conn_id().empty()) return FieldError("conn_id", "Missing data for required field.");
  auto it = FindConnection(request.conn_id());
  if (it == connections_.end()) return FieldNotFound("conn_id", "Unknown connection");
  if (request.channels().empty()) return FieldError("channels", "Shorter than minimum length 1.");
  ConnectionRecord& conn = it->second;
  std::set<std::string> removed;
  for (const std::string& name : request.channels()) {
    if (UnsubscribeConnection(conn, name, now, out)) removed.insert(name);
  }
  conn.last_active = now;
  std::vector<std::string> channels = ChannelNames(conn);
  for (const std::string& name : channels) response->add_channels(name);
  for (const std::string& name : removed) response->add_unsubscribed_from(name);
  FillChannelsInfo(channels, request.info(), response->mutable_channels_info());
  return absl::OkStatus();
}

absl::Status BrokerState::SetUserState(const v1::UserStateRequest& request, absl::Time now,
                                       v1::UserStateResponse* response, Outbox* out) {
  if (request.user().empty()) return FieldError("user", "Missing data for required field.");
  auto it = users_.find(request.user());
  if (it == users_.end()) return FieldNotFound("user", "Unknown user");
  if (absl::Status s = CheckStateSize(request.user_state_json(), "user_state", options_); !s.ok())
    return s;
  absl::StatusOr<Json> update =
      ParseStateObject(request.user_state_json(), "user_state", options_.max_json_depth);
  if (!update.ok()) return update.status();
  UserRecord& user = it->second;
  Json new_state = user.state();
  std::vector<std::pair<std::string, Json>> changed;
  for (const auto& item : update->items()) {
    auto current = new_state.find(item.key());
    if (current == new_state.end() || *current != item.value())
      changed.emplace_back(item.key(), item.value());
    new_state[item.key()] = item.value();
  }
  if (static_cast<int64_t>(DumpJson(new_state).size()) > options_.max_payload_bytes)
    return LimitError("max_payload_bytes", "user_state is larger than the limit");
  user.set_state(std::move(new_state));
  if (request.has_state_public_keys())
    user.public_keys.assign(request.state_public_keys().values().begin(),
                            request.state_public_keys().values().end());
  user.last_active = now;

  response->set_user_state_json(DumpJson(user.state()));
  for (const auto& [key, value] : changed) {
    v1::StateChange* change = response->add_changed_state();
    change->set_key(key);
    change->set_value_json(DumpJson(value));
  }
  for (const std::string& key : user.public_keys) response->add_public_keys(key);

  // Tell notify_state channels about the public part of the change.
  Json public_changed = Json::array();
  for (const auto& [key, value] : changed) {
    if (std::find(user.public_keys.begin(), user.public_keys.end(), key) != user.public_keys.end())
      public_changed.push_back({{"key", key}, {"value", value}});
  }
  if (public_changed.empty()) return absl::OkStatus();
  std::set<std::string> user_channels;
  for (const common::Uuid& conn_id : user.conn_ids) {
    for (const auto& [name, seen] : connections_.at(conn_id).channels) user_channels.insert(name);
  }
  for (const std::string& name : user_channels) {
    ChannelRecord& channel = channels_.at(name);
    if (!channel.settings.notify_state()) continue;
    Json payload = {{"uuid", ids_.NewUuidText()},
                    {"type", "user_state_change"},
                    {"user", user.name},
                    {"channel", name},
                    {"message", {{"state", user.PublicState()}, {"changed", public_changed}}},
                    {"timestamp", common::FormatTimestamp(now)},
                    {"catchup", false}};
    EmitToChannel(channel, payload, {}, {}, now, out);
  }
  return absl::OkStatus();
}

absl::Status BrokerState::SetChannelConfig(const v1::ChannelConfigRequest& request, absl::Time now,
                                           v1::ChannelConfigResponse* response) {
  for (const auto& [name, config] : request.channel_configs()) {
    if (name.empty() || common::Utf8Length(name) > kMaxChannelNameLength)
      return FieldError("channel_configs",
                        absl::StrCat("Length must be between 1 and ", kMaxChannelNameLength, "."));
    if (absl::Status s = ValidateChannelConfig(config); !s.ok()) return s;
  }
  std::vector<std::string> names;
  for (const auto& [name, config] : request.channel_configs()) {
    bool existed = channels_.count(name) != 0;
    ChannelRecord& channel = GetOrCreateChannel(name, &config, now);
    if (existed) ApplyChannelConfig(config, &channel);
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  v1::InfoOptions options;  // no history, no users
  FillChannelsInfo(names, options, response->mutable_channels_info());
  return absl::OkStatus();
}

std::map<common::Uuid, ConnectionRecord>::iterator BrokerState::FindConnection(
    const std::string& conn_id) {
  common::Uuid id;
  if (!common::Uuid::Parse(conn_id, &id)) return connections_.end();
  return connections_.find(id);
}

bool BrokerState::Disconnect(const std::string& conn_id, absl::Time now, Outbox* out) {
  auto it = FindConnection(conn_id);
  if (it == connections_.end()) return false;
  RemoveConnection(it->first, now, /*kick=*/true, out);
  return true;
}

void BrokerState::RemoveConnection(const common::Uuid& conn_id, absl::Time now, bool kick,
                                   Outbox* out) {
  auto it = connections_.find(conn_id);
  if (it == connections_.end()) return;
  ConnectionRecord& conn = it->second;
  for (const Attachment& attachment : conn.attachments) {
    auto gateway = gateways_.find(attachment.gateway);
    if (gateway != gateways_.end()) gateway->second.handles.erase(attachment.handle);
    if (kick) {
      Outbound kick_item;
      kick_item.kind = Outbound::Kind::kKick;
      kick_item.gateway = attachment.gateway;
      kick_item.handles.push_back(attachment.handle);
      out->push_back(std::move(kick_item));
    }
  }
  conn.attachments.clear();
  for (const std::string& name : ChannelNames(conn)) UnsubscribeConnection(conn, name, now, out);
  auto user = users_.find(conn.user);
  if (user != users_.end()) {
    user->second.conn_ids.erase(conn_id);
    user->second.last_active = now;
  }
  connections_.erase(it);
}

}  // namespace channelstream::broker
