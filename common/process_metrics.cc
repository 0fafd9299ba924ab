#include "common/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>

#include "common/version.h"

namespace channelstream::common {

double ProcessResidentBytes() {
  std::ifstream statm("/proc/self/statm");
  long long pages_total = 0, pages_resident = 0;
  if (!(statm >> pages_total >> pages_resident)) return -1;
  return static_cast<double>(pages_resident) * static_cast<double>(::sysconf(_SC_PAGESIZE));
}

double ProcessCpuSeconds() {
  std::ifstream stat_file("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(stat_file)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const size_t close = text.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(text.substr(close + 1));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After ')': state is field 3; utime and stime are fields 14 and 15.
  for (int index = 3; index <= 15 && (fields >> field); ++index) {
    if (index == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (index == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  const long ticks = ::sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(utime + stime) / static_cast<double>(ticks) : -1;
}

double ProcessOpenFds() {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) return -1;
  int count = 0;
  while (const dirent* entry = ::readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  ::closedir(dir);
  return count - 1;  // not the descriptor opendir itself holds
}

void RegisterProcessMetrics(MetricsRegistry& registry) {
  static std::once_flag once;
  std::call_once(once, [&registry] {
    registry.AddCallback("process_resident_memory_bytes", "Resident memory size in bytes.",
                         MetricType::kGauge, {}, ProcessResidentBytes);
    registry.AddCallback("process_cpu_seconds_total",
                         "Total user and system CPU time spent in seconds.", MetricType::kCounter,
                         {}, ProcessCpuSeconds);
    registry.AddCallback("process_open_fds", "Number of open file descriptors.", MetricType::kGauge,
                         {}, ProcessOpenFds);
    registry.AddCallback("channelstream_build_info", "Always 1; the version is a label.",
                         MetricType::kGauge, {{"version", kVersion}}, [] { return 1.0; });
  });
}

}  // namespace channelstream::common
