#include "broker/info_page.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "broker/json_fields.h"

namespace channelstream::broker {

absl::StatusOr<PageCursor> PageCursor::Parse(const std::string& cursor) {
  PageCursor parsed;
  if (cursor.empty()) return parsed;
  if (absl::StartsWith(cursor, "c:")) {
    parsed.section = Section::kChannels;
  } else if (absl::StartsWith(cursor, "u:")) {
    parsed.section = Section::kUsers;
  } else {
    return FieldError("cursor", "Not a cursor this server returned (next_cursor).");
  }
  parsed.after = cursor.substr(2);
  return parsed;
}

absl::StatusOr<InfoPage> InfoPage::Start(int32_t requested_limit, const BrokerOptions& options) {
  if (requested_limit < 0 || requested_limit > options.info_max_page_size)
    return FieldError("limit", absl::StrCat("Must be between 0 and ", options.info_max_page_size,
                                            " (info_max_page_size)."));
  const int64_t limit = requested_limit == 0 ? options.info_page_size : requested_limit;
  return InfoPage(limit, static_cast<size_t>(std::max<int64_t>(1, options.info_page_max_bytes)));
}

bool InfoPage::Accept(size_t bytes) {
  if (entries_ > 0 && bytes_ + bytes > max_bytes_) return false;
  ++entries_;
  bytes_ += bytes;
  return true;
}

}  // namespace channelstream::broker
