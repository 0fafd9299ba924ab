// The signed server API's endpoints: each reads the JSON body into its broker request
// (request_readers.h), makes one BrokerApi call and writes the response as 0.7's JSON
// (response_writers.h), or answers 422 / 503 / 500 (broker_errors.h). Routing, signatures and
// body parsing happen before (rest_adapter.h).
#pragma once

#include <map>
#include <string>

#include "rest_adapter/broker_api.h"
#include "rest_adapter/reply.h"
#include "rest_adapter/validation.h"

namespace channelstream::rest {

class Endpoints {
 public:
  explicit Endpoints(BrokerApi& broker) : broker_(broker) {}

  // `body`: the parsed JSON body, null when the request had none.
  Reply Connect(const Json& body);          // POST /connect
  Reply Subscribe(const Json& body);        // POST /subscribe
  Reply Unsubscribe(const Json& body);      // POST /unsubscribe
  Reply UserState(const Json& body);        // POST /user_state
  Reply PublishMessages(const Json& body);  // POST /message
  Reply EditMessages(const Json& body);     // PATCH /message
  Reply DeleteMessages(const Json& body);   // DELETE /message
  Reply ChannelConfig(const Json& body);    // POST /channel_config
  // Both page with `limit` and `cursor` (query parameters; for /info also body keys).
  Reply Info(const Json& body, const std::map<std::string, std::string>& query);  // POST /info
  Reply AdminJson(const std::map<std::string, std::string>& query);  // /admin/admin.json

 private:
  BrokerApi& broker_;
};

}  // namespace channelstream::rest
