// The broker's in-memory records: users, connections, channels, catch-up frames, and what a
// mutation hands to the gateways. Plain data; BrokerState owns the rules.
#pragma once

#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/time/time.h"
#include "broker/json_fields.h"
#include "broker/small_name_map.h"
#include "channelstream.pb.h"
#include "common/ids.h"

namespace channelstream::broker {

// Per-record maps and sets keyed by names or ids: B-trees pack many entries per node, where a
// std::map spends a ~48-byte tree node per entry on every connection, user and channel.
template <typename Value>
using NameMap = absl::btree_map<std::string, Value>;
// Connection ids in binary form: 16 bytes per entry instead of a string and its heap copy.
using ConnIdSet = absl::btree_set<common::Uuid>;

// One event kept for catch-up. `payload` is the client-visible object (edits update it);
// only_users / exclude_users repeat the publication's recipient filter.
struct CatchupRecord {
  uint64_t seq = 0;
  absl::Time time;
  std::string uuid;
  Json payload;
  std::vector<std::string> only_users;
  std::vector<std::string> exclude_users;

  bool VisibleTo(const std::string& user) const;
};

// Catch-up records of one channel or user, oldest first. A list, because an empty std::deque
// still allocates ~600 bytes and every user has one of these.
using CatchupLog = std::list<CatchupRecord>;

struct ChannelRecord {
  std::string name;
  std::string uuid;
  std::string long_name;
  v1::ChannelSettings settings;
  std::deque<Json> history;  // client-visible message objects, oldest first
  CatchupLog frames;
  uint64_t seq = 0;   // last sequence number handed out in this channel (its offset)
  std::string epoch;  // names this incarnation of the channel's history (see v1::Position)
  uint64_t trimmed_through = 0;  // frames up to here left the window (deleted ones do not count)
  ConnIdSet conn_ids;
  NameMap<int> user_connections;  // username -> subscribed connections
  absl::Time last_active;
};

struct UserRecord {
  std::string name;
  common::Uuid uuid;
  std::vector<std::string> public_keys;
  ConnIdSet conn_ids;
  absl::Time last_active;
  CatchupLog frames;       // private messages, for catch-up
  uint64_t frame_seq = 0;  // the private stream's offset
  std::string epoch;       // of the private stream
  uint64_t trimmed_through = 0;

  Json PublicState() const;
  // The state object. Held as null while empty: an empty nlohmann object still allocates its
  // map, and most users never set any state.
  const Json& state() const;
  void set_state(Json state) { state_ = state.empty() ? Json() : std::move(state); }

 private:
  Json state_;
};

// A client socket on a gateway stream.
struct Attachment {
  uint64_t gateway = 0;
  uint64_t handle = 0;
};

struct ConnectionRecord {
  common::Uuid id;
  std::string user;
  // Subscribed channels, each with the last sequence number the connection has been given:
  // frames above it are its catch-up. One map for both, the first entry inline.
  SmallNameMap<uint64_t> channels;
  absl::Time last_active;
  // Empty: idle, counting towards gc_conns_after. Usually one socket, held inline.
  absl::InlinedVector<Attachment, 1> attachments;
  uint64_t seen_user_seq = 0;  // the same mark for the user's private frames
  // Positions presented on /connect, applied at the next attach (rarely set: no vector inline).
  std::shared_ptr<const std::vector<v1::Position>> pending_since;
};

struct GatewayRecord {
  std::string name;
  absl::flat_hash_map<uint64_t, common::Uuid> handles;  // handle -> conn_id
};

// What one mutation sends to one gateway: a delivery for some of its handles, or a kick.
struct Outbound {
  enum class Kind { kDelivery, kKick };
  Kind kind = Kind::kDelivery;
  uint64_t gateway = 0;
  std::shared_ptr<const std::string> payload_json;  // shared by every gateway of one event
  std::vector<uint64_t> handles;                    // kick: exactly one
  std::string channel;
  uint64_t seq = 0;
  bool catchup = false;  // catch-up that did not fit the AttachResult
};

using Outbox = std::vector<Outbound>;

}  // namespace channelstream::broker
