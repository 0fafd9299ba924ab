// make_config: a commented [channelstream] ini with every known key, its help line, its default
// and the binaries that read it; values come from the given Config (defaults + environment).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/config.h"

namespace channelstream::tools {

// Fails (INVALID_ARGUMENT naming the key) only for a value an ini line cannot hold (a newline).
absl::StatusOr<std::string> RenderIni(const common::Config& config);

}  // namespace channelstream::tools
