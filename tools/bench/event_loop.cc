#include "tools/bench/event_loop.h"

#include <sys/epoll.h>
#include <unistd.h>

#include "tools/bench/bench_client.h"

namespace channelstream::bench {

EventLoop::EventLoop() : epoll_fd_(epoll_create1(EPOLL_CLOEXEC)) {}
EventLoop::~EventLoop() { ::close(epoll_fd_); }

void EventLoop::Add(int fd, Connection* connection, bool write) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP | (write ? EPOLLOUT : 0u);
  event.data.ptr = connection;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
}

void EventLoop::Modify(int fd, Connection* connection, bool write) {
  epoll_event event{};
  event.events = EPOLLIN | EPOLLRDHUP | (write ? EPOLLOUT : 0u);
  event.data.ptr = connection;
  epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &event);
}

void EventLoop::Remove(int fd) { epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

void EventLoop::RunOnce(int timeout_ms) {
  epoll_event events[512];
  int n = epoll_wait(epoll_fd_, events, 512, timeout_ms);
  for (int i = 0; i < n; ++i) {
    auto* connection = static_cast<Connection*>(events[i].data.ptr);
    // A callback may close (never delete) another connection in this batch; closed ones are
    // skipped.
    if (connection->closed()) continue;
    if (events[i].events & EPOLLOUT) connection->OnWritable();
    if (connection->closed()) continue;
    if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) connection->OnReadable();
  }
}

}  // namespace channelstream::bench
