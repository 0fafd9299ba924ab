#include "tests/grpc_security/test_certs.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace channelstream::testing {
namespace {

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "test PKI: %s failed\n", what);
    std::abort();
  }
}

struct Issued {
  X509* cert = nullptr;
  EVP_PKEY* key = nullptr;
};

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  Check(extension != nullptr && X509_add_ext(cert, extension, -1) == 1, value);
  X509_EXTENSION_free(extension);
}

// A P-256 certificate for `common_name`, valid from `not_before` to `not_after` seconds from
// now, signed by `issuer` (self-signed CA when null).
Issued Issue(const char* common_name, const Issued* issuer, const char* purpose, long not_before,
             long not_after) {
  static long serial = 1;
  Issued issued;
  issued.key = EVP_EC_gen("P-256");
  Check(issued.key != nullptr, "EVP_EC_gen");
  issued.cert = X509_new();
  X509_set_version(issued.cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(issued.cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(issued.cert), not_before);
  X509_gmtime_adj(X509_getm_notAfter(issued.cert), not_after);
  X509_set_pubkey(issued.cert, issued.key);
  X509_NAME* name = X509_get_subject_name(issued.cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name), -1, -1, 0);
  X509* issuer_cert = issuer == nullptr ? issued.cert : issuer->cert;
  X509_set_issuer_name(issued.cert, X509_get_subject_name(issuer_cert));
  AddExtension(issued.cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (issuer == nullptr) {
    AddExtension(issued.cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(issued.cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(issued.cert, issuer_cert, NID_authority_key_identifier, "keyid:always");
    AddExtension(issued.cert, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(issued.cert, issuer_cert, NID_key_usage, "critical,digitalSignature,keyAgreement");
    AddExtension(issued.cert, issuer_cert, NID_ext_key_usage, purpose);
    if (std::string(purpose) == "serverAuth")
      AddExtension(issued.cert, issuer_cert, NID_subject_alt_name,
                   "IP:127.0.0.1,IP:::1,DNS:localhost");
  }
  Check(X509_sign(issued.cert, issuer == nullptr ? issued.key : issuer->key, EVP_sha256()) > 0,
        "X509_sign");
  return issued;
}

std::string WriteCert(const std::string& path, X509* cert) {
  FILE* file = std::fopen(path.c_str(), "w");
  Check(file != nullptr && PEM_write_X509(file, cert) == 1, path.c_str());
  std::fclose(file);
  return path;
}

std::string WriteKey(const std::string& path, EVP_PKEY* key) {
  FILE* file = std::fopen(path.c_str(), "w");
  Check(file != nullptr &&
            PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr) == 1,
        path.c_str());
  std::fclose(file);
  return path;
}

CertPaths Write(const std::string& directory, const std::string& name, const Issued& issued) {
  return {WriteCert(directory + "/" + name + ".pem", issued.cert),
          WriteKey(directory + "/" + name + ".key", issued.key)};
}

void Free(Issued& issued) {
  X509_free(issued.cert);
  EVP_PKEY_free(issued.key);
}

}  // namespace

TestPki MakeTestPki(const std::string& directory) {
  mkdir(directory.c_str(), 0700);
  constexpr long kDay = 86400;
  Issued ca = Issue("Channelstream Test CA", nullptr, "", -kDay, 30 * kDay);
  Issued other_ca = Issue("Unrelated Test CA", nullptr, "", -kDay, 30 * kDay);
  Issued issued[] = {
      Issue("broker", &ca, "serverAuth", -kDay, 30 * kDay),
      Issue("gateway-1", &ca, "clientAuth", -kDay, 30 * kDay),
      Issue("broker", &ca, "serverAuth", -2 * kDay, -3600),
      Issue("gateway-expired", &ca, "clientAuth", -2 * kDay, -3600),
      Issue("broker", &other_ca, "serverAuth", -kDay, 30 * kDay),
      Issue("gateway-other", &other_ca, "clientAuth", -kDay, 30 * kDay),
  };
  TestPki pki;
  pki.ca = WriteCert(directory + "/ca.pem", ca.cert);
  pki.other_ca = WriteCert(directory + "/other_ca.pem", other_ca.cert);
  pki.server = Write(directory, "server", issued[0]);
  pki.client = Write(directory, "client", issued[1]);
  pki.expired_server = Write(directory, "expired_server", issued[2]);
  pki.expired_client = Write(directory, "expired_client", issued[3]);
  pki.other_server = Write(directory, "other_server", issued[4]);
  pki.other_client = Write(directory, "other_client", issued[5]);
  Free(ca);
  Free(other_ca);
  for (Issued& each : issued) Free(each);
  return pki;
}

}  // namespace channelstream::testing
