// itsdangerous TimestampSigner (1.x/2.x defaults), as Channelstream 0.7 clients sign requests:
// HMAC-SHA1 with django-concat key derivation, "." separator, base64url without padding.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace channelstream::common {

// TimestampSigner(secret).sign(value) at time `now`: "value.TIMESTAMP.SIGNATURE".
std::string SignTimestamped(const std::string& secret, const std::string& value, absl::Time now);

struct VerifiedToken {
  std::string value;   // what the client signed
  absl::Duration age;  // now - signing time
};

// Checks the signature (constant-time) and, when max_age > 0, the age (0 <= age <= max_age).
// PERMISSION_DENIED for a bad signature or malformed token, DEADLINE_EXCEEDED when expired.
absl::StatusOr<VerifiedToken> VerifyTimestamped(const std::string& secret, const std::string& token,
                                                absl::Time now, absl::Duration max_age);

// Plain HMAC-SHA256 signing of arbitrary data, base64url without padding (admin session cookies).
std::string HmacSha256Base64Url(const std::string& key, const std::string& data);
// Constant-time equality.
bool ConstantTimeEquals(const std::string& a, const std::string& b);
std::string Base64UrlEncode(const std::string& bytes);
bool Base64UrlDecode(const std::string& text, std::string* bytes);

}  // namespace channelstream::common
