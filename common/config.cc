#include "common/config.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace channelstream::common {
namespace {

// One "host:port" or "[v6]:port": the port must be a number from `min_port` to 65535 (the
// socket APIs take 16 bits, so 99999 would silently become 34463).
absl::Status CheckHostPort(const ConfigKey& key, absl::string_view address,
                           const std::string& value, int min_port) {
  const std::string expected =
      min_port == 0 ? "host:port (port 0-65535, 0: any free port)" : "host:port (port 1-65535)";
  auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", key.name, "' must be ", expected, why, ", got '", value, "'"));
  };
  absl::string_view port;
  if (absl::StartsWith(address, "[")) {
    const size_t close = address.find(']');
    if (close == absl::string_view::npos || close + 1 >= address.size() ||
        address[close + 1] != ':')
      return bad("");
    port = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos) return bad("");
    if (address.substr(0, colon).find(':') != absl::string_view::npos)
      return bad(" (IPv6 addresses in brackets: [::1]:8001)");
    port = address.substr(colon + 1);
  }
  int number = -1;
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(port, &number) || number < min_port || number > 65535)
    return bad("");
  return absl::OkStatus();
}

absl::Status CheckAddress(const ConfigKey& key, const std::string& value) {
  if (value.empty()) {
    if (key.default_value[0] == '\0') return absl::OkStatus();  // empty means "none" for this key
    return absl::InvalidArgumentError(absl::StrCat("'", key.name, "' must not be empty"));
  }
  absl::string_view address = value;
  if (absl::StartsWith(address, "unix:") || absl::StartsWith(address, "unix-abstract:"))
    return absl::OkStatus();
  const int min_port = key.type == KeyType::kListenAddress ? 0 : 1;
  if (key.type == KeyType::kTargetAddress) {
    if (absl::ConsumePrefix(&address, "dns://")) {
      // dns://[authority]/host:port: the authority is the DNS server's address, not ours to check.
      const size_t slash = address.find('/');
      if (slash == absl::string_view::npos) return CheckHostPort(key, "", value, min_port);
      address.remove_prefix(slash + 1);
    } else if (!absl::ConsumePrefix(&address, "dns:") &&
               (absl::ConsumePrefix(&address, "ipv4:") || absl::ConsumePrefix(&address, "ipv6:"))) {
      for (absl::string_view one : absl::StrSplit(address, ',')) {  // ipv4:a:1,b:2
        absl::Status status = CheckHostPort(key, one, value, min_port);
        if (!status.ok()) return status;
      }
      return absl::OkStatus();
    }
  }
  return CheckHostPort(key, address, value, min_port);
}

