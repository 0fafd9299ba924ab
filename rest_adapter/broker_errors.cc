#include "rest_adapter/broker_errors.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"

namespace channelstream::rest {
namespace {

constexpr char kBadRequestType[] = "type.googleapis.com/google.rpc.BadRequest";
constexpr char kQuotaFailureType[] = "type.googleapis.com/google.rpc.QuotaFailure";

// Appends `message` to the list at `path` in `errors`, making the objects on the way.
void AddAtPath(const std::vector<std::string>& path, const std::string& message, Json* errors) {
  Json* node = errors;
  for (const std::string& segment : path) {
    if (node->is_null()) *node = Json::object();
    if (!node->is_object()) return;  // a path both a leaf and a parent: keep the first
    node = &(*node)[segment];
  }
  if (node->is_null()) *node = Json::array();
  if (node->is_array()) node->push_back(message);
}

// 0.7's answer for a broker without details: "<field>: <message>", else _schema.
Json FieldErrorsFromText(const std::string& text) {
  size_t colon = text.find(": ");
  if (colon == std::string::npos) return {{"_schema", {text}}};
  return {{text.substr(0, colon), {text.substr(colon + 2)}}};
}

}  // namespace

std::vector<std::string> SplitFieldPath(const std::string& path) {
  std::vector<std::string> segments;
  std::string current;
  for (char c : path) {
    if (c == '.' || c == '[' || c == ']') {
      if (!current.empty()) segments.push_back(std::move(current));
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  if (!current.empty()) segments.push_back(std::move(current));
  return segments;
}

Json FieldErrorsFromDetails(const std::string& details_bytes, const std::string& items_field) {
  Json errors = Json::object();
  google::rpc::Status details;
  if (details_bytes.empty() || !details.ParseFromString(details_bytes)) return errors;
  for (const google::protobuf::Any& any : details.details()) {
    if (any.type_url() == kBadRequestType) {
      google::rpc::BadRequest bad_request;
      if (!bad_request.ParseFromString(any.value())) continue;
      for (const auto& violation : bad_request.field_violations()) {
        std::vector<std::string> path = SplitFieldPath(violation.field());
        if (!items_field.empty() && path.size() > 1 && path.front() == items_field)
          path.erase(path.begin());
        if (path.empty()) path.push_back("_schema");
        AddAtPath(path, violation.description(), &errors);
      }
    } else if (any.type_url() == kQuotaFailureType) {
      // The limit's config key stands where 0.7 would name a field.
      google::rpc::QuotaFailure quota;
      if (!quota.ParseFromString(any.value())) continue;
      for (const auto& violation : quota.violations())
        AddAtPath({violation.subject().empty() ? "_schema" : violation.subject()},
                  violation.description(), &errors);
    }
  }
  return errors;
}

Reply BrokerErrorReply(const grpc::Status& status, const std::string& items_field) {
  const std::string& text = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::INVALID_ARGUMENT:
    case grpc::StatusCode::NOT_FOUND:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::FAILED_PRECONDITION:
    case grpc::StatusCode::ALREADY_EXISTS: {
      Json errors = FieldErrorsFromDetails(status.error_details(), items_field);
      return JsonReply(422, errors.empty() ? FieldErrorsFromText(text) : errors);
    }
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return JsonReply(503, {{"error", absl::StrCat("broker unavailable: ", text)}});
    default:
      LOG_ERROR("broker call failed: ", static_cast<int>(status.error_code()), " ", text);
      return JsonReply(500, {{"error", absl::StrCat("broker error: ", text)}});
  }
}

}  // namespace channelstream::rest
