// Publications, edits and deletes, and the routing every event shares: one encoded payload per
// event, one Outbound per gateway with recipients, catch-up frames per channel and per user.
#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "broker/broker_state.h"
#include "broker/catchup.h"
#include "common/field_limits.h"
#include "common/ids.h"
#include "common/text.h"

namespace channelstream::broker {
namespace {

// Keys a publication may not smuggle into the client-visible object through extra_json.
const char* const kHiddenKeys[] = {"pm_users", "exclude_users", "no_history", "epoch", "offset"};

std::vector<std::string> ToVector(const google::protobuf::RepeatedPtrField<std::string>& items) {
  return std::vector<std::string>(items.begin(), items.end());
}

absl::Status CheckTimestamp(const std::string& text, const std::string& field) {
  absl::Time ignored;
  if (!text.empty() && !common::ParseTimestamp(text, &ignored))
    return FieldError(field, "Not a valid datetime.");
  return absl::OkStatus();
}

// The first bad field of one publication (0.7's schema, in 0.7's order).
absl::Status CheckPublicationFields(const v1::Publication& item) {
  if (item.user().empty()) return FieldError("user", "Missing data for required field.");
  if (common::Utf8Length(item.user()) > common::kMaxUsernameLength)
    return FieldError("user", common::LengthBetweenMessage(1, common::kMaxUsernameLength));
  if (common::Utf8Length(item.channel()) > common::kMaxChannelNameLength)
    return FieldError("channel", common::LengthBetweenMessage(1, common::kMaxChannelNameLength));
  if (!item.uuid().empty() && !common::IsUuid(item.uuid()))
    return FieldError("uuid", "Not a valid UUID.");
  return CheckTimestamp(item.timestamp(), "timestamp");
}

// The first bad field of one edit.
absl::Status CheckEditFields(const v1::MessageEdit& edit) {
  if (edit.uuid().empty()) return FieldError("uuid", "Missing data for required field.");
  if (!common::IsUuid(edit.uuid())) return FieldError("uuid", "Not a valid UUID.");
  if (absl::Status s = CheckTimestamp(edit.timestamp(), "timestamp"); !s.ok()) return s;
  return CheckTimestamp(edit.edited(), "edited");
}

absl::Status CheckDeleteFields(const v1::MessageDelete& del) {
  if (del.uuid().empty()) return FieldError("uuid", "Missing data for required field.");
  if (!common::IsUuid(del.uuid())) return FieldError("uuid", "Not a valid UUID.");
  return absl::OkStatus();
}

std::string NormalTimestamp(const std::string& text, absl::Time now) {
  absl::Time time = now;
  if (!text.empty()) common::ParseTimestamp(text, &time);
  return common::FormatTimestamp(time);
}

// Finds the stored copy of a message in a frame list.
CatchupRecord* FindRecord(CatchupLog* frames, const std::string& uuid) {
  for (CatchupRecord& frame : *frames) {
    if (frame.uuid == uuid && frame.payload.value("type", "") == "message") return &frame;
  }
  return nullptr;
}

void ApplyEdit(const v1::MessageEdit& edit, const Json& message, const std::string& edited,
               absl::Time now, Json* stored) {
  if (!edit.message_json().empty()) (*stored)["message"] = message;
  if (!edit.user().empty()) (*stored)["user"] = edit.user();
  if (!edit.timestamp().empty()) (*stored)["timestamp"] = NormalTimestamp(edit.timestamp(), now);
  (*stored)["edited"] = edited;
}

// What Publish answers for an accepted item: the client-visible object plus its recipient filter.
std::string EchoOf(const Json& payload, const std::vector<std::string>& pm_users,
                   const std::vector<std::string>& exclude_users, bool no_history) {
  Json echo = payload;
  echo["pm_users"] = pm_users;
  echo["exclude_users"] = exclude_users;
  echo["no_history"] = no_history;
  return DumpJson(echo);
}

}  // namespace

void BrokerState::TrimFrames(CatchupLog* frames, uint64_t* trimmed_through, absl::Time now) const {
  while (!frames->empty() && (static_cast<int64_t>(frames->size()) > options_.catchup_frames ||
                              frames->front().time + options_.catchup_max_age < now)) {
    *trimmed_through = std::max(*trimmed_through, frames->front().seq);
    frames->pop_front();
  }
}

void BrokerState::Route(const std::vector<const ConnectionRecord*>& recipients,
                        const std::shared_ptr<const std::string>& payload,
                        const std::string& channel, uint64_t seq, Outbox* out) {
  std::map<uint64_t, std::vector<uint64_t>> by_gateway;
  for (const ConnectionRecord* conn : recipients) {
    for (const Attachment& attachment : conn->attachments)
      by_gateway[attachment.gateway].push_back(attachment.handle);
  }
  for (auto& [gateway, handles] : by_gateway) {
    Outbound item;
    item.gateway = gateway;
    item.payload_json = payload;
    item.handles = std::move(handles);
    item.channel = channel;
    item.seq = seq;
    out->push_back(std::move(item));
  }
}

uint64_t BrokerState::EmitToChannel(ChannelRecord& channel, const Json& payload,
                                    const std::vector<std::string>& only_users,
                                    const std::vector<std::string>& exclude_users, absl::Time now,
                                    Outbox* out, std::string encoded) {
  const uint64_t seq = ++channel.seq;
  channel.last_active = now;
  CatchupRecord frame;
  frame.seq = seq;
  frame.time = now;
  frame.uuid = payload.value("uuid", "");
  frame.only_users = only_users;
  frame.exclude_users = exclude_users;
  std::vector<const ConnectionRecord*> recipients;
  for (const common::Uuid& conn_id : channel.conn_ids) {
    const ConnectionRecord& conn = connections_.at(conn_id);
    if (!frame.VisibleTo(conn.user)) continue;
    ++counters_.total_messages;
    recipients.push_back(&conn);
  }
  if (encoded.empty()) encoded = DumpJson(payload);
  AppendPosition(&encoded, channel.epoch, seq);
  Route(recipients, std::make_shared<const std::string>(std::move(encoded)), channel.name, seq,
        out);
  if (channel.settings.store_frames()) {
    frame.payload = payload;
    channel.frames.push_back(std::move(frame));
    TrimFrames(&channel.frames, &channel.trimmed_through, now);
  } else {
    channel.trimmed_through = seq;  // nothing kept: no position before now is recoverable
  }
  return seq;
}

void BrokerState::EmitToUsers(const std::vector<std::string>& users, const Json& payload,
                              const std::vector<std::string>& exclude_users, absl::Time now,
                              Outbox* out, std::string encoded) {
  std::set<std::string> targets(users.begin(), users.end());
  for (const std::string& excluded : exclude_users) targets.erase(excluded);
  if (encoded.empty()) encoded = DumpJson(payload);
  std::vector<const ConnectionRecord*> recipients;
  for (const std::string& name : targets) {
    auto user = users_.find(name);
    if (user == users_.end()) continue;
    CatchupRecord frame;
    frame.seq = ++user->second.frame_seq;
    frame.time = now;
    frame.uuid = payload.value("uuid", "");
    frame.payload = payload;
    user->second.frames.push_back(std::move(frame));
    TrimFrames(&user->second.frames, &user->second.trimmed_through, now);
    // Each user's private stream has its own offsets: one encoding per recipient user.
    recipients.clear();
    for (const common::Uuid& conn_id : user->second.conn_ids) {
      ++counters_.total_messages;
      recipients.push_back(&connections_.at(conn_id));
    }
    if (recipients.empty()) continue;
    const uint64_t seq = user->second.frame_seq;
    Route(recipients,
          std::make_shared<const std::string>(WithPosition(encoded, user->second.epoch, seq)), "",
          seq, out);
  }
}

absl::Status BrokerState::PreparePublish(const v1::PublishRequest& request, absl::Time now,
                                         const BrokerOptions& options,
                                         std::vector<PreparedPublication>* prepared,
                                         IdSource* ids) {
  // Parse and check every item first: a bad item rejects the whole request.
  // Field errors of every item are reported together (publications[i].field); a limit stops at
  // once.
  std::vector<Json> messages, extras;
  broker::FieldViolationList violations;
  for (int i = 0; i < request.publications_size(); ++i) {
    const v1::Publication& item = request.publications(i);
    absl::Status field_error = CheckPublicationFields(item);
    if (!field_error.ok()) {
      violations.AddItem(field_error, "publications", i);
      continue;
    }
    if (static_cast<int64_t>(item.message_json().size()) > options.max_payload_bytes)
      return LimitError("max_payload_bytes", absl::StrCat("message is larger than ",
                                                          options.max_payload_bytes, " bytes"));
    absl::StatusOr<Json> message =
        ParseJsonField(item.message_json(), "message", Json(), options.max_json_depth);
    if (!message.ok()) {
      violations.AddItem(message.status(), "publications", i);
      continue;
    }
    if (static_cast<int64_t>(item.extra_json().size()) > options.max_payload_bytes)
      return LimitError("max_payload_bytes", absl::StrCat("extra keys are larger than ",
                                                          options.max_payload_bytes, " bytes"));
    absl::StatusOr<Json> extra =
        ParseObjectField(item.extra_json(), "extra", options.max_json_depth);
    if (!extra.ok()) {
      violations.AddItem(extra.status(), "publications", i);
      continue;
    }
    messages.push_back(std::move(*message));
    extras.push_back(std::move(*extra));
  }
  if (!violations.empty()) return violations.Build();

  for (int i = 0; i < request.publications_size(); ++i) {
    const v1::Publication& item = request.publications(i);
    if (item.channel().empty() && item.pm_users().empty()) continue;  // 0.7 drops these
    PreparedPublication p;
    p.channel = item.channel();
    p.pm_users = ToVector(item.pm_users());
    p.exclude_users = ToVector(item.exclude_users());
    p.no_history = item.no_history();
    Json& payload = p.payload;
    payload = std::move(extras[i]);
    for (const char* key : kHiddenKeys) payload.erase(key);
    payload["uuid"] = !item.uuid().empty() ? common::NormalizeUuid(item.uuid())
                      : ids != nullptr     ? ids->NewUuidText()
                                           : common::NewUuid();
    payload["timestamp"] = NormalTimestamp(item.timestamp(), now);
    payload["user"] = item.user();
    payload["channel"] = item.channel().empty() ? Json() : Json(item.channel());
    payload["message"] = std::move(messages[i]);
    payload["type"] = "message";
    payload["catchup"] = false;
    payload["edited"] = nullptr;
    p.uuid_given = !item.uuid().empty();
    p.encoded = DumpJson(payload);
    p.encoded.reserve(p.encoded.size() + 40);  // room for the position keys
    p.echo_json = EchoOf(payload, p.pm_users, p.exclude_users, p.no_history);
    prepared->push_back(std::move(p));
  }
  return absl::OkStatus();
}

void BrokerState::ApplyPublish(std::vector<PreparedPublication>& prepared, absl::Time now,
                               v1::PublishResponse* response, Outbox* out) {
  for (PreparedPublication& p : prepared) {
    v1::PublishedMessage* published = response->add_messages();
    published->set_message_json(std::move(p.echo_json));
    const std::string uuid = p.payload.value("uuid", "");
    if (!p.channel.empty()) {
      auto channel = channels_.find(p.channel);
      if (channel == channels_.end()) {
        ++counters_.total_unique_messages;
        continue;  // 0.7 accepts it and delivers it nowhere
      }
      ChannelRecord& record = channel->second;
      published->set_epoch(record.epoch);
      // A backend retrying a publication (same uuid) within the window gets the first answer's
      // position back; the message is stored and delivered once.
      if (p.uuid_given) {
        if (const CatchupRecord* earlier = FindRecord(&record.frames, uuid)) {
          published->set_message_json(
              EchoOf(earlier->payload, earlier->only_users, earlier->exclude_users, p.no_history));
          published->set_seq(earlier->seq);
          published->set_duplicate(true);
          continue;
        }
      }
      ++counters_.total_unique_messages;
      const bool keep =
          record.settings.store_history() && !p.no_history && record.settings.history_size() > 0;
      const uint64_t seq = EmitToChannel(record, p.payload, p.pm_users, p.exclude_users, now, out,
                                         std::move(p.encoded));
      published->set_seq(seq);
      if (keep) {
        Json& entry = record.history.emplace_back(std::move(p.payload));
        entry["epoch"] = record.epoch;
        entry["offset"] = seq;
        while (record.history.size() > static_cast<size_t>(record.settings.history_size()))
          record.history.pop_front();
      }
    } else {
      if (p.uuid_given) {
        bool seen = false;
        for (const std::string& name : p.pm_users) {
          auto user = users_.find(name);
          if (user == users_.end()) continue;
          if (const CatchupRecord* earlier = FindRecord(&user->second.frames, uuid)) {
            published->set_message_json(
                EchoOf(earlier->payload, p.pm_users, p.exclude_users, p.no_history));
            seen = true;
          }
        }
        if (seen) {
          published->set_duplicate(true);
          continue;
        }
      }
      ++counters_.total_unique_messages;
      EmitToUsers(p.pm_users, p.payload, p.exclude_users, now, out, std::move(p.encoded));
    }
  }
}

absl::Status BrokerState::Publish(const v1::PublishRequest& request, absl::Time now,
                                  v1::PublishResponse* response, Outbox* out) {
  std::vector<PreparedPublication> prepared;
  absl::Status status = PreparePublish(request, now, options_, &prepared, &ids_);
  if (!status.ok()) return status;
  ApplyPublish(prepared, now, response, out);
  return absl::OkStatus();
}

absl::Status BrokerState::EditMessages(const v1::EditMessagesRequest& request, absl::Time now,
                                       v1::EditMessagesResponse* response, Outbox* out) {
  std::vector<Json> messages;
  broker::FieldViolationList violations;
  for (int i = 0; i < request.edits_size(); ++i) {
    const v1::MessageEdit& edit = request.edits(i);
    if (absl::Status s = CheckEditFields(edit); !s.ok()) {
      violations.AddItem(s, "edits", i);
      continue;
    }
    if (static_cast<int64_t>(edit.message_json().size()) > options_.max_payload_bytes)
      return LimitError("max_payload_bytes", "message is larger than the limit");
    absl::StatusOr<Json> message =
        ParseJsonField(edit.message_json(), "message", Json(), options_.max_json_depth);
    if (!message.ok()) {
      violations.AddItem(message.status(), "edits", i);
      continue;
    }
    messages.push_back(std::move(*message));
  }
  if (!violations.empty()) return violations.Build();
  for (int i = 0; i < request.edits_size(); ++i) {
    const v1::MessageEdit& edit = request.edits(i);
    const std::string uuid = common::NormalizeUuid(edit.uuid());
    const std::string edited = NormalTimestamp(edit.edited(), now);
    std::vector<std::string> pm_users = ToVector(edit.pm_users());
    std::vector<std::string> exclude_users;
    // The event starts from the stored original when there is one, else from the request.
    Json event = {{"uuid", uuid},
                  {"channel", edit.channel().empty() ? Json() : Json(edit.channel())},
                  {"user", edit.user()},
                  {"message", messages[i]},
                  {"timestamp", NormalTimestamp(edit.timestamp(), now)}};
    bool found = false;
    auto remember = [&](const Json& stored) {
      if (!found) event = stored;
      found = true;
    };
    if (!edit.channel().empty()) {
      auto channel = channels_.find(edit.channel());
      if (channel != channels_.end()) {
        for (Json& stored : channel->second.history) {
          if (stored.value("uuid", "") != uuid) continue;
          ApplyEdit(edit, messages[i], edited, now, &stored);
          remember(stored);
        }
        if (CatchupRecord* frame = FindRecord(&channel->second.frames, uuid)) {
          ApplyEdit(edit, messages[i], edited, now, &frame->payload);
          remember(frame->payload);
          if (pm_users.empty()) pm_users = frame->only_users;
          exclude_users = frame->exclude_users;
        }
      }
    } else {
      for (const std::string& name : pm_users) {
        auto user = users_.find(name);
        if (user == users_.end()) continue;
        if (CatchupRecord* frame = FindRecord(&user->second.frames, uuid)) {
          ApplyEdit(edit, messages[i], edited, now, &frame->payload);
          remember(frame->payload);
        }
      }
    }
    event["type"] = "message:edit";
    event["catchup"] = false;
    event["edited"] = edited;
    if (!found && !edit.message_json().empty()) event["message"] = messages[i];
    if (!edit.channel().empty()) {
      auto channel = channels_.find(edit.channel());
      if (channel != channels_.end())
        EmitToChannel(channel->second, event, pm_users, exclude_users, now, out);
    } else {
      EmitToUsers(pm_users, event, {}, now, out);
    }
    response->add_messages_json(DumpJson(event));
  }
  return absl::OkStatus();
}

absl::Status BrokerState::DeleteMessages(const v1::DeleteMessagesRequest& request, absl::Time now,
                                         v1::DeleteMessagesResponse* response, Outbox* out) {
  broker::FieldViolationList violations;
  for (int i = 0; i < request.deletes_size(); ++i)
    violations.AddItem(CheckDeleteFields(request.deletes(i)), "deletes", i);
  if (!violations.empty()) return violations.Build();
  for (const v1::MessageDelete& del : request.deletes()) {
    const std::string uuid = common::NormalizeUuid(del.uuid());
    std::vector<std::string> pm_users = ToVector(del.pm_users());
    std::vector<std::string> exclude_users;
    auto is_target = [&](const Json& stored) {
      return stored.value("uuid", "") == uuid && stored.value("type", "") == "message";
    };
    auto remove_frames = [&](CatchupLog* frames) {
      for (auto it = frames->begin(); it != frames->end();) {
        if (is_target(it->payload)) {
          if (pm_users.empty()) pm_users = it->only_users;
          exclude_users = it->exclude_users;
          it = frames->erase(it);
        } else {
          ++it;
        }
      }
    };
    Json event = {{"uuid", uuid},
                  {"channel", del.channel().empty() ? Json() : Json(del.channel())},
                  {"type", "message:delete"},
                  {"timestamp", common::FormatTimestamp(now)},
                  {"catchup", false}};
    if (!del.channel().empty()) {
      auto channel = channels_.find(del.channel());
      if (channel != channels_.end()) {
        auto& history = channel->second.history;
        history.erase(std::remove_if(history.begin(), history.end(), is_target), history.end());
        remove_frames(&channel->second.frames);
        EmitToChannel(channel->second, event, pm_users, exclude_users, now, out);
      }
    } else {
      for (const std::string& name : ToVector(del.pm_users())) {
        auto user = users_.find(name);
        if (user != users_.end()) remove_frames(&user->second.frames);
      }
      EmitToUsers(ToVector(del.pm_users()), event, {}, now, out);
    }
    response->add_messages_json(DumpJson(event));
  }
  return absl::OkStatus();
}

}  // namespace channelstream::broker
