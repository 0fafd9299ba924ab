#include "rest_adapter/validation.h"

#include "absl/strings/str_cat.h"
#include "common/text.h"

namespace channelstream::rest {

void FieldErrors::Add(const std::string& field, const std::string& message) {
  errors_[field].push_back(message);
}

void FieldErrors::AddNested(const std::string& field, const FieldErrors& nested) {
  if (!nested.empty()) errors_[field] = nested.json();
}

std::string LengthMessage(size_t min_length, size_t max_length) {
  if (max_length == 0) return absl::StrCat("Shorter than minimum length ", min_length, ".");
  return absl::StrCat("Length must be between ", min_length, " and ", max_length, ".");
}

Json ErrorAtPath(const std::vector<std::string>& path, const std::string& message) {
  Json errors = Json::array({message});
  if (path.empty()) return Json{{"_schema", errors}};
  for (auto it = path.rbegin(); it != path.rend(); ++it) errors = Json{{*it, std::move(errors)}};
  return errors;
}

namespace {

const Json* Find(const Json& object, const std::string& field, FieldErrors& errors, bool required) {
  auto it = object.find(field);
  if (it == object.end() || it->is_null()) {
    if (required) errors.Add(field, it == object.end() ? kMissing : "Field may not be null.");
    return nullptr;
  }
  return &*it;
}

bool LengthOk(size_t length, size_t min_length, size_t max_length) {
  return length >= min_length && (max_length == 0 || length <= max_length);
}

}  // namespace

std::optional<std::string> ReadString(const Json& object, const std::string& field,
                                      FieldErrors& errors, bool required, size_t min_length,
                                      size_t max_length) {
  const Json* value = Find(object, field, errors, required);
  if (value == nullptr) return std::nullopt;
  if (!value->is_string()) {
    errors.Add(field, "Not a valid string.");
    return std::nullopt;
  }
  const std::string& text = value->get_ref<const std::string&>();
  if (!LengthOk(common::Utf8Length(text), min_length, max_length)) {
    errors.Add(field, LengthMessage(min_length, max_length));
    return std::nullopt;
  }
  return text;
}

std::optional<bool> ReadBool(const Json& object, const std::string& field, FieldErrors& errors) {
  const Json* value = Find(object, field, errors, false);
  if (value == nullptr) return std::nullopt;
  if (value->is_boolean()) return value->get<bool>();
  // marshmallow's Boolean also takes 0/1 and the usual strings.
  if (value->is_number_integer() && (*value == 0 || *value == 1)) return *value == 1;
  if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    if (text == "true" || text == "True" || text == "1") return true;
    if (text == "false" || text == "False" || text == "0") return false;
  }
  errors.Add(field, "Not a valid boolean.");
  return std::nullopt;
}

std::optional<long long> ReadInt(const Json& object, const std::string& field,
                                 FieldErrors& errors) {
  const Json* value = Find(object, field, errors, false);
  if (value == nullptr) return std::nullopt;
  if (value->is_number_integer()) return value->get<long long>();
  errors.Add(field, "Not a valid integer.");
  return std::nullopt;
}

std::optional<std::vector<std::string>> ReadStringList(const Json& object, const std::string& field,
                                                       FieldErrors& errors, size_t min_length,
                                                       size_t max_length) {
  const Json* value = Find(object, field, errors, false);
  if (value == nullptr) return std::nullopt;
  if (!value->is_array()) {
    errors.Add(field, "Not a valid list.");
    return std::nullopt;
  }
  std::vector<std::string> items;
  FieldErrors item_errors;
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    if (!item.is_string()) {
      item_errors.Add(std::to_string(i), "Not a valid string.");
    } else if (!LengthOk(common::Utf8Length(item.get_ref<const std::string&>()), min_length,
                         max_length)) {
      item_errors.Add(std::to_string(i), LengthMessage(min_length, max_length));
    } else {
      items.push_back(item.get<std::string>());
    }
  }
  if (!item_errors.empty()) {
    errors.AddNested(field, item_errors);
    return std::nullopt;
  }
  return items;
}

std::optional<Json> ReadObject(const Json& object, const std::string& field, FieldErrors& errors,
                               bool required) {
  const Json* value = Find(object, field, errors, required);
  if (value == nullptr) return std::nullopt;
  if (!value->is_object()) {
    errors.Add(field, "Not a valid mapping type.");
    return std::nullopt;
  }
  return *value;
}

std::optional<Json> ReadState(const Json& object, const std::string& field, FieldErrors& errors) {
  std::optional<Json> state = ReadObject(object, field, errors);
  if (!state) return std::nullopt;
  for (const auto& [key, value] : state->items()) {
    if (!(value.is_string() || value.is_number() || value.is_boolean() || value.is_null())) {
      FieldErrors nested;
      nested.Add(key, "Value must be a string, number, boolean or null.");
      errors.AddNested(field, nested);
      return std::nullopt;
    }
  }
  return state;
}

}  // namespace channelstream::rest
