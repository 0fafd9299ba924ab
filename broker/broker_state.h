// The whole Channelstream state model: users, connections, channels, history, catch-up frames,
// presence and routing to gateways. Plain C++: no threads, no sockets, no clock — every mutating
// call takes `now`, and every event leaves as Outbound items (one per gateway with recipients,
// the payload encoded once and shared). The gRPC service wraps this under one mutex.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "broker/broker_options.h"
#include "broker/id_source.h"
#include "broker/records.h"
#include "channelstream.pb.h"

namespace channelstream::durable {
class State;
}  // namespace channelstream::durable

namespace channelstream::broker {

// A publication validated and encoded without touching the state, so the gRPC service can do
// this work outside its lock (PreparePublish) and only route under it (ApplyPublish).
struct PreparedPublication {
  std::string channel;  // empty: private message
  std::vector<std::string> pm_users;
  std::vector<std::string> exclude_users;
  bool no_history = false;
  Json payload;             // the client-visible object
  std::string encoded;      // payload, encoded once (position keys added when routed)
  bool uuid_given = false;  // a retried publication may repeat it
  std::string echo_json;    // what Publish answers for it
};

struct BrokerCounters {
  int64_t total_messages = 0;         // deliveries, counted per recipient connection
  int64_t total_unique_messages = 0;  // publications accepted
};

class BrokerState {
 public:
  BrokerState(BrokerOptions options, absl::Time start);

  absl::Status Connect(const v1::ConnectRequest& request, absl::Time now,
                       v1::ConnectResponse* response, Outbox* out);
  absl::Status Subscribe(const v1::SubscribeRequest& request, absl::Time now,
                         v1::SubscribeResponse* response, Outbox* out);
  absl::Status Unsubscribe(const v1::UnsubscribeRequest& request, absl::Time now,
                           v1::UnsubscribeResponse* response, Outbox* out);
  absl::Status SetUserState(const v1::UserStateRequest& request, absl::Time now,
                            v1::UserStateResponse* response, Outbox* out);
  absl::Status Publish(const v1::PublishRequest& request, absl::Time now,
                       v1::PublishResponse* response, Outbox* out);
  // Publish in two steps: the first needs no state (items with neither channel nor pm_users
  // are dropped there), the second stores and routes.
  // `ids` (optional) supplies the message uuids it creates; null draws random ones.
  static absl::Status PreparePublish(const v1::PublishRequest& request, absl::Time now,
                                     const BrokerOptions& options,
                                     std::vector<PreparedPublication>* prepared,
                                     IdSource* ids = nullptr);
  void ApplyPublish(std::vector<PreparedPublication>& prepared, absl::Time now,
                    v1::PublishResponse* response, Outbox* out);
  absl::Status EditMessages(const v1::EditMessagesRequest& request, absl::Time now,
                            v1::EditMessagesResponse* response, Outbox* out);
  absl::Status DeleteMessages(const v1::DeleteMessagesRequest& request, absl::Time now,
                              v1::DeleteMessagesResponse* response, Outbox* out);
  absl::Status SetChannelConfig(const v1::ChannelConfigRequest& request, absl::Time now,
                                v1::ChannelConfigResponse* response);
  // One page of channels, then users (see InfoRequest); INVALID_ARGUMENT for a bad limit/cursor.
  absl::Status Info(const v1::InfoRequest& request, v1::InfoResponse* response) const;
  // True when the connection existed. Kicks its client sockets, emits `parted` where due.
  bool Disconnect(const std::string& conn_id, absl::Time now, Outbox* out);
  // The counts, and one page of channels, then users (same paging as Info).
  absl::Status AdminInfo(const v1::AdminInfoRequest& request, absl::Time now,
                         v1::AdminInfoResponse* response) const;

  // Gateways: each stream is registered once; attachments name client sockets by handle.
  uint64_t AddGateway(const std::string& name);
  // The stream ended: its attachments are dropped, the connections start idling.
  void RemoveGateway(uint64_t gateway, absl::Time now);
  // Attaches a client socket; with catchup, returns frames the connection has not seen yet.
  // Catch-up past the AttachResult's chunk (catchup_chunk_bytes) is added to `out` as deliveries
  // to the same handle, to be sent right after the result.
  v1::AttachResult Attach(uint64_t gateway, const v1::Attach& attach, absl::Time now, Outbox* out);
  // `marks` (optional) are the client's delivered channel sequence numbers (see v1::Detach).
  void Detach(uint64_t gateway, uint64_t handle, absl::Time now, const v1::Detach* marks = nullptr);

  // Gateway streams currently registered.
  size_t gateway_count() const { return gateways_.size(); }
  const std::map<uint64_t, GatewayRecord>& gateways() const { return gateways_; }

  // Removes idle connections (emitting `parted`), forgotten users, empty channels, old frames.
  void CollectGarbage(absl::Time now, Outbox* out);

