#include "broker/status_details.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace channelstream::broker {
namespace {

absl::Status WithViolation(absl::Status status, const std::string& field,
                           const std::string& message) {
  google::rpc::BadRequest details;
  google::rpc::BadRequest::FieldViolation* violation = details.add_field_violations();
  violation->set_field(field);
  violation->set_description(message);
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

}  // namespace

absl::Status FieldError(const std::string& field, const std::string& message) {
  return WithViolation(absl::InvalidArgumentError(absl::StrCat(field, ": ", message)), field,
                       message);
}

absl::Status FieldNotFound(const std::string& field, const std::string& message) {
  return WithViolation(absl::NotFoundError(absl::StrCat(field, ": ", message)), field, message);
}

absl::Status LimitError(const std::string& config_key, const std::string& message) {
  absl::Status status = absl::ResourceExhaustedError(absl::StrCat(config_key, ": ", message));
  google::rpc::QuotaFailure details;
  google::rpc::QuotaFailure::Violation* violation = details.add_violations();
  violation->set_subject(config_key);
  violation->set_description(message);
  status.SetPayload(kQuotaFailureTypeUrl, absl::Cord(details.SerializeAsString()));
  return status;
}

std::vector<google::rpc::BadRequest::FieldViolation> FieldViolations(const absl::Status& status) {
  auto payload = status.GetPayload(kBadRequestTypeUrl);
  google::rpc::BadRequest details;
  if (!payload || !details.ParseFromString(std::string(*payload))) return {};
  return {details.field_violations().begin(), details.field_violations().end()};
}

void FieldViolationList::Add(const absl::Status& error) { AddItem(error, "", -1); }

void FieldViolationList::AddItem(const absl::Status& error, const std::string& list, int index) {
  if (error.ok()) return;
  if (first_message_.empty()) first_message_ = std::string(error.message());
  if (error.code() != absl::StatusCode::kNotFound) all_not_found_ = false;
  for (google::rpc::BadRequest::FieldViolation& violation : FieldViolations(error)) {
    if (index >= 0) {
      const std::string item = absl::StrCat(list, "[", index, "]");
      violation.set_field(violation.field() == list ? item
                                                    : absl::StrCat(item, ".", violation.field()));
    }
    *violations_.add_field_violations() = std::move(violation);
  }
}

absl::Status FieldViolationList::Build() const {
  if (first_message_.empty()) return absl::OkStatus();
  absl::Status status(
      all_not_found_ ? absl::StatusCode::kNotFound : absl::StatusCode::kInvalidArgument,
      first_message_);
  status.SetPayload(kBadRequestTypeUrl, absl::Cord(violations_.SerializeAsString()));
  return status;
}

}  // namespace channelstream::broker
