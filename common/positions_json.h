// The positions a client presents to resume exactly (`since`, on /ws and /listen as a query
// parameter holding JSON, and as a /connect body key), read into the broker's v1::Position:
//
//   {"channels": {"room": {"offset": 12, "epoch": "3f2a9c1d"}, ...},
//    "user": {"offset": 4, "epoch": "77ab01ce"}}
//
// `offset` and `epoch` are the keys of the last object the client received on that stream
// (a channel, or its private messages: "user"). Errors name the field
// ("since.channels.room.offset").
#pragma once

#include <google/protobuf/repeated_field.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "channelstream.pb.h"

namespace channelstream::common {

// At most this many positions in one `since` (a connection's channels plus its private stream).
inline constexpr size_t kMaxPresentedPositions = 1001;

// What is wrong with a presented `since`: the field path and the message, kept apart so each
// caller builds its own error shape (a 422 body, a FieldErrors entry) without parsing text.
struct PositionsError {
  std::string field;  // e.g. "since.channels.room.offset"
  std::string message;
};

// Reads a parsed `since` value (null: nothing presented); the first error found, if any.
std::optional<PositionsError> ReadPositions(
    const nlohmann::json& since, google::protobuf::RepeatedPtrField<v1::Position>* positions);
// The same format written (what /connect answers as "positions"); channel "" is "user".
nlohmann::json PositionsToJson(const google::protobuf::RepeatedPtrField<v1::Position>& positions);
// The same from text (a query parameter), parsed with the nesting limit.
std::optional<PositionsError> ReadPositionsText(
    std::string_view text, int max_json_depth,
    google::protobuf::RepeatedPtrField<v1::Position>* positions);

}  // namespace channelstream::common
