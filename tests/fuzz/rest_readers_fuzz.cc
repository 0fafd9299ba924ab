// Fuzzes the REST adapter's body validation (rest_adapter/request_readers.h), all nine endpoints.
// Input: [endpoint selector][JSON body...], parsed as the adapter parses bodies (ParseBoundedJson
// with the default max_json_depth; an empty body is null).
//
// Checks: a reader accepts exactly when it records no error; every 422 error object is an object
// of message lists (or nested such objects) and dumps without throwing, as does the too-deep
// error; reading is deterministic; an accepted request holds what the broker expects: names within
// their lengths (in characters), canonical lowercase UUIDs, canonical timestamps, and `_json`
// fields that parse again within the depth limit (objects where the broker wants objects).
#include <google/protobuf/util/message_differencer.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/time/time.h"
#include "common/bounded_json.h"
#include "common/config.h"
#include "common/ids.h"
#include "common/positions_json.h"
#include "common/text.h"
#include "rest_adapter/request_readers.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace rest = channelstream::rest;
namespace v1 = channelstream::v1;
using channelstream::fuzz::FuzzInput;
using rest::FieldErrors;
using rest::Json;

// The REST adapter's depth limit as deployed by default (the config key table's max_json_depth).
const int kDepth = static_cast<int>(channelstream::common::Config().GetInt("max_json_depth"));

// A 422 body: {"field": ["message", ...] or a nested error object}.
void CheckErrorObject(const Json& errors) {
  FUZZ_CHECK(errors.is_object() && !errors.empty());
  for (const auto& [field, value] : errors.items()) {
    if (value.is_array()) {
      FUZZ_CHECK(!value.empty());
      for (const Json& message : value)
        FUZZ_CHECK(message.is_string() && !message.get_ref<const std::string&>().empty());
    } else {
      CheckErrorObject(value);
    }
  }
}

void CheckLength(const std::string& text, size_t min_length, size_t max_length) {
  const size_t length = channelstream::common::Utf8Length(text);
  FUZZ_CHECK(length >= min_length && length <= max_length);
}

void CheckNames(const google::protobuf::RepeatedPtrField<std::string>& names, size_t max_length) {
  for (const std::string& name : names) CheckLength(name, 1, max_length);
}

void CheckUuid(const std::string& id, bool required) {
  if (id.empty() && !required) return;
  FUZZ_CHECK(channelstream::common::IsUuid(id) && channelstream::common::NormalizeUuid(id) == id);
}

void CheckTimestamp(const std::string& timestamp) {
  if (timestamp.empty()) return;
  absl::Time parsed;
  FUZZ_CHECK(channelstream::common::ParseTimestamp(timestamp, &parsed));
  FUZZ_CHECK(channelstream::common::FormatTimestamp(parsed) == timestamp);
}

// A `_json` field as the broker reads it: valid, within the depth limit, an object if required.
void CheckJson(const std::string& text, bool object) {
  channelstream::common::BoundedJsonResult parsed =
      channelstream::common::ParseBoundedJson(text, kDepth);
  FUZZ_CHECK(parsed.ok());
  if (object) FUZZ_CHECK(parsed.value.is_object());
}

void CheckRequest(const v1::ConnectRequest& request) {
  CheckLength(request.username(), 1, 512);
  CheckUuid(request.conn_id(), false);
  CheckNames(request.channels(), 256);
  if (!request.fresh_user_state_json().empty()) CheckJson(request.fresh_user_state_json(), true);
  if (!request.user_state_json().empty()) CheckJson(request.user_state_json(), true);
  if (!request.has_state_public_keys()) FUZZ_CHECK(request.state_public_keys().values().empty());
  // Presented positions: bounded, at most one for the private stream (channel empty).
  FUZZ_CHECK(static_cast<size_t>(request.since_size()) <=
             channelstream::common::kMaxPresentedPositions);
  int private_streams = 0;
  for (const v1::Position& position : request.since())
    private_streams += position.channel().empty();
  FUZZ_CHECK(private_streams <= 1);
}

