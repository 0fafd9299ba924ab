// /openapi.json: an OpenAPI 3 description of every server and client endpoint, built from one
// table so the document, the API explorer and the routes cannot drift apart silently.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace channelstream::rest {

// `scheme` and `host` (Host header) form the server URL; `version` is the server's version.
// `client_endpoints`: whether this port also serves /ws, /listen and /disconnect (the all-in-one
// does; a split deployment's REST adapter does not, its gateways do).
nlohmann::json OpenApiDocument(const std::string& scheme, const std::string& host,
                               const std::string& version, bool client_endpoints);

}  // namespace channelstream::rest
