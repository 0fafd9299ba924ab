#include "rest_adapter/translate.h"

#include <cmath>

#include "absl/strings/str_format.h"
#include "common/field_limits.h"
#include "common/text.h"

namespace channelstream::rest {

Json ParseStoredJson(const std::string& text) {
  if (text.empty()) return nullptr;
  Json parsed = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return parsed.is_discarded() ? Json(nullptr) : parsed;
}

v1::InfoOptions ReadInfoOptions(const Json& body, FieldErrors& errors) {
  v1::InfoOptions options;
  options.set_include_history(true);
  options.set_include_users(true);
  std::optional<Json> info = ReadObject(body, "info", errors);
  if (!info) return options;
  FieldErrors nested;
  if (auto value = ReadBool(*info, "include_history", nested)) options.set_include_history(*value);
  if (auto value = ReadBool(*info, "include_users", nested)) options.set_include_users(*value);
  if (auto value = ReadBool(*info, "include_connections", nested))
    options.set_include_connections(*value);
  if (auto value = ReadBool(*info, "return_public_state", nested))
    options.set_return_public_state(*value);
  if (auto value = ReadStringList(*info, "exclude_channels", nested))
    for (const std::string& name : *value) options.add_exclude_channels(name);
  errors.AddNested("info", nested);
  return options;
}

std::map<std::string, v1::ChannelConfig> ReadChannelConfigs(const Json& configs,
                                                            FieldErrors& errors) {
  std::map<std::string, v1::ChannelConfig> result;
  for (const auto& [name, raw] : configs.items()) {
    FieldErrors nested;
    if (name.empty() || common::Utf8Length(name) > common::kMaxChannelNameLength)
      nested.Add("_schema", LengthMessage(1, common::kMaxChannelNameLength));
    if (!raw.is_object()) {
      nested.Add("_schema", kInvalidType);
      errors.AddNested(name, nested);
      continue;
    }
    v1::ChannelConfig config;
    if (auto v = ReadBool(raw, "notify_presence", nested)) config.set_notify_presence(*v);
    if (auto v = ReadBool(raw, "store_history", nested)) config.set_store_history(*v);
    if (auto v = ReadInt(raw, "history_size", nested)) {
      if (*v < 0 || *v > common::kMaxRequestedHistorySize)
        nested.Add("history_size", "Must be greater than or equal to 0.");
      else
        config.set_history_size(static_cast<int32_t>(*v));
    }
    if (auto v = ReadBool(raw, "broadcast_presence_with_user_lists", nested))
      config.set_broadcast_presence_with_user_lists(*v);
    if (auto v = ReadBool(raw, "notify_state", nested)) config.set_notify_state(*v);
    if (auto v = ReadBool(raw, "store_frames", nested)) config.set_store_frames(*v);
    if (auto v = ReadString(raw, "long_name", nested)) config.set_long_name(*v);
    errors.AddNested(name, nested);
    result[name] = config;
  }
  return result;
}

Json ChannelInfoToJson(const v1::ChannelInfo& info, bool with_connections) {
  Json history = Json::array();
  for (const std::string& message : info.history_json())
    history.push_back(ParseStoredJson(message));
  const v1::ChannelSettings& s = info.settings();
  Json json = {
      {"uuid", info.uuid()},
      {"name", info.name()},
      {"long_name", info.long_name()},
      {"settings",
       {{"notify_presence", s.notify_presence()},
        {"store_history", s.store_history()},
        {"history_size", s.history_size()},
        {"broadcast_presence_with_user_lists", s.broadcast_presence_with_user_lists()},
        {"notify_state", s.notify_state()},
        {"store_frames", s.store_frames()}}},
      {"history", history},
      {"last_active", info.last_active().empty() ? Json(nullptr) : Json(info.last_active())},
      {"total_connections", info.total_connections()},
      {"total_users", info.total_users()},
      {"users", Json(std::vector<std::string>(info.users().begin(), info.users().end()))},
  };
  if (with_connections)
    json["connections"] =
        std::vector<std::string>(info.connections().begin(), info.connections().end());
  // Only on a channel too large for one page (never on what 0.7 could answer).
  if (info.truncated()) json["truncated"] = true;
  return json;
}

Json ChannelsInfoToJson(const v1::ChannelsInfo& info, bool with_connections) {
  Json channels = Json::object();
  for (const auto& [name, channel] : info.channels())
    channels[name] = ChannelInfoToJson(channel, with_connections);
  Json users = Json::array();
  for (const v1::UserInfo& user : info.users())
    users.push_back({{"user", user.user()}, {"state", ParseStoredJson(user.state_json())}});
  return {{"channels", channels}, {"users", users}};
}

std::string FormatUptime(double seconds) {
  constexpr long long kMicrosPerSecond = 1000000;
  if (!(seconds >= 0)) seconds = 0;
  long long micros = std::llround(seconds * 1e6);
  long long days = micros / 86400000000LL;
  micros %= 86400000000LL;
  long long hours = micros / 3600000000LL;
  micros %= 3600000000LL;
  long long minutes = micros / 60000000LL;
  micros %= 60000000LL;
  long long secs = micros / kMicrosPerSecond;
  micros %= kMicrosPerSecond;
  std::string text;
  if (days > 0) text = absl::StrFormat("%d day%s, ", days, days == 1 ? "" : "s");
  text += absl::StrFormat("%d:%02d:%02d", hours, minutes, secs);
  if (micros > 0) text += absl::StrFormat(".%06d", micros);
  return text;
}

Json AdminInfoToJson(const v1::AdminInfoResponse& info) {
  Json channels = Json::array();
  for (const v1::ChannelInfo& channel : info.channels())
    channels.push_back(ChannelInfoToJson(channel, true));
  Json users = Json::array();
  for (const v1::AdminUser& user : info.users()) {
    Json entry = {{"user", user.user()},
                  {"uuid", user.uuid()},
                  {"state", ParseStoredJson(user.state_json())},
                  {"connections",
                   std::vector<std::string>(user.connections().begin(), user.connections().end())}};
    if (user.truncated()) entry["truncated"] = true;
    users.push_back(std::move(entry));
  }
  return {{"remembered_user_count", info.remembered_user_count()},
          {"unique_user_count", info.unique_user_count()},
          {"total_connections", info.total_connections()},
          {"total_channels", info.total_channels()},
          {"total_messages", info.total_messages()},
          {"total_unique_messages", info.total_unique_messages()},
          {"channels", channels},
          {"users", users},
          {"uptime", FormatUptime(info.uptime_seconds())},
          {"uptime_seconds", info.uptime_seconds()},
          {"version", info.version()}};
}

}  // namespace channelstream::rest
