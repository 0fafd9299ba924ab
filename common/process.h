// Process plumbing every binary shares: config from the command line, and waiting for a
// shutdown signal (SIGHUP meanwhile reloads, e.g. the TLS certificate).
#pragma once

#include <functional>
#include <string>

#include "common/config.h"
#include "common/http_server.h"

namespace channelstream::common {

// Parses the command line (see ParseCommandLine), applies log_level/debug, and on error prints
// one line to stderr and exits with code 2 (--help prints the help and exits 0).
Config LoadConfigOrExit(int argc, char** argv, char** envp, const std::string& program_name);

// Blocks SIGINT, SIGTERM and SIGHUP in the calling thread and every thread it starts afterwards,
// so the signal can be awaited synchronously. Call before starting any thread.
void BlockShutdownSignals();
// Waits until SIGINT or SIGTERM arrives; returns the signal's name. Each SIGHUP meanwhile calls
// `on_reload` (when set) and the wait goes on.
std::string WaitForShutdownSignal(const std::function<void()>& on_reload = {});

// The HTTP server settings every binary reads the same way: host, port, io_threads,
// max_request_body_bytes, TLS (tls_cert/tls_key/tls_min_version: a file that does not load is a
// startup error, exit 2).
HttpServerOptions HttpServerOptionsFromConfig(const Config& config);

// Logs one warning for each of `secret` and `admin_secret` still at its default value, as 0.7.1
// does (it starts with them; its demo apps rely on them). Every binary serving the signed API
// calls it: the all-in-one and the REST adapter.
void WarnAboutDefaultSecrets(const Config& config);

// Prints `message` as one line on stderr and exits with code 2 (startup errors: port in use...).
[[noreturn]] void ExitWithStartupError(const std::string& message);

// SIGHUP's action for a server: reloads its TLS certificate and key (logging the outcome; a file
// that does not load keeps the current certificate).
void ReloadTls(const HttpServerOptions& options);

}  // namespace channelstream::common
