// The gateway's clock type, and config seconds (doubles) as steady_clock durations.
#pragma once

#include <chrono>

namespace channelstream::gateway {

using SteadyTime = std::chrono::steady_clock::time_point;

inline std::chrono::steady_clock::duration SteadySeconds(double seconds) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
}

}  // namespace channelstream::gateway
