// The gateway's one GatewayStream to the broker. A reader thread receives deliveries and hands
// them to the gateway; a writer thread sends attaches/detaches queued by the event loops, so no
// event loop ever blocks on broker I/O. A dropped stream is reopened after a delay; each stream
// has a generation number so work queued for a dead stream is never sent on the next one.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "channelstream.grpc.pb.h"

namespace channelstream::gateway {

class BrokerLink {
 public:
  struct Handlers {
    // A stream is open (GatewayHello sent).
    std::function<void(uint64_t generation)> on_up;
    // One message from the broker, on the reader thread; the handler may take its fields.
    std::function<void(v1::GatewayDown* message)> on_message;
    // The stream ended; every client attached through it must be closed.
    std::function<void(uint64_t generation)> on_lost;
  };

  // `network_channel`: a channel from CreateBrokerChannel, whose connectivity state can be waited
  // on (an in-process channel has none: retries then simply wait reconnect_delay).
  BrokerLink(std::shared_ptr<grpc::Channel> channel, double reconnect_delay_seconds,
             Handlers handlers, bool network_channel = false);
  ~BrokerLink();

  void Start(const std::string& gateway_id);
  void Stop();
  // Graceful end (gateway drain): waits until what is queued (the clients' detaches) is written,
  // half-closes the stream and waits for the broker to end it, so the broker has handled all of
  // it; then Stop(). Gives up at `deadline`. No reconnect afterwards.
  void Drain(std::chrono::steady_clock::time_point deadline);

  // The live stream's generation, 0 while no stream is open.
  uint64_t generation() const;
  // Queues `message` for stream `generation`; dropped when that stream is no longer live.
  void Send(uint64_t generation, v1::GatewayUp message);
  // The Attach a new WebSocket or long poll sends: catch-up wanted, from `since` when the client
  // presented positions (taken).
  void SendAttach(uint64_t generation, uint64_t handle, const std::string& conn_id,
                  google::protobuf::RepeatedPtrField<v1::Position>* since);

 private:
  void RunReader();
  // Between stream attempts: waits broker_reconnect_delay, or less when the channel reconnects
  // meanwhile. Waiting on the channel also drives gRPC's reconnect I/O (the synchronous API makes
  // progress only while a thread waits), so a restarted broker is seen within gRPC's backoff.
  void WaitBeforeRetry();
  void RunWriter();

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Broker::Stub> stub_;
  const double reconnect_delay_seconds_;
  const bool network_channel_;
  Handlers handlers_;
  std::string gateway_id_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  bool stopping_ = false;
  bool started_ = false;
  bool draining_ = false;     // Drain() called: the stream's end is expected
  bool writes_done_ = false;  // the live stream is half-closed: nothing more may be written
  uint64_t generation_ = 0;   // live stream, 0 when none
  uint64_t last_generation_ = 0;
  grpc::ClientContext* context_ = nullptr;  // live call, for cancelling on Stop
  std::shared_ptr<grpc::ClientReaderWriter<v1::GatewayUp, v1::GatewayDown>> stream_;
  std::deque<std::pair<uint64_t, v1::GatewayUp>> outbox_;
  bool writer_busy_ = false;

  std::thread reader_;
  std::thread writer_;
};

}  // namespace channelstream::gateway
