// Fuzzes the request-target helpers of common/query.h (ParseTarget, Find, PercentDecode,
// IsValidCallbackName). Input: [flags][text...].
//
// Checks, on the text as a raw request target: the path is the percent-decoded part before '?';
// Find() returns exactly the parsed parameters; re-encoding the parsed target canonically and
// parsing it again gives the same result. On the text split at '\n' into a path and key/value
// pairs: encoding them into a target and parsing it gives them back (the first occurrence of a
// key wins). PercentDecode undoes percent-encoding of any bytes, never grows its input and leaves
// text without escapes alone. IsValidCallbackName agrees with the documented rule.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/query.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

using channelstream::common::IsValidCallbackName;
using channelstream::common::ParseTarget;
using channelstream::common::PercentDecode;
using channelstream::common::RequestTarget;
using channelstream::fuzz::FuzzInput;

bool Unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

// Percent-encodes every byte but the unreserved ones (and those in `keep`); in query mode a
// space may be written as '+'.
std::string Encode(std::string_view text, uint8_t flags, std::string_view keep = "") {
  static constexpr char kUpper[] = "0123456789ABCDEF";
  static constexpr char kLower[] = "0123456789abcdef";
  const char* digits = (flags & 1) ? kLower : kUpper;
  std::string out;
  for (char c : text) {
    if (Unreserved(c) || keep.find(c) != std::string_view::npos) {
      out.push_back(c);
    } else if (c == ' ' && (flags & 2)) {
      out.push_back('+');
    } else {
      const uint8_t byte = static_cast<uint8_t>(c);
      out += {'%', digits[byte >> 4], digits[byte & 15]};
    }
  }
  return out;
}

std::string EncodeTarget(const std::string& path,
                         const std::vector<std::pair<std::string, std::string>>& params,
                         uint8_t flags) {
  std::string target =
      Encode(path, flags & 1, "/");  // a '+' in the path is no space: keep it encoded
  if (params.empty() && !(flags & 4)) return target;
  target.push_back('?');
  for (size_t i = 0; i < params.size(); ++i) {
    if (i > 0) target += (flags & 8) ? "&&" : "&";  // empty pairs are skipped
    target += Encode(params[i].first, flags);
    // "k" means k=""; a lone "" would be an empty pair, so an empty key keeps its '='.
    if (!params[i].second.empty() || params[i].first.empty() || !(flags & 16))
      target += "=" + Encode(params[i].second, flags);
  }
  if (flags & 32) target += "#fragment&x=y";  // never part of the query
  return target;
}

void CheckParsed(std::string_view target, const RequestTarget& parsed, uint8_t flags) {
  const size_t question = target.find('?');
  FUZZ_CHECK(parsed.path == PercentDecode(target.substr(0, question), false));
  if (question == std::string_view::npos) FUZZ_CHECK(parsed.params.empty());
  std::string absent = "absent";
  for (const auto& [key, value] : parsed.params) {
    const std::string* found = parsed.Find(key);
    FUZZ_CHECK(found != nullptr && *found == value);
    while (parsed.params.count(absent)) absent += "\xff";
  }
  FUZZ_CHECK(parsed.Find(absent) == nullptr);

  // Canonical form: encoded again, it parses to the same target.
  std::vector<std::pair<std::string, std::string>> params(parsed.params.begin(),
                                                          parsed.params.end());
  const RequestTarget again = ParseTarget(EncodeTarget(parsed.path, params, flags));
  FUZZ_CHECK(again.path == parsed.path && again.params == parsed.params);
}

void CheckPercentDecode(std::string_view text, uint8_t flags) {
  for (bool plus_is_space : {false, true}) {
    const std::string decoded = PercentDecode(text, plus_is_space);
    FUZZ_CHECK(decoded.size() <= text.size());
    const bool plain = text.find('%') == std::string_view::npos &&
                       (!plus_is_space || text.find('+') == std::string_view::npos);
    if (plain) FUZZ_CHECK(decoded == text);
    FUZZ_CHECK(PercentDecode(Encode(text, plus_is_space ? flags : flags & 1), plus_is_space) ==
               text);
  }
}

bool CallbackRule(std::string_view name) {
  if (name.empty() || name.size() > 128) return false;
  for (char c : name)
    if (!(Unreserved(c) && c != '-' && c != '~') && c != '$') return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint8_t flags = input.Byte();
  const std::string_view text = input.Rest();

  // The text as a raw request target.
  const RequestTarget parsed = ParseTarget(text);
  CheckParsed(text, parsed, flags);
  for (const auto& entry : parsed.params)
    FUZZ_CHECK(IsValidCallbackName(entry.second) == CallbackRule(entry.second));
  FUZZ_CHECK(IsValidCallbackName(text) == CallbackRule(text));
  CheckPercentDecode(text, flags);

  // The text as fields: path '\n' key '\n' value '\n' key ...
  FuzzInput fields(data + 1, size == 0 ? 0 : size - 1);
  const std::string path(fields.Until('\n'));
  std::vector<std::pair<std::string, std::string>> pairs;
  std::map<std::string, std::string> expected;
  while (!fields.empty()) {
    std::string key(fields.Until('\n'));
    std::string value(fields.Until('\n'));
    expected.emplace(key, value);
    pairs.emplace_back(std::move(key), std::move(value));
  }
  const std::string target = EncodeTarget(path, pairs, flags);
  const RequestTarget round_trip = ParseTarget(target);
  FUZZ_CHECK(round_trip.path == path);
  FUZZ_CHECK(round_trip.params == expected);
  CheckParsed(target, round_trip, flags);
  return 0;
}
