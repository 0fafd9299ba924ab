// Minimal leveled logging to stderr: LOG_INFO("listening on ", url). Thread-safe, one line per
// call. Lines start with an ISO 8601 UTC timestamp (2026-01-02T03:04:05.678Z). log_format json
// writes one object per line instead: {"ts": ..., "level": ..., "msg": ..., plus any fields}.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace channelstream::common {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogLevel(LogLevel level);
// Accepts 0.7's names (DEBUG, INFO, WARNING/WARN, ERROR, CRITICAL); unknown names keep INFO.
void SetLogLevelFromName(const std::string& name);
bool LogEnabled(LogLevel level);
void LogLine(LogLevel level, const std::string& text);

enum class LogFormat { kText, kJson };
void SetLogFormat(LogFormat format);
// "text" or "json"; false for anything else (the format is left unchanged).
bool SetLogFormatFromName(const std::string& name);

// A line with named fields: text appends ` key=value` pairs (values with spaces or quotes are
// quoted), json adds them as string members.
using LogFields = std::vector<std::pair<std::string, std::string>>;
void LogLineWithFields(LogLevel level, const std::string& text, const LogFields& fields);

// The parts of one line, without writing it (tests).
std::string FormatLogLine(LogLevel level, const std::string& text, const LogFields& fields,
                          LogFormat format, const std::string& timestamp);
std::string LogTimestampNow();

}  // namespace channelstream::common

#define CS_LOG(level, ...)                                                  \
  do {                                                                      \
    if (::channelstream::common::LogEnabled(level))                         \
      ::channelstream::common::LogLine(level, ::absl::StrCat(__VA_ARGS__)); \
  } while (0)
#define LOG_DEBUG(...) CS_LOG(::channelstream::common::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) CS_LOG(::channelstream::common::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARNING(...) CS_LOG(::channelstream::common::LogLevel::kWarning, __VA_ARGS__)
#define LOG_ERROR(...) CS_LOG(::channelstream::common::LogLevel::kError, __VA_ARGS__)
