// Fuzzes the itsdangerous TimestampSigner tokens of common/signing.h ("value.TIMESTAMP.SIGNATURE").
// Input: [flags][sign time: 5 bytes][clock offset: 4 bytes][max age: 2 bytes][mutation: 3 bytes]
//        [secret '\0' value...].
//
// Checks: a token signed at any time verifies with the same secret, giving back the value and
// the age, and is refused as expired exactly when the age is outside -1 s..max_age; any change to
// the token, or another secret, makes it PERMISSION_DENIED (but a cut just before a separator,
// which leaves the value, itself perhaps a token); the value parsed as a token never crashes the
// verifier and, when accepted, is what was signed; base64url round-trips and ConstantTimeEquals
// is equality.
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "common/signing.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using channelstream::fuzz::FuzzInput;

bool Base64UrlAlphabet(const std::string& text) {
  for (char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_'))
      return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint8_t flags = input.Byte();
  // itsdangerous encodes the time as its big-endian bytes without leading zeros; 0 would be no
  // bytes at all, which nobody signs (and we refuse as malformed).
  const int64_t signed_seconds = static_cast<int64_t>(input.Uint(5)) | 1;
  const int64_t offset_seconds = static_cast<int32_t>(static_cast<uint32_t>(input.Uint(4)));
  const int64_t max_age_seconds = static_cast<int64_t>(input.Uint(2));
  const size_t mutate_at = static_cast<size_t>(input.Uint(2));
  const uint8_t mutate_with = input.Byte();
  const std::string secret(input.Until('\0'));
  const std::string value(input.Rest());

  const absl::Time signed_at = absl::FromUnixSeconds(signed_seconds);
  const absl::Time now = signed_at + absl::Seconds(offset_seconds);
  const absl::Duration max_age = absl::Seconds(max_age_seconds);

  // Sign, then verify.
  const std::string token = channelstream::common::SignTimestamped(secret, value, signed_at);
  FUZZ_CHECK(token.size() > value.size() + 2 && token.compare(0, value.size(), value) == 0);
  FUZZ_CHECK(token[value.size()] == '.');
  absl::StatusOr<channelstream::common::VerifiedToken> verified =
      channelstream::common::VerifyTimestamped(secret, token, now, max_age);
  const absl::Duration age = absl::Seconds(offset_seconds);
  const bool expired = max_age > absl::ZeroDuration() && (age > max_age || age < -absl::Seconds(1));
  if (expired) {
    FUZZ_CHECK(verified.status().code() == absl::StatusCode::kDeadlineExceeded);
  } else {
    FUZZ_CHECK(verified.ok());
    FUZZ_CHECK(verified->value == value);
    FUZZ_CHECK(verified->age == age);
  }

  // Any change to the token, or another secret: refused as a bad signature, never accepted.
  std::string changed = token;
  switch (flags % 4) {
    case 0:
      changed[mutate_at % changed.size()] ^= static_cast<char>(mutate_with | 1);
      break;
    case 1:
      changed.resize(mutate_at % changed.size());
      break;
    case 2:
      changed.insert(mutate_at % (changed.size() + 1), 1, static_cast<char>(mutate_with));
      break;
    case 3:
      changed.erase(mutate_at % changed.size(), 1);
      break;
  }
  if (changed != token &&
      channelstream::common::VerifyTimestamped(secret, changed, now, max_age).status().code() !=
          absl::StatusCode::kPermissionDenied) {
    // Only a cut can pass: at a separator of the token, or inside the value, which may itself
    // start with a token signed with this secret (the seeds hold real ones).
    FUZZ_CHECK(changed.size() < token.size() && token.compare(0, changed.size(), changed) == 0 &&
               (token[changed.size()] == '.' || changed.size() <= value.size()));
  }
  FUZZ_CHECK(
      channelstream::common::VerifyTimestamped(secret + "x", token, now, max_age).status().code() ==
      absl::StatusCode::kPermissionDenied);

  // The value as a token (the seeds hold real ones): never a crash; accepted means it was signed.
  absl::StatusOr<channelstream::common::VerifiedToken> raw =
      channelstream::common::VerifyTimestamped(secret, value, now, max_age);
  const absl::StatusCode code = raw.status().code();
  FUZZ_CHECK(code == absl::StatusCode::kOk || code == absl::StatusCode::kPermissionDenied ||
             code == absl::StatusCode::kDeadlineExceeded);
  if (raw.ok()) {
    FUZZ_CHECK(value.compare(0, raw->value.size(), raw->value) == 0 &&
               value[raw->value.size()] == '.');
    FUZZ_CHECK(max_age == absl::ZeroDuration() ||
               (raw->age <= max_age && raw->age >= -absl::Seconds(1)));
  }

  // Helpers.
  std::string decoded;
  const std::string encoded = channelstream::common::Base64UrlEncode(value);
  FUZZ_CHECK(Base64UrlAlphabet(encoded));
  FUZZ_CHECK(channelstream::common::Base64UrlDecode(encoded, &decoded) && decoded == value);
  channelstream::common::Base64UrlDecode(value, &decoded);  // anything: no crash
  const std::string mac = channelstream::common::HmacSha256Base64Url(secret, value);
  FUZZ_CHECK(mac.size() == 43 && Base64UrlAlphabet(mac));
  FUZZ_CHECK(channelstream::common::ConstantTimeEquals(secret, value) == (secret == value));
  FUZZ_CHECK(channelstream::common::ConstantTimeEquals(token, token));
  return 0;
}
