// 0.7's JSON bodies <-> the broker's proto messages. Readers validate while they translate and
// record problems in FieldErrors under 0.7's field names.
#pragma once

#include <map>
#include <string>

#include "channelstream.pb.h"
#include "rest_adapter/validation.h"

namespace channelstream::rest {

// Parses a `_json` field of the proto (null when empty or malformed: the broker wrote it).
Json ParseStoredJson(const std::string& text);

// `info` object with 0.7's defaults: include_history=true, include_users=true,
// exclude_channels=[], include_connections=false, return_public_state=false.
v1::InfoOptions ReadInfoOptions(const Json& body, FieldErrors& errors);
// {channel: {notify_presence, store_history, history_size, ...}}.
std::map<std::string, v1::ChannelConfig> ReadChannelConfigs(const Json& configs,
                                                            FieldErrors& errors);

Json ChannelInfoToJson(const v1::ChannelInfo& info, bool with_connections);
// {"channels": {name: info}, "users": [{user, state}]}.
Json ChannelsInfoToJson(const v1::ChannelsInfo& info, bool with_connections);
Json AdminInfoToJson(const v1::AdminInfoResponse& info);

// Python's str(timedelta): "1 day, 2:03:04.500000".
std::string FormatUptime(double seconds);

}  // namespace channelstream::rest
