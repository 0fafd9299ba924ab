// Keeps the REST adapter's channel to the broker connecting while no call is waiting on it.
// With gRPC's synchronous API, I/O makes progress only while some thread waits on the channel:
// REST calls fail fast while the broker is down, so a reconnect attempt would sit unprocessed
// until its connect timeout and a restarted broker would be seen seconds late. One thread asks
// for a connection and waits on state changes, so gRPC's reconnect backoff alone
// (broker_reconnect_delay, see BrokerChannelArguments) decides how soon calls work again.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace channelstream::rest {

class BrokerChannelKeeper {
 public:
  explicit BrokerChannelKeeper(std::shared_ptr<grpc::Channel> channel);
  ~BrokerChannelKeeper();  // stops the thread
  BrokerChannelKeeper(const BrokerChannelKeeper&) = delete;
  BrokerChannelKeeper& operator=(const BrokerChannelKeeper&) = delete;

 private:
  void Run();

  std::shared_ptr<grpc::Channel> channel_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace channelstream::rest
