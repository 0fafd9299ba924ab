#include "gateway/ws_session.h"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "gateway/broker_link.h"
#include "gateway/settings.h"
#include "gateway/tls_io.h"

namespace channelstream::gateway {

namespace {
constexpr size_t kMaxIov = 64;
constexpr auto kCloseGrace = std::chrono::seconds(2);
constexpr auto kAttachTimeout = std::chrono::seconds(10);
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
    : fd_(fd), shard_(&shard), ssl_(tls), handle_(handle), parser_(shard.settings().max_client_message_bytes) {}

WsSession::~WsSession() { CloseSocket(); }

void WsSession::Start(std::string handshake_response, std::string_view leftover, const std::string& conn_id,
                      google::protobuf::RepeatedPtrField<v1::Position> since) {
  int non_blocking = 1;
  if (::ioctl(fd_, FIONBIO, &non_blocking) != 0 || !shard_->poller().Add(fd_, this)) {
    LOG_WARNING("cannot watch an upgraded WebSocket: ", std::strerror(errno));
    CloseSocket();
  }
  last_activity_ = std::chrono::steady_clock::now();
  deadline_ = last_activity_ + kAttachTimeout;
  conn_id_ = conn_id;
  Bump(shard_->counters().websockets);
  if (fd_ < 0) {
    FinalClose();
    return;
  }
  Enqueue(MakeRawFrame(std::move(handshake_response)));
  if (!leftover.empty()) {
    std::vector<ws::ClientEvent> events;
    parser_.Feed(reinterpret_cast<const uint8_t*>(leftover.data()), leftover.size(), &events);
    for (auto& event : events) HandleClientEvent(event);
  }
  if (conn_id.empty()) {
    BeginClose(ws::kPolicyViolation, "unknown conn_id");
  } else {
    generation_ = shard_->link().generation();
    if (generation_ == 0) {
      BeginClose(ws::kInternalError, "broker unavailable");
    } else {
      v1::GatewayUp up;
      auto* attach = up.mutable_attach();
      attach->set_handle(handle_);
      attach->set_conn_id(conn_id);
      attach->set_catchup(true);
      attach->mutable_since()->Swap(&since);
      attached_ = true;
      shard_->link().Send(generation_, std::move(up));
    }
  }
  if (parser_.failed()) BeginClose(parser_.error_code(), parser_.error_reason());
  // TLS: bytes decrypted past the upgrade request may wait inside OpenSSL, where no epoll
  // edge will ever report them.
  if (ssl_ != nullptr && fd_ >= 0 && state_ != State::kClosed && SSL_pending(ssl_) > 0) OnReadableTls();
}

void WsSession::OnAttachResult(const v1::AttachResult& result) {
  if (state_ != State::kAttaching) return;
  if (!result.found()) {
    attached_ = false;
    BeginClose(ws::kPolicyViolation, "unknown conn_id");
    return;
  }
  state_ = State::kOpen;
  username_ = result.username();
  LOG_DEBUG("websocket attached: conn_id=", conn_id_, " user=", username_, " catchup=", result.catchup_json_size());
  const SteadyTime now = std::chrono::steady_clock::now();
  const GatewaySettings& settings = shard_->settings();
  deadline_ = now + SteadySeconds(settings.heartbeat_interval);  // the first heartbeat
  next_ping_ = now + SteadySeconds(settings.ws_ping_interval);
  if (result.catchup_json_size() > 0) {
    std::vector<std::string_view> parts(result.catchup_json().begin(), result.catchup_json().end());
    auto catchup = std::make_shared<Frame>();
    catchup->bytes = ws::JsonListFrame(parts);
    catchup->catchup = true;
    for (const v1::ChannelMark& mark : result.catchup_marks())
      catchup->list_marks.emplace_back(mark.channel(), mark.seq());
    Enqueue(catchup);
  }
}

void WsSession::OnFrame(const FramePtr& frame) {
  if (state_ != State::kOpen) return;
  Bump(shard_->counters().frames_queued);
  Enqueue(frame);
}

void WsSession::OnKick() {
  attached_ = false;  // the broker already dropped the connection
  BeginClose(ws::kNormalClosure, "disconnected");
}

void WsSession::OnStreamLost(bool shutting_down) {
  attached_ = false;  // the stream is gone; nothing to detach from
  if (shutting_down) {
    BeginClose(ws::kGoingAway, "going away");
  } else {
    BeginClose(ws::kServiceRestart, "broker stream lost");
  }
}

void WsSession::Drain(SteadyTime deadline) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  LOG_DEBUG("websocket draining: conn_id=", conn_id_, " user=", username_);
  // Everything queued goes out before the close frame: the marks count it, and the Detach leaves
  // before the close can reach the client (it may reconnect elsewhere at once). A client that
  // does not take its frames within drain_timeout is closed hard and loses them unless it
  // presents its positions.
  for (size_t i = head_; i < queue_.size(); ++i) delivered_.Note(*queue_[i]);
  Detach();
  state_ = State::kClosing;
  deadline_ = deadline;
  // Unlike BeginClose, everything queued is still written: the close frame goes last.
  QueueCloseFrame(ws::kGoingAway, "going away");
}

void WsSession::OnTick(SteadyTime now) {
  const GatewaySettings& settings = shard_->settings();
  // A drained queue keeps its vector between turns (busy clients reuse it); an idle one gives it
  // back here, so idle sessions hold no heap memory of their own.
  if (queue_.empty() && queue_.capacity() > 0) std::vector<FramePtr>().swap(queue_);
  switch (state_) {
    case State::kAttaching:
      if (now > deadline_) BeginClose(ws::kInternalError, "broker did not answer");
      break;
    case State::kOpen:
      if (settings.client_timeout > 0 && now - last_activity_ > SteadySeconds(settings.client_timeout)) {
        BeginClose(ws::kGoingAway, "client timeout");
        break;
      }
      if (settings.heartbeat_interval > 0 && now >= deadline_) {
        deadline_ = now + SteadySeconds(settings.heartbeat_interval);
        if (head_ == queue_.size()) Enqueue(settings.heartbeat_frame);
      }
      if (settings.ws_ping_interval > 0 && now >= next_ping_) {
        next_ping_ = now + SteadySeconds(settings.ws_ping_interval);
        Enqueue(settings.ping_frame);
      }
      break;
    case State::kClosing:
      if (now > deadline_) FinalClose();
      break;
    case State::kClosed:
      break;
  }
}

void WsSession::Enqueue(const FramePtr& frame) {
  const GatewaySettings& settings = shard_->settings();
  // Catch-up is bounded by the broker (max_catchup_bytes): only live frames count here.
  const size_t count = queue_.size() - head_ - catchup_frames_;
  if (!frame->catchup && count > 0 &&
      (count >= settings.max_queue_messages || LimitedBytes() + frame->bytes.size() > settings.max_queue_bytes)) {
    Bump(shard_->counters().slow_consumer_closes);
    LOG_WARNING("closing a slow WebSocket consumer (conn_id=", conn_id_, " user=",
                username_.empty() ? "?" : username_, "): ", count, " frames / ", queued_bytes_,
                " bytes queued (max_queue_messages ", settings.max_queue_messages, ", max_queue_bytes ",
                settings.max_queue_bytes, ")");
    BeginClose(ws::kPolicyViolation, "slow consumer: queue limit");
    return;
  }
  queue_.push_back(frame);
  queued_bytes_ += frame->bytes.size();
  if (frame->catchup) {
    catchup_bytes_ += frame->bytes.size();
    ++catchup_frames_;
  }
  shard_->MarkDirty(this);
}

void WsSession::BeginClose(uint16_t code, std::string_view reason) {
  if (state_ != State::kClosing && state_ != State::kClosed)
    LOG_DEBUG("websocket closing: conn_id=", conn_id_, " user=", username_, " code=", code, " reason=", std::string(reason));
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  state_ = State::kClosing;
  deadline_ = std::chrono::steady_clock::now() + kCloseGrace;
  // Keep only a frame already partly on the wire; drop everything not started.
  // On TLS a write waiting for the socket has its frame committed to OpenSSL: keep it too.
  const bool keep_head = head_ < queue_.size() && (head_offset_ > 0 || !handshake_written_ ||
                                                   (ssl_ != nullptr && waiting_writable_));
  const size_t keep = keep_head ? head_ + 1 : head_;
  for (size_t i = keep; i < queue_.size(); ++i) {
    queued_bytes_ -= queue_[i]->bytes.size();
    if (queue_[i]->catchup) {
      catchup_bytes_ -= queue_[i]->bytes.size();
      --catchup_frames_;
    }
  }
  queue_.resize(keep);
  // Detach now, before our close frame can reach the client (a client that reconnects at once
  // must find its marks in place). The frame already half out is completed before the close.
  if (keep_head) delivered_.Note(*queue_[head_]);
  Detach();
  QueueCloseFrame(code, reason);
}

void WsSession::QueueCloseFrame(uint16_t code, std::string_view reason) {
  auto close_frame = MakeRawFrame(ws::CloseFrame(code, reason));
  queued_bytes_ += close_frame->bytes.size();
  queue_.push_back(std::move(close_frame));
  shard_->MarkDirty(this);
}

void WsSession::FinalClose() {
  if (state_ == State::kClosed) return;
  Detach();
  state_ = State::kClosed;
  CloseSocket();
  ReleaseQueue();
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

void WsSession::Detach() {
  if (!attached_) return;
  attached_ = false;
  v1::GatewayUp up;
  up.mutable_detach()->set_handle(handle_);
  // Frames routed here but never written stay due: the next attach replays them.
  delivered_.FillDetach(up.mutable_detach());
  shard_->link().Send(generation_, std::move(up));
}

void WsSession::ReleaseQueue() {
  std::vector<FramePtr>().swap(queue_);
  head_ = queued_bytes_ = catchup_bytes_ = catchup_frames_ = 0;
  head_offset_ = 0;
}

void WsSession::HeadWritten() {
  const Frame& frame = *queue_[head_];
  delivered_.Note(frame);
  if (frame.catchup) {
    catchup_bytes_ -= std::min(catchup_bytes_, frame.bytes.size());
    --catchup_frames_;
  }
  queue_[head_].reset();  // release the reference as soon as the frame is out
  ++head_;
  handshake_written_ = true;
  head_offset_ = 0;
}

void WsSession::OnPollEvent(uint32_t events) {
  // Closed earlier in this batch: still alive (retired at the end of the turn), nothing to do.
  if (state_ == State::kClosed) return;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    // A hang-up or error shows up as recv() returning 0 or failing.
    OnReadable((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
    if (state_ == State::kClosed) return;
  }
  if (ssl_ != nullptr && read_wants_write_ && (events & EPOLLOUT)) {
    OnReadableTls();
    if (state_ == State::kClosed) return;
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
  std::vector<ws::ClientEvent> events;
  for (int round = 0; round < kMaxReadsPerEvent; ++round) {
    ssize_t n = ::recv(fd_, buffer, Shard::kReadBufferBytes, 0);
    if (n == 0) {
      FinalClose();  // the client closed its side
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return;  // drained: the next edge will come
      FinalClose();
      return;
    }
    if (!ConsumeClientBytes(buffer, static_cast<size_t>(n), events)) return;
    // A short read of a stream socket means it is drained (epoll(7)): spare the EAGAIN call,
    // unless the client also closed: then read on to see the end of stream now.
    if (!peer_closed && static_cast<size_t>(n) < Shard::kReadBufferBytes) return;
  }
  // Not drained yet and no new edge will come for these bytes: have them reported again.
  shard_->poller().Rearm(fd_, this);
}

bool WsSession::ConsumeClientBytes(const uint8_t* data, size_t size, std::vector<ws::ClientEvent>& events) {
  last_activity_ = std::chrono::steady_clock::now();  // any client traffic is a heartbeat
  if (parser_.failed()) return true;
  parser_.Feed(data, size, &events);
  for (auto& event : events) {
    HandleClientEvent(event);
    if (state_ == State::kClosed) return false;
  }
  events.clear();
  if (parser_.failed()) BeginClose(parser_.error_code(), parser_.error_reason());
  return true;
}

void WsSession::HandleClientEvent(ws::ClientEvent& event) {
  switch (event.kind) {
    case ws::ClientEvent::kText:
    case ws::ClientEvent::kBinary:
    case ws::ClientEvent::kPong:
      break;  // counted as activity by the read; 0.7 clients send text heartbeats
    case ws::ClientEvent::kPing:
      if (state_ == State::kOpen || state_ == State::kAttaching)
        Enqueue(MakeRawFrame(ws::ServerFrame(ws::kPong, event.payload)));
      break;
    case ws::ClientEvent::kClose:
      if (state_ == State::kClosing) {
        // The client answered our close: done once our close frame is out.
        if (send_side_shut_) {
          FinalClose();
        } else {
          close_when_sent_ = true;
        }
      } else {
        close_when_sent_ = true;  // the client started the handshake: our answer ends it
        uint16_t code = event.close_code == ws::kNoStatus ? uint16_t{ws::kNormalClosure} : event.close_code;
        BeginClose(code, "");
      }
      break;
  }
}

void WsSession::WriteNow() {
  if (state_ == State::kClosed || waiting_writable_) return;
  if (ssl_ != nullptr && !WriteQueuedTls()) return;
  while (head_ < queue_.size()) {
    iovec iov[kMaxIov];
    size_t count = 0;
    for (size_t i = head_; i < queue_.size() && count < kMaxIov; ++i, ++count) {
      const std::string& bytes = queue_[i]->bytes;
      const size_t skip = i == head_ ? head_offset_ : 0;
      iov[count].iov_base = const_cast<char*>(bytes.data() + skip);
      iov[count].iov_len = bytes.size() - skip;
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
      FinalClose();
      return;
    }
    size_t left = static_cast<size_t>(written);
    Bump(shard_->counters().bytes_out, static_cast<int64_t>(written));
    queued_bytes_ -= left;
    while (left > 0) {
      const size_t remaining = queue_[head_]->bytes.size() - head_offset_;
      if (left >= remaining) {
        left -= remaining;
        HeadWritten();
      } else {
        head_offset_ += static_cast<uint32_t>(left);
        left = 0;
      }
    }
  }
  // Drained: keep a small vector for the next burst, give back a large one.
  queue_.clear();
  head_ = 0;
  head_offset_ = 0;
  if (queue_.capacity() > 16) std::vector<FramePtr>().swap(queue_);
  if (state_ == State::kClosing && !send_side_shut_) {
    if (close_when_sent_) {
      FinalClose();
      return;
    }
    send_side_shut_ = true;
    if (ssl_ != nullptr) SSL_shutdown(ssl_);  // close_notify before the TCP FIN (best effort)
    ::shutdown(fd_, SHUT_WR);
  }
}

}  // namespace channelstream::gateway
