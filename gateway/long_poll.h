// One GET /listen: the HTTP and timer adapter around LongPollConnection (long_poll_connection.h),
// which decides when the poll answers and what it carries. Attached to the broker for the length
// of the poll: waits up to wake_connections_after for a first message, then gathers for
// long_poll_gather more, answers the JSON list (or JSONP) and detaches; the broker's catch-up
// covers the gap until the next poll.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "common/http_server.h"
#include "gateway/long_poll_connection.h"
#include "gateway/shard.h"

namespace channelstream::gateway {

class LongPoll : public Client,
                 public std::enable_shared_from_this<LongPoll>,
                 private LongPollSink {
 public:
  // `callback`: JSONP function name (already validated) or empty; `cors_origin`: the value of
  // Access-Control-Allow-Origin, or empty for none.
  LongPoll(std::shared_ptr<Shard> shard, std::shared_ptr<common::HttpExchange> exchange,
           uint64_t handle, std::string callback, std::string cors_origin);

  // On the shard's loop.
  // `since`: positions the client presented (/listen?since=...), passed on in the Attach.
  void Start(const std::string& conn_id,
             google::protobuf::RepeatedPtrField<v1::Position> since = {});

  void OnAttachResult(const v1::AttachResult& result) override {
    connection_.OnAttachResult(result);
  }
  void OnFrame(const FramePtr& frame) override { connection_.OnFrame(frame); }
  void OnKick() override { connection_.Finish(); }
  void OnStreamLost(bool) override { connection_.Finish(); }
  void Drain(SteadyTime) override { connection_.Finish(); }
  void OnTick(SteadyTime) override {}

 private:
  // LongPollSink
  SteadyTime Now() const override { return std::chrono::steady_clock::now(); }
  void ArmTimer(SteadyTime deadline) override;
  void CancelTimer() override { timer_.cancel(); }
  void Detach(const DeliveredMarks& delivered) override;
  void Respond(unsigned status, std::string body) override;

  std::shared_ptr<Shard> shard_;
  std::shared_ptr<common::HttpExchange> exchange_;
  const uint64_t handle_;
  const std::string callback_;
  const std::string cors_origin_;
  boost::asio::steady_timer timer_;
  LongPollConnection connection_;
};

}  // namespace channelstream::gateway
