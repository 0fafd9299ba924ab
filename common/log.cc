#include "common/log.h"

#include <atomic>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/text.h"

namespace channelstream {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "DEBUG";
    case LogLevel::kInfo: return "INFO";
    case LogLevel::kWarning: return "WARNING";
    case LogLevel::kError: return "ERROR";
  }
  return "?";
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }

void SetLogLevelFromName(const std::string& name) {
  std::string upper = absl::AsciiStrToUpper(name);
  if (upper == "DEBUG") SetLogLevel(LogLevel::kDebug);
  else if (upper == "WARNING" || upper == "WARN") SetLogLevel(LogLevel::kWarning);
  else if (upper == "ERROR" || upper == "CRITICAL") SetLogLevel(LogLevel::kError);
  else SetLogLevel(LogLevel::kInfo);
}

bool LogEnabled(LogLevel level) { return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed); }

void LogLine(LogLevel level, const std::string& text) {
  std::string line = absl::StrCat(absl::FormatTime("%Y-%m-%d %H:%M:%E3S", absl::Now(), absl::UTCTimeZone()),
                                  " ", LevelName(level), " ", EscapeForLog(text), "\n");
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write per line: lines never interleave
}

}  // namespace channelstream