void CheckRequest(const v1::SubscribeRequest& request) {
  CheckUuid(request.conn_id(), true);
  FUZZ_CHECK(request.channels_size() > 0);
  CheckNames(request.channels(), 256);
}

void CheckRequest(const v1::UnsubscribeRequest& request) {
  CheckUuid(request.conn_id(), true);
  CheckNames(request.channels(), 256);
}

void CheckRequest(const v1::UserStateRequest& request) {
  CheckLength(request.user(), 1, 512);
  CheckJson(request.user_state_json(), true);
}

void CheckRequest(const v1::PublishRequest& request) {
  for (const v1::Publication& publication : request.publications()) {
    if (!publication.channel().empty()) CheckLength(publication.channel(), 1, 256);
    CheckLength(publication.user(), 1, 512);
    CheckJson(publication.message_json(), false);
    if (!publication.extra_json().empty()) CheckJson(publication.extra_json(), true);
    CheckUuid(publication.uuid(), false);
    CheckTimestamp(publication.timestamp());
  }
}

void CheckRequest(const v1::EditMessagesRequest& request) {
  for (const v1::MessageEdit& edit : request.edits()) {
    CheckUuid(edit.uuid(), true);
    if (!edit.channel().empty()) CheckLength(edit.channel(), 1, 256);
    if (!edit.message_json().empty()) CheckJson(edit.message_json(), false);
    if (!edit.user().empty()) CheckLength(edit.user(), 1, 512);
    CheckTimestamp(edit.timestamp());
    CheckTimestamp(edit.edited());
  }
}

void CheckRequest(const v1::DeleteMessagesRequest& request) {
  for (const v1::MessageDelete& del : request.deletes()) {
    CheckUuid(del.uuid(), true);
    if (!del.channel().empty()) CheckLength(del.channel(), 1, 256);
  }
}

void CheckRequest(const v1::ChannelConfigRequest&) {}

void CheckRequest(const v1::InfoRequest& request) {
  if (request.has_channels()) CheckNames(request.channels().values(), 256);
}

template <class Request>
void Read(const Json& body, bool (*reader)(const Json&, FieldErrors&, Request*)) {
  FieldErrors errors;
  Request request;
  const bool ok = reader(body, errors, &request);
  FUZZ_CHECK(ok == errors.empty());
  if (!ok) {
    CheckErrorObject(errors.json());
    FUZZ_CHECK(!errors.json().dump().empty());  // strict: throws on invalid UTF-8
  }
  FieldErrors errors_again;
  Request request_again;
  FUZZ_CHECK(reader(body, errors_again, &request_again) == ok);
  FUZZ_CHECK(errors_again.json() == errors.json());
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(request, request_again));
  if (ok) CheckRequest(request);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint8_t endpoint = input.Byte() % 9;
  const std::string_view text = input.Rest();

  Json body = nullptr;  // an empty body
  if (!text.empty()) {
    channelstream::common::BoundedJsonResult parsed =
        channelstream::common::ParseBoundedJson(text, kDepth);
    if (parsed.error == channelstream::common::BoundedJsonResult::Error::kTooDeep) {
      const Json error =
          rest::ErrorAtPath(parsed.path, channelstream::common::TooDeepMessage(kDepth));
      CheckErrorObject(error);
      FUZZ_CHECK(!error.dump().empty());
      return 0;
    }
    if (!parsed.ok()) return 0;  // 400 Invalid JSON body.
    body = std::move(parsed.value);
  }
  switch (endpoint) {
    case 0:
      Read(body, rest::ReadConnectRequest);
      break;
    case 1:
      Read(body, rest::ReadSubscribeRequest);
      break;
    case 2:
      Read(body, rest::ReadUnsubscribeRequest);
      break;
    case 3:
      Read(body, rest::ReadUserStateRequest);
      break;
    case 4:
      Read(body, rest::ReadPublishRequest);
      break;
    case 5:
      Read(body, rest::ReadEditMessagesRequest);
      break;
    case 6:
      Read(body, rest::ReadDeleteMessagesRequest);
      break;
    case 7:
      Read(body, rest::ReadChannelConfigRequest);
      break;
    default:
      Read(body, rest::ReadInfoRequest);
      break;
  }
  return 0;
}
