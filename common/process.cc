#include "common/process.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "common/log.h"
#include "common/version.h"

namespace channelstream::common {

Config LoadConfigOrExit(int argc, char** argv, char** envp, const std::string& program_name) {
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--version") {
      std::printf("%s %s\n", program_name.c_str(), kVersion);
      std::exit(0);
    }
  }
  absl::StatusOr<Config> config = ParseCommandLine(argc, argv, envp, program_name);
  if (!config.ok()) {
    if (absl::IsCancelled(config.status())) {  // --help
      std::fputs(std::string(config.status().message()).c_str(), stdout);
      std::exit(0);
    }
    ExitWithStartupError(std::string(config.status().message()));
  }
  SetLogLevelFromName(config->GetBool("debug") ? "DEBUG" : config->GetString("log_level"));
  if (!SetLogFormatFromName(config->GetString("log_format")))
    ExitWithStartupError("log_format: expected text or json, got '" +
                         config->GetString("log_format") + "'");
  return *std::move(config);
}

void BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that vanishes mid-write must not kill the server
}

std::string WaitForShutdownSignal(const std::function<void()>& on_reload) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  while (true) {
    int received = 0;
    sigwait(&signals, &received);
    if (received != SIGHUP) return received == SIGINT ? "SIGINT" : "SIGTERM";
    if (on_reload) {
      on_reload();
    } else {
      LOG_INFO("received SIGHUP: nothing to reload");
    }
  }
}

void ReloadTls(const HttpServerOptions& options) {
  if (!options.tls) {
    LOG_INFO("received SIGHUP: nothing to reload (no tls_cert)");
    return;
  }
  absl::Status reloaded = options.tls->Reload();
  if (reloaded.ok()) {
    LOG_INFO("received SIGHUP: TLS certificate reloaded; new connections use it");
  } else {
    LOG_ERROR("received SIGHUP: TLS certificate not reloaded, keeping the current one: ",
              reloaded.message());
  }
}

void WarnAboutDefaultSecrets(const Config& config) {
  for (const char* key : {"secret", "admin_secret"}) {
    const ConfigKey* spec = FindConfigKey(key);
    if (spec != nullptr && config.GetString(key) == spec->default_value)
      LOG_WARNING("'", key, "' is the default value; set it before exposing this server");
  }
}

void ExitWithStartupError(const std::string& message) {
  std::fprintf(stderr, "channelstream: %s\n", message.c_str());
  std::exit(2);
}

HttpServerOptions HttpServerOptionsFromConfig(const Config& config) {
  HttpServerOptions options(config);
  TlsSettings tls{config.GetString("tls_cert"), config.GetString("tls_key"),
                  config.GetString("tls_min_version")};
  if (tls.min_version != "1.2" && tls.min_version != "1.3")
    ExitWithStartupError("tls_min_version must be 1.2 or 1.3, not '" + tls.min_version + "'");
  if (!tls.cert_file.empty() || !tls.key_file.empty()) {
    absl::StatusOr<std::shared_ptr<TlsContext>> context = TlsContext::Create(std::move(tls));
    if (!context.ok()) ExitWithStartupError(std::string(context.status().message()));
    options.tls = *std::move(context);
  }
  return options;
}

}  // namespace channelstream::common
