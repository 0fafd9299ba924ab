// WsSession's TLS transport (wss): the same session logic over SSL_read/SSL_write on the fd.
// Kept apart so the plain path stays exactly the recv/sendmsg code of ws_session.cc.
#include <openssl/ssl.h>

#include <chrono>

#include "gateway/tls_io.h"
#include "gateway/ws_session.h"

namespace channelstream::gateway {

namespace {
constexpr int kMaxTlsReadsPerEvent = 16;  // as for plain sockets: then yield to the others
}  // namespace

void WsSession::OnReadableTls() {
  read_wants_write_ = false;
  uint8_t* buffer = shard_->read_buffer();
  std::vector<ws::ClientEvent> events;
  // Past the bound, OpenSSL's own buffer (at most one record) is still drained: no epoll edge
  // would report it. What is left in the socket is reported again through Rearm.
  for (int round = 0; round < kMaxTlsReadsPerEvent || SSL_pending(ssl_) > 0; ++round) {
    TlsIo read = TlsRead(ssl_, buffer, Shard::kReadBufferBytes);
    switch (read.kind) {
      case TlsIo::kDone:
        break;
      case TlsIo::kWantRead:
        return;  // socket and OpenSSL drained: the next edge will come
      case TlsIo::kWantWrite:
        read_wants_write_ = true;  // OpenSSL must send first (e.g. a key update): on EPOLLOUT
        return;
      case TlsIo::kClosed:
      case TlsIo::kFailed:
        FinalClose();
        return;
    }
    if (!ConsumeClientBytes(buffer, read.bytes, events)) return;
  }
  shard_->poller().Rearm(fd_, this);
}

bool WsSession::WriteQueuedTls() {
  // One SSL_write per frame (records are not gathered across frames): after WANT_WRITE the
  // head frame is offered again unchanged, as OpenSSL requires.
  while (head_ < queue_.size()) {
    const std::string& bytes = queue_[head_]->bytes;
    TlsIo written = TlsWrite(ssl_, bytes.data() + head_offset_, bytes.size() - head_offset_);
    switch (written.kind) {
      case TlsIo::kDone:
        break;
      case TlsIo::kWantRead:
      case TlsIo::kWantWrite:
        waiting_writable_ = true;  // resumed from OnPollEvent
        return false;
      case TlsIo::kClosed:
      case TlsIo::kFailed:
        FinalClose();
        return false;
    }
    queued_bytes_ -= written.bytes;
    head_offset_ += static_cast<uint32_t>(written.bytes);
    if (head_offset_ == bytes.size()) HeadWritten();
  }
  return true;
}

}  // namespace channelstream::gateway
