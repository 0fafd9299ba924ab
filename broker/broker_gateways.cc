// Gateway attachments, catch-up and garbage collection.
#include <algorithm>
#include <tuple>

#include "common/metrics.h"
#include "broker/broker_state.h"
#include "common/ids.h"

namespace channelstream {

uint64_t BrokerState::AddGateway(const std::string& name) {
  const uint64_t id = next_gateway_++;
  gateways_[id].name = name;
  return id;
}

void BrokerState::RemoveGateway(uint64_t gateway, absl::Time now) {
  auto it = gateways_.find(gateway);
  if (it == gateways_.end()) return;
  std::vector<uint64_t> handles;
  for (const auto& [handle, conn_id] : it->second.handles) handles.push_back(handle);
  for (uint64_t handle : handles) Detach(gateway, handle, now);
  gateways_.erase(gateway);
}

v1::AttachResult BrokerState::Attach(uint64_t gateway, const v1::Attach& attach, absl::Time now) {
  v1::AttachResult result;
  result.set_handle(attach.handle());
  auto gw = gateways_.find(gateway);
  auto it = FindConnection(attach.conn_id());
  if (gw == gateways_.end() || it == connections_.end()) return result;
  // A reused handle replaces whatever it named before.
  if (gw->second.handles.count(attach.handle()) != 0) Detach(gateway, attach.handle(), now);
  ConnectionRecord& conn = it->second;
  result.set_found(true);
  result.set_username(conn.user);
  conn.attachments.push_back({gateway, attach.handle()});
  gw->second.handles[attach.handle()] = conn.id;
  conn.last_active = now;
  UserRecord& user = users_.at(conn.user);
  user.last_active = now;

  if (attach.catchup()) {
    // Everything newer than the connection's marks, oldest first.
    std::vector<std::tuple<absl::Time, int, uint64_t, const Json*>> frames;
    int source = 0;
    const absl::Time oldest = now - options_.catchup_max_age;
    for (const auto& [name, seen] : conn.channels) {
      const ChannelRecord& channel = channels_.at(name);
      for (const Frame& frame : channel.frames) {
        if (frame.seq > seen && frame.time >= oldest && frame.VisibleTo(conn.user))
          frames.emplace_back(frame.time, source, frame.seq, &frame.payload);
      }
      ++source;
    }
    for (const Frame& frame : user.frames) {
      if (frame.seq > conn.seen_user_seq && frame.time >= oldest)
        frames.emplace_back(frame.time, source, frame.seq, &frame.payload);
    }
    std::stable_sort(frames.begin(), frames.end(), [](const auto& a, const auto& b) {
      return std::tie(std::get<0>(a), std::get<1>(a), std::get<2>(a)) <
             std::tie(std::get<0>(b), std::get<1>(b), std::get<2>(b));
    });
    static Histogram* catchup_sizes = GlobalMetrics().GetHistogram(
        "channelstream_catchup_frames", "Frames sent as catch-up when a client attaches.",
        {0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000});
    catchup_sizes->Observe(static_cast<double>(frames.size()));
    for (const auto& frame : frames) {
      Json copy = *std::get<3>(frame);
      copy["catchup"] = true;
      result.add_catchup_json(DumpJson(copy));
    }
  }
  // From here on the connection receives live deliveries.
  for (auto& [name, seen] : conn.channels) seen = channels_.at(name).seq;
  conn.seen_user_seq = user.frame_seq;
  return result;
}

void BrokerState::Detach(uint64_t gateway, uint64_t handle, absl::Time now, const v1::Detach* marks) {
  auto gw = gateways_.find(gateway);
  if (gw == gateways_.end()) return;
  auto named = gw->second.handles.find(handle);
  if (named == gw->second.handles.end()) return;
  const Uuid conn_id = named->second;
  gw->second.handles.erase(named);
  auto it = connections_.find(conn_id);
  if (it == connections_.end()) return;
  ConnectionRecord& conn = it->second;
  conn.attachments.erase(std::remove_if(conn.attachments.begin(), conn.attachments.end(),
                                        [&](const Attachment& a) {
                                          return a.gateway == gateway && a.handle == handle;
                                        }),
                         conn.attachments.end());
  if (marks != nullptr && marks->has_marks()) {
    // Only what the client got counts as seen: the attach set the marks, live frames since then
    // advance them as far as the gateway delivered.
    for (const v1::ChannelMark& mark : marks->delivered()) {
      auto seen = conn.channels.find(mark.channel());
      if (seen != conn.channels.end()) seen->second = std::max(seen->second, mark.seq());
    }
  } else {
    // Everything up to now was routed to the socket; catch-up resumes after it.
    for (auto& [name, seen] : conn.channels) seen = channels_.at(name).seq;
  }
  UserRecord& user = users_.at(conn.user);
  conn.seen_user_seq = user.frame_seq;
  conn.last_active = now;
  user.last_active = now;
}

void BrokerState::CollectGarbage(absl::Time now, Outbox* out) {
  std::vector<Uuid> idle;
  for (const auto& [id, conn] : connections_) {
    if (conn.attachments.empty() && now - conn.last_active >= options_.gc_conns_after)
      idle.push_back(id);
  }
  for (const Uuid& id : idle) RemoveConnection(id, now, /*kick=*/false, out);
  for (auto it = users_.begin(); it != users_.end();) {
    if (it->second.conn_ids.empty() && now - it->second.last_active >= options_.gc_users_after) {
      it = users_.erase(it);
    } else {
      TrimFrames(&it->second.frames, now);
      ++it;
    }
  }
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (it->second.conn_ids.empty() && now - it->second.last_active >= options_.gc_channels_after) {
      it = channels_.erase(it);
    } else {
      TrimFrames(&it->second.frames, now);
      ++it;
    }
  }
}

}  // namespace channelstream
