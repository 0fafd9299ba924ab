// One WebSocket client after the HTTP upgrade. Beast parsed the upgrade request; from then on
// the session writes pre-built frames straight to the socket and parses client frames with the
// sans-I/O codec. Idle sessions hold no buffers: reads wait for readiness and use the loop's
// shared read buffer; the write queue is a vector of shared frame pointers released when drained.
#pragma once

#include <boost/asio/ip/tcp.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/shard.h"
#include "gateway/ws_codec.h"

namespace channelstream {

class WsSession : public Client, public std::enable_shared_from_this<WsSession> {
 public:
  WsSession(std::shared_ptr<Shard> shard, boost::asio::ip::tcp::socket socket, uint64_t handle);

  // On the shard's loop: queues the 101 answer, feeds bytes read past the request, registers
  // and attaches `conn_id` (an empty conn_id is unknown: the socket is closed at once).
  void Start(std::string handshake_response, std::string_view leftover, const std::string& conn_id);

  void OnAttachResult(const v1::AttachResult& result) override;
  void OnFrame(const FramePtr& frame) override;
  void OnKick() override;
  void OnStreamLost(bool shutting_down) override;
  void OnTick(SteadyTime now) override;
  void Flush() override { WriteNow(); }

 private:
  enum class State : uint8_t { kAttaching, kOpen, kClosing, kClosed };

  // Queues a frame for the end-of-turn write; over the queue limit the client is closed.
  void Enqueue(const FramePtr& frame);
  // Sends a close frame after what is already being written; new frames are dropped. Then the
  // send side is shut and the socket closed at the client's EOF or after a grace period.
  void BeginClose(uint16_t code, std::string_view reason);
  void FinalClose();
  void Detach();

  void WaitReadable();
  void OnReadable();
  void HandleClientEvent(ws::ClientEvent& event);

  // Gather-writes everything queued (sendmsg, up to 64 frames per call) until drained or the
  // socket would block; then waits for writability once.
  void WriteNow();
  void WaitWritable();
  void ReleaseQueue();

  std::shared_ptr<Shard> shard_;
  boost::asio::ip::tcp::socket socket_;
  const uint64_t handle_;
  ws::FrameParser parser_;

  std::vector<FramePtr> queue_;  // queue_[head_..] not yet fully written
  size_t head_ = 0;
  size_t head_offset_ = 0;       // bytes of queue_[head_] already written
  size_t queued_bytes_ = 0;

  SteadyTime started_;
  SteadyTime last_activity_;
  SteadyTime next_heartbeat_;
  SteadyTime next_ping_;
  SteadyTime close_deadline_;
  State state_ = State::kAttaching;
  bool attached_ = false;          // the broker routes to handle_ (Detach due on close)
  bool waiting_writable_ = false;
  bool close_when_sent_ = false;   // both close frames exchanged: close TCP once ours is out
  bool send_side_shut_ = false;
  bool handshake_written_ = false;  // the 101 answer (first frame) is never dropped
};

}  // namespace channelstream
