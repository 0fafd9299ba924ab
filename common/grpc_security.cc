#include "common/grpc_security.h"

#include <arpa/inet.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace channelstream::common {
namespace {

// Attaches `authorization: Bearer <token>` to every call of a channel.
class BearerTokenPlugin : public grpc::MetadataCredentialsPlugin {
 public:
  explicit BearerTokenPlugin(std::string token) : header_("Bearer " + std::move(token)) {}
  bool IsBlocking() const override { return false; }  // no I/O: run inline, not on a thread pool
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<std::string, std::string>* metadata) override {
    metadata->emplace("authorization", header_);
    return grpc::Status::OK;
  }
  std::string DebugString() override { return "BearerTokenPlugin"; }  // never the token itself

 private:
  const std::string header_;
};

absl::StatusOr<std::string> ReadFile(const std::string& key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read ", key, " '", path, "': ", std::strerror(errno)));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Reads a PEM certificate chain and its key, and checks they parse and belong together, so a
// wrong file is a startup error naming the key instead of a handshake failure later.
absl::Status LoadKeyPair(const Config& config, const char* cert_key, const char* key_key,
                         std::string* cert_pem, std::string* key_pem) {
  const std::string cert_path = config.GetString(cert_key), key_path = config.GetString(key_key);
  if (cert_path.empty() != key_path.empty())
    return absl::InvalidArgumentError(
        absl::StrCat(cert_key, " and ", key_key, " must be set together"));
  if (cert_path.empty()) return absl::OkStatus();
  absl::StatusOr<std::string> cert = ReadFile(cert_key, cert_path);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile(key_key, key_path);
  if (!key.ok()) return key.status();

  BIO* cert_bio = BIO_new_mem_buf(cert->data(), static_cast<int>(cert->size()));
  X509* x509 = PEM_read_bio_X509(cert_bio, nullptr, nullptr, nullptr);
  BIO_free(cert_bio);
  BIO* key_bio = BIO_new_mem_buf(key->data(), static_cast<int>(key->size()));
  EVP_PKEY* pkey = PEM_read_bio_PrivateKey(key_bio, nullptr, nullptr, nullptr);
  BIO_free(key_bio);
  absl::Status status;
  if (x509 == nullptr) {
    status = absl::InvalidArgumentError(
        absl::StrCat(cert_key, " '", cert_path, "' holds no PEM certificate"));
  } else if (pkey == nullptr) {
    status = absl::InvalidArgumentError(
        absl::StrCat(key_key, " '", key_path, "' holds no PEM private key"));
  } else if (X509_check_private_key(x509, pkey) != 1) {
    status = absl::InvalidArgumentError(absl::StrCat(
        key_key, " '", key_path, "' is not the key of ", cert_key, " '", cert_path, "'"));
  } else if (X509_cmp_current_time(X509_get0_notAfter(x509)) <= 0) {
    // Peers will refuse it; starting anyway lets a renewed file be deployed with a restart.
    LOG_WARNING(cert_key, " '", cert_path, "' has expired: peers will refuse it");
  }
  X509_free(x509);
  EVP_PKEY_free(pkey);
  if (!status.ok()) return status;
  *cert_pem = *std::move(cert);
  *key_pem = *std::move(key);
  return absl::OkStatus();
}

absl::StatusOr<std::string> LoadCa(const Config& config) {
  const std::string path = config.GetString("grpc_tls_ca");
  if (path.empty()) return std::string();
  absl::StatusOr<std::string> ca = ReadFile("grpc_tls_ca", path);
  if (ca.ok() && !absl::StrContains(*ca, "-----BEGIN CERTIFICATE-----"))
    return absl::InvalidArgumentError(
        absl::StrCat("grpc_tls_ca '", path, "' holds no PEM certificate"));
  return ca;
}

// Tokens travel in an HTTP/2 header: printable ASCII without spaces.
absl::Status CheckTokens(const Config& config) {
  for (const char* key : {"grpc_backend_token", "grpc_gateway_token"}) {
    for (char c : config.GetString(key)) {
      if (c <= ' ' || c > '~')
        return absl::InvalidArgumentError(
            absl::StrCat(key, " must be printable ASCII without spaces"));
    }
  }
  const std::string backend = config.GetString("grpc_backend_token");
  if (!backend.empty() && backend == config.GetString("grpc_gateway_token"))
    return absl::InvalidArgumentError(
        "grpc_backend_token and grpc_gateway_token must differ (they grant different calls)");
  return absl::OkStatus();
}

bool IsUnixAddress(const std::string& address) { return absl::StartsWith(address, "unix:"); }

}  // namespace

