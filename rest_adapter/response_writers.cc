#include "rest_adapter/response_writers.h"

#include <algorithm>
#include <string>
#include <vector>

#include "common/positions_json.h"
#include "rest_adapter/translate.h"

namespace channelstream::rest {
namespace {

// 0.7 answered channel lists sorted.
std::vector<std::string> Sorted(const google::protobuf::RepeatedPtrField<std::string>& items) {
  std::vector<std::string> sorted(items.begin(), items.end());
  std::sort(sorted.begin(), sorted.end());
  return sorted;
}

}  // namespace

Json ConnectResponseToJson(const v1::ConnectResponse& response, bool with_connections) {
  return {{"conn_id", response.conn_id()},
          {"username", response.username()},
          {"state", ParseStoredJson(response.state_json())},
          {"public_state", ParseStoredJson(response.public_state_json())},
          {"channels", Sorted(response.channels())},
          {"channels_info", ChannelsInfoToJson(response.channels_info(), with_connections)},
          {"positions", common::PositionsToJson(response.positions())}};
}

Json SubscribeResponseToJson(const v1::SubscribeResponse& response, bool with_connections) {
  return {{"channels", Sorted(response.channels())},
          {"channels_info", ChannelsInfoToJson(response.channels_info(), with_connections)},
          {"subscribed_to", Sorted(response.subscribed_to())}};
}

Json UnsubscribeResponseToJson(const v1::UnsubscribeResponse& response, bool with_connections) {
  return {{"channels", Sorted(response.channels())},
          {"channels_info", ChannelsInfoToJson(response.channels_info(), with_connections)},
          {"unsubscribed_from", Sorted(response.unsubscribed_from())}};
}

Json UserStateResponseToJson(const v1::UserStateResponse& response) {
  Json changed = Json::array();
  for (const v1::StateChange& change : response.changed_state())
    changed.push_back({{"key", change.key()}, {"value", ParseStoredJson(change.value_json())}});
  return {{"user_state", ParseStoredJson(response.user_state_json())},
          {"changed_state", changed},
          {"public_keys",
           std::vector<std::string>(response.public_keys().begin(), response.public_keys().end())}};
}

Json PublishResponseToJson(const v1::PublishResponse& response) {
  Json echo = Json::array();
  for (const v1::PublishedMessage& message : response.messages())
    echo.push_back(ParseStoredJson(message.message_json()));
  return echo;
}

Json MessagesToJson(const google::protobuf::RepeatedPtrField<std::string>& messages_json) {
  Json list = Json::array();
  for (const std::string& message : messages_json) list.push_back(ParseStoredJson(message));
  return list;
}

}  // namespace channelstream::rest
