#include "gateway/ws_connection.h"

#include <algorithm>
#include <utility>

#include "common/log.h"

namespace channelstream::gateway {

WsConnection::WsConnection(const GatewaySettings& settings, WsConnectionSink& sink)
    : settings_(&settings), sink_(&sink), parser_(settings.max_client_message_bytes) {}

void WsConnection::Start(SteadyTime now, FramePtr handshake_response, std::string_view leftover,
                         std::string conn_id, std::optional<Refusal> refusal,
                         absl::FunctionRef<void()> attach) {
  last_activity_ = now;
  deadline_ = now + kAttachTimeout;
  conn_id_ = std::move(conn_id);
  Enqueue(handshake_response);
  if (!leftover.empty()) {
    std::vector<ws::ClientEvent> events;
    parser_.Feed(reinterpret_cast<const uint8_t*>(leftover.data()), leftover.size(), &events);
    for (auto& event : events) HandleClientEvent(event);
  }
  if (refusal) {
    BeginClose(refusal->code, refusal->reason);
  } else {
    // Even after a close the leftover bytes started: the broker pairs each Attach with a Detach.
    attached_ = true;
    attach();
  }
  if (parser_.failed()) BeginClose(parser_.error_code(), parser_.error_reason());
}

void WsConnection::OnAttachResult(const v1::AttachResult& result) {
  if (state_ != State::kAttaching) return;
  if (!result.found()) {
    attached_ = false;
    BeginClose(ws::kPolicyViolation, "unknown conn_id");
    return;
  }
  state_ = State::kOpen;
  username_ = result.username();
  LOG_DEBUG("websocket attached: conn_id=", conn_id_, " user=", username_,
            " catchup=", result.catchup_json_size());
  const SteadyTime now = sink_->Now();
  deadline_ = now + SteadySeconds(settings_->heartbeat_interval);  // the first heartbeat
  next_ping_ = now + SteadySeconds(settings_->ws_ping_interval);
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

bool WsConnection::OnFrame(const FramePtr& frame) {
  if (state_ != State::kOpen) return false;
  Enqueue(frame);
  return true;
}

void WsConnection::OnKick() {
  attached_ = false;  // the broker already dropped the connection
  BeginClose(ws::kNormalClosure, "disconnected");
}

void WsConnection::OnStreamLost(bool shutting_down) {
  attached_ = false;  // the stream is gone; nothing to detach from
  if (shutting_down) {
    BeginClose(ws::kGoingAway, "going away");
  } else {
    BeginClose(ws::kServiceRestart, "broker stream lost");
  }
}

void WsConnection::Drain(SteadyTime deadline) {
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

void WsConnection::OnTick(SteadyTime now) {
  const GatewaySettings& settings = *settings_;
  // A drained queue keeps its vector between turns (busy clients reuse it); an idle one gives it
  // back here, so idle sessions hold no heap memory of their own.
  if (queue_.empty() && queue_.capacity() > 0) std::vector<FramePtr>().swap(queue_);
  switch (state_) {
    case State::kAttaching:
      if (now > deadline_) BeginClose(ws::kInternalError, "broker did not answer");
      break;
    case State::kOpen:
      if (settings.client_timeout > 0 &&
          now - last_activity_ > SteadySeconds(settings.client_timeout)) {
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

bool WsConnection::OnClientBytes(const uint8_t* data, size_t size) {
  last_activity_ = sink_->Now();  // any client traffic is a heartbeat
  if (parser_.failed()) return true;
  std::vector<ws::ClientEvent> events;
  parser_.Feed(data, size, &events);
  for (auto& event : events) {
    HandleClientEvent(event);
    if (state_ == State::kClosed) return false;
  }
  if (parser_.failed()) BeginClose(parser_.error_code(), parser_.error_reason());
  return true;
}

void WsConnection::HandleClientEvent(ws::ClientEvent& event) {
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
        uint16_t code =
            event.close_code == ws::kNoStatus ? uint16_t{ws::kNormalClosure} : event.close_code;
        BeginClose(code, "");
      }
      break;
  }
}

void WsConnection::Enqueue(const FramePtr& frame) {
  const GatewaySettings& settings = *settings_;
  // Catch-up is bounded by the broker (max_catchup_bytes): only live frames count here.
  const size_t count = queue_.size() - head_ - catchup_frames_;
  if (!frame->catchup && count > 0 &&
      (count >= settings.max_queue_messages ||
       LimitedBytes() + frame->bytes.size() > settings.max_queue_bytes)) {
    sink_->SlowConsumer();
    LOG_WARNING("closing a slow WebSocket consumer (conn_id=", conn_id_,
                " user=", username_.empty() ? "?" : username_, "): ", count, " frames / ",
                queued_bytes_, " bytes queued (max_queue_messages ", settings.max_queue_messages,
                ", max_queue_bytes ", settings.max_queue_bytes, ")");
    BeginClose(ws::kPolicyViolation, "slow consumer: queue limit");
    return;
  }
  queue_.push_back(frame);
  queued_bytes_ += frame->bytes.size();
  if (frame->catchup) {
    catchup_bytes_ += frame->bytes.size();
    ++catchup_frames_;
  }
  sink_->WriteSoon();
}

void WsConnection::BeginClose(uint16_t code, std::string_view reason) {
  if (state_ == State::kClosing || state_ == State::kClosed) return;
  LOG_DEBUG("websocket closing: conn_id=", conn_id_, " user=", username_, " code=", code,
            " reason=", std::string(reason));
  state_ = State::kClosing;
  deadline_ = sink_->Now() + kCloseGrace;
  // Keep only a frame already partly on the wire (or committed to the transport); drop
  // everything not started.
  const bool keep_head =
      head_ < queue_.size() && (head_offset_ > 0 || !handshake_written_ || head_committed_);
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

void WsConnection::QueueCloseFrame(uint16_t code, std::string_view reason) {
  auto close_frame = MakeRawFrame(ws::CloseFrame(code, reason));
  queued_bytes_ += close_frame->bytes.size();
  queue_.push_back(std::move(close_frame));
  sink_->WriteSoon();
}

void WsConnection::FinalClose() {
  if (state_ == State::kClosed) return;
  Detach();
  state_ = State::kClosed;
  ReleaseQueue();
  sink_->Close();
}

void WsConnection::Detach() {
  if (!attached_) return;
  attached_ = false;
  // Frames routed here but never written stay due: the next attach replays them.
  sink_->Detach(delivered_);
}

void WsConnection::ReleaseQueue() {
  std::vector<FramePtr>().swap(queue_);
  queued_bytes_ = catchup_bytes_ = catchup_frames_ = 0;
  head_ = head_offset_ = 0;
  head_committed_ = false;
}

void WsConnection::HeadWritten() {
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
  head_committed_ = false;
}

void WsConnection::OnWritten(size_t bytes) {
  queued_bytes_ -= bytes;
  while (bytes > 0) {
    const size_t remaining = queue_[head_]->bytes.size() - head_offset_;
    if (bytes >= remaining) {
      bytes -= remaining;
      HeadWritten();
    } else {
      head_offset_ += static_cast<uint32_t>(bytes);
      bytes = 0;
    }
  }
}

void WsConnection::OnAllWritten() {
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
    sink_->ShutdownSend();
  }
}

}  // namespace channelstream::gateway