absl::Status CheckValue(const ConfigKey& key, const std::string& value) {
  switch (key.type) {
    case KeyType::kInt: {
      long long parsed;
      if (!absl::SimpleAtoi(value, &parsed))
        return absl::InvalidArgumentError(
            absl::StrCat("'", key.name, "' must be an integer, got '", value, "'"));
      if (parsed < 0)
        return absl::InvalidArgumentError(
            absl::StrCat("'", key.name, "' must not be negative, got '", value, "'"));
      if (static_cast<double>(parsed) > key.max_value)
        return absl::InvalidArgumentError(
            absl::StrCat("'", key.name, "' must be 0-", key.max_value, ", got '", value, "'"));
      return absl::OkStatus();
    }
    case KeyType::kDouble: {
      double parsed;
      if (!absl::SimpleAtod(value, &parsed) || parsed < 0 || parsed != parsed)
        return absl::InvalidArgumentError(
            absl::StrCat("'", key.name, "' must be a non-negative number, got '", value, "'"));
      if (parsed > key.max_value)  // every number-typed key is in seconds
        return absl::InvalidArgumentError(absl::StrCat("'", key.name, "' must be 0-", key.max_value,
                                                       " seconds, got '", value, "'"));
      return absl::OkStatus();
    }
    case KeyType::kBool:
      return ParseBool(value).status().ok()
                 ? absl::OkStatus()
                 : absl::InvalidArgumentError(
                       absl::StrCat("'", key.name, "' must be true or false, got '", value, "'"));
    case KeyType::kListenAddress:
    case KeyType::kTargetAddress:
      return CheckAddress(key, value);
    case KeyType::kString:
    case KeyType::kList:
      break;
  }
  if (std::string(key.name) == "log_level") {
    std::string upper = absl::AsciiStrToUpper(value);
    if (upper != "DEBUG" && upper != "INFO" && upper != "WARNING" && upper != "WARN" &&
        upper != "ERROR" && upper != "CRITICAL")
      return absl::InvalidArgumentError(
          absl::StrCat("'log_level' must be DEBUG, INFO, WARNING or ERROR, got '", value, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<bool> ParseBool(const std::string& text) {
  std::string lower = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
  return absl::InvalidArgumentError(absl::StrCat("not a boolean: '", text, "'"));
}

const ConfigKey* FindConfigKey(const std::string& name) {
  for (const ConfigKey& key : AllConfigKeys())
    if (name == key.name) return &key;
  return nullptr;
}

Config::Config() {
  for (const ConfigKey& key : AllConfigKeys()) values_[key.name] = key.default_value;
}

absl::Status Config::Set(const std::string& key, const std::string& value,
                         const std::string& source) {
  const ConfigKey* spec = FindConfigKey(key);
  if (spec == nullptr)
    return absl::InvalidArgumentError(absl::StrCat(source, ": unknown key '", key, "'"));
  absl::Status ok = CheckValue(*spec, value);
  if (!ok.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", ok.message()));
  values_[key] = value;
  return absl::OkStatus();
}

absl::Status Config::LoadIniFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read config file '", path, "'"));
  std::stringstream text;
  text << in.rdbuf();
  return LoadIniText(text.str(), path);
}

absl::Status Config::LoadIniText(const std::string& text, const std::string& source_name) {
  // Only [channelstream] is ours; other sections (0.7's [app:main], logging) are skipped so an
  // existing 0.7 ini file loads unchanged.
  bool in_section = false;
  bool saw_section = false;
  int line_number = 0;
  for (absl::string_view raw : absl::StrSplit(text, '\n')) {
    ++line_number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    std::string where = absl::StrCat(source_name, ":", line_number);
    if (line[0] == '[') {
      if (line.back() != ']')
        return absl::InvalidArgumentError(absl::StrCat(where, ": bad section header"));
      in_section = line == "[channelstream]";
      saw_section = saw_section || in_section;
      continue;
    }
    if (!in_section) continue;
    size_t eq = line.find_first_of("=:");
    if (eq == absl::string_view::npos)
      return absl::InvalidArgumentError(absl::StrCat(where, ": expected 'key = value'"));
    std::string key(absl::StripAsciiWhitespace(line.substr(0, eq)));
    std::string value(absl::StripAsciiWhitespace(line.substr(eq + 1)));
    absl::Status status = Set(key, value, where);
    if (!status.ok()) return status;
  }
  if (!saw_section)
    return absl::InvalidArgumentError(absl::StrCat(source_name, ": no [channelstream] section"));
  return absl::OkStatus();
}

absl::Status Config::LoadEnvironment(char** envp) {
  if (envp == nullptr) return absl::OkStatus();
  for (char** entry = envp; *entry != nullptr; ++entry) {
    absl::string_view var(*entry);
    if (!absl::ConsumePrefix(&var, "CHANNELSTREAM_")) continue;
    size_t eq = var.find('=');
    if (eq == absl::string_view::npos) continue;
    std::string key = absl::AsciiStrToLower(var.substr(0, eq));
    std::string value(var.substr(eq + 1));
    absl::Status status =
        Set(key, value, absl::StrCat("environment CHANNELSTREAM_", absl::AsciiStrToUpper(key)));
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

std::string Config::GetString(const std::string& key) const {
  auto it = values_.find(key);
  return it == values_.end() ? std::string() : it->second;
}

long long Config::GetInt(const std::string& key) const {
  long long value = 0;
  (void)absl::SimpleAtoi(GetString(key), &value);
  return value;
}

double Config::GetDouble(const std::string& key) const {
  double value = 0;
  (void)absl::SimpleAtod(GetString(key), &value);
  return value;
}

bool Config::GetBool(const std::string& key) const {
  absl::StatusOr<bool> value = ParseBool(GetString(key));
  return value.ok() && *value;
}

std::vector<std::string> Config::GetList(const std::string& key) const {
  std::vector<std::string> items;
  for (absl::string_view item : absl::StrSplit(GetString(key), ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) items.emplace_back(item);
  }
  return items;
}

std::string CommandLineHelp(const std::string& program_name) {
  std::string help =
      absl::StrCat("usage: ", program_name, " [-i config.ini] [--KEY VALUE ...]\n",
                   "Sources, later wins: defaults, the [channelstream] section of the ini file,\n",
                   "CHANNELSTREAM_<KEY> environment variables, --KEY VALUE options.\n\nkeys:\n");
  for (const ConfigKey& key : AllConfigKeys())
    absl::StrAppend(&help, "  --", key.name, " (default '", key.default_value, "', ", key.used_by,
                    "): ", key.help, "\n");
  return help;
}

absl::StatusOr<Config> ParseCommandLine(int argc, char** argv, char** envp,
                                        const std::string& program_name) {
  Config config;
  std::string ini_path;
  std::vector<std::pair<std::string, std::string>> overrides;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      return absl::CancelledError(CommandLineHelp(program_name));
    }
    if (arg == "-i" || arg == "--ini") {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(arg, " needs a file name"));
      ini_path = argv[++i];
      continue;
    }
    if (!absl::StartsWith(arg, "--"))
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", arg, "' (try --help)"));
    std::string key = arg.substr(2);
    std::string value;
    size_t eq = key.find('=');
    if (eq != std::string::npos) {
      value = key.substr(eq + 1);
      key = key.substr(0, eq);
    } else {
      if (i + 1 >= argc) return absl::InvalidArgumentError(absl::StrCat(arg, " needs a value"));
      value = argv[++i];
    }
    absl::StrReplaceAll({{"-", "_"}}, &key);
    overrides.emplace_back(key, value);
  }
  if (!ini_path.empty()) {
    absl::Status status = config.LoadIniFile(ini_path);
    if (!status.ok()) return status;
  }
  absl::Status status = config.LoadEnvironment(envp);
  if (!status.ok()) return status;
  for (const auto& [key, value] : overrides) {
    status = config.Set(key, value, absl::StrCat("--", key));
    if (!status.ok()) return status;
  }
  return config;
}

}  // namespace channelstream::common
