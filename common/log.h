// Minimal leveled logging to stderr: LOG_INFO("listening on ", url). Thread-safe, one line per call.
#pragma once

#include <string>

#include "absl/strings/str_cat.h"

namespace channelstream {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
// Accepts 0.7's names (DEBUG, INFO, WARNING/WARN, ERROR, CRITICAL); unknown names keep INFO.
void SetLogLevelFromName(const std::string& name);
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, const std::string& text);

}  // namespace channelstream

#define CS_LOG(level, ...)                                                        \
  do {                                                                            \
    if (::channelstream::LogEnabled(level))                                       \
      ::channelstream::LogLine(level, ::absl::StrCat(__VA_ARGS__));               \
  } while (0)
#define LOG_DEBUG(...) CS_LOG(::channelstream::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) CS_LOG(::channelstream::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARNING(...) CS_LOG(::channelstream::LogLevel::kWarning, __VA_ARGS__)
#define LOG_ERROR(...) CS_LOG(::channelstream::LogLevel::kError, __VA_ARGS__)
