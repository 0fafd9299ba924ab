#include "rest_adapter/request_readers.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "common/field_limits.h"
#include "common/ids.h"
#include "common/positions_json.h"
#include "rest_adapter/translate.h"

namespace channelstream::rest {

namespace {

using common::kMaxChannelNameLength;
using common::kMaxUsernameLength;

bool InvalidInputType(FieldErrors& errors) {
  errors.Add("_schema", kInvalidType);
  return false;
}

void ReadConnId(const Json& body, FieldErrors& errors, bool required, std::string* conn_id) {
  std::optional<std::string> value = ReadString(body, "conn_id", errors, required);
  if (!value) return;
  if (!common::IsUuid(*value)) {
    errors.Add("conn_id", "Not a valid UUID.");
    return;
  }
  *conn_id = common::NormalizeUuid(*value);
}

// state_public_keys: a list replaces the stored keys; null or absent keeps them (field unset).
template <typename Request>
void ReadPublicKeys(const Json& body, FieldErrors& errors, Request* request) {
  std::optional<std::vector<std::string>> list = ReadStringList(body, "state_public_keys", errors);
  if (!list) return;
  v1::StringList* keys = request->mutable_state_public_keys();
  for (const std::string& key : *list) keys->add_values(key);
}

void CopyConfigs(const std::map<std::string, v1::ChannelConfig>& configs,
                 google::protobuf::Map<std::string, v1::ChannelConfig>* out) {
  for (const auto& [name, config] : configs) (*out)[name] = config;
}

// Fields of a publication item that the broker takes as proto fields; every other key is kept
// as an extra and delivered with the message.
bool IsPublicationField(const std::string& key) {
  static const char* const kFields[] = {"channel", "pm_users", "exclude_users", "user",
                                        "message", "uuid",     "timestamp",     "no_history"};
  for (const char* field : kFields)
    if (key == field) return true;
  return false;
}

// Reads a list body ([{...}, ...]); marshmallow names item errors by index.
bool ReadItems(const Json& body, FieldErrors& errors,
               const std::function<void(const Json& item, FieldErrors& item_errors)>& read_item) {
  if (!body.is_array()) {
    errors.Add("_schema", kInvalidType);
    return false;
  }
  for (size_t i = 0; i < body.size(); ++i) {
    FieldErrors item_errors;
    if (!body[i].is_object())
      item_errors.Add("_schema", kInvalidType);
    else
      read_item(body[i], item_errors);
    errors.AddNested(std::to_string(i), item_errors);
  }
  return errors.empty();
}

void ReadUsers(const Json& item, const char* field, FieldErrors& errors,
               google::protobuf::RepeatedPtrField<std::string>* out) {
  if (auto users = ReadStringList(item, field, errors))
    for (const std::string& user : *users) *out->Add() = user;
}

void ReadUuidField(const Json& item, FieldErrors& errors, bool required, std::string* out) {
  if (auto value = ReadString(item, "uuid", errors, required)) {
    if (!common::IsUuid(*value))
      errors.Add("uuid", "Not a valid UUID.");
    else
      *out = common::NormalizeUuid(*value);
  }
}

void ReadTimestampField(const Json& item, const char* field, FieldErrors& errors,
                        std::string* out) {
  if (auto value = ReadString(item, field, errors)) {
    absl::Time parsed;
    if (!common::ParseTimestamp(*value, &parsed))
      errors.Add(field, "Not a valid datetime.");
    else
      *out = common::FormatTimestamp(parsed);
  }
}

}  // namespace

bool ReadConnectRequest(const Json& body, FieldErrors& errors, v1::ConnectRequest* out) {
  if (!body.is_object()) return InvalidInputType(errors);
  v1::ConnectRequest& request = *out;
  if (auto username = ReadString(body, "username", errors, true, 1, kMaxUsernameLength))
    request.set_username(*username);
  ReadConnId(body, errors, false, request.mutable_conn_id());
  if (auto channels = ReadStringList(body, "channels", errors, 1, kMaxChannelNameLength))
    for (const std::string& channel : *channels) request.add_channels(channel);
  if (auto state = ReadState(body, "fresh_user_state", errors))
    request.set_fresh_user_state_json(state->dump());
  if (auto state = ReadState(body, "user_state", errors))
    request.set_user_state_json(state->dump());
  ReadPublicKeys(body, errors, &request);
  if (auto configs = ReadObject(body, "channel_configs", errors))
    CopyConfigs(ReadChannelConfigs(*configs, errors), request.mutable_channel_configs());
  *request.mutable_info() = ReadInfoOptions(body, errors);
  if (auto since = body.find("since"); since != body.end()) {
    if (auto error = common::ReadPositions(*since, request.mutable_since()))
      errors.Add(error->field, error->message);
  }
  return errors.empty();
}

bool ReadSubscribeRequest(const Json& body, FieldErrors& errors, v1::SubscribeRequest* out) {
  if (!body.is_object()) return InvalidInputType(errors);
  v1::SubscribeRequest& request = *out;
  ReadConnId(body, errors, true, request.mutable_conn_id());
  auto channels = ReadStringList(body, "channels", errors, 1, kMaxChannelNameLength);
  if (!body.contains("channels"))
    errors.Add("channels", kMissing);
  else if (channels && channels->empty())
    errors.Add("channels", "Shorter than minimum length 1.");
  if (channels)
    for (const std::string& channel : *channels) request.add_channels(channel);
  if (auto configs = ReadObject(body, "channel_configs", errors))
    CopyConfigs(ReadChannelConfigs(*configs, errors), request.mutable_channel_configs());
  *request.mutable_info() = ReadInfoOptions(body, errors);
  return errors.empty();
}

bool ReadUnsubscribeRequest(const Json& body, FieldErrors& errors, v1::UnsubscribeRequest* out) {
  if (!body.is_object()) return InvalidInputType(errors);
  v1::UnsubscribeRequest& request = *out;
  ReadConnId(body, errors, true, request.mutable_conn_id());
  auto channels = ReadStringList(body, "channels", errors, 1, kMaxChannelNameLength);
  if (!body.contains("channels")) errors.Add("channels", kMissing);
  if (channels)
    for (const std::string& channel : *channels) request.add_channels(channel);
  *request.mutable_info() = ReadInfoOptions(body, errors);
  return errors.empty();
}

bool ReadUserStateRequest(const Json& body, FieldErrors& errors, v1::UserStateRequest* out) {
  if (!body.is_object()) return InvalidInputType(errors);
  v1::UserStateRequest& request = *out;
  if (auto user = ReadString(body, "user", errors, true, 1, kMaxUsernameLength))
    request.set_user(*user);
  std::optional<Json> state = ReadState(body, "user_state", errors);
  request.set_user_state_json(state ? state->dump() : "{}");
  ReadPublicKeys(body, errors, &request);
  return errors.empty();
}

bool ReadPublishRequest(const Json& body, FieldErrors& errors, v1::PublishRequest* out) {
  ReadItems(body, errors, [&](const Json& item, FieldErrors& e) {
    v1::Publication* publication = out->add_publications();
    if (auto channel = ReadString(item, "channel", e, false, 1, kMaxChannelNameLength))
      publication->set_channel(*channel);
    ReadUsers(item, "pm_users", e, publication->mutable_pm_users());
    ReadUsers(item, "exclude_users", e, publication->mutable_exclude_users());
    if (auto user = ReadString(item, "user", e, true, 1, kMaxUsernameLength))
      publication->set_user(*user);
    auto message = item.find("message");
    publication->set_message_json(message == item.end() ? "{}" : message->dump());
    ReadUuidField(item, e, false, publication->mutable_uuid());
    ReadTimestampField(item, "timestamp", e, publication->mutable_timestamp());
    if (auto no_history = ReadBool(item, "no_history", e)) publication->set_no_history(*no_history);
    Json extra = Json::object();
    for (const auto& [key, value] : item.items())
      if (!IsPublicationField(key)) extra[key] = value;
    if (!extra.empty()) publication->set_extra_json(extra.dump());
  });
  return errors.empty();
}

bool ReadEditMessagesRequest(const Json& body, FieldErrors& errors, v1::EditMessagesRequest* out) {
  ReadItems(body, errors, [&](const Json& item, FieldErrors& e) {
    v1::MessageEdit* edit = out->add_edits();
    ReadUuidField(item, e, true, edit->mutable_uuid());
    if (auto channel = ReadString(item, "channel", e, false, 1, kMaxChannelNameLength))
      edit->set_channel(*channel);
    ReadUsers(item, "pm_users", e, edit->mutable_pm_users());
    auto message = item.find("message");
    if (message != item.end()) edit->set_message_json(message->dump());
    if (auto user = ReadString(item, "user", e, false, 1, kMaxUsernameLength))
      edit->set_user(*user);
    ReadTimestampField(item, "timestamp", e, edit->mutable_timestamp());
    ReadTimestampField(item, "edited", e, edit->mutable_edited());
  });
  return errors.empty();
}

bool ReadDeleteMessagesRequest(const Json& body, FieldErrors& errors,
                               v1::DeleteMessagesRequest* out) {
  ReadItems(body, errors, [&](const Json& item, FieldErrors& e) {
    v1::MessageDelete* del = out->add_deletes();
    ReadUuidField(item, e, true, del->mutable_uuid());
    if (auto channel = ReadString(item, "channel", e, false, 1, kMaxChannelNameLength))
      del->set_channel(*channel);
    ReadUsers(item, "pm_users", e, del->mutable_pm_users());
  });
  return errors.empty();
}

bool ReadChannelConfigRequest(const Json& body, FieldErrors& errors,
                              v1::ChannelConfigRequest* out) {
  if (!body.is_object()) return InvalidInputType(errors);
  CopyConfigs(ReadChannelConfigs(body, errors), out->mutable_channel_configs());
  return errors.empty();
}

bool ReadInfoRequest(const Json& body, FieldErrors& errors, v1::InfoRequest* out) {
  v1::InfoRequest& request = *out;
  if (body.is_null()) {
    // 0.7: without a body, every channel (channels unset) with history and users.
    request.mutable_info()->set_include_history(true);
    request.mutable_info()->set_include_users(true);
    return errors.empty();
  }
  if (!body.is_object()) return InvalidInputType(errors);
  *request.mutable_info() = ReadInfoOptions(body, errors);
  auto info = body.find("info");
  std::optional<std::vector<std::string>> channels;
  if (info != body.end() && info->is_object()) {
    FieldErrors nested;
    channels = ReadStringList(*info, "channels", nested, 1, kMaxChannelNameLength);
    errors.AddNested("info", nested);
  }
  // Without info.channels, every channel: the field stays unset.
  if (channels) {
    v1::StringList* named = request.mutable_channels();
    for (const std::string& channel : *channels) named->add_values(channel);
  }
  return errors.empty();
}

}  // namespace channelstream::rest
