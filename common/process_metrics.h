// process_resident_memory_bytes, process_cpu_seconds_total, process_open_fds (read from
// /proc/self at scrape time) and channelstream_build_info, registered once per process.
#pragma once

#include "common/metrics.h"

namespace channelstream::common {

void RegisterProcessMetrics(MetricsRegistry& registry);

// The readings themselves (-1 when /proc cannot be read), for tests.
double ProcessResidentBytes();
double ProcessCpuSeconds();
double ProcessOpenFds();

}  // namespace channelstream::common
