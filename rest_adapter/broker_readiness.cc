#include "rest_adapter/broker_readiness.h"

#include <chrono>
#include <string>

namespace channelstream::rest {

namespace {
const char* StateName(grpc_connectivity_state state) {
  switch (state) {
    case GRPC_CHANNEL_IDLE:
      return "IDLE";
    case GRPC_CHANNEL_CONNECTING:
      return "CONNECTING";
    case GRPC_CHANNEL_READY:
      return "READY";
    case GRPC_CHANNEL_TRANSIENT_FAILURE:
      return "TRANSIENT_FAILURE";
    case GRPC_CHANNEL_SHUTDOWN:
      return "SHUTDOWN";
  }
  return "UNKNOWN";
}
}  // namespace

common::ReadinessCheck BrokerChannelReadiness(std::shared_ptr<grpc::Channel> channel,
                                              double timeout_seconds) {
  return [channel = std::move(channel), timeout_seconds] {
    grpc_connectivity_state state = channel->GetState(/*try_to_connect=*/true);
    if (state != GRPC_CHANNEL_READY && timeout_seconds > 0) {
      channel->WaitForConnected(
          std::chrono::system_clock::now() +
          std::chrono::microseconds(static_cast<int64_t>(timeout_seconds * 1e6)));
      state = channel->GetState(false);
    }
    if (state == GRPC_CHANNEL_READY) return common::Readiness{};
    return common::Readiness{false, std::string("broker channel ") + StateName(state) +
                                        " (broker_address unreachable?)"};
  };
}

}  // namespace channelstream::rest
