// Fuzzes common/bounded_json.h's ParseBoundedJson differentially against nlohmann::json::parse.
// Input: [depth selector][JSON text...].
//
// Checks: within the depth limit both parsers accept the same texts and build the same value;
// text nested deeper than the limit is refused as kTooDeep with a path of at most max_depth
// elements (never a crash, however deep); invalid text is never accepted; an accepted value is
// no deeper than the limit, dumps without throwing (strict and with error_handler_t::replace)
// and dumps the same after parsing its dump again.
#include <algorithm>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/bounded_json.h"
#include "common/config.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using channelstream::common::BoundedJsonResult;
using channelstream::common::ParseBoundedJson;
using channelstream::fuzz::FuzzInput;
using Json = nlohmann::json;

// Small depths, the deployed default (the config key table's max_json_depth), and nonsense.
const int kDepths[] = {
    1, 2, 3,  4,
    5, 8, 16, static_cast<int>(channelstream::common::Config().GetInt("max_json_depth")),
    0, -1};

// Container nesting of a JSON text (brackets outside strings): for valid JSON, the value's depth.
int TextDepth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '\0') {
      break;  // nlohmann's lexer ends the input at a NUL byte (iterator input too): so does ours
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

// The depth of a value, without recursion (the value may be deep).
int ValueDepth(const Json& value) {
  int deepest = 0;
  std::vector<std::pair<const Json*, int>> stack = {{&value, 0}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (!node->is_structured()) continue;
    deepest = std::max(deepest, depth + 1);
    for (const Json& child : *node) stack.push_back({&child, depth + 1});
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const int max_depth = kDepths[input.Byte() % (sizeof kDepths / sizeof kDepths[0])];
  const std::string_view text = input.Rest();
  const int limit = max_depth < 1 ? 1 : max_depth;  // what ParseBoundedJson applies

  BoundedJsonResult result = ParseBoundedJson(text, max_depth);
  // nlohmann's parser keeps its own stack (no recursion) and its destructor is iterative too, so
  // the reference may build values of any depth; it is only compared, dumped or copied when
  // shallow.
  const Json reference = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false,
                                     /*ignore_comments=*/false);
  const bool reference_ok = !reference.is_discarded();
  // The limit applies to the text: {"a": [[1]], "a": 1} is as deep as its deepest part, even
  // though the later duplicate key leaves a shallower value.
  const int depth = reference_ok ? TextDepth(text) : -1;
  if (reference_ok) FUZZ_CHECK(ValueDepth(reference) <= depth);

  if (result.ok()) {
    FUZZ_CHECK(result.path.empty());
    FUZZ_CHECK(reference_ok && depth <= limit);
    FUZZ_CHECK(result.value == reference);
    const std::string strict = result.value.dump();  // parsed strings are valid UTF-8: no throw
    FUZZ_CHECK(!result.value.dump(2, ' ', true, Json::error_handler_t::replace).empty());
    // Dumped and parsed again it is stable (not always equal: 1e400 parses as inf, dumped null).
    BoundedJsonResult again = ParseBoundedJson(strict, limit);
    FUZZ_CHECK(again.ok() && again.value.dump() == strict);
  } else {
    FUZZ_CHECK(result.value.is_discarded());
    if (result.error == BoundedJsonResult::Error::kTooDeep) {
      FUZZ_CHECK(static_cast<int>(result.path.size()) <= limit);  // names at most the levels opened
      FUZZ_CHECK(!channelstream::common::TooDeepMessage(max_depth).empty());
    } else {
      FUZZ_CHECK(result.error == BoundedJsonResult::Error::kInvalid);
      FUZZ_CHECK(result.path.empty());
    }
  }
  // Valid JSON is refused only for its depth, and always when too deep; invalid JSON never passes.
  if (reference_ok) FUZZ_CHECK(result.ok() == (depth <= limit));
  if (reference_ok && depth > limit) FUZZ_CHECK(result.error == BoundedJsonResult::Error::kTooDeep);
  if (!reference_ok) FUZZ_CHECK(!result.ok());
  return 0;
}
