#include "gateway/long_poll.h"

#include "gateway/broker_link.h"
#include "gateway/settings.h"

namespace channelstream::gateway {

namespace http = boost::beast::http;

LongPoll::LongPoll(std::shared_ptr<Shard> shard, std::shared_ptr<common::HttpExchange> exchange,
                   uint64_t handle, std::string callback, std::string cors_origin)
    : shard_(std::move(shard)),
      exchange_(std::move(exchange)),
      handle_(handle),
      callback_(std::move(callback)),
      cors_origin_(std::move(cors_origin)),
      timer_(shard_->loop()),
      connection_(shard_->settings(), *this) {}

void LongPoll::Start(const std::string& conn_id,
                     google::protobuf::RepeatedPtrField<v1::Position> since) {
  Bump(shard_->counters().long_polls);
  generation_ = shard_->link().generation();
  if (!connection_.Start(/*broker_available=*/generation_ != 0)) return;
  shard_->Register(handle_, shared_from_this());
  shard_->link().SendAttach(generation_, handle_, conn_id, &since);
}

void LongPoll::ArmTimer(SteadyTime deadline) {
  timer_.expires_at(deadline);
  timer_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
    if (ec == boost::asio::error::operation_aborted || self->connection_.done()) return;
    self->connection_.OnTimer(std::chrono::steady_clock::now());
    self->shard_->EndTurn();
  });
}

void LongPoll::Detach(const DeliveredMarks& delivered) {
  v1::GatewayUp up;
  v1::Detach* detach = up.mutable_detach();
  detach->set_handle(handle_);
  delivered.FillDetach(detach);
  shard_->link().Send(generation_, std::move(up));
}

void LongPoll::Respond(unsigned status_code, std::string body) {
  const auto status = static_cast<http::status>(status_code);
  const common::HttpRequest& request = exchange_->request();
  common::HttpResponse response;
  if (!callback_.empty() && status == http::status::ok) {
    response = common::MakeResponse(request, status, callback_ + "(" + body + ");",
                                    "application/javascript");
  } else {
    response = common::MakeResponse(request, status, std::move(body));
  }
  if (!cors_origin_.empty()) response.set(http::field::access_control_allow_origin, cors_origin_);
  Bump(shard_->counters().bytes_out, static_cast<int64_t>(response.body().size()));
  exchange_->Respond(std::move(response));
  exchange_.reset();
  Bump(shard_->counters().long_polls, -1);
  shard_->Remove(handle_);
}

}  // namespace channelstream::gateway
