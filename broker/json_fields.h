// Parsing and checking the `_json` fields of broker requests. Errors are INVALID_ARGUMENT
// statuses whose message starts with the 0.7 field name ("user_state: Not a valid mapping type.")
// and whose google.rpc.BadRequest names the field (status_details.h).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "absl/status/statusor.h"
#include "broker/status_details.h"

namespace channelstream::broker {

using Json = nlohmann::json;

// Any JSON value nested at most `max_depth` levels (max_json_depth); an empty text is `if_empty`.
absl::StatusOr<Json> ParseJsonField(const std::string& text, const std::string& field,
                                    const Json& if_empty, int max_depth);
// A JSON object of user-state values (string, number, bool or null); an empty text is {}.
absl::StatusOr<Json> ParseStateObject(const std::string& text, const std::string& field,
                                      int max_depth);
// A JSON object (extra keys of a publication); an empty text is {}.
absl::StatusOr<Json> ParseObjectField(const std::string& text, const std::string& field,
                                      int max_depth);

// Serializes without throwing: invalid UTF-8 in strings is replaced.
std::string DumpJson(const Json& value);

}  // namespace channelstream::broker
