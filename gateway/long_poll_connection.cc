#include "gateway/long_poll_connection.h"

#include <utility>

#include "common/log.h"

namespace channelstream::gateway {

namespace {
constexpr unsigned kOk = 200;
constexpr unsigned kUnauthorized = 401;
constexpr unsigned kServiceUnavailable = 503;
}  // namespace

bool LongPollConnection::Start(bool broker_available) {
  if (!broker_available) {
    Respond(kServiceUnavailable, "{\"error\": \"broker unavailable\"}");
    return false;
  }
  attached_ = true;
  // Bound the wait for the broker's answer too.
  ArmTimer(settings_->wake_connections_after + settings_->rpc_timeout);
  return true;
}

void LongPollConnection::OnAttachResult(const v1::AttachResult& result) {
  if (done_ || open_) return;
  if (!result.found()) {
    attached_ = false;
    Respond(kUnauthorized, "{\"conn_id\": [\"Unknown connection\"]}");
    return;
  }
  open_ = true;
  LOG_DEBUG("long poll attached: user=", result.username(),
            " catchup=", result.catchup_json_size());
  catchup_.assign(result.catchup_json().begin(), result.catchup_json().end());
  delivered_.Note(result.catchup_marks());
  ArmTimer(catchup_.empty() ? settings_->wake_connections_after : settings_->long_poll_gather);
}

void LongPollConnection::OnFrame(const FramePtr& frame) {
  if (done_ || !open_) return;
  const bool first = catchup_.empty() && frames_.empty();
  frames_.push_back(frame);
  if (frames_.size() + catchup_.size() >= settings_->max_queue_messages) {
    Finish();
  } else if (first) {
    ArmTimer(settings_->long_poll_gather);
  }
}

void LongPollConnection::OnTimer(SteadyTime now) {
  if (done_ || now < deadline_) return;  // a stale expiry: the deadline moved on
  Finish();
}

void LongPollConnection::ArmTimer(double seconds) {
  deadline_ = sink_->Now() + SteadySeconds(seconds);
  sink_->ArmTimer(deadline_);
}

void LongPollConnection::Finish() {
  if (done_) return;
  std::string body = "[";
  bool first = true;
  for (const std::string& item : catchup_) {
    if (!first) body.push_back(',');
    body.append(item);
    first = false;
  }
  for (const FramePtr& frame : frames_) {
    if (!first) body.push_back(',');
    body.append(frame->payload());
    first = false;
  }
  body.push_back(']');
  Respond(kOk, std::move(body));
}

void LongPollConnection::Respond(unsigned status, std::string body) {
  if (done_) return;
  done_ = true;
  sink_->CancelTimer();
  if (attached_) {
    attached_ = false;
    // Report what this answer carries, so frames still in flight to us are not taken as seen.
    // (An error answer carries nothing: its catch-up stays due.)
    if (status == kOk) {
      for (const FramePtr& frame : frames_) delivered_.Note(*frame);
    } else {
      delivered_ = DeliveredMarks();
    }
    sink_->Detach(delivered_);
  }
  catchup_.clear();
  frames_.clear();
  sink_->Respond(status, std::move(body));
}

}  // namespace channelstream::gateway
