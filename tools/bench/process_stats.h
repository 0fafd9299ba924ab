// CPU seconds and resident memory of the measured server processes, read from /proc, and the
// delivery-latency record the load generator reports from.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

namespace channelstream::bench {

struct ProcessSample {
  double cpu_seconds = 0;  // user + system, summed over the processes
  int64_t rss_bytes = 0;   // VmRSS, summed
  bool ok = true;          // false when a process is gone
};

ProcessSample SampleProcesses(const std::vector<pid_t>& pids);
// This process's own CPU seconds (user + system).
double SelfCpuSeconds();

// Latencies in microseconds; percentiles computed once at the end.
class LatencyRecord {
 public:
  void Add(int64_t micros) { values_.push_back(static_cast<uint32_t>(micros < 0 ? 0 : micros)); }
  size_t size() const { return values_.size(); }
  // p in [0, 1]; milliseconds; 0 when empty.
  double PercentileMs(double p);
  double MaxMs();

 private:
  std::vector<uint32_t> values_;
  bool sorted_ = false;
};

}  // namespace channelstream::bench
