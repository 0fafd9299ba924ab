// channelstream_utils — helper commands, as 0.7's `channelstream_utils`:
//   make_config [-o FILE]   write a commented ini with every key (defaults, or CHANNELSTREAM_*
//                           values from the environment); without -o it prints to stdout.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include "common/config.h"
#include "tools/make_config.h"

namespace channelstream::tools {
namespace {

constexpr const char* kUsage =
    "usage: channelstream_utils make_config [-o FILE]\n"
    "  writes a commented [channelstream] ini with every key and its default; values set by\n"
    "  CHANNELSTREAM_<KEY> environment variables are written instead of the defaults.\n";

int Fail(const std::string& message) {
  std::cerr << "channelstream_utils: " << message << "\n";
  return 2;
}

int MakeConfig(int argc, char** argv, char** envp) {
  std::string output;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if ((arg == "-o" || arg == "--output") && i + 1 < argc)
      output = argv[++i];
    else
      return Fail("make_config: unexpected argument '" + arg + "'\n" + kUsage);
  }
  common::Config config;
  absl::Status env = config.LoadEnvironment(envp);
  if (!env.ok()) return Fail(std::string(env.message()));
  absl::StatusOr<std::string> ini = RenderIni(config);
  if (!ini.ok()) return Fail(std::string(ini.status().message()));
  if (output.empty() || output == "-") {
    std::cout << *ini;
    return 0;
  }
  // Under `bazel run` the working directory is the runfiles tree; resolve relative paths
  // against the directory the user ran bazel from.
  const char* invoked_from = std::getenv("BUILD_WORKING_DIRECTORY");
  if (output[0] != '/' && invoked_from != nullptr)
    output = std::string(invoked_from) + "/" + output;
  std::ofstream file(output, std::ios::trunc);
  file << *ini;
  file.close();
  if (!file) return Fail("cannot write '" + output + "'");
  std::cerr << "wrote " << output << "\n";
  return 0;
}

}  // namespace
}  // namespace channelstream::tools

int main(int argc, char** argv, char** envp) {
  std::string command = argc > 1 ? argv[1] : "";
  if (command == "make_config") return channelstream::tools::MakeConfig(argc, argv, envp);
  if (command == "-h" || command == "--help" || command == "help") {
    std::cout << channelstream::tools::kUsage;
    return 0;
  }
  return channelstream::tools::Fail(
      (command.empty() ? std::string("missing command") : "unknown command '" + command + "'") +
      "\n" + channelstream::tools::kUsage);
}
