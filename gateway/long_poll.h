// One GET /listen: attached to the broker for the length of the poll. Waits up to
// wake_connections_after for a first message, then gathers for long_poll_gather more, answers
// the JSON list (or JSONP) and detaches; the broker's catch-up covers the gap until the next poll.
#pragma once

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>
#include <vector>

#include "common/http_server.h"
#include "gateway/delivered_marks.h"
#include "gateway/shard.h"

namespace channelstream::gateway {

class LongPoll : public Client, public std::enable_shared_from_this<LongPoll> {
 public:
  // `callback`: JSONP function name (already validated) or empty; `cors_origin`: the value of
  // Access-Control-Allow-Origin, or empty for none.
  LongPoll(std::shared_ptr<Shard> shard, std::shared_ptr<common::HttpExchange> exchange, uint64_t handle,
           std::string callback, std::string cors_origin);

  // On the shard's loop.
  // `since`: positions the client presented (/listen?since=...), passed on in the Attach.
  void Start(const std::string& conn_id, google::protobuf::RepeatedPtrField<v1::Position> since = {});

  void OnAttachResult(const v1::AttachResult& result) override;
  void OnFrame(const FramePtr& frame) override;
  void OnKick() override { Finish(); }
  void OnStreamLost(bool) override { Finish(); }
  // Answers now with what it has, as a normal poll return (200).
  void Drain(SteadyTime) override { Finish(); }
  void OnTick(SteadyTime) override {}

 private:
  void ArmTimer(double seconds);
  void Finish();
  void Fail(boost::beast::http::status status, std::string body);
  void Respond(boost::beast::http::status status, std::string body);

  std::shared_ptr<Shard> shard_;
  std::shared_ptr<common::HttpExchange> exchange_;
  const uint64_t handle_;
  const std::string callback_;
  const std::string cors_origin_;
  boost::asio::steady_timer timer_;
  std::vector<std::string> catchup_;
  DeliveredMarks delivered_;  // what the answer carries: reported in the Detach
  std::vector<FramePtr> frames_;
  bool open_ = false;
  bool attached_ = false;
  bool done_ = false;
};

}  // namespace channelstream::gateway
