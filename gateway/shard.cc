#include "gateway/shard.h"

#include <boost/asio/post.hpp>

#include "gateway/broker_link.h"
#include "gateway/settings.h"

namespace channelstream::gateway {

namespace asio = boost::asio;

Shard::Shard(size_t index, size_t shard_count, asio::io_context* loop,
             std::shared_ptr<BrokerLink> link, std::shared_ptr<const GatewaySettings> settings)
    : index_(index),
      link_shards_(shard_count),
      loop_(loop),
      link_(std::move(link)),
      settings_(std::move(settings)),
      poller_(*loop),
      drain_timer_(*loop),
      tick_timer_(*loop) {}

void Shard::Push(InboxEvent event) {
  // Deliveries may wait write_delay so that more of them share each client's frame and write
  // (fewer syscalls per delivery, at that much latency); attach results, kicks and stream loss
  // never wait.
  const bool wait = event.kind == InboxEvent::kFrame && settings_->write_delay > 0;
  bool post_now = false, post_delayed = false;
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    inbox_.push_back(std::move(event));
    if (!wait) {
      if (!drain_posted_) post_now = drain_posted_ = true;
    } else if (!drain_posted_ && !delayed_posted_) {
      post_delayed = delayed_posted_ = true;
    }
  }
  // One post per burst: everything that piles up before the loop gets to it is drained together.
  if (post_now) asio::post(*loop_, [self = shared_from_this()] { self->DrainInbox(); });
  if (post_delayed) {
    asio::post(*loop_, [self = shared_from_this()] {
      if (self->stopped_) return;
      self->drain_timer_.expires_after(SteadySeconds(self->settings_->write_delay));
      self->drain_timer_.async_wait([self](const boost::system::error_code& ec) {
        if (!ec && !self->stopped_) self->DrainInbox();
      });
    });
  }
}

void Shard::PostAttachResult(std::shared_ptr<v1::AttachResult> result) {
  Push(InboxEvent{InboxEvent::kAttachResult, nullptr, std::move(result), 0});
}
void Shard::PostFrame(FramePtr frame) {
  Push(InboxEvent{InboxEvent::kFrame, std::move(frame), nullptr, 0});
}
void Shard::PostKick(uint64_t handle) {
  Push(InboxEvent{InboxEvent::kKick, nullptr, nullptr, handle});
}
void Shard::PostStreamLost(uint64_t generation) {
  Push(InboxEvent{InboxEvent::kStreamLost, nullptr, nullptr, generation});
}

void Shard::PostShutdown(std::function<void()> done) {
  asio::post(*loop_, [self = shared_from_this(), done = std::move(done)] {
    self->stopped_ = true;
    self->tick_timer_.cancel();
    self->poller_.Cancel();
    self->drain_timer_.cancel();
    std::vector<std::shared_ptr<Client>> clients;
    clients.reserve(self->clients_.size());
    for (auto& entry : self->clients_) clients.push_back(entry.second);
    for (auto& client : clients) client->OnStreamLost(/*shutting_down=*/true);
    self->EndTurn();
    self->clients_.clear();
    done();
  });
}

void Shard::PostDrain(SteadyTime deadline) {
  asio::post(*loop_, [self = shared_from_this(), deadline] {
    if (self->stopped_) return;
    self->DrainInbox();  // deliveries waiting out write_delay are queued before the close
    std::vector<std::shared_ptr<Client>> clients;
    clients.reserve(self->clients_.size());
    for (auto& entry : self->clients_) clients.push_back(entry.second);
    for (auto& client : clients) client->Drain(deadline);
    self->EndTurn();
  });
}

Client* Shard::Find(uint64_t handle) {
  auto it = clients_.find(handle);
  return it == clients_.end() ? nullptr : it->second.get();
}

void Shard::DrainInbox() {
  {
    std::lock_guard<std::mutex> lock(inbox_mutex_);
    draining_.swap(inbox_);
    drain_posted_ = false;
    delayed_posted_ = false;
  }
  for (InboxEvent& event : draining_) {
    switch (event.kind) {
      case InboxEvent::kFrame: {
        Bump(counters_.deliveries);
        const size_t shards = link_shards_;
        for (uint64_t handle : event.frame->handles) {
          if (handle % shards != index_) continue;
          if (Client* client = Find(handle)) client->OnFrame(event.frame);
        }
        break;
      }
      case InboxEvent::kAttachResult:
        if (Client* client = Find(event.result->handle())) client->OnAttachResult(*event.result);
        break;
      case InboxEvent::kKick:
        if (Client* client = Find(event.value)) client->OnKick();
        break;
      case InboxEvent::kStreamLost: {
        std::vector<Client*> lost;
        for (auto& entry : clients_) {
          if (entry.second->generation() <= event.value) lost.push_back(entry.second.get());
        }
        for (Client* client : lost) client->OnStreamLost(/*shutting_down=*/false);
        break;
      }
    }
  }
  draining_.clear();
  if (draining_.capacity() > 1024) std::vector<InboxEvent>().swap(draining_);
  EndTurn();
}

void Shard::StartTicking() {
  tick_timer_.expires_after(SteadySeconds(settings_->tick_seconds()));
  tick_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped_) return;
    self->Tick();
    self->StartTicking();
  });
}

void Shard::WatchSockets() {
  poller_.AsyncWaitReady([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec || self->stopped_) return;
    self->DispatchSocketEvents();
  });
}

void Shard::DispatchSocketEvents() {
  const bool more = poller_.DispatchReady() == SocketPoller::kMaxBatch;
  EndTurn();  // after the whole batch: sessions closed in it stay valid until here
  if (!more) {
    WatchSockets();
    return;
  }
  // Events left in the set raise no new edge: come back after the loop's other ready work.
  asio::post(*loop_, [self = shared_from_this()] {
    if (!self->stopped_) self->DispatchSocketEvents();
  });
}

void Shard::Tick() {
  const SteadyTime now = std::chrono::steady_clock::now();
  std::vector<Client*> clients;
  clients.reserve(clients_.size());
  for (auto& entry : clients_) clients.push_back(entry.second.get());
  for (Client* client : clients) client->OnTick(now);  // Remove() keeps them alive this turn
  EndTurn();
}

void Shard::Register(uint64_t handle, std::shared_ptr<Client> client) {
  clients_[handle] = std::move(client);
}

void Shard::Remove(uint64_t handle) {
  auto it = clients_.find(handle);
  if (it == clients_.end()) return;
  retired_.push_back(std::move(it->second));
  clients_.erase(it);
}

void Shard::MarkDirty(Client* client) {
  if (client->queued_for_flush) return;
  client->queued_for_flush = true;
  dirty_.push_back(client);
}

void Shard::EndTurn() {
  // Flushing may close a client, which may mark others dirty; loop until settled.
  for (size_t i = 0; i < dirty_.size(); ++i) {
    Client* client = dirty_[i];
    client->queued_for_flush = false;
    client->Flush();
  }
  dirty_.clear();
  retired_.clear();
}

}  // namespace channelstream::gateway
