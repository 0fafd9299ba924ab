// JSON parsing with a nesting limit enforced while parsing. nlohmann's parser is iterative, but
// dump(), copies and comparisons recurse once per level: a client-controlled depth would let one
// request overflow an event loop's stack. Every JSON that arrives from outside the process (REST
// bodies, gRPC `_json` fields) is parsed here, so nothing deeper than `max_depth` ever exists.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace channelstream::common {

struct BoundedJsonResult {
  enum class Error { kNone, kInvalid, kTooDeep };
  nlohmann::json value;  // discarded unless error == kNone
  Error error = Error::kNone;
  // kTooDeep: the field where the limit was crossed, outermost first: object keys and list
  // indices down to the innermost object key (empty when no object encloses the cut).
  std::vector<std::string> path;

  bool ok() const { return error == Error::kNone; }
};

// Parses `text` (strict JSON, no comments); containers nested deeper than `max_depth` levels stop
// the parse at once (the top-level value is level 1).
BoundedJsonResult ParseBoundedJson(std::string_view text, int max_depth);

// "Nested deeper than N levels (max_json_depth)." for error bodies.
std::string TooDeepMessage(int max_depth);

}  // namespace channelstream::common
