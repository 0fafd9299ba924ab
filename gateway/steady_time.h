// The gateway's clock type, and config seconds (doubles) as steady_clock durations.
#pragma once

#include <chrono>

namespace channelstream::gateway {

using SteadyTime = std::chrono::steady_clock::time_point;

inline std::chrono::steady_clock::duration SteadySeconds(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds));
}

}  // namespace channelstream::gateway

// The rest of gateway/ still lives in channelstream until main moves it to channelstream::gateway.
namespace channelstream {
using gateway::SteadySeconds;
using gateway::SteadyTime;
}  // namespace channelstream
