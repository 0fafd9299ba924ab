// Non-blocking client connections for the load generator: a WebSocket subscriber (server frames
// are parsed in place, no per-frame allocation) and a keep-alive HTTP client. Both are driven by
// one epoll loop (EventLoop); raw sockets rather than Beast so that the generator spends far less
// CPU per delivery than the servers it measures.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace channelstream::bench {

class EventLoop;

// One TCP connection with an output buffer; subclasses parse what arrives.
class Connection {
 public:
  virtual ~Connection();
  // Starts a non-blocking connect to 127.0.0.1-style `host`:`port`; false when the socket fails.
  bool Open(EventLoop& loop, const std::string& host, int port);
  void Close();
  bool closed() const { return fd_ < 0; }
  int fd() const { return fd_; }

  // Called by the loop.
  void OnReadable();
  void OnWritable();

 protected:
  void Send(std::string_view bytes);
  // Handles newly arrived bytes in `in_` (consume what was used with in_.erase or in_offset_).
  virtual void OnData() = 0;
  virtual void OnConnected() = 0;
  virtual void OnClosed() {}

  EventLoop* loop_ = nullptr;
  std::string in_;
  size_t in_offset_ = 0;  // bytes of in_ already consumed
  std::string out_;
  size_t out_offset_ = 0;
  std::string host_;
  int port_ = 0;

 private:
  void UpdateInterest();
  int fd_ = -1;
  bool connected_ = false;
  bool want_write_ = false;
};

// Counts deliveries: every `"bt":<nanoseconds>` marker in a received payload is one delivered
// message; its latency is now - bt (both CLOCK_MONOTONIC on this machine).
class DeliverySink {
 public:
  virtual ~DeliverySink() = default;
  virtual void OnPayload(std::string_view payload) = 0;
  virtual void OnSubscriberClosed() = 0;
};

// WebSocket subscriber: GET `target` with Upgrade, then counts markers in every text message.
class WsSubscriber final : public Connection {
 public:
  WsSubscriber(std::string target, DeliverySink* sink) : target_(std::move(target)), sink_(sink) {}
  bool open() const { return open_; }
  // Called once when the handshake completes (101) or fails.
  std::function<void(bool ok)> on_handshake;

 private:
  void OnConnected() override;
  void OnData() override;
  void OnClosed() override;
  bool ParseFrames();

  std::string target_;
  DeliverySink* sink_;
  bool open_ = false;
  bool handshake_reported_ = false;
  std::string fragments_;  // a fragmented message being reassembled
};

// Keep-alive HTTP/1.1 client, one request in flight.
class HttpClient final : public Connection {
 public:
  struct Response {
    int status = 0;
    std::string_view body;
  };
  using Callback = std::function<void(const Response&)>;

  bool busy() const { return busy_; }
  // Sends one request; `callback` runs when the whole response has arrived (status 0 on close).
  void Request(std::string_view method, std::string_view target, std::string_view extra_headers,
               std::string_view body, Callback callback);

 private:
  void OnConnected() override {}  // a request made earlier is already buffered
  void OnData() override;
  void OnClosed() override;

  bool busy_ = false;
  Callback callback_;
};

// Monotonic clock in nanoseconds, the unit of the "bt" markers.
int64_t NowNanos();

}  // namespace channelstream::bench
