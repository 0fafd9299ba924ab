// Identifiers and timestamps in the formats Channelstream 0.7 uses on the wire.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

#include "absl/time/time.h"

namespace channelstream::common {

// A UUID held as its 16 bytes. The broker names every connection in several indexes (by id, by
// user, by channel, by gateway handle); the 36-character text costs a 32-byte string plus a
// 48-byte heap block per copy, this costs 16 bytes and no allocation.
class Uuid {
 public:
  Uuid() = default;  // the nil UUID: names nothing
  // Accepts the canonical 8-4-4-4-12 hex form in any case; false (and *out untouched) otherwise.
  static bool Parse(std::string_view text, Uuid* out);
  // Parse() for callers that treat an invalid id like an unknown one: invalid -> nil.
  static Uuid FromText(std::string_view text);
  // A random (version 4) UUID from OpenSSL's CSPRNG.
  static Uuid Random();

  bool nil() const { return high_ == 0 && low_ == 0; }
  std::string ToString() const;  // canonical lowercase form
  // The 16 bytes in text order (the broker's snapshots and journal store ids this way).
  std::string ToBytes() const;
  // False (and *out untouched) unless `bytes` holds exactly 16 bytes.
  static bool FromBytes(std::string_view bytes, Uuid* out);

  friend bool operator==(const Uuid& a, const Uuid& b) {
    return a.high_ == b.high_ && a.low_ == b.low_;
  }
  friend bool operator!=(const Uuid& a, const Uuid& b) { return !(a == b); }
  // Orders like the lowercase text form, so sorted listings read the same as before.
  friend bool operator<(const Uuid& a, const Uuid& b) {
    return std::tie(a.high_, a.low_) < std::tie(b.high_, b.low_);
  }
  template <typename H>
  friend H AbslHashValue(H state, const Uuid& id) {
    return H::combine(std::move(state), id.high_, id.low_);
  }

 private:
  uint64_t high_ = 0;
  uint64_t low_ = 0;
};

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

}  // namespace channelstream::common
