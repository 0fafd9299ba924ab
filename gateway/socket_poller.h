// Readiness for many sockets through one Asio wait. Each idle socket costs Asio a reactor
// descriptor_state and a pending wait operation; here a socket costs only its entry in an
// edge-triggered epoll set, and the set's own fd is the single thing the shard's io_context
// waits on. Registered once (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET): nothing is allocated or
// re-armed per wait.
#pragma once

#include <sys/epoll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <cstddef>
#include <cstdint>

namespace channelstream::gateway {

// What a registered socket's events are delivered to (epoll's data.ptr).
class PollTarget {
 public:
  // `events`: the EPOLL* bits reported. Edge-triggered: read/write until EAGAIN.
  virtual void OnPollEvent(uint32_t events) = 0;

 protected:
  ~PollTarget() = default;
};

class SocketPoller {
 public:
  // Most events handled per wake-up, so one busy set cannot starve the rest of the loop.
  static constexpr int kMaxBatch = 256;

  explicit SocketPoller(boost::asio::io_context& loop);
  ~SocketPoller();
  SocketPoller(const SocketPoller&) = delete;
  SocketPoller& operator=(const SocketPoller&) = delete;

  // Watches `fd` until Remove(fd). Events already pending are reported once after this.
  bool Add(int fd, PollTarget* target);
  // Reports the socket's current readiness again (for a target that stopped before EAGAIN).
  void Rearm(int fd, PollTarget* target);
  // Stops reporting `fd`; call before closing it. No event for it is delivered afterwards,
  // except from the batch being dispatched right now (its targets must outlive the batch).
  void Remove(int fd);

  // Calls handler(error_code) once some registered socket may have events.
  template <typename Handler>
  void AsyncWaitReady(Handler&& handler) {
    set_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                    std::forward<Handler>(handler));
  }
  // Takes up to kMaxBatch ready events without blocking and hands each to its target.
  // Returns how many; kMaxBatch means more may be ready (the caller should come back soon,
  // since no new readiness edge may arrive for those).
  int DispatchReady();
  void Cancel();

 private:
  boost::asio::posix::stream_descriptor set_;  // owns the epoll fd
};

}  // namespace channelstream::gateway
