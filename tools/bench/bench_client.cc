#include "tools/bench/bench_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cstring>

#include "tools/bench/event_loop.h"

namespace channelstream::bench {

int64_t NowNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

Connection::~Connection() {
  if (fd_ >= 0) {
    if (loop_ != nullptr) loop_->Remove(fd_);
    ::close(fd_);
  }
}

bool Connection::Open(EventLoop& loop, const std::string& host, int port) {
  loop_ = &loop;
  host_ = host;
  port_ = port;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, host.c_str(), &address.sin_addr);
  int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
  if (rc != 0 && errno != EINPROGRESS) {
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  want_write_ = true;  // writable = connected
  loop.Add(fd_, this, /*write=*/true);
  return true;
}

void Connection::Close() {
  if (fd_ < 0) return;
  loop_->Remove(fd_);
  ::close(fd_);
  fd_ = -1;
  OnClosed();
}

void Connection::Send(std::string_view bytes) {
  if (fd_ < 0) return;
  if (!connected_ || out_offset_ < out_.size()) {
    out_.append(bytes);
    return;
  }
  ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  if (n < 0) {
    if (errno != EAGAIN) {
      Close();
      return;
    }
    n = 0;
  }
  if (static_cast<size_t>(n) < bytes.size()) {
    out_.assign(bytes.substr(static_cast<size_t>(n)));
    out_offset_ = 0;
    UpdateInterest();
  }
}

void Connection::OnWritable() {
  if (!connected_) {
    int error = 0;
    socklen_t length = sizeof error;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &length);
    if (error != 0) {
      Close();
      return;
    }
    connected_ = true;
    OnConnected();
    if (fd_ < 0) return;
  }
  while (out_offset_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + out_offset_, out_.size() - out_offset_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EAGAIN) break;
      Close();
      return;
    }
    out_offset_ += static_cast<size_t>(n);
  }
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  }
  UpdateInterest();
}

void Connection::UpdateInterest() {
  bool want = !connected_ || out_offset_ < out_.size();
  if (want == want_write_ || fd_ < 0) return;
  want_write_ = want;
  loop_->Modify(fd_, this, want);
}

void Connection::OnReadable() {
  char buffer[65536];
  while (fd_ >= 0) {
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) {
      in_.append(buffer, static_cast<size_t>(n));
      if (static_cast<size_t>(n) < sizeof buffer) break;
      continue;
    }
    if (n < 0 && errno == EAGAIN) break;
    Close();  // EOF or error
    return;
  }
  OnData();
  if (in_offset_ > 0) {
    in_.erase(0, in_offset_);
    in_offset_ = 0;
  }
}

// ---------------------------------------------------------------------------------------------

void WsSubscriber::OnConnected() {
  std::string request =
      "GET " + target_ + " HTTP/1.1\r\nHost: " + host_ + ":" + std::to_string(port_) +
      "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
  Send(request);
}

void WsSubscriber::OnClosed() {
  if (!handshake_reported_) {
    handshake_reported_ = true;
    if (on_handshake) on_handshake(false);
  }
  if (open_) {
    open_ = false;
    sink_->OnSubscriberClosed();
  }
}

void WsSubscriber::OnData() {
  if (!open_) {
    size_t end = in_.find("\r\n\r\n");
    if (end == std::string::npos) return;
    bool ok = in_.compare(0, 12, "HTTP/1.1 101") == 0;
    in_offset_ = end + 4;
    handshake_reported_ = true;
    if (!ok) {
      if (on_handshake) on_handshake(false);
      Close();
      return;
    }
    open_ = true;
    if (on_handshake) on_handshake(true);
  }
  ParseFrames();
}

// Server frames are unmasked: 2-byte header, 16/64-bit extended lengths.
bool WsSubscriber::ParseFrames() {
  while (true) {
    const size_t available = in_.size() - in_offset_;
    if (available < 2) return true;
    const auto* p = reinterpret_cast<const uint8_t*>(in_.data() + in_offset_);
    const bool fin = (p[0] & 0x80) != 0;
    const int opcode = p[0] & 0x0f;
    uint64_t length = p[1] & 0x7f;
    size_t header = 2;
    if (length == 126) {
      if (available < 4) return true;
      length = (uint64_t{p[2]} << 8) | p[3];
      header = 4;
    } else if (length == 127) {
      if (available < 10) return true;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | p[2 + i];
      header = 10;
    }
    if (available < header + length) return true;
    std::string_view payload(in_.data() + in_offset_ + header, static_cast<size_t>(length));
    in_offset_ += header + static_cast<size_t>(length);
    switch (opcode) {
      case 0x0:  // continuation
        fragments_.append(payload);
        if (fin) {
          sink_->OnPayload(fragments_);
          fragments_.clear();
        }
        break;
      case 0x1:
      case 0x2:
        if (fin) {
          sink_->OnPayload(payload);
        } else {
          fragments_.assign(payload);
        }
        break;
      case 0x8:  // close
        Close();
        return false;
      case 0x9: {  // ping: answer with a masked pong carrying the same data (mask key 0)
        std::string pong;
        pong.push_back(static_cast<char>(0x8A));
        pong.push_back(static_cast<char>(0x80 | (payload.size() & 0x7f)));
        pong.append(4, '\0');
        pong.append(payload.substr(0, 125));
        Send(pong);
        break;
      }
      default:
        break;
    }
  }
}

// ---------------------------------------------------------------------------------------------

void HttpClient::Request(std::string_view method, std::string_view target,
                         std::string_view extra_headers, std::string_view body, Callback callback) {
  busy_ = true;
  callback_ = std::move(callback);
  std::string request;
  request.reserve(256 + body.size());
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host_);
  request.append("\r\nContent-Length: ").append(std::to_string(body.size())).append("\r\n");
  request.append(extra_headers).append("\r\n").append(body);
  Send(request);
}

void HttpClient::OnClosed() {
  if (busy_) {
    busy_ = false;
    Callback callback = std::move(callback_);
    if (callback) callback(Response{});
  }
}

void HttpClient::OnData() {
  while (busy_) {
    std::string_view data(in_.data() + in_offset_, in_.size() - in_offset_);
    size_t end = data.find("\r\n\r\n");
    if (end == std::string_view::npos) return;
    std::string_view head = data.substr(0, end);
    int status = 0;
    if (head.size() >= 12) status = std::atoi(std::string(head.substr(9, 3)).c_str());
    size_t content_length = 0;
    size_t line = 0;
    while ((line = head.find("\r\n", line)) != std::string_view::npos) {
      line += 2;
      if (head.size() - line > 15 && strncasecmp(head.data() + line, "content-length:", 15) == 0) {
        content_length = static_cast<size_t>(std::strtoull(head.data() + line + 15, nullptr, 10));
      }
    }
    if (data.size() < end + 4 + content_length) return;
    Response response{status, data.substr(end + 4, content_length)};
    in_offset_ += end + 4 + content_length;
    busy_ = false;
    Callback callback = std::move(callback_);
    callback_ = nullptr;
    if (callback) callback(response);
  }
}

}  // namespace channelstream::bench
