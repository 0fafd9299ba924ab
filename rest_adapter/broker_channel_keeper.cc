#include "rest_adapter/broker_channel_keeper.h"

#include <chrono>

namespace channelstream::rest {

namespace {
// How long one wait lasts while nothing changes: bounds how late the thread sees Stop.
constexpr auto kWaitSlice = std::chrono::milliseconds(250);
}  // namespace

BrokerChannelKeeper::BrokerChannelKeeper(std::shared_ptr<grpc::Channel> channel)
    : channel_(std::move(channel)), thread_([this] { Run(); }) {}

BrokerChannelKeeper::~BrokerChannelKeeper() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  thread_.join();
}

void BrokerChannelKeeper::Run() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    // IDLE (after a lost connection) starts an attempt; waiting drives the attempt's I/O.
    const grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
    const bool changed =
        channel_->WaitForStateChange(state, std::chrono::system_clock::now() + kWaitSlice);
    lock.lock();
    // READY and unchanged: nothing to drive; pause without spinning.
    if (!changed && state == GRPC_CHANNEL_READY)
      stop_.wait_for(lock, kWaitSlice, [this] { return stopping_; });
  }
}

}  // namespace channelstream::rest
