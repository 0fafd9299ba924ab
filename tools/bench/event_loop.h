// A minimal single-threaded epoll loop for the load generator (level-triggered).
#pragma once

#include <functional>

namespace channelstream::bench {

class Connection;

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  void Add(int fd, Connection* connection, bool write);
  void Modify(int fd, Connection* connection, bool write);
  void Remove(int fd);
  // Waits up to `timeout_ms` and dispatches ready connections.
  void RunOnce(int timeout_ms);

 private:
  int epoll_fd_;
};

}  // namespace channelstream::bench
