#include "broker/json_fields.h"

#include "absl/strings/str_cat.h"
#include "common/bounded_json.h"

namespace channelstream::broker {

absl::StatusOr<Json> ParseJsonField(const std::string& text, const std::string& field,
                                    const Json& if_empty, int max_depth) {
  if (text.empty()) return if_empty;
  common::BoundedJsonResult parsed = common::ParseBoundedJson(text, max_depth);
  if (parsed.error == common::BoundedJsonResult::Error::kTooDeep)
    return FieldError(field, common::TooDeepMessage(max_depth));
  if (!parsed.ok()) return FieldError(field, "Not valid JSON.");
  return std::move(parsed.value);
}

absl::StatusOr<Json> ParseObjectField(const std::string& text, const std::string& field,
                                      int max_depth) {
  absl::StatusOr<Json> value = ParseJsonField(text, field, Json::object(), max_depth);
  if (!value.ok()) return value;
  if (!value->is_object()) return FieldError(field, "Not a valid mapping type.");
  return value;
}

absl::StatusOr<Json> ParseStateObject(const std::string& text, const std::string& field,
                                      int max_depth) {
  absl::StatusOr<Json> value = ParseObjectField(text, field, max_depth);
  if (!value.ok()) return value;
  for (const auto& item : value->items()) {
    const Json& v = item.value();
    // 0.7's schema accepts str/int/float/bool/null values only.
    if (v.is_object() || v.is_array())
      return FieldError(field, absl::StrCat("Invalid value for key '", item.key(), "'."));
  }
  return value;
}

std::string DumpJson(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace channelstream::broker