  // Introspection (tests, admin).
  const std::map<std::string, UserRecord>& users() const { return users_; }
  const std::map<common::Uuid, ConnectionRecord>& connections() const { return connections_; }
  const std::map<std::string, ChannelRecord>& channels() const { return channels_; }
  const BrokerCounters& counters() const { return counters_; }
  const BrokerOptions& options() const { return options_; }

  // Every random id this state creates comes from here (recorded / replayed by the journal).
  IdSource& ids() { return ids_; }

  // The whole state as a snapshot message and back (broker/broker_state_codec.cc). Load replaces
  // everything the state holds; the indexes (channel and user conn_ids, per-user counts) are
  // rebuilt from the connections. Errors name what is inconsistent.
  void SaveTo(durable::State* state) const;
  absl::Status LoadFrom(const durable::State& state);

 private:
  absl::Status ValidateChannelNames(const google::protobuf::RepeatedPtrField<std::string>& names,
                                    const std::string& field) const;
  absl::Status ValidateChannelConfig(const v1::ChannelConfig& config) const;
  absl::Status ValidatePositions(const google::protobuf::RepeatedPtrField<v1::Position>& positions,
                                 const std::string& field) const;
  ChannelRecord& GetOrCreateChannel(const std::string& name, const v1::ChannelConfig* config,
                                    absl::Time now);
  void ApplyChannelConfig(const v1::ChannelConfig& config, ChannelRecord* channel);
  // Adds / removes one channel of a connection with presence. Subscribe returns false when the
  // connection already had it.
  bool SubscribeConnection(ConnectionRecord& conn, const std::string& channel_name,
                           const v1::ChannelConfig* config, absl::Time now, Outbox* out);
  bool UnsubscribeConnection(ConnectionRecord& conn, const std::string& channel_name,
                             absl::Time now, Outbox* out);
  void RemoveConnection(const common::Uuid& conn_id, absl::Time now, bool kick, Outbox* out);
  // The connection named by `conn_id` as text (any case); end() when unknown or not a UUID.
  std::map<common::Uuid, ConnectionRecord>::iterator FindConnection(const std::string& conn_id);
  void EmitPresence(ChannelRecord& channel, const std::string& user, const char* action,
                    absl::Time now, Outbox* out);

  // Sends one event to the channel's connections that pass the filter; stores a frame when the
  // channel keeps frames. Returns the event's sequence number.
  uint64_t EmitToChannel(ChannelRecord& channel, const Json& payload,
                         const std::vector<std::string>& only_users,
                         const std::vector<std::string>& exclude_users, absl::Time now, Outbox* out,
                         std::string encoded = "");
  // Sends one event to every connection of each user (private messages), storing user frames.
  // `encoded` (optional) is the payload already serialized; the position keys are added here.
  void EmitToUsers(const std::vector<std::string>& users, const Json& payload,
                   const std::vector<std::string>& exclude_users, absl::Time now, Outbox* out,
                   std::string encoded = "");
  // Groups the attached sockets of these connections by gateway, one Outbound per gateway.
  void Route(const std::vector<const ConnectionRecord*>& recipients,
             const std::shared_ptr<const std::string>& payload, const std::string& channel,
             uint64_t seq, Outbox* out);
  // Drops frames past catchup_frames or catchup_max_age; `trimmed_through` records how far the
  // window moved (a deleted message leaves a hole, not a moved window).
  void TrimFrames(CatchupLog* frames, uint64_t* trimmed_through, absl::Time now) const;

  // The channels Info selects: every channel or the named ones, less the excluded ones.
  struct ChannelSelection {
    bool all = false;
    std::set<std::string> named;
    std::set<std::string> excluded;
    bool Contains(const std::string& name) const;
  };

  void FillChannelsInfo(const std::vector<std::string>& names, const v1::InfoOptions& options,
                        v1::ChannelsInfo* info) const;
  // Lists that would take the entry past max_bytes are cut and the entry marked truncated.
  void FillChannelInfo(const ChannelRecord& channel, bool include_history, bool include_users,
                       bool include_connections, v1::ChannelInfo* info, size_t max_bytes) const;
  void FillUserInfo(const UserRecord& user, bool public_state, v1::UserInfo* info) const;
  void FillAdminUser(const UserRecord& user, v1::AdminUser* entry, size_t max_bytes) const;
  // Whether one of the user's connections is subscribed to a selected channel.
  bool InSelectedChannel(const UserRecord& user, const ChannelSelection& selection) const;

  BrokerOptions options_;
  absl::Time start_;
  std::map<std::string, UserRecord> users_;
  std::map<common::Uuid, ConnectionRecord> connections_;
  std::map<std::string, ChannelRecord> channels_;
  std::map<uint64_t, GatewayRecord> gateways_;
  uint64_t next_gateway_ = 1;
  BrokerCounters counters_;
  IdSource ids_;
};

}  // namespace channelstream::broker
