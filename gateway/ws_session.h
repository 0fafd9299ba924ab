// One WebSocket client after the HTTP upgrade: the socket (and TLS) adapter around the
// sans-I/O WsConnection (ws_connection.h), which holds the session's state machine and write
// queue. Beast parsed the upgrade request; from then on the session owns the socket fd, reads
// client bytes into the loop's shared buffer and hands them to the connection, and gather-writes
// the connection's queued frames straight to the fd. On a TLS port (wss) it also owns the
// connection's SSL*, bound to the same fd, and goes through SSL_read/SSL_write instead
// (ws_session_tls.cc). Idle sessions hold no buffers and no pending operation: the fd sits in
// the shard's edge-triggered epoll set (SocketPoller).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common/tls_context.h"
#include "gateway/shard.h"
#include "gateway/socket_poller.h"
#include "gateway/ws_connection.h"

namespace channelstream::gateway {

class WsSession : public PollTarget, public Client, private WsConnectionSink {
 public:
  // On the shard's loop: takes ownership of the upgraded connection `fd`, registers the session
  // with the shard, queues the 101 answer, feeds bytes read past the request and attaches
  // `conn_id` (an empty conn_id is unknown: the socket is closed at once). `tls`: the
  // connection's SSL on a TLS port (null: plain socket).
  // `since`: positions the client presented (/ws?since=...), passed on in the Attach.
  static void Open(Shard& shard, int fd, uint64_t handle, std::string handshake_response,
                   std::string_view leftover, const std::string& conn_id,
                   common::SslPtr tls = nullptr,
                   google::protobuf::RepeatedPtrField<v1::Position> since = {});

  // Use Open(). The shard owns the session (its client map, then its retired list until the end
  // of the turn), so the raw shard pointer stays valid for the session's whole life.
  WsSession(Shard& shard, int fd, uint64_t handle, SSL* tls = nullptr);
  ~WsSession() override;
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  void OnAttachResult(const v1::AttachResult& result) override {
    connection_.OnAttachResult(result);
  }
  void OnFrame(const FramePtr& frame) override {
    if (connection_.OnFrame(frame)) Bump(shard_->counters().frames_queued);
  }
  void OnKick() override { connection_.OnKick(); }
  void OnStreamLost(bool shutting_down) override { connection_.OnStreamLost(shutting_down); }
  void Drain(SteadyTime deadline) override { connection_.Drain(deadline); }
  void OnTick(SteadyTime now) override { connection_.OnTick(now); }
  void Flush() override { WriteNow(); }
  void OnPollEvent(uint32_t events) override;

 private:
  void Start(std::string handshake_response, std::string_view leftover, const std::string& conn_id,
             google::protobuf::RepeatedPtrField<v1::Position> since);

  // WsConnectionSink
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  void WriteSoon() override { shard_->MarkDirty(this); }
  void Detach(const DeliveredMarks& delivered) override;
  void SlowConsumer() override { Bump(shard_->counters().slow_consumer_closes); }
  void ShutdownSend() override;
  void Close() override;

  // Leaves the epoll set and closes the fd (once; the fd becomes -1).
  void CloseSocket();

  // Edge-triggered: reads until EAGAIN or a short read (or a bound, then asks the poller to
  // report it again). With `peer_closed` (EPOLLRDHUP/HUP) it reads on to the end of stream, which
  // no later edge would report.
  void OnReadable(bool peer_closed);

  // Gather-writes everything queued (sendmsg, up to 64 frames per call) until drained or the
  // socket would block; then the next EPOLLOUT edge resumes it.
  void WriteNow();

  // The TLS (wss) transport, ws_session_tls.cc. Reads until OpenSSL wants more from the socket
  // (decrypted bytes may sit in OpenSSL with the socket already drained).
  void OnReadableTls();
  // SSL_write of the queued frames, one at a time; false when blocked or closed.
  bool WriteQueuedTls();

  bool waiting_writable_ = false;  // a write hit EAGAIN: resume on EPOLLOUT
  bool read_wants_write_ = false;  // TLS: SSL_read must be retried on EPOLLOUT
  bool send_side_shut_ = false;    // close_notify and FIN sent (ShutdownSend)
  int fd_;                         // -1 once closed

  Shard* shard_;
  SSL* ssl_;  // TLS: owned, bound to fd_ (freed in CloseSocket); nullptr on a plain socket
  const uint64_t handle_;
  WsConnection connection_;
};

}  // namespace channelstream::gateway
