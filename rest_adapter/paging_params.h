// The paging parameters of /info and /admin/admin.json: `limit` and `cursor` in, `next_cursor`
// out (the broker's Info / AdminInfo paging; see docs/API.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "rest_adapter/validation.h"

namespace channelstream::rest {

struct PagingParams {
  int32_t limit = 0;   // 0: the broker's info_page_size
  std::string cursor;  // empty: the first page
  bool given = false;  // the request named limit or cursor
};

// From the query string (/admin/admin.json, /info). Records "limit: Not a valid integer.".
void ReadPagingQuery(const std::map<std::string, std::string>& params, FieldErrors& errors,
                     PagingParams* out);
// From top-level body keys (/info); they override the query string's.
void ReadPagingBody(const Json& body, FieldErrors& errors, PagingParams* out);

// Adds "next_cursor" when the request paged or a next page exists: a request without paging
// parameters to a server that fits in one page gets 0.7's answer byte for byte.
void AddNextCursor(const PagingParams& paging, const std::string& next_cursor, Json* answer);

}  // namespace channelstream::rest
