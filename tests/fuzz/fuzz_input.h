// Helpers shared by the fuzz targets: a reader that takes parameters from the front of a fuzz
// input (a small FuzzedDataProvider that also builds with gcc for the replay tests) and FUZZ_CHECK,
// which aborts with a message so that libFuzzer and the replay test both report the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

namespace channelstream::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : rest_(reinterpret_cast<const char*>(data), size) {}

  bool empty() const { return rest_.empty(); }
  size_t remaining() const { return rest_.size(); }

  // The next byte (0 once the input is used up).
  uint8_t Byte() {
    if (rest_.empty()) return 0;
    uint8_t byte = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return byte;
  }
  // The next `bytes` bytes as a little-endian number (missing bytes count as 0).
  uint64_t Uint(int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value |= uint64_t{Byte()} << (8 * i);
    return value;
  }
  // Up to `n` bytes.
  std::string_view Take(size_t n) {
    std::string_view taken = rest_.substr(0, n);
    rest_.remove_prefix(taken.size());
    return taken;
  }
  // The bytes before the next `delimiter` (which is consumed), or everything left.
  std::string_view Until(char delimiter) {
    size_t at = rest_.find(delimiter);
    std::string_view field = rest_.substr(0, at);
    rest_.remove_prefix(at == std::string_view::npos ? rest_.size() : at + 1);
    return field;
  }
  std::string_view Rest() { return Take(rest_.size()); }

 private:
  std::string_view rest_;
};

// Chunk sizes for feeding a stream in pieces, drawn from a seed: seed 0 means "all at once",
// otherwise sizes 0..max_chunk from a small linear congruential generator (0-byte pieces too,
// which a reader must accept).
class Splitter {
 public:
  Splitter(uint32_t seed, size_t max_chunk) : state_(seed), max_chunk_(max_chunk) {}
  size_t Next(size_t left) {
    if (state_ == 0) return left;
    state_ = state_ * 1103515245u + 12345u;
    size_t size = (state_ >> 16) % (max_chunk_ + 1);
    return size < left ? size : left;
  }

 private:
  uint32_t state_;
  size_t max_chunk_;
};

}  // namespace channelstream::fuzz
