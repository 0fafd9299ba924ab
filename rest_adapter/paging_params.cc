#include "rest_adapter/paging_params.h"

#include <algorithm>
#include <limits>

#include "absl/strings/numbers.h"

namespace channelstream::rest {
namespace {

constexpr const char* kNotInteger = "Not a valid integer.";

// Out-of-range values still reach the broker (as -1 or the int32 maximum), which refuses them
// with the one message naming info_max_page_size.
int32_t ClampLimit(long long value) {
  return static_cast<int32_t>(
      std::clamp<long long>(value, -1, std::numeric_limits<int32_t>::max()));
}

}  // namespace

void ReadPagingQuery(const std::map<std::string, std::string>& params, FieldErrors& errors,
                     PagingParams* out) {
  if (auto limit = params.find("limit"); limit != params.end()) {
    long long value = 0;
    if (absl::SimpleAtoi(limit->second, &value))
      out->limit = ClampLimit(value);
    else
      errors.Add("limit", kNotInteger);
    out->given = true;
  }
  if (auto cursor = params.find("cursor"); cursor != params.end()) {
    out->cursor = cursor->second;
    out->given = true;
  }
}

void ReadPagingBody(const Json& body, FieldErrors& errors, PagingParams* out) {
  if (!body.is_object()) return;
  if (body.contains("limit")) {
    if (auto limit = ReadInt(body, "limit", errors)) out->limit = ClampLimit(*limit);
    out->given = true;
  }
  if (body.contains("cursor")) {
    if (auto cursor = ReadString(body, "cursor", errors)) out->cursor = *cursor;
    out->given = true;
  }
}

void AddNextCursor(const PagingParams& paging, const std::string& next_cursor, Json* answer) {
  if (paging.given || !next_cursor.empty()) (*answer)["next_cursor"] = next_cursor;
}

}  // namespace channelstream::rest
