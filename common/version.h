// The version every binary prints for --version and exposes as channelstream_build_info.
#pragma once

namespace channelstream::common {

inline constexpr const char kVersion[] = "0.8.0";

}  // namespace channelstream::common
