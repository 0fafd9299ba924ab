#include "gateway/utf8.h"

namespace channelstream::gateway {

bool IsValidUtf8(std::string_view text) {
  // Not Beast's check_utf8: like write() below it must not see a null pointer (an empty view).
  Utf8Validator validator;
  return validator.Write(text) && validator.Finish();
}

bool Utf8Validator::Write(std::string_view bytes) {
  return Write(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

bool Utf8Validator::Write(const uint8_t* data, size_t size) {
  // Nothing new to check (and Beast would do pointer arithmetic on a possibly null `data`); the
  // previous Write already judged the bytes kept of a cut sequence.
  if (size == 0) return true;
  return checker_.write(data, size);
}

bool Utf8Validator::Finish() { return checker_.finish(); }

void Utf8Validator::Reset() { checker_.reset(); }

}  // namespace channelstream::gateway