bool IsLoopbackAddress(const std::string& address) {
  if (IsUnixAddress(address) || absl::StartsWith(address, "unix-abstract:")) return true;
  std::string host = address;
  for (const char* scheme : {"dns:///", "dns:", "ipv4:", "ipv6:"}) {
    if (absl::StartsWith(host, scheme)) {
      host = host.substr(std::strlen(scheme));
      break;
    }
  }
  if (!host.empty() && host[0] == '[') {
    const size_t close = host.find(']');
    if (close == std::string::npos) return false;
    host = host.substr(1, close - 1);
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    host = host.substr(0, host.find(':'));
  }
  if (absl::AsciiStrToLower(host) == "localhost") return true;
  unsigned char bytes[16];
  if (inet_pton(AF_INET, host.c_str(), bytes) == 1) return bytes[0] == 127;
  if (inet_pton(AF_INET6, host.c_str(), bytes) == 1) {
    static const unsigned char kLoopback6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::memcmp(bytes, kLoopback6, 16) == 0;
  }
  return false;  // a host name: it may resolve anywhere
}

bool TokenAuthEnabled(const Config& config) {
  return !config.GetString("grpc_backend_token").empty() ||
         !config.GetString("grpc_gateway_token").empty();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> BrokerServerCredentials(
    const Config& config, const std::string& address) {
  if (absl::Status tokens = CheckTokens(config); !tokens.ok()) return tokens;
  std::string cert, key;
  if (absl::Status pair = LoadKeyPair(config, "grpc_tls_cert", "grpc_tls_key", &cert, &key);
      !pair.ok())
    return pair;
  absl::StatusOr<std::string> ca = LoadCa(config);
  if (!ca.ok()) return ca.status();
  const bool require_client_cert = config.GetBool("grpc_tls_require_client_cert");

  if (!cert.empty()) {
    if (require_client_cert && ca->empty())
      return absl::InvalidArgumentError(
          "grpc_tls_require_client_cert needs grpc_tls_ca (the CA client certificates must chain "
          "to)");
    grpc::SslServerCredentialsOptions options(
        require_client_cert ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
        : ca->empty()       ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                            : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
    options.pem_root_certs = *ca;
    options.pem_key_cert_pairs.push_back({key, cert});
    return grpc::SslServerCredentials(options);
  }
  if (require_client_cert || !ca->empty())
    return absl::InvalidArgumentError(
        "grpc_tls_ca and grpc_tls_require_client_cert need grpc_tls_cert and grpc_tls_key (TLS) on "
        "the broker");

  const bool loopback = IsLoopbackAddress(address);
  if (!loopback && TokenAuthEnabled(config)) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing to listen on non-loopback '", address,
                     "' with grpc_backend_token/grpc_gateway_token over plaintext: "
                     "set grpc_tls_cert and grpc_tls_key"));
  }
  if (!loopback && !config.GetBool("grpc_allow_insecure")) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing plaintext gRPC without authentication on non-loopback '", address,
                     "': set grpc_tls_cert and grpc_tls_key (TLS) and "
                     "grpc_backend_token/grpc_gateway_token, or grpc_allow_insecure = true"));
  }
  if (TokenAuthEnabled(config)) {
    // Insecure credentials cannot carry an AuthMetadataProcessor; local ones can, accept the
    // same plaintext clients and additionally check that the peer is on this machine.
    return grpc::experimental::LocalServerCredentials(IsUnixAddress(address) ? UDS : LOCAL_TCP);
  }
  return grpc::InsecureServerCredentials();
}

