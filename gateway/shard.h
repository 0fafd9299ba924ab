// Per-event-loop gateway state: the clients whose sockets live on this loop, by handle, touched
// only from the loop's own thread (no lock on the delivery path). The broker reader thread
// drops events into the shard's inbox; one posted task drains everything that piled up, and
// the frames queued for a client during that turn leave in one write at its end (corking).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "channelstream.pb.h"
#include "common/http_server.h"
#include "gateway/frame.h"
#include "gateway/socket_poller.h"
#include "gateway/steady_time.h"

namespace channelstream::gateway {

class BrokerLink;
struct GatewaySettings;

// A client attached to the broker through this gateway: a WebSocket or a long poll.
class Client {
 public:
  virtual ~Client() = default;
  virtual void OnAttachResult(const v1::AttachResult& result) = 0;
  virtual void OnFrame(const FramePtr& frame) = 0;
  // The broker removed the connection.
  virtual void OnKick() = 0;
  // The broker stream this client was attached through is gone (or the gateway stops).
  virtual void OnStreamLost(bool shutting_down) = 0;
  // The gateway drains (SIGTERM): finish what is queued, then close as the server going away,
  // detaching as on any close. Leave by `deadline` at the latest.
  virtual void Drain(SteadyTime deadline) = 0;
  virtual void OnTick(SteadyTime now) = 0;
  // Writes what was queued during this turn (only called for clients marked dirty).
  virtual void Flush() {}
  uint64_t generation() const { return generation_; }
  bool queued_for_flush = false;  // owned by Shard::MarkDirty/EndTurn

 protected:
  uint64_t generation_ = 0;  // the broker stream it is attached through
};

// Counters, written only by the shard's own thread (relaxed atomics, so readers see them).
struct ShardCounters {
  std::atomic<uint64_t> deliveries{0};     // Delivery messages processed
  std::atomic<uint64_t> frames_queued{0};  // frames queued to WebSocket clients
  std::atomic<uint64_t> slow_consumer_closes{0};
  std::atomic<uint64_t> websockets{0};  // currently registered
  std::atomic<uint64_t> long_polls{0};
  std::atomic<uint64_t> bytes_out{
      0};  // bytes written to clients (WebSocket frames, long-poll bodies)
};

inline void Bump(std::atomic<uint64_t>& counter, int64_t delta = 1) {
  counter.store(counter.load(std::memory_order_relaxed) + delta, std::memory_order_relaxed);
}

class Shard : public std::enable_shared_from_this<Shard> {
 public:
  Shard(size_t index, size_t shard_count, boost::asio::io_context* loop,
        std::shared_ptr<BrokerLink> link, std::shared_ptr<const GatewaySettings> settings);

  size_t index() const { return index_; }
  boost::asio::io_context& loop() { return *loop_; }
  BrokerLink& link() { return *link_; }
  const GatewaySettings& settings() const { return *settings_; }
  ShardCounters& counters() { return counters_; }
  // The epoll set of this loop's WebSocket fds (see socket_poller.h).
  SocketPoller& poller() { return poller_; }
  uint8_t* read_buffer() { return read_buffer_; }
  // The HTTP server's open-connection count: a WebSocket taken over from it gives its slot back
  // here when its socket closes (see HttpServer's max_connections).
  void set_connection_gauge(common::ConnectionGauge* gauge) { connection_gauge_ = gauge; }
  void ReleaseConnection() {
    if (connection_gauge_ != nullptr) connection_gauge_->Release();
  }
  static constexpr size_t kReadBufferBytes = 16 * 1024;

  // --- any thread (the broker reader) ---
  void PostAttachResult(std::shared_ptr<v1::AttachResult> result);
  void PostFrame(FramePtr frame);
  void PostKick(uint64_t handle);
  void PostStreamLost(uint64_t generation);
  // Closes every client and stops the tick; `done` runs on the loop afterwards.
  void PostShutdown(std::function<void()> done);
  // Queues deliveries already received, then drains every client (Client::Drain).
  void PostDrain(SteadyTime deadline);
  // WebSockets and long polls registered on this loop, not yet closed.
  uint64_t open_clients() {
    return counters_.websockets.load(std::memory_order_relaxed) +
           counters_.long_polls.load(std::memory_order_relaxed);
  }

  // --- the loop's own thread ---
  bool stopped() const { return stopped_; }
  void StartTicking();
  // Serves the poller's socket events until shutdown.
  void WatchSockets();
  void Register(uint64_t handle, std::shared_ptr<Client> client);
  // Drops the client from the map; it is kept alive until the end of the turn (so a socket event
  // batch may still hold it: EndTurn runs only after the whole batch).
  void Remove(uint64_t handle);
  // Queue `client` for one Flush() at the end of this turn.
  void MarkDirty(Client* client);
  // Ends a turn: flushes dirty clients, releases removed ones. Every entry point calls it.
  void EndTurn();

 private:
  common::ConnectionGauge* connection_gauge_ = nullptr;
  struct InboxEvent {
    enum Kind { kAttachResult, kFrame, kKick, kStreamLost } kind;
    FramePtr frame;
    std::shared_ptr<v1::AttachResult> result;
    uint64_t value = 0;  // handle or generation
  };
  void Push(InboxEvent event);
  void DrainInbox();
  void Tick();
  void DispatchSocketEvents();
  Client* Find(uint64_t handle);

  const size_t index_;
  const size_t link_shards_;  // number of shards: handle % link_shards_ names the shard
  boost::asio::io_context* loop_;
  std::shared_ptr<BrokerLink> link_;
  std::shared_ptr<const GatewaySettings> settings_;
  ShardCounters counters_;
  // Declared before the clients: they leave it when destroyed, so it must outlive them.
  SocketPoller poller_;

  std::mutex inbox_mutex_;
  std::vector<InboxEvent> inbox_;
  bool drain_posted_ = false;              // an immediate drain is posted
  bool delayed_posted_ = false;            // a drain after write_delay is scheduled
  boost::asio::steady_timer drain_timer_;  // the write_delay window
  std::vector<InboxEvent> draining_;       // loop thread only: swapped with inbox_

  absl::flat_hash_map<uint64_t, std::shared_ptr<Client>> clients_;
  std::vector<Client*> dirty_;
  std::vector<std::shared_ptr<Client>> retired_;
  boost::asio::steady_timer tick_timer_;
  bool stopped_ = false;
  uint8_t read_buffer_[kReadBufferBytes];
};

}  // namespace channelstream::gateway
