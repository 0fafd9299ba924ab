// A throwaway PKI generated at test time with OpenSSL's C API (no fixtures that expire in the
// repository): a CA with a server certificate (SAN 127.0.0.1, ::1, localhost), a client
// certificate, expired ones, and a second CA with its own server and client certificates.
#pragma once

#include <string>

namespace channelstream::testing {

struct CertPaths {
  std::string cert;
  std::string key;
};

struct TestPki {
  std::string ca;            // PEM of the trusted CA
  std::string other_ca;      // PEM of an unrelated CA
  CertPaths server;          // signed by ca, valid
  CertPaths client;          // signed by ca, valid, clientAuth
  CertPaths expired_server;  // signed by ca, expired an hour ago
  CertPaths expired_client;  // signed by ca, expired an hour ago
  CertPaths other_server;    // signed by other_ca
  CertPaths other_client;    // signed by other_ca
};

// Writes every file under `directory` (created if needed); aborts the test binary on failure.
TestPki MakeTestPki(const std::string& directory);

}  // namespace channelstream::testing
