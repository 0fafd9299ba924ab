#include "gateway/ws_session.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/log.h"
#include "gateway/broker_link.h"
#include "gateway/settings.h"
#include "gateway/tls_io.h"

namespace channelstream::gateway {

namespace {
constexpr size_t kMaxIov = 64;
// Reads per readiness event before yielding to other sockets (the rest is reported again).
constexpr int kMaxReadsPerEvent = 16;
}  // namespace

void WsSession::Open(Shard& shard, int fd, uint64_t handle, std::string handshake_response,
                     std::string_view leftover, const std::string& conn_id, common::SslPtr tls,
                     google::protobuf::RepeatedPtrField<v1::Position> since) {
  auto session = std::make_shared<WsSession>(shard, fd, handle, tls.release());
  WsSession* raw = session.get();
  shard.Register(handle, std::move(session));
  raw->Start(std::move(handshake_response), leftover, conn_id, std::move(since));
}

WsSession::WsSession(Shard& shard, int fd, uint64_t handle, SSL* tls)
    : fd_(fd), shard_(&shard), ssl_(tls), handle_(handle), connection_(shard.settings(), *this) {}

WsSession::~WsSession() { CloseSocket(); }

void WsSession::Start(std::string handshake_response, std::string_view leftover,
                      const std::string& conn_id,
                      google::protobuf::RepeatedPtrField<v1::Position> since) {
  int non_blocking = 1;
  if (::ioctl(fd_, FIONBIO, &non_blocking) != 0 || !shard_->poller().Add(fd_, this)) {
    LOG_WARNING("cannot watch an upgraded WebSocket: ", std::strerror(errno));
    CloseSocket();
  }
  Bump(shard_->counters().websockets);
  if (fd_ < 0) {
    connection_.Abort();
    return;
  }
  std::optional<WsConnection::Refusal> refusal;
  if (conn_id.empty()) {
    refusal = WsConnection::Refusal{ws::kPolicyViolation, "unknown conn_id"};
  } else {
    generation_ = shard_->link().generation();
    if (generation_ == 0) refusal = WsConnection::Refusal{ws::kInternalError, "broker unavailable"};
  }
  connection_.Start(Now(), MakeRawFrame(std::move(handshake_response)), leftover, conn_id, refusal,
                    [&] { shard_->link().SendAttach(generation_, handle_, conn_id, &since); });
  // TLS: bytes decrypted past the upgrade request may wait inside OpenSSL, where no epoll
  // edge will ever report them.
  if (ssl_ != nullptr && fd_ >= 0 && !connection_.closed() && SSL_pending(ssl_) > 0)
    OnReadableTls();
}

void WsSession::Detach(const DeliveredMarks& delivered) {
  v1::GatewayUp up;
  up.mutable_detach()->set_handle(handle_);
  delivered.FillDetach(up.mutable_detach());
  shard_->link().Send(generation_, std::move(up));
}

void WsSession::ShutdownSend() {
  send_side_shut_ = true;
  if (ssl_ != nullptr) SSL_shutdown(ssl_);  // close_notify before the TCP FIN (best effort)
  ::shutdown(fd_, SHUT_WR);
}

void WsSession::Close() {
  CloseSocket();
  Bump(shard_->counters().websockets, -1);
  shard_->Remove(handle_);  // last: may drop the map's reference (kept alive until end of turn)
}

void WsSession::CloseSocket() {
  if (fd_ < 0) return;
  shard_->poller().Remove(fd_);  // before close: no event may name this session afterwards
  if (ssl_ != nullptr) {
    TlsClose(ssl_, /*notify=*/!send_side_shut_);
    ssl_ = nullptr;
  }
  ::close(fd_);
  fd_ = -1;
  shard_->ReleaseConnection();
}

void WsSession::OnPollEvent(uint32_t events) {
  // Closed earlier in this batch: still alive (retired at the end of the turn), nothing to do.
  if (connection_.closed()) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    // A hang-up or error shows up as recv() returning 0 or failing.
    OnReadable((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    if (connection_.closed()) return;
  }
  if (ssl_ != nullptr && read_wants_write_ && (events & EPOLLOUT)) {
    OnReadableTls();
    if (connection_.closed()) return;
  }
  // A TLS write may also wait for readability (OpenSSL reading a post-handshake message).
  if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP) || ssl_ != nullptr) && waiting_writable_) {
    waiting_writable_ = false;
    WriteNow();
  }
}

void WsSession::OnReadable(bool peer_closed) {
  if (ssl_ != nullptr) {
    OnReadableTls();  // TLS reads until SSL_ERROR_WANT_READ, which also covers peer_closed
    return;
  }
  uint8_t* buffer = shard_->read_buffer();
  for (int round = 0; round < kMaxReadsPerEvent; ++round) {
    ssize_t n = ::recv(fd_, buffer, Shard::kReadBufferBytes, 0);
    if (n == 0) {
      connection_.OnTransportClosed();  // the client closed its side
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // drained: the next edge will come
      connection_.OnTransportClosed();
      return;
    }
    if (!connection_.OnClientBytes(buffer, static_cast<size_t>(n))) return;
    // A short read of a stream socket means it is drained (epoll(7)): spare the EAGAIN call,
    // unless the client also closed: then read on to see the end of stream now.
    if (!peer_closed && static_cast<size_t>(n) < Shard::kReadBufferBytes) return;
  }
  // Not drained yet and no new edge will come for these bytes: have them reported again.
  shard_->poller().Rearm(fd_, this);
}

void WsSession::WriteNow() {
  if (connection_.closed() || waiting_writable_) return;
  if (ssl_ != nullptr && !WriteQueuedTls()) return;
  while (connection_.pending_frames() > 0) {
    iovec iov[kMaxIov];
    const size_t count = std::min(connection_.pending_frames(), kMaxIov);
    for (size_t i = 0; i < count; ++i) {
      const std::string_view bytes = connection_.pending_bytes(i);
      iov[i].iov_base = const_cast<char*>(bytes.data());
      iov[i].iov_len = bytes.size();
    }
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = count;
    ssize_t written = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        waiting_writable_ = true;  // registered for EPOLLOUT edges from the start
        return;
      }
      connection_.OnTransportClosed();
      return;
    }
    Bump(shard_->counters().bytes_out, static_cast<int64_t>(written));
    connection_.OnWritten(static_cast<size_t>(written));
  }
  connection_.OnAllWritten();
}

}  // namespace channelstream::gateway
