// The body of each server API endpoint read into its broker request: 0.7's (marshmallow's)
// validation, with no network and no broker. RestAdapter's handlers call these, then the broker.
//
// Each takes the parsed JSON body (null when the request had none), fills `out` and records
// every problem in `errors`, whose JSON is the 422 answer; returns errors.empty(). A body of the
// wrong JSON type records {"_schema": ["Invalid input type."]} and nothing else.
#pragma once

#include "channelstream.pb.h"
#include "rest_adapter/validation.h"

namespace channelstream::rest {

bool ReadConnectRequest(const Json& body, FieldErrors& errors,
                        v1::ConnectRequest* out);  // POST /connect
bool ReadSubscribeRequest(const Json& body, FieldErrors& errors,
                          v1::SubscribeRequest* out);  // POST /subscribe
bool ReadUnsubscribeRequest(const Json& body, FieldErrors& errors,
                            v1::UnsubscribeRequest* out);  // POST /unsubscribe
bool ReadUserStateRequest(const Json& body, FieldErrors& errors,
                          v1::UserStateRequest* out);  // POST /user_state
bool ReadPublishRequest(const Json& body, FieldErrors& errors,
                        v1::PublishRequest* out);  // POST /message
bool ReadEditMessagesRequest(const Json& body, FieldErrors& errors,
                             v1::EditMessagesRequest* out);  // PATCH /message
bool ReadDeleteMessagesRequest(const Json& body, FieldErrors& errors,
                               v1::DeleteMessagesRequest* out);  // DELETE /message
bool ReadChannelConfigRequest(const Json& body, FieldErrors& errors,
                              v1::ChannelConfigRequest* out);  // POST /channel_config
bool ReadInfoRequest(const Json& body, FieldErrors& errors, v1::InfoRequest* out);  // POST /info

}  // namespace channelstream::rest
