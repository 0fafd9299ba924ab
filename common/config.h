// Configuration: 0.7's ini format (section [channelstream]), CHANNELSTREAM_<KEY> environment
// variables and --KEY VALUE command-line overrides, checked against one table of known keys.
#pragma once

#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace channelstream::common {

// kListenAddress: "host:port" to bind, port 0-65535 (0: any free port), or a unix: socket.
// kTargetAddress: a gRPC target to connect to, "host:port" with port 1-65535, optionally with a
// scheme (dns:///, ipv4:, ipv6:), or a unix: socket. Both: empty only when the default is empty.
enum class KeyType { kString, kInt, kDouble, kBool, kList, kListenAddress, kTargetAddress };

// One known configuration key.
struct ConfigKey {
  const char* name;
  KeyType type;
  const char* default_value;
  const char* help;     // one line, written into the generated ini as a comment
  const char* used_by;  // "all", "broker", "gateway", "rest_adapter", or a comma list
  // Inclusive upper bound for kInt / kDouble keys (all of them are at least 0).
  double max_value = std::numeric_limits<double>::infinity();
};

// Every key any binary understands, in the order make_config writes them.
const std::vector<ConfigKey>& AllConfigKeys();
const ConfigKey* FindConfigKey(const std::string& name);

class Config {
 public:
  // Defaults for every key.
  Config();

  // Sources in increasing precedence: defaults, ini file, environment, command line. Errors name
  // the source and the key ("config.ini:12: unknown key 'prot'").
  absl::Status LoadIniFile(const std::string& path);
  absl::Status LoadIniText(const std::string& text, const std::string& source_name);
  // CHANNELSTREAM_<KEY> for every known key. 0.7.1 read them only without an ini file; we always
  // read them, over the ini, so a container can override one key without a new file.
  absl::Status LoadEnvironment(char** envp);
  absl::Status Set(const std::string& key, const std::string& value, const std::string& source);

  std::string GetString(const std::string& key) const;
  long long GetInt(const std::string& key) const;
  double GetDouble(const std::string& key) const;
  bool GetBool(const std::string& key) const;
  std::vector<std::string> GetList(const std::string& key) const;

  // The raw text value of every key (for make_config and logging).
  const std::map<std::string, std::string>& values() const { return values_; }

 private:
  std::map<std::string, std::string> values_;
};

// Parses a bool the way 0.7's ini did ("true/false", "1/0", "yes/no", "on/off").
absl::StatusOr<bool> ParseBool(const std::string& text);

// The command line every binary shares: `-i config.ini`, `--KEY VALUE` (or `--KEY=VALUE`),
// `-h/--help`. Environment variables apply over the ini, the command line over both.
// On error returns the status; binaries print one line and exit with code 2.
absl::StatusOr<Config> ParseCommandLine(int argc, char** argv, char** envp,
                                        const std::string& program_name);

// Help text listing every key with its default.
std::string CommandLineHelp(const std::string& program_name);

}  // namespace channelstream::common
