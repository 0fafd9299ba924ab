// Gateway attachments, catch-up and garbage collection.
#include <algorithm>
#include <map>
#include <tuple>

#include "broker/broker_state.h"
#include "broker/catchup.h"
#include "common/ids.h"
#include "common/metrics.h"

namespace channelstream::broker {

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

v1::AttachResult BrokerState::Attach(uint64_t gateway, const v1::Attach& attach, absl::Time now,
                                     Outbox* out) {
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

  if (!attach.catchup()) {
    // Live from here on: nothing older is due to this socket, presented positions included.
    conn.pending_since.reset();
    for (auto& [name, seen] : conn.channels) seen = channels_.at(name).seq;
    conn.seen_user_seq = user.frame_seq;
    return result;
  }
  // The streams this connection reads, each resuming after the connection's mark or after the
  // position the client presented (on this attach, or on /connect before it).
  std::vector<CatchupStream> streams;
  streams.reserve(conn.channels.size() + 1);
  for (const auto& [name, seen] : conn.channels) {
    ChannelRecord& channel = channels_.at(name);
    TrimFrames(&channel.frames, &channel.trimmed_through, now);  // the window as of now
    CatchupStream& stream = streams.emplace_back();
    stream.channel = name;
    stream.frames = &channel.frames;
    stream.epoch = channel.epoch;
    stream.offset = channel.seq;
    stream.trimmed_through = channel.trimmed_through;
    stream.resume_after = seen;
  }
  {
    TrimFrames(&user.frames, &user.trimmed_through, now);
    CatchupStream& stream = streams.emplace_back();  // private messages: channel empty
    stream.frames = &user.frames;
    stream.epoch = user.epoch;
    stream.offset = user.frame_seq;
    stream.trimmed_through = user.trimmed_through;
    stream.resume_after = conn.seen_user_seq;
  }
  auto present = [&streams](const v1::Position& position) {
    for (CatchupStream& stream : streams) {
      if (stream.channel != position.channel()) continue;
      stream.presented = true;
      stream.presented_offset = position.offset();
      stream.presented_epoch = position.epoch();
    }
  };
  if (conn.pending_since != nullptr) {
    for (const v1::Position& position : *conn.pending_since) present(position);
    conn.pending_since.reset();
  }
  for (const v1::Position& position : attach.since()) present(position);

  CatchupPlan plan =
      PlanCatchup(streams, conn.user, static_cast<size_t>(options_.max_catchup_bytes));
  static common::Histogram* catchup_sizes = common::GlobalMetrics().GetHistogram(
      "channelstream_catchup_frames", "Frames sent as catch-up when a client attaches.",
      {0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000});
  catchup_sizes->Observe(static_cast<double>(plan.items.size()));
  // The marks start where the client is; the gateway reports how far it got (Detach marks).
  size_t i = 0;
  for (auto& [name, seen] : conn.channels) seen = plan.resume_after[i++];
  conn.seen_user_seq = plan.resume_after.back();

  // The first chunk rides in the AttachResult; the rest follows as deliveries to this handle, so
  // no stream message outgrows catchup_chunk_bytes (one item may be up to two payloads).
  const size_t chunk = static_cast<size_t>(options_.catchup_chunk_bytes);
  std::map<int, uint64_t> first_marks;
  size_t used = 0, item = 0;
  for (; item < plan.items.size(); ++item) {
    if (item > 0 && used + plan.items[item].size() > chunk) break;
    used += plan.items[item].size();
    uint64_t& mark = first_marks[plan.item_marks[item].first];
    mark = std::max(mark, plan.item_marks[item].second);
    result.add_catchup_json(std::move(plan.items[item]));
  }
  for (const auto& [stream, mark] : first_marks) {
    v1::ChannelMark* catchup_mark = result.add_catchup_marks();
    catchup_mark->set_channel(streams[stream].channel);
    catchup_mark->set_seq(mark);
  }
  for (; item < plan.items.size(); ++item) {
    Outbound delivery;
    delivery.gateway = gateway;
    delivery.payload_json = std::make_shared<const std::string>(std::move(plan.items[item]));
    delivery.handles = {attach.handle()};
    delivery.channel = streams[plan.item_marks[item].first].channel;
    delivery.seq = plan.item_marks[item].second;
    delivery.catchup = true;
    out->push_back(std::move(delivery));
  }
  return result;
}

void BrokerState::Detach(uint64_t gateway, uint64_t handle, absl::Time now,
                         const v1::Detach* marks) {
  auto gw = gateways_.find(gateway);
  if (gw == gateways_.end()) return;
  auto named = gw->second.handles.find(handle);
  if (named == gw->second.handles.end()) return;
  const common::Uuid conn_id = named->second;
  gw->second.handles.erase(named);
  auto it = connections_.find(conn_id);
  if (it == connections_.end()) return;
  ConnectionRecord& conn = it->second;
  conn.attachments.erase(std::remove_if(conn.attachments.begin(), conn.attachments.end(),
                                        [&](const Attachment& a) {
                                          return a.gateway == gateway && a.handle == handle;
                                        }),
                         conn.attachments.end());
  UserRecord& user = users_.at(conn.user);
  if (marks != nullptr && marks->has_delivered()) {
    // Only what the client got counts as seen: the attach set the marks where the client was,
    // the gateway reports how far its writes got. Without marks (the gateway stream ended) the
    // frames routed since stay due: a client that presents its positions resumes exactly.
    for (const v1::ChannelMark& mark : marks->delivered().marks()) {
      if (mark.channel().empty()) {
        conn.seen_user_seq = std::max(conn.seen_user_seq, std::min(mark.seq(), user.frame_seq));
        continue;
      }
      auto seen = conn.channels.find(mark.channel());
      if (seen != conn.channels.end())
        seen->second =
            std::max(seen->second, std::min(mark.seq(), channels_.at(mark.channel()).seq));
    }
  }
  conn.last_active = now;
  user.last_active = now;
}

void BrokerState::CollectGarbage(absl::Time now, Outbox* out) {
  std::vector<common::Uuid> idle;
  for (const auto& [id, conn] : connections_) {
    if (conn.attachments.empty() && now - conn.last_active >= options_.gc_conns_after)
      idle.push_back(id);
  }
  for (const common::Uuid& id : idle) RemoveConnection(id, now, /*kick=*/false, out);
  for (auto it = users_.begin(); it != users_.end();) {
    if (it->second.conn_ids.empty() && now - it->second.last_active >= options_.gc_users_after) {
      it = users_.erase(it);
    } else {
      TrimFrames(&it->second.frames, &it->second.trimmed_through, now);
      ++it;
    }
  }
  for (auto it = channels_.begin(); it != channels_.end();) {
    if (it->second.conn_ids.empty() && now - it->second.last_active >= options_.gc_channels_after) {
      it = channels_.erase(it);
    } else {
      TrimFrames(&it->second.frames, &it->second.trimmed_through, now);
      ++it;
    }
  }
}

}  // namespace channelstream::broker
