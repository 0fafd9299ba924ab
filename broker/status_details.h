// The broker's typed errors. Every INVALID_ARGUMENT (and NOT_FOUND of a request field) carries a
// google.rpc.BadRequest naming each bad field, every RESOURCE_EXHAUSTED a google.rpc.QuotaFailure
// naming the config key of the limit. They travel as absl::Status payloads keyed by the detail's
// type URL (the state layer knows no gRPC); grpc_status.h turns them into gRPC's binary error
// details. The message text stays "<field>: <message>" for people and older clients.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/rpc/error_details.pb.h"

namespace channelstream::broker {

inline constexpr char kBadRequestTypeUrl[] = "type.googleapis.com/google.rpc.BadRequest";
inline constexpr char kQuotaFailureTypeUrl[] = "type.googleapis.com/google.rpc.QuotaFailure";

// INVALID_ARGUMENT "<field>: <message>" with one violation {field, message}.
absl::Status FieldError(const std::string& field, const std::string& message);
// NOT_FOUND "<field>: <message>" (an unknown conn_id / user) with one violation {field, message}.
absl::Status FieldNotFound(const std::string& field, const std::string& message);
// RESOURCE_EXHAUSTED "<config_key>: <message>" with one quota violation {config_key, message}.
absl::Status LimitError(const std::string& config_key, const std::string& message);

// The violations a status carries (none for other statuses).
std::vector<google::rpc::BadRequest::FieldViolation> FieldViolations(const absl::Status& status);

// Collects the violations of several items of one request, so that a client learns of every bad
// item at once: Add(FieldError(...)) for each, then Build().
class FieldViolationList {
 public:
  // Keeps `error`'s violations as they are; the first error's text becomes the message.
  void Add(const absl::Status& error);
  // The same for item `index` of the repeated field `list`: a violation naming `list` itself
  // becomes "list[index]" (a bad channel name), any other field "list[index].field".
  void AddItem(const absl::Status& error, const std::string& list, int index);
  bool empty() const { return violations_.field_violations().empty(); }
  // INVALID_ARGUMENT (NOT_FOUND when every error was) with every violation; OK when empty.
  absl::Status Build() const;

 private:
  google::rpc::BadRequest violations_;
  std::string first_message_;
  bool all_not_found_ = true;
};

}  // namespace channelstream::broker
