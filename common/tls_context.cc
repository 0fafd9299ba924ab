#include "common/tls_context.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace channelstream::common {

namespace {

// OpenSSL's queued errors as one line (and the queue emptied).
std::string OpenSslErrors() {
  std::string text;
  while (unsigned long code = ERR_get_error()) {
    char buffer[256];
    ERR_error_string_n(code, buffer, sizeof(buffer));
    if (!text.empty()) text += "; ";
    text += buffer;
  }
  return text.empty() ? "unknown error" : text;
}

void WarnIfOutOfDate(SSL_CTX* context, const std::string& file) {
  X509* cert = SSL_CTX_get0_certificate(context);
  if (cert == nullptr) return;
  // Served anyway (the operator may be mid-rotation), but clients will refuse it.
  if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0)
    LOG_WARNING("TLS certificate ", file, " has expired; clients will refuse it");
  else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0)
    LOG_WARNING("TLS certificate ", file, " is not valid yet; clients will refuse it");
}

}  // namespace

absl::StatusOr<std::shared_ptr<TlsContext>> TlsContext::Create(TlsSettings settings) {
  if (settings.cert_file.empty() != settings.key_file.empty())
    return absl::InvalidArgumentError(
        "tls_cert and tls_key must be set together (or both left empty)");
  if (settings.min_version != "1.2" && settings.min_version != "1.3")
    return absl::InvalidArgumentError(
        absl::StrCat("tls_min_version must be 1.2 or 1.3, not '", settings.min_version, "'"));
  std::shared_ptr<TlsContext> tls(new TlsContext(std::move(settings)));
  absl::StatusOr<std::shared_ptr<SSL_CTX>> loaded = Load(tls->settings_);
  if (!loaded.ok()) return loaded.status();
  tls->current_ = *std::move(loaded);
  return tls;
}

absl::StatusOr<std::shared_ptr<SSL_CTX>> TlsContext::Load(const TlsSettings& settings) {
  ERR_clear_error();
  std::shared_ptr<SSL_CTX> context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (context == nullptr) return absl::InternalError("SSL_CTX_new: " + OpenSslErrors());
  SSL_CTX* raw = context.get();
  SSL_CTX_set_min_proto_version(raw,
                                settings.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  SSL_CTX_set_options(raw, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Partial and moving writes let WebSocket sessions write straight from their frame queue;
  // released buffers keep idle connections from holding ~34 KB of OpenSSL buffers each.
  SSL_CTX_set_mode(raw, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  if (SSL_CTX_use_certificate_chain_file(raw, settings.cert_file.c_str()) != 1)
    return absl::InvalidArgumentError(
        absl::StrCat("tls_cert: cannot load '", settings.cert_file, "': ", OpenSslErrors()));
  if (SSL_CTX_use_PrivateKey_file(raw, settings.key_file.c_str(), SSL_FILETYPE_PEM) != 1)
    return absl::InvalidArgumentError(
        absl::StrCat("tls_key: cannot load '", settings.key_file, "': ", OpenSslErrors()));
  if (SSL_CTX_check_private_key(raw) != 1)
    return absl::InvalidArgumentError(absl::StrCat("tls_key '", settings.key_file,
                                                   "' does not match tls_cert '",
                                                   settings.cert_file, "': ", OpenSslErrors()));
  WarnIfOutOfDate(raw, settings.cert_file);
  return context;
}

SSL* TlsContext::NewSsl() {
  std::shared_ptr<SSL_CTX> context;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    context = current_;
  }
  SSL* ssl = SSL_new(context.get());  // holds its own reference to the context
  if (ssl != nullptr) SSL_set_accept_state(ssl);
  return ssl;
}

absl::Status TlsContext::Reload() {
  absl::StatusOr<std::shared_ptr<SSL_CTX>> loaded = Load(settings_);
  if (!loaded.ok()) return loaded.status();
  std::lock_guard<std::mutex> lock(mutex_);
  current_ = *std::move(loaded);
  return absl::OkStatus();
}

}  // namespace channelstream::common
