// The broker's responses as 0.7's JSON answers (the other half of request_readers.h): no
// network, no broker. `with_connections` is the request's info.include_connections.
#pragma once

#include "channelstream.pb.h"
#include "rest_adapter/validation.h"

namespace channelstream::rest {

Json ConnectResponseToJson(const v1::ConnectResponse& response, bool with_connections);
Json SubscribeResponseToJson(const v1::SubscribeResponse& response, bool with_connections);
Json UnsubscribeResponseToJson(const v1::UnsubscribeResponse& response, bool with_connections);
Json UserStateResponseToJson(const v1::UserStateResponse& response);
// The published messages as stored (a list, in request order).
Json PublishResponseToJson(const v1::PublishResponse& response);
// The edited / deleted messages.
Json MessagesToJson(const google::protobuf::RepeatedPtrField<std::string>& messages_json);

}  // namespace channelstream::rest
