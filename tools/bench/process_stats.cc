#include "tools/bench/process_stats.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace channelstream::bench {

ProcessSample SampleProcesses(const std::vector<pid_t>& pids) {
  ProcessSample sample;
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (pid_t pid : pids) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    size_t paren = text.rfind(')');
    if (paren == std::string::npos) {
      sample.ok = false;
      continue;
    }
    // After "pid (comm)": field 3 is state; utime and stime are fields 14 and 15.
    std::istringstream fields(text.substr(paren + 2));
    std::string field;
    double utime = 0, stime = 0;
    for (int index = 3; index <= 15 && fields >> field; ++index) {
      if (index == 14) utime = std::stod(field);
      if (index == 15) stime = std::stod(field);
    }
    sample.cpu_seconds += (utime + stime) / ticks;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("VmRSS:", 0) == 0) sample.rss_bytes += std::stoll(line.substr(6)) * 1024;
    }
  }
  return sample;
}

double SelfCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

double LatencyRecord::PercentileMs(double p) {
  if (values_.empty()) return 0;
  if (!sorted_) {
    std::sort(values_.begin(), values_.end());
    sorted_ = true;
  }
  size_t index = static_cast<size_t>(p * static_cast<double>(values_.size() - 1));
  return values_[index] / 1000.0;
}

double LatencyRecord::MaxMs() { return PercentileMs(1.0); }

}  // namespace channelstream::bench
