#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/text.h"

namespace channelstream::common {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "DEBUG";
    case LogLevel::kInfo:
      return "INFO";
    case LogLevel::kWarning:
      return "WARNING";
    case LogLevel::kError:
      return "ERROR";
  }
  return "?";
}

// A text-mode field value: bare when it is one plain token, else quoted with " and \ escaped.
std::string TextFieldValue(const std::string& value) {
  std::string escaped = EscapeForLog(value);
  bool plain = !escaped.empty();
  for (char c : escaped) {
    if (c == ' ' || c == '"' || c == '\\') plain = false;
  }
  if (plain) return escaped;
  std::string out = "\"";
  for (char c : escaped) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += "\"";
  return out;
}
}  // namespace

void SetLogLevel(LogLevel level) { g_level = static_cast<int>(level); }

void SetLogLevelFromName(const std::string& name) {
  std::string upper = absl::AsciiStrToUpper(name);
  if (upper == "DEBUG")
    SetLogLevel(LogLevel::kDebug);
  else if (upper == "WARNING" || upper == "WARN")
    SetLogLevel(LogLevel::kWarning);
  else if (upper == "ERROR" || upper == "CRITICAL")
    SetLogLevel(LogLevel::kError);
  else
    SetLogLevel(LogLevel::kInfo);
}

bool LogEnabled(LogLevel level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void SetLogFormat(LogFormat format) { g_format = static_cast<int>(format); }

bool SetLogFormatFromName(const std::string& name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "text")
    SetLogFormat(LogFormat::kText);
  else if (lower == "json")
    SetLogFormat(LogFormat::kJson);
  else
    return false;
  return true;
}

std::string LogTimestampNow() {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::Now(), absl::UTCTimeZone());
}

std::string FormatLogLine(LogLevel level, const std::string& text, const LogFields& fields,
                          LogFormat format, const std::string& timestamp) {
  if (format == LogFormat::kJson) {
    nlohmann::json line = nlohmann::json::object();
    line["ts"] = timestamp;
    line["level"] = LevelName(level);
    line["msg"] = text;
    for (const auto& [key, value] : fields) {
      if (key != "ts" && key != "level" && key != "msg") line[key] = value;
    }
    // Invalid UTF-8 (a client's bytes in a path or a reason) becomes U+FFFD instead of throwing.
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  }
  std::string line = absl::StrCat(timestamp, " ", LevelName(level), " ", EscapeForLog(text));
  for (const auto& [key, value] : fields)
    absl::StrAppend(&line, " ", key, "=", TextFieldValue(value));
  line += "\n";
  return line;
}

void LogLineWithFields(LogLevel level, const std::string& text, const LogFields& fields) {
  const std::string line = FormatLogLine(
      level, text, fields, static_cast<LogFormat>(g_format.load(std::memory_order_relaxed)),
      LogTimestampNow());
  std::fwrite(line.data(), 1, line.size(), stderr);  // one write per line: lines never interleave
}

void LogLine(LogLevel level, const std::string& text) { LogLineWithFields(level, text, {}); }

}  // namespace channelstream::common
