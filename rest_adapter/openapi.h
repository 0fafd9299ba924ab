// /openapi.json: an OpenAPI 3 description of every server and client endpoint, built from one
// table so the document, the API explorer and the routes cannot drift apart silently.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace channelstream::rest {

// `scheme` and `host` (Host header) form the server URL; `version` is the server's version.
nlohmann::json OpenApiDocument(const std::string& scheme, const std::string& host, const std::string& version);

}  // namespace channelstream::rest
