#include "common/bounded_json.h"

#include "absl/strings/str_cat.h"

namespace channelstream::common {

namespace {

using Json = nlohmann::json;
using DomParser = nlohmann::detail::json_sax_dom_parser<Json>;

// A SAX handler that builds the DOM through nlohmann's own DOM builder and refuses to open a
// container past the limit, remembering the path so the error can name the field.
class DepthLimitedSax {
 public:
  DepthLimitedSax(Json& result, int max_depth) : dom_(result, false), max_depth_(max_depth) {}

  bool null() { return Element() && dom_.null(); }
  bool boolean(bool value) { return Element() && dom_.boolean(value); }
  bool number_integer(Json::number_integer_t value) {
    return Element() && dom_.number_integer(value);
  }
  bool number_unsigned(Json::number_unsigned_t value) {
    return Element() && dom_.number_unsigned(value);
  }
  bool number_float(Json::number_float_t value, const Json::string_t& text) {
    return Element() && dom_.number_float(value, text);
  }
  bool string(Json::string_t& value) { return Element() && dom_.string(value); }
  bool binary(Json::binary_t& value) { return Element() && dom_.binary(value); }
  bool start_object(std::size_t size) { return Open(false) && dom_.start_object(size); }
  bool key(Json::string_t& name) {
    levels_.back().key = name;
    return dom_.key(name);
  }
  bool end_object() {
    levels_.pop_back();
    return dom_.end_object();
  }
  bool start_array(std::size_t size) { return Open(true) && dom_.start_array(size); }
  bool end_array() {
    levels_.pop_back();
    return dom_.end_array();
  }
  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& error) {
    syntax_error_ = true;
    return dom_.parse_error(position, token, error);
  }

  bool too_deep() const { return too_deep_; }
  bool syntax_error() const { return syntax_error_; }
  std::vector<std::string> TakePath() { return std::move(path_); }

 private:
  struct Level {
    bool is_array;
    size_t count = 0;  // elements seen so far (lists)
    std::string key;   // the current key (objects)
  };

  // Every value counts as the next element of an enclosing list.
  bool Element() {
    if (!levels_.empty() && levels_.back().is_array) ++levels_.back().count;
    return true;
  }

  bool Open(bool is_array) {
    Element();
    if (static_cast<int>(levels_.size()) >= max_depth_) {
      too_deep_ = true;
      // The field is named down to its innermost object key: a run of list indices below it
      // (a deep [[[...]]]) says nothing more, and would nest the error as deep as the input.
      size_t named = 0;
      for (size_t i = 0; i < levels_.size(); ++i)
        if (!levels_[i].is_array) named = i + 1;
      for (size_t i = 0; i < named; ++i)
        path_.push_back(levels_[i].is_array ? std::to_string(levels_[i].count - 1)
                                            : levels_[i].key);
      return false;
    }
    levels_.push_back(Level{is_array, 0, {}});
    return true;
  }

  DomParser dom_;
  int max_depth_;
  std::vector<Level> levels_;
  std::vector<std::string> path_;
  bool too_deep_ = false;
  bool syntax_error_ = false;
};

}  // namespace

BoundedJsonResult ParseBoundedJson(std::string_view text, int max_depth) {
  BoundedJsonResult result;
  DepthLimitedSax sax(result.value, max_depth < 1 ? 1 : max_depth);
  bool ok = Json::sax_parse(text.begin(), text.end(), &sax, Json::input_format_t::json,
                            /*strict=*/true, /*ignore_comments=*/false);
  if (ok && !sax.syntax_error()) return result;
  result.value = Json(Json::value_t::discarded);
  if (sax.too_deep()) {
    result.error = BoundedJsonResult::Error::kTooDeep;
    result.path = sax.TakePath();
  } else {
    result.error = BoundedJsonResult::Error::kInvalid;
  }
  return result;
}

std::string TooDeepMessage(int max_depth) {
  return absl::StrCat("Nested deeper than ", max_depth, " levels (max_json_depth).");
}

}  // namespace channelstream::common
