// Body validation with 0.7's (marshmallow's) error messages: each problem is recorded under its
// field name, and the whole map becomes the 422 body {"field": ["message", ...]}.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace channelstream::rest {

using Json = nlohmann::json;

inline constexpr const char* kMissing = "Missing data for required field.";
inline constexpr const char* kInvalidType = "Invalid input type.";

class FieldErrors {
 public:
  void Add(const std::string& field, const std::string& message);
  // Nests another object's errors under `field` (list items are named by index, as marshmallow
  // does).
  void AddNested(const std::string& field, const FieldErrors& nested);
  bool empty() const { return errors_.empty(); }
  const Json& json() const { return errors_; }

 private:
  Json errors_ = Json::object();
};

// Lengths are counted in characters, as 0.7 (Python) counts them.
// Each reader looks up `field` in `object`. Absent (or null where allowed): returns nullopt
// and, when `required`, records kMissing. Wrong type: records marshmallow's message.
std::optional<std::string> ReadString(const Json& object, const std::string& field,
                                      FieldErrors& errors, bool required = false,
                                      size_t min_length = 0, size_t max_length = 0);
std::optional<bool> ReadBool(const Json& object, const std::string& field, FieldErrors& errors);
std::optional<long long> ReadInt(const Json& object, const std::string& field, FieldErrors& errors);
// A list of strings, each `min_length..max_length` long (0 = unchecked).
std::optional<std::vector<std::string>> ReadStringList(const Json& object, const std::string& field,
                                                       FieldErrors& errors, size_t min_length = 0,
                                                       size_t max_length = 0);
// A JSON object (dict). Returns the object itself.
std::optional<Json> ReadObject(const Json& object, const std::string& field, FieldErrors& errors,
                               bool required = false);
// A user-state object: values must be string, number, bool or null.
std::optional<Json> ReadState(const Json& object, const std::string& field, FieldErrors& errors);

std::string LengthMessage(size_t min_length, size_t max_length);

// {"a": {"b": [message]}} for the path ["a", "b"]; {"_schema": [message]} for an empty path.
Json ErrorAtPath(const std::vector<std::string>& path, const std::string& message);

}  // namespace channelstream::rest
