// The WebSocket session's state machine, sans I/O: the attach, heartbeats and pings, the
// slow-consumer limit, the close handshake, drain and the delivered marks. Client bytes, ticks
// and broker events go in; what must be written sits in the connection's queue (shared frame
// pointers, written by the transport with gather-writes) and the decisions (write soon, detach,
// half-close, close) go out through a WsConnectionSink. WsSession (ws_session.h) is the socket
// and TLS adapter around it; tests drive it with a fake sink and an explicit clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/functional/function_ref.h"
#include "channelstream.pb.h"
#include "gateway/delivered_marks.h"
#include "gateway/frame.h"
#include "gateway/settings.h"
#include "gateway/steady_time.h"
#include "gateway/ws_codec.h"

namespace channelstream::gateway {

// What the connection asks of its transport. Calls come synchronously from inside the
// connection's methods; after Close() the connection calls nothing more.
class WsConnectionSink {
 public:
  // The clock, read when a close starts (grace period), when the attach is answered (heartbeat
  // schedule) and when client bytes arrive (activity). Ticks bring their own `now`.
  virtual SteadyTime Now() const = 0;
  // Frames were queued: write them at the end of this turn.
  virtual void WriteSoon() = 0;
  // Tell the broker the connection left: frames not in `delivered` stay due (catch-up).
  virtual void Detach(const DeliveredMarks& delivered) = 0;
  // A client is closed for exceeding the queue limit (counted; the close follows).
  virtual void SlowConsumer() = 0;
  // Our close frame is out and the client's has not come yet: shut the send side.
  virtual void ShutdownSend() = 0;
  // The connection is finished: close the socket and forget the session.
  virtual void Close() = 0;

 protected:
  ~WsConnectionSink() = default;
};

class WsConnection {
 public:
  // A close the transport decides before the attach (unknown conn_id, no broker stream).
  struct Refusal {
    uint16_t code;
    std::string_view reason;
  };

  static constexpr auto kCloseGrace = std::chrono::seconds(2);
  static constexpr auto kAttachTimeout = std::chrono::seconds(10);

  // `settings` and `sink` must outlive the connection.
  WsConnection(const GatewaySettings& settings, WsConnectionSink& sink);
  WsConnection(const WsConnection&) = delete;
  WsConnection& operator=(const WsConnection&) = delete;

  // --- from the transport ---
  // The upgrade is done: queues the 101 answer (never dropped), parses the bytes the client
  // sent past the request, then either closes with `refusal` or calls `attach` (which sends
  // the Attach to the broker: a Detach is due from then on). `conn_id` is for log lines.
  void Start(SteadyTime now, FramePtr handshake_response, std::string_view leftover,
             std::string conn_id, std::optional<Refusal> refusal, absl::FunctionRef<void()> attach);
  // The transport could not be set up: finish at once (Close() without a close frame).
  void Abort() { FinalClose(); }
  // Bytes the client sent (any traffic counts as activity). False once the connection is closed.
  bool OnClientBytes(const uint8_t* data, size_t size);
  // The client's end of stream, or a socket error: finish now.
  void OnTransportClosed() { FinalClose(); }

  // --- the write side: the transport writes pending_bytes(0..) and reports progress ---
  size_t pending_frames() const { return queue_.size() - head_; }
  // Bytes of the i-th unwritten frame still to write (the head may be partly written).
  std::string_view pending_bytes(size_t i) const {
    const std::string& bytes = queue_[head_ + i]->bytes;
    return i == 0 ? std::string_view(bytes).substr(head_offset_) : std::string_view(bytes);
  }
  // `bytes` more of the queue reached the socket: finished frames count as delivered.
  void OnWritten(size_t bytes);
  // The transport holds the head frame and must finish it (TLS after WANT_WRITE offers the same
  // bytes again): a close keeps it instead of dropping it.
  void HeadCommitted() { head_committed_ = true; }
  // Everything queued is written: after our close frame the send side is shut (or, with the
  // client's close already here, the connection finishes).
  void OnAllWritten();

  // --- from the broker (through the shard) ---
  void OnAttachResult(const v1::AttachResult& result);
  // False if not open (the frame is dropped); true when accepted, even if it closed a slow
  // consumer.
  bool OnFrame(const FramePtr& frame);
  void OnKick();
  void OnStreamLost(bool shutting_down);
  void Drain(SteadyTime deadline);
  void OnTick(SteadyTime now);

  bool closed() const { return state_ == State::kClosed; }
  bool open() const { return state_ == State::kOpen; }
  bool closing() const { return state_ == State::kClosing; }
  // Whether the write queue holds a heap buffer (an idle connection gives it back at a tick).
  bool holds_queue_memory() const { return queue_.capacity() > 0; }

 private:
  enum class State : uint8_t { kAttaching, kOpen, kClosing, kClosed };

  void HandleClientEvents(std::vector<ws::ClientEvent>& events);
  void HandleClientEvent(ws::ClientEvent& event);
  // Queues a frame for the end-of-turn write; over the queue limit the client is closed.
  void Enqueue(const FramePtr& frame);
  // Sends a close frame after what is already being written; new frames are dropped. Then the
  // send side is shut and the connection closed at the client's EOF or after a grace period.
  // The Detach goes first: its marks count the frames written and the one half out.
  void BeginClose(uint16_t code, std::string_view reason);
  void QueueCloseFrame(uint16_t code, std::string_view reason);
  void FinalClose();
  void Detach();
  void ReleaseQueue();
  // The head frame is fully written: the client has it (marks), its reference goes.
  void HeadWritten();
  // Queued bytes that count against the slow-consumer limit (catch-up does not).
  size_t LimitedBytes() const {
    return queued_bytes_ > catchup_bytes_ ? queued_bytes_ - catchup_bytes_ : 0;
  }

  State state_ = State::kAttaching;
  bool attached_ = false;         // the broker routes to us (Detach due on close)
  bool close_when_sent_ = false;  // both close frames exchanged: finish once ours is out
  bool send_side_shut_ = false;
  bool handshake_written_ = false;  // the 101 answer (first frame) is never dropped
  bool head_committed_ = false;     // see HeadCommitted()
  uint32_t head_offset_ = 0;        // bytes of queue_[head_] already written (frames < 2 GB)
  uint32_t head_ = 0;  // queue_[head_..] not yet fully written (32 bits: beside the flags)

  const GatewaySettings* settings_;
  WsConnectionSink* sink_;
  ws::FrameParser parser_;

  std::vector<FramePtr> queue_;
  size_t queued_bytes_ = 0;
  size_t catchup_bytes_ = 0;  // of queued_bytes_, in catch-up frames
  size_t catchup_frames_ = 0;
  DeliveredMarks delivered_;  // what the client has been written, per stream

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
