// The server's TLS certificate and key as an OpenSSL SSL_CTX, replaceable at run time (SIGHUP).
// Each new connection takes an SSL* from the current context; SSL_new holds a reference to its
// SSL_CTX, so connections opened before a reload keep the certificate they were served with.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <mutex>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace channelstream::common {

// Owns an SSL*: SSL_free on destruction (the fd is not closed by it: BIO_NOCLOSE).
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslPtr = std::unique_ptr<SSL, SslFree>;

struct TlsSettings {
  std::string cert_file;    // PEM: the certificate, then any intermediates
  std::string key_file;     // PEM private key
  std::string min_version;  // "1.2" or "1.3"
};

class TlsContext {
 public:
  // Loads the files; an error names the file and OpenSSL's reason.
  static absl::StatusOr<std::shared_ptr<TlsContext>> Create(TlsSettings settings);

  // A server-side SSL for one new connection (nullptr only when OpenSSL is out of memory).
  SSL* NewSsl();
  // Reads the files again; on success new connections use them, on error the current
  // certificate stays and the error is returned. Safe from any thread.
  absl::Status Reload();

 private:
  explicit TlsContext(TlsSettings settings) : settings_(std::move(settings)) {}
  static absl::StatusOr<std::shared_ptr<SSL_CTX>> Load(const TlsSettings& settings);

  const TlsSettings settings_;
  std::mutex mutex_;
  std::shared_ptr<SSL_CTX> current_;
};

}  // namespace channelstream::common
