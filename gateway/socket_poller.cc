#include "gateway/socket_poller.h"

#include <sys/epoll.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace channelstream::gateway {

namespace {
constexpr uint32_t kWatchedEvents = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;

int CreateEpoll() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::runtime_error(std::string("epoll_create1: ") + std::strerror(errno));
  return fd;
}
}  // namespace

SocketPoller::SocketPoller(boost::asio::io_context& loop) : set_(loop, CreateEpoll()) {}

SocketPoller::~SocketPoller() = default;

bool SocketPoller::Add(int fd, PollTarget* target) {
  epoll_event event{};
  event.events = kWatchedEvents;
  event.data.ptr = target;
  return ::epoll_ctl(set_.native_handle(), EPOLL_CTL_ADD, fd, &event) == 0;
}

void SocketPoller::Rearm(int fd, PollTarget* target) {
  // Modifying an edge-triggered entry re-checks readiness and queues an event if still ready.
  epoll_event event{};
  event.events = kWatchedEvents;
  event.data.ptr = target;
  ::epoll_ctl(set_.native_handle(), EPOLL_CTL_MOD, fd, &event);
}

void SocketPoller::Remove(int fd) {
  // Explicit: close() alone keeps the entry if the fd was ever duplicated (e.g. inherited).
  ::epoll_ctl(set_.native_handle(), EPOLL_CTL_DEL, fd, nullptr);
}

int SocketPoller::DispatchReady() {
  epoll_event events[kMaxBatch];
  int count;
  do {
    count = ::epoll_wait(set_.native_handle(), events, kMaxBatch, 0);
  } while (count < 0 && errno == EINTR);
  for (int i = 0; i < count; ++i)
    static_cast<PollTarget*>(events[i].data.ptr)->OnPollEvent(events[i].events);
  return count < 0 ? 0 : count;
}

void SocketPoller::Cancel() {
  boost::system::error_code ignored;
  set_.cancel(ignored);
}

}  // namespace channelstream::gateway
