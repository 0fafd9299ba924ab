#include "tools/make_config.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace channelstream::tools {

absl::StatusOr<std::string> RenderIni(const common::Config& config) {
  std::string text =
      "# Channelstream configuration, written by `channelstream_utils make_config`.\n"
      "# Load it with `-i FILE`. Every key can also be set by the environment variable\n"
      "# CHANNELSTREAM_<KEY> (over this file) or by `--KEY VALUE` (over both).\n"
      "# Lists are comma-separated.\n\n"
      "[channelstream]\n";
  for (const common::ConfigKey& key : common::AllConfigKeys()) {
    const std::string value = config.GetString(key.name);
    if (absl::StrContains(value, '\n') || absl::StrContains(value, '\r'))
      return absl::InvalidArgumentError(
          absl::StrCat(key.name, ": a value with a line break cannot go in an ini file"));
    absl::StrAppend(&text, "\n# ", key.help,
                    "\n# default: ", *key.default_value == '\0' ? "(empty)" : key.default_value,
                    "; read by: ", key.used_by, "\n", key.name, " = ", value, "\n");
  }
  return text;
}

}  // namespace channelstream::tools
