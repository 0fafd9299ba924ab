// Identifiers and timestamps in the formats Channelstream 0.7 uses on the wire.
#pragma once

#include <string>

#include "absl/time/time.h"

namespace channelstream {

// A random (version 4) UUID in canonical lowercase form, from OpenSSL's CSPRNG.
std::string NewUuid();
// True when `text` is a UUID in canonical 8-4-4-4-12 hex form (any case).
bool IsUuid(const std::string& text);
// Lower-cases a UUID so the same id in another case names the same connection.
std::string NormalizeUuid(const std::string& text);

// "2026-11-25T04:27:33.123456" (UTC, no zone), as 0.7 serializes datetimes.
std::string FormatTimestamp(absl::Time time);
// Accepts the format above, with or without fraction, a trailing "Z" or "+00:00".
bool ParseTimestamp(const std::string& text, absl::Time* time);

}  // namespace channelstream