void ApplyServerLimits(const Config& config, grpc::ServerBuilder* builder) {
  builder->AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  const int max_bytes = static_cast<int>(config.GetInt("grpc_max_message_bytes"));
  builder->SetMaxReceiveMessageSize(max_bytes);
  builder->SetMaxSendMessageSize(max_bytes);
}

grpc::ChannelArguments BrokerChannelArguments(const Config& config) {
  grpc::ChannelArguments args;
  const int max_bytes = static_cast<int>(config.GetInt("grpc_max_message_bytes"));
  args.SetMaxReceiveMessageSize(max_bytes);
  args.SetMaxSendMessageSize(max_bytes);
  // gRPC's own reconnect backoff (1 s growing 1.6x to 120 s) would otherwise decide when a
  // restarted broker is seen again: after a 45 s outage that was up to 30 s. One fixed step of
  // broker_reconnect_delay (gRPC adds +-20% jitter) bounds it whatever the outage length.
  const int delay_ms = ReconnectBackoffMillis(config);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, delay_ms);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, delay_ms);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, delay_ms);
  return args;
}

int ReconnectBackoffMillis(const Config& config) {
  // gRPC ignores values under 100 ms; a day is far beyond any sensible delay (and fits an int).
  const double ms = config.GetDouble("broker_reconnect_delay") * 1000;
  return static_cast<int>(std::min(std::max(ms, 100.0), 86400e3));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateBrokerChannel(const Config& config,
                                                                   const std::string& token_key) {
  if (absl::Status tokens = CheckTokens(config); !tokens.ok()) return tokens;
  std::string cert, key;
  if (absl::Status pair =
          LoadKeyPair(config, "grpc_tls_client_cert", "grpc_tls_client_key", &cert, &key);
      !pair.ok())
    return pair;
  absl::StatusOr<std::string> ca = LoadCa(config);
  if (!ca.ok()) return ca.status();
  const std::string target = config.GetString("broker_address");
  const std::string token = config.GetString(token_key);
  grpc::ChannelArguments args = BrokerChannelArguments(config);

  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (!ca->empty() || !cert.empty()) {
    grpc::SslCredentialsOptions options;
    options.pem_root_certs = *ca;  // empty: the system's roots
    options.pem_private_key = key;
    options.pem_cert_chain = cert;
    credentials = grpc::SslCredentials(options);
    if (!token.empty()) {
      credentials = grpc::CompositeChannelCredentials(
          credentials,
          grpc::MetadataCredentialsFromPlugin(std::make_unique<BearerTokenPlugin>(token)));
    }
    const std::string server_name = config.GetString("grpc_tls_server_name");
    if (!server_name.empty()) args.SetSslTargetNameOverride(server_name);
  } else {
    const bool loopback = IsLoopbackAddress(target);
    if (!loopback && !token.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "refusing to send ", token_key, " over plaintext to non-loopback broker_address '",
          target, "': set grpc_tls_ca (TLS)"));
    }
    if (!loopback && !config.GetBool("grpc_allow_insecure")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "refusing plaintext gRPC to non-loopback broker_address '", target,
          "': set grpc_tls_ca (TLS) and ", token_key, ", or grpc_allow_insecure = true"));
    }
    if (token.empty()) {
      credentials = grpc::InsecureChannelCredentials();
    } else {
      // Call credentials need a secure channel type; "local" ones are plaintext limited to this
      // machine, and the plugin is allowed on them explicitly.
      credentials = grpc::CompositeChannelCredentials(
          grpc::experimental::LocalCredentials(IsUnixAddress(target) ? UDS : LOCAL_TCP),
          grpc::experimental::MetadataCredentialsFromPlugin(
              std::make_unique<BearerTokenPlugin>(token), GRPC_SECURITY_NONE));
    }
  }
  if (credentials == nullptr)
    return absl::InternalError(
        absl::StrCat("cannot build gRPC credentials for broker_address '", target, "'"));
  return grpc::CreateCustomChannel(target, credentials, args);
}

}  // namespace channelstream::common
