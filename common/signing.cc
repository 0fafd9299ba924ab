#include "common/signing.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace channelstream::common {
namespace {

constexpr char kSeparator = '.';

// itsdangerous' django-concat derivation: SHA1(salt + "signer" + secret).
std::string DeriveKey(const std::string& secret) {
  std::string material = absl::StrCat("itsdangerous.Signer", "signer", secret);
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(material.data()), material.size(), digest);
  return std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

std::string Hmac(const EVP_MD* md, const std::string& key, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &length);
  return std::string(reinterpret_cast<char*>(out), length);
}

std::string EncodeTimestamp(int64_t seconds) {
  std::string bytes;
  for (uint64_t rest = static_cast<uint64_t>(seconds); rest != 0; rest >>= 8)
    bytes.insert(bytes.begin(), static_cast<char>(rest & 0xff));
  return Base64UrlEncode(bytes);
}

}  // namespace

std::string Base64UrlEncode(const std::string& bytes) { return absl::WebSafeBase64Escape(bytes); }

bool Base64UrlDecode(const std::string& text, std::string* bytes) {
  return absl::WebSafeBase64Unescape(text, bytes);
}

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HmacSha256Base64Url(const std::string& key, const std::string& data) {
  return Base64UrlEncode(Hmac(EVP_sha256(), key, data));
}

std::string SignTimestamped(const std::string& secret, const std::string& value, absl::Time now) {
  std::string signed_part =
      absl::StrCat(value, std::string(1, kSeparator), EncodeTimestamp(absl::ToUnixSeconds(now)));
  std::string signature = Base64UrlEncode(Hmac(EVP_sha1(), DeriveKey(secret), signed_part));
  return absl::StrCat(signed_part, std::string(1, kSeparator), signature);
}

absl::StatusOr<VerifiedToken> VerifyTimestamped(const std::string& secret, const std::string& token,
                                                absl::Time now, absl::Duration max_age) {
  size_t signature_at = token.rfind(kSeparator);
  if (signature_at == std::string::npos)
    return absl::PermissionDeniedError("no separator in token");
  std::string signed_part = token.substr(0, signature_at);
  std::string expected = Base64UrlEncode(Hmac(EVP_sha1(), DeriveKey(secret), signed_part));
  if (!ConstantTimeEquals(expected, token.substr(signature_at + 1)))
    return absl::PermissionDeniedError("signature does not match");
  size_t timestamp_at = signed_part.rfind(kSeparator);
  if (timestamp_at == std::string::npos) return absl::PermissionDeniedError("timestamp missing");
  std::string timestamp_bytes;
  if (!Base64UrlDecode(signed_part.substr(timestamp_at + 1), &timestamp_bytes) ||
      timestamp_bytes.empty() || timestamp_bytes.size() > 8)
    return absl::PermissionDeniedError("malformed timestamp");
  uint64_t seconds = 0;
  for (unsigned char byte : timestamp_bytes) seconds = (seconds << 8) | byte;
  VerifiedToken verified;
  verified.value = signed_part.substr(0, timestamp_at);
  verified.age = now - absl::FromUnixSeconds(static_cast<int64_t>(seconds));
  if (max_age > absl::ZeroDuration() &&
      (verified.age > max_age || verified.age < -absl::Seconds(1)))
    return absl::DeadlineExceededError(absl::StrCat("signature age ",
                                                    absl::FormatDuration(verified.age),
                                                    " outside 0..", absl::FormatDuration(max_age)));
  return verified;
}

}  // namespace channelstream::common
