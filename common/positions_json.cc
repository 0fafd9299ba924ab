#include "common/positions_json.h"

#include "absl/strings/str_cat.h"
#include "common/bounded_json.h"

namespace channelstream::common {
namespace {

std::optional<PositionsError> Invalid(std::string field, std::string message) {
  return PositionsError{std::move(field), std::move(message)};
}

std::optional<PositionsError> ReadOne(const nlohmann::json& value, const std::string& field,
                                      const std::string& channel,
                                      google::protobuf::RepeatedPtrField<v1::Position>* positions) {
  if (!value.is_object())
    return Invalid(field, "Not a valid position ({\"offset\": n, \"epoch\": \"...\"}).");
  auto offset = value.find("offset");
  if (offset == value.end() || !offset->is_number_unsigned())
    return Invalid(field + ".offset", "Not a valid non-negative integer.");
  auto epoch = value.find("epoch");
  if (epoch == value.end() || !epoch->is_string())
    return Invalid(field + ".epoch", "Not a valid string.");
  v1::Position* position = positions->Add();
  position->set_channel(channel);
  position->set_offset(offset->get<uint64_t>());
  position->set_epoch(epoch->get<std::string>());
  return std::nullopt;
}

}  // namespace

std::optional<PositionsError> ReadPositions(
    const nlohmann::json& since, google::protobuf::RepeatedPtrField<v1::Position>* positions) {
  if (since.is_null()) return std::nullopt;
  if (!since.is_object()) return Invalid("since", "Not a valid mapping type.");
  for (const auto& [key, value] : since.items()) {
    if (key == "user") {
      if (auto error = ReadOne(value, "since.user", "", positions)) return error;
    } else if (key == "channels") {
      if (!value.is_object()) return Invalid("since.channels", "Not a valid mapping type.");
      if (value.size() >= kMaxPresentedPositions)
        return Invalid("since.channels",
                       absl::StrCat("At most ", kMaxPresentedPositions - 1, " channels."));
      for (const auto& [channel, position] : value.items()) {
        if (channel.empty()) return Invalid("since.channels", "Channel names must not be empty.");
        if (auto error = ReadOne(position, "since.channels." + channel, channel, positions))
          return error;
      }
    } else {
      return Invalid("since." + key, "Unknown field (expected channels, user).");
    }
  }
  return std::nullopt;
}

nlohmann::json PositionsToJson(const google::protobuf::RepeatedPtrField<v1::Position>& positions) {
  nlohmann::json result = {{"channels", nlohmann::json::object()}};
  for (const v1::Position& position : positions) {
    nlohmann::json value = {{"offset", position.offset()}, {"epoch", position.epoch()}};
    if (position.channel().empty()) {
      result["user"] = std::move(value);
    } else {
      result["channels"][position.channel()] = std::move(value);
    }
  }
  return result;
}

std::optional<PositionsError> ReadPositionsText(
    std::string_view text, int max_json_depth,
    google::protobuf::RepeatedPtrField<v1::Position>* positions) {
  BoundedJsonResult parsed = ParseBoundedJson(text, max_json_depth);
  if (parsed.error == BoundedJsonResult::Error::kTooDeep)
    return Invalid("since", TooDeepMessage(max_json_depth));
  if (!parsed.ok()) return Invalid("since", "Not valid JSON.");
  return ReadPositions(parsed.value, positions);
}

}  // namespace channelstream::common
