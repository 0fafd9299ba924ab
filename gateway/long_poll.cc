#include "gateway/long_poll.h"

#include "common/log.h"
#include "gateway/broker_link.h"
#include "gateway/settings.h"

namespace channelstream::gateway {

namespace http = boost::beast::http;

LongPoll::LongPoll(std::shared_ptr<Shard> shard, std::shared_ptr<common::HttpExchange> exchange, uint64_t handle,
                   std::string callback, std::string cors_origin)
    : shard_(std::move(shard)),
      exchange_(std::move(exchange)),
      handle_(handle),
      callback_(std::move(callback)),
      cors_origin_(std::move(cors_origin)),
      timer_(shard_->loop()) {}

void LongPoll::Start(const std::string& conn_id, google::protobuf::RepeatedPtrField<v1::Position> since) {
  Bump(shard_->counters().long_polls);
  generation_ = shard_->link().generation();
  if (generation_ == 0) {
    Fail(http::status::service_unavailable, "{\"error\": \"broker unavailable\"}");
    return;
  }
  shard_->Register(handle_, shared_from_this());
  v1::GatewayUp up;
  auto* attach = up.mutable_attach();
  attach->set_handle(handle_);
  attach->set_conn_id(conn_id);
  attach->set_catchup(true);
  attach->mutable_since()->Swap(&since);
  attached_ = true;
  shard_->link().Send(generation_, std::move(up));
  // Bound the wait for the broker's answer too.
  ArmTimer(shard_->settings().wake_connections_after + shard_->settings().rpc_timeout);
}

void LongPoll::OnAttachResult(const v1::AttachResult& result) {
  if (done_ || open_) return;
  if (!result.found()) {
    attached_ = false;
    Fail(http::status::unauthorized, "{\"conn_id\": [\"Unknown connection\"]}");
    return;
  }
  open_ = true;
  LOG_DEBUG("long poll attached: handle=", handle_, " user=", result.username(), " catchup=", result.catchup_json_size());
  catchup_.assign(result.catchup_json().begin(), result.catchup_json().end());
  delivered_.Note(result.catchup_marks());
  ArmTimer(catchup_.empty() ? shard_->settings().wake_connections_after : shard_->settings().long_poll_gather);
}

void LongPoll::OnFrame(const FramePtr& frame) {
  if (done_ || !open_) return;
  const bool first = catchup_.empty() && frames_.empty();
  frames_.push_back(frame);
  if (frames_.size() + catchup_.size() >= shard_->settings().max_queue_messages) {
    Finish();
  } else if (first) {
    ArmTimer(shard_->settings().long_poll_gather);
  }
}

void LongPoll::ArmTimer(double seconds) {
  timer_.expires_after(SteadySeconds(seconds));
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted || self->done_) return;
    self->Finish();
    self->shard_->EndTurn();
  });
}

void LongPoll::Finish() {
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
  Respond(http::status::ok, std::move(body));
}

void LongPoll::Fail(http::status status, std::string body) { Respond(status, std::move(body)); }

void LongPoll::Respond(http::status status, std::string body) {
  if (done_) return;
  done_ = true;
  timer_.cancel();
  if (attached_) {
    attached_ = false;
    v1::GatewayUp up;
    v1::Detach* detach = up.mutable_detach();
    detach->set_handle(handle_);
    // Report what this answer carries, so frames still in flight to us are not taken as seen.
    // (An error answer carries nothing: its catch-up stays due.)
    if (status == http::status::ok) {
      for (const FramePtr& frame : frames_) delivered_.Note(*frame);
    } else {
      delivered_ = DeliveredMarks();
    }
    delivered_.FillDetach(detach);
    shard_->link().Send(generation_, std::move(up));
  }
  const common::HttpRequest& request = exchange_->request();
  common::HttpResponse response;
  if (!callback_.empty() && status == http::status::ok) {
    response = common::MakeResponse(request, status, callback_ + "(" + body + ");", "application/javascript");
  } else {
    response = common::MakeResponse(request, status, std::move(body));
  }
  if (!cors_origin_.empty()) response.set(http::field::access_control_allow_origin, cors_origin_);
  Bump(shard_->counters().bytes_out, static_cast<int64_t>(response.body().size()));
  exchange_->Respond(std::move(response));
  exchange_.reset();
  catchup_.clear();
  frames_.clear();
  Bump(shard_->counters().long_polls, -1);
  shard_->Remove(handle_);
}

}  // namespace channelstream::gateway
