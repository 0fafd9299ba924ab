// BrokerState <-> durable::State (the snapshot's state message). Conversion only, no I/O.
#include <utility>

#include "absl/strings/str_cat.h"
#include "broker/broker_state.h"
#include "durable_state.pb.h"

namespace channelstream::broker {
namespace {

int64_t ToNanos(absl::Time time) { return absl::ToUnixNanos(time); }
absl::Time FromNanos(int64_t nanos) { return absl::FromUnixNanos(nanos); }

absl::Status Inconsistent(const std::string& what) {
  return absl::DataLossError(absl::StrCat("snapshot state is inconsistent: ", what));
}

absl::StatusOr<Json> ParseStored(const std::string& text, const std::string& what) {
  Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Inconsistent(absl::StrCat(what, " is not valid JSON"));
  return value;
}

void SaveFrames(const CatchupLog& frames, google::protobuf::RepeatedPtrField<durable::Frame>* out) {
  out->Reserve(static_cast<int>(frames.size()));
  for (const CatchupRecord& frame : frames) {
    durable::Frame* saved = out->Add();
    saved->set_seq(frame.seq);
    saved->set_time_unix_nanos(ToNanos(frame.time));
    saved->set_uuid(frame.uuid);
    saved->set_payload_json(DumpJson(frame.payload));
    for (const std::string& user : frame.only_users) saved->add_only_users(user);
    for (const std::string& user : frame.exclude_users) saved->add_exclude_users(user);
  }
}

absl::Status LoadFrames(const google::protobuf::RepeatedPtrField<durable::Frame>& saved,
                        const std::string& owner, CatchupLog* frames) {
  frames->clear();
  for (const durable::Frame& item : saved) {
    CatchupRecord frame;
    frame.seq = item.seq();
    frame.time = FromNanos(item.time_unix_nanos());
    frame.uuid = item.uuid();
    absl::StatusOr<Json> payload = ParseStored(item.payload_json(), absl::StrCat(owner, " frame"));
    if (!payload.ok()) return payload.status();
    frame.payload = *std::move(payload);
    frame.only_users.assign(item.only_users().begin(), item.only_users().end());
    frame.exclude_users.assign(item.exclude_users().begin(), item.exclude_users().end());
    frames->push_back(std::move(frame));
  }
  return absl::OkStatus();
}

}  // namespace

void BrokerState::SaveTo(durable::State* out) const {
  out->Clear();
  out->mutable_users()->Reserve(static_cast<int>(users_.size()));
  for (const auto& [name, user] : users_) {
    durable::User* saved = out->add_users();
    saved->set_name(user.name);
    saved->set_uuid(user.uuid.ToBytes());
    for (const std::string& key : user.public_keys) saved->add_public_keys(key);
    saved->set_last_active_unix_nanos(ToNanos(user.last_active));
    SaveFrames(user.frames, saved->mutable_frames());
    saved->set_frame_seq(user.frame_seq);
    if (!user.state().empty()) saved->set_state_json(DumpJson(user.state()));
    saved->set_epoch(user.epoch);
    saved->set_trimmed_through(user.trimmed_through);
  }
  out->mutable_connections()->Reserve(static_cast<int>(connections_.size()));
  for (const auto& [id, conn] : connections_) {
    durable::Connection* saved = out->add_connections();
    saved->set_id(id.ToBytes());
    saved->set_user(conn.user);
    for (const auto& [channel, seen] : conn.channels) {
      durable::SeenMark* mark = saved->add_channels();
      mark->set_channel(channel);
      mark->set_seq(seen);
    }
    saved->set_last_active_unix_nanos(ToNanos(conn.last_active));
    for (const Attachment& attachment : conn.attachments) {
      durable::Attachment* a = saved->add_attachments();
      a->set_gateway(attachment.gateway);
      a->set_handle(attachment.handle);
    }
    saved->set_seen_user_seq(conn.seen_user_seq);
    if (conn.pending_since != nullptr)
      saved->mutable_pending_since()->Add(conn.pending_since->begin(), conn.pending_since->end());
  }
  out->mutable_channels()->Reserve(static_cast<int>(channels_.size()));
  for (const auto& [name, channel] : channels_) {
    durable::Channel* saved = out->add_channels();
    saved->set_name(channel.name);
    saved->set_uuid(channel.uuid);
    saved->set_long_name(channel.long_name);
    *saved->mutable_settings() = channel.settings;
    for (const Json& message : channel.history) saved->add_history_json(DumpJson(message));
    SaveFrames(channel.frames, saved->mutable_frames());
    saved->set_seq(channel.seq);
    saved->set_last_active_unix_nanos(ToNanos(channel.last_active));
    saved->set_epoch(channel.epoch);
    saved->set_trimmed_through(channel.trimmed_through);
  }
  for (const auto& [id, gateway] : gateways_) {
    durable::Gateway* saved = out->add_gateways();
    saved->set_id(id);
    saved->set_name(gateway.name);
    // The handle map is unordered: sort so equal states give equal snapshots.
    std::map<uint64_t, common::Uuid> handles(gateway.handles.begin(), gateway.handles.end());
    for (const auto& [handle, conn_id] : handles) {
      durable::GatewayHandle* h = saved->add_handles();
      h->set_handle(handle);
      h->set_conn_id(conn_id.ToBytes());
    }
  }
  out->set_next_gateway(next_gateway_);
  out->set_total_messages(counters_.total_messages);
  out->set_total_unique_messages(counters_.total_unique_messages);
}

absl::Status BrokerState::LoadFrom(const durable::State& in) {
  users_.clear();
  connections_.clear();
  channels_.clear();
  gateways_.clear();

  for (const durable::User& saved : in.users()) {
    UserRecord& user = users_[saved.name()];
    user.name = saved.name();
    if (!common::Uuid::FromBytes(saved.uuid(), &user.uuid))
      return Inconsistent(absl::StrCat("user '", saved.name(), "' has no valid uuid"));
    user.public_keys.assign(saved.public_keys().begin(), saved.public_keys().end());
    user.last_active = FromNanos(saved.last_active_unix_nanos());
    if (absl::Status s = LoadFrames(saved.frames(), "user " + saved.name(), &user.frames); !s.ok())
      return s;
    user.frame_seq = saved.frame_seq();
    if (!saved.state_json().empty()) {
      absl::StatusOr<Json> state = ParseStored(saved.state_json(), "user state");
      if (!state.ok()) return state.status();
      user.set_state(*std::move(state));
    }
    user.epoch = saved.epoch();
    user.trimmed_through = saved.trimmed_through();
  }
  for (const durable::Channel& saved : in.channels()) {
    ChannelRecord& channel = channels_[saved.name()];
    channel.name = saved.name();
    channel.uuid = saved.uuid();
    channel.long_name = saved.long_name();
    channel.settings = saved.settings();
    for (const std::string& text : saved.history_json()) {
      absl::StatusOr<Json> message = ParseStored(text, "channel history");
      if (!message.ok()) return message.status();
      channel.history.push_back(*std::move(message));
    }
    if (absl::Status s = LoadFrames(saved.frames(), "channel " + saved.name(), &channel.frames);
        !s.ok())
      return s;
    channel.seq = saved.seq();
    channel.last_active = FromNanos(saved.last_active_unix_nanos());
    channel.epoch = saved.epoch();
    channel.trimmed_through = saved.trimmed_through();
  }
  for (const durable::Connection& saved : in.connections()) {
    common::Uuid id;
    if (!common::Uuid::FromBytes(saved.id(), &id))
      return Inconsistent("a connection has no valid id");
    auto user = users_.find(saved.user());
    if (user == users_.end())
      return Inconsistent(
          absl::StrCat("connection ", id.ToString(), " names unknown user '", saved.user(), "'"));
    ConnectionRecord& conn = connections_[id];
    conn.id = id;
    conn.user = saved.user();
    conn.last_active = FromNanos(saved.last_active_unix_nanos());
    conn.seen_user_seq = saved.seen_user_seq();
    if (saved.pending_since_size() > 0)
      conn.pending_since = std::make_shared<const std::vector<v1::Position>>(
          saved.pending_since().begin(), saved.pending_since().end());
    for (const durable::Attachment& a : saved.attachments())
      conn.attachments.push_back({a.gateway(), a.handle()});
    user->second.conn_ids.insert(id);
    for (const durable::SeenMark& mark : saved.channels()) {
      auto channel = channels_.find(mark.channel());
      if (channel == channels_.end())
        return Inconsistent(absl::StrCat("connection ", id.ToString(), " names unknown channel '",
                                         mark.channel(), "'"));
      conn.channels.try_emplace(mark.channel(), mark.seq());
      channel->second.conn_ids.insert(id);
      ++channel->second.user_connections[conn.user];
    }
  }
  for (const durable::Gateway& saved : in.gateways()) {
    GatewayRecord& gateway = gateways_[saved.id()];
    gateway.name = saved.name();
    for (const durable::GatewayHandle& h : saved.handles()) {
      common::Uuid conn_id;
      if (!common::Uuid::FromBytes(h.conn_id(), &conn_id) || connections_.count(conn_id) == 0)
        return Inconsistent(absl::StrCat("gateway ", saved.id(), " names an unknown connection"));
      gateway.handles[h.handle()] = conn_id;
    }
  }
  next_gateway_ = std::max<uint64_t>(in.next_gateway(), 1);
  counters_.total_messages = in.total_messages();
  counters_.total_unique_messages = in.total_unique_messages();
  return absl::OkStatus();
}

}  // namespace channelstream::broker
