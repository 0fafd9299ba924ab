// A failed broker call as 0.7's answer. Field errors (INVALID_ARGUMENT, NOT_FOUND of a request
// field, RESOURCE_EXHAUSTED of a limit) become 422 {field: [message]}, read from the status's
// google.rpc.BadRequest / QuotaFailure details; a broker that sends no details is read the old
// way, from the "<field>: <message>" text. UNAVAILABLE and DEADLINE_EXCEEDED are 503, the rest 500.
#pragma once

#include <grpcpp/support/status.h>

#include <string>
#include <vector>

#include "rest_adapter/reply.h"
#include "rest_adapter/validation.h"

namespace channelstream::rest {

// `items_field`: the repeated request field a list body fills ("publications" for POST
// /message); 0.7 names list items by index alone, so the broker's "publications[2].user" is
// {"2": {"user": [...]}} there.
Reply BrokerErrorReply(const grpc::Status& status, const std::string& items_field = "");

// The 422 body read from a status's binary details (a google.rpc.Status); {} when none.
Json FieldErrorsFromDetails(const std::string& details_bytes, const std::string& items_field);

// "publications[2].user" -> {"publications", "2", "user"}.
std::vector<std::string> SplitFieldPath(const std::string& path);

}  // namespace channelstream::rest
