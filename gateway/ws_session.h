// One WebSocket client after the HTTP upgrade. Beast parsed the upgrade request; from then on
// the session owns the socket fd, writes pre-built frames straight to it and parses client
// frames with the sans-I/O codec. On a TLS port (wss) it also owns the connection's SSL*, bound
// to the same fd, and goes through SSL_read/SSL_write instead (ws_session_tls.cc). Idle sessions hold no buffers and no pending operation: the
// fd sits in the shard's edge-triggered epoll set (SocketPoller), reads use the loop's shared
// read buffer, and the write queue is a vector of shared frame pointers released when drained.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/tls_context.h"
#include "gateway/delivered_marks.h"
#include "gateway/shard.h"
#include "gateway/socket_poller.h"
#include "gateway/ws_codec.h"

namespace channelstream::gateway {

class WsSession : public PollTarget, public Client {
 public:
  // On the shard's loop: takes ownership of the upgraded connection `fd`, registers the session
  // with the shard, queues the 101 answer, feeds bytes read past the request and attaches
  // `conn_id` (an empty conn_id is unknown: the socket is closed at once). `tls`: the
  // connection's SSL on a TLS port (null: plain socket).
  // `since`: positions the client presented (/ws?since=...), passed on in the Attach.
  static void Open(Shard& shard, int fd, uint64_t handle, std::string handshake_response,
                   std::string_view leftover, const std::string& conn_id, common::SslPtr tls = nullptr,
                   google::protobuf::RepeatedPtrField<v1::Position> since = {});

  // Use Open(). The shard owns the session (its client map, then its retired list until the end
  // of the turn), so the raw shard pointer stays valid for the session's whole life.
  WsSession(Shard& shard, int fd, uint64_t handle, SSL* tls = nullptr);
  ~WsSession() override;
  WsSession(const WsSession&) = delete;
  WsSession& operator=(const WsSession&) = delete;

  void OnAttachResult(const v1::AttachResult& result) override;
  void OnFrame(const FramePtr& frame) override;
  void OnKick() override;
  void OnStreamLost(bool shutting_down) override;
  void Drain(SteadyTime deadline) override;
  void OnTick(SteadyTime now) override;
  void Flush() override { WriteNow(); }
  void OnPollEvent(uint32_t events) override;

 private:
  enum class State : uint8_t { kAttaching, kOpen, kClosing, kClosed };

  void Start(std::string handshake_response, std::string_view leftover, const std::string& conn_id,
             google::protobuf::RepeatedPtrField<v1::Position> since);
  // Queues a frame for the end-of-turn write; over the queue limit the client is closed.
  void Enqueue(const FramePtr& frame);
  // Sends a close frame after what is already being written; new frames are dropped. Then the
  // send side is shut and the socket closed at the client's EOF or after a grace period. The
  // Detach goes first: its marks count the frames written and the one half out.
  void BeginClose(uint16_t code, std::string_view reason);
  void QueueCloseFrame(uint16_t code, std::string_view reason);
  void FinalClose();
  // Leaves the epoll set and closes the fd (once; the fd becomes -1).
  void CloseSocket();
  void Detach();

  // Edge-triggered: reads until EAGAIN or a short read (or a bound, then asks the poller to
  // report it again). With `peer_closed` (EPOLLRDHUP/HUP) it reads on to the end of stream, which
  // no later edge would report.
  void OnReadable(bool peer_closed);
  // Parses what a read brought; false once the session is closed.
  bool ConsumeClientBytes(const uint8_t* data, size_t size, std::vector<ws::ClientEvent>& events);
  void HandleClientEvent(ws::ClientEvent& event);

  // Gather-writes everything queued (sendmsg, up to 64 frames per call) until drained or the
  // socket would block; then the next EPOLLOUT edge resumes it.
  void WriteNow();
  void ReleaseQueue();
  // The head frame is fully written: the client has it (marks), its reference goes.
  void HeadWritten();
  // Queued bytes and frames that count against the slow-consumer limits (catch-up does not).
  size_t LimitedBytes() const { return queued_bytes_ > catchup_bytes_ ? queued_bytes_ - catchup_bytes_ : 0; }

  // The TLS (wss) transport, ws_session_tls.cc. Reads until OpenSSL wants more from the socket
  // (decrypted bytes may sit in OpenSSL with the socket already drained).
  void OnReadableTls();
  // SSL_write of the queued frames, one at a time; false when blocked or closed.
  bool WriteQueuedTls();

  // Small fields first: they fill Client's tail padding (Itanium ABI).
  State state_ = State::kAttaching;
  bool attached_ = false;           // the broker routes to handle_ (Detach due on close)
  bool waiting_writable_ = false;   // a write hit EAGAIN: resume on EPOLLOUT
  bool close_when_sent_ = false;    // both close frames exchanged: close TCP once ours is out
  bool send_side_shut_ = false;
  bool handshake_written_ = false;  // the 101 answer (first frame) is never dropped
  bool read_wants_write_ = false;   // TLS: SSL_read must be retried on EPOLLOUT
  int fd_;                          // -1 once closed
  uint32_t head_offset_ = 0;        // bytes of queue_[head_] already written (frames come from protobuf messages: < 2 GB)

  Shard* shard_;
  SSL* ssl_;  // TLS: owned, bound to fd_ (freed in CloseSocket); nullptr on a plain socket
  const uint64_t handle_;
  ws::FrameParser parser_;

  std::vector<FramePtr> queue_;  // queue_[head_..] not yet fully written
  size_t head_ = 0;
  size_t queued_bytes_ = 0;
  size_t catchup_bytes_ = 0;     // of queued_bytes_, in catch-up frames
  size_t catchup_frames_ = 0;
  DeliveredMarks delivered_;     // what the client has been written, per stream

  SteadyTime last_activity_;
  // What the current state waits for: kAttaching the broker's answer (timeout), kOpen the next
  // heartbeat, kClosing the end of the grace period.
  SteadyTime deadline_;
  SteadyTime next_ping_;  // kOpen only
  // For log lines only (slow consumer, DEBUG attach/close).
  std::string conn_id_;
  std::string username_;
};

}  // namespace channelstream::gateway
