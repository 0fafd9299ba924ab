#include "rest_adapter/openapi.h"

#include "common/field_limits.h"

namespace channelstream::rest {

using Json = nlohmann::json;

namespace {

Json Ref(const std::string& name) { return {{"$ref", "#/components/schemas/" + name}}; }
Json StringList() { return {{"type", "array"}, {"items", {{"type", "string"}}}}; }

Json Schemas() {
  Json channel_config = {
      {"type", "object"},
      {"properties",
       {{"notify_presence", {{"type", "boolean"}, {"default", false}}},
        {"store_history", {{"type", "boolean"}, {"default", false}}},
        {"history_size", {{"type", "integer"}, {"default", 10}, {"minimum", 0}}},
        {"broadcast_presence_with_user_lists", {{"type", "boolean"}, {"default", false}}},
        {"notify_state", {{"type", "boolean"}, {"default", false}}},
        {"store_frames", {{"type", "boolean"}, {"default", true}}},
        {"long_name", {{"type", "string"}}}}}};
  Json info = {{"type", "object"},
               {"properties",
                {{"channels", StringList()},
                 {"include_history", {{"type", "boolean"}, {"default", true}}},
                 {"include_users", {{"type", "boolean"}, {"default", true}}},
                 {"exclude_channels", StringList()},
                 {"include_connections", {{"type", "boolean"}, {"default", false}}},
                 {"return_public_state", {{"type", "boolean"}, {"default", false}}}}}};
  Json state = {{"type", "object"},
                {"description", "Values are strings, numbers, booleans or null."},
                {"additionalProperties", true}};
  Json configs = {{"type", "object"}, {"additionalProperties", Ref("ChannelConfig")}};
  Json connect = {
      {"type", "object"},
      {"required", {"username"}},
      {"properties",
       {{"username",
         {{"type", "string"}, {"minLength", 1}, {"maxLength", common::kMaxUsernameLength}}},
        {"conn_id", {{"type", "string"}, {"format", "uuid"}}},
        {"channels", StringList()},
        {"fresh_user_state", Ref("UserState")},
        {"user_state", Ref("UserState")},
        {"state_public_keys", StringList()},
        {"channel_configs", Ref("ChannelConfigs")},
        {"info", Ref("InfoOptions")}}}};
  Json subscribe = {{"type", "object"},
                    {"required", {"conn_id", "channels"}},
                    {"properties",
                     {{"conn_id", {{"type", "string"}, {"format", "uuid"}}},
                      {"channels", StringList()},
                      {"channel_configs", Ref("ChannelConfigs")},
                      {"info", Ref("InfoOptions")}}}};
  Json user_state = {
      {"type", "object"},
      {"required", {"user"}},
      {"properties",
       {{"user", {{"type", "string"}}},
        {"user_state", Ref("UserState")},
        {"state_public_keys",
         {{"type", "array"}, {"nullable", true}, {"items", {{"type", "string"}}}}}}}};
  Json message = {{"type", "object"},
                  {"required", {"user"}},
                  {"additionalProperties", true},
                  {"description", "Extra keys are kept and delivered with the message."},
                  {"properties",
                   {{"channel", {{"type", "string"}}},
                    {"pm_users", StringList()},
                    {"exclude_users", StringList()},
                    {"user", {{"type", "string"}}},
                    {"message", {{"type", "object"}}},
                    {"uuid", {{"type", "string"}, {"format", "uuid"}}},
                    {"timestamp", {{"type", "string"}, {"format", "date-time"}}},
                    {"no_history", {{"type", "boolean"}, {"default", false}}}}}};
  Json edit = {{"type", "object"},
               {"required", {"uuid"}},
               {"properties",
                {{"uuid", {{"type", "string"}, {"format", "uuid"}}},
                 {"channel", {{"type", "string"}}},
                 {"pm_users", StringList()},
                 {"user", {{"type", "string"}}},
                 {"message", {{"type", "object"}}},
                 {"timestamp", {{"type", "string"}, {"format", "date-time"}}},
                 {"edited", {{"type", "string"}, {"format", "date-time"}}}}}};
  Json del = {{"type", "object"},
              {"required", {"uuid"}},
              {"properties",
               {{"uuid", {{"type", "string"}, {"format", "uuid"}}},
                {"channel", {{"type", "string"}}},
                {"pm_users", StringList()}}}};
  Json errors = {{"type", "object"},
                 {"description", "Each field mapped to a list of messages."},
                 {"additionalProperties", StringList()}};
  return {{"ChannelConfig", channel_config},
          {"ChannelConfigs", configs},
          {"InfoOptions", info},
          {"UserState", state},
          {"ConnectBody", connect},
          {"SubscribeBody", subscribe},
          {"UserStateBody", user_state},
          {"Message", message},
          {"MessageEdit", edit},
          {"MessageDelete", del},
          {"ValidationErrors", errors}};
}

Json JsonBody(const Json& schema, const Json& example) {
  return {{"required", true},
          {"content", {{"application/json", {{"schema", schema}, {"example", example}}}}}};
}

Json Responses(const std::string& ok) {
  Json json_ok = {{"description", ok},
                  {"content", {{"application/json", {{"schema", {{"type", "object"}}}}}}}};
  return {
      {"200", json_ok},
      {"401", {{"description", "Bad or expired signature, or a signature of another path"}}},
      {"403", {{"description", "No signature, or a client address outside allow_posting_from"}}},
      {"422",
       {{"description", "Validation errors"},
        {"content", {{"application/json", {{"schema", Ref("ValidationErrors")}}}}}}}};
}

Json Operation(const std::string& summary, const std::string& ok, const Json& body = nullptr) {
  Json op = {{"summary", summary}, {"responses", Responses(ok)}};
  if (!body.is_null()) op["requestBody"] = body;
  return op;
}

// Client endpoints are not signed.
Json ClientOperation(const std::string& summary, const Json& parameters) {
  return {{"summary", summary},
          {"security", Json::array()},
          {"parameters", parameters},
          {"responses",
           {{"200", {{"description", "OK"}}}, {"401", {{"description", "Unknown connection"}}}}}};
}

Json QueryParameter(const std::string& name, bool required, const std::string& description) {
  return {{"name", name},
          {"in", "query"},
          {"required", required},
          {"description", description},
          {"schema", {{"type", "string"}}}};
}

// /ws, /listen and /disconnect: served by gateways (and the all-in-one), never signed.
void AddClientOperations(Json& paths) {
  paths["/ws"]["get"] = ClientOperation(
      "WebSocket for a connection: JSON lists of messages, [] heartbeats, catch-up on open",
      Json::array({QueryParameter("conn_id", true, "from /connect")}));
  paths["/listen"]["get"] =
      ClientOperation("Long poll: waits for messages, then gathers for 0.25 s",
                      Json::array({QueryParameter("conn_id", true, "from /connect"),
                                   QueryParameter("callback", false, "JSONP function name")}));
  paths["/disconnect"]["get"] = ClientOperation("Close a connection (true when it existed)",
                                                Json::array({QueryParameter("conn_id", true, "")}));
}

}  // namespace

Json OpenApiDocument(const std::string& scheme, const std::string& host, const std::string& version,
                     bool client_endpoints) {
  const Json channel_example = {
      {"notify_presence", true}, {"store_history", true}, {"history_size", 10}};
  Json paths = Json::object();
  paths["/connect"]["post"] =
      Operation("Create or reuse a connection for a user and subscribe it to channels",
                "The connection, state and channels",
                JsonBody(Ref("ConnectBody"), {{"username", "alice"},
                                              {"channels", {"lobby"}},
                                              {"user_state", {{"status", "online"}}},
                                              {"state_public_keys", {"status"}},
                                              {"channel_configs", {{"lobby", channel_example}}}}));
  paths["/subscribe"]["post"] = Operation(
      "Subscribe a connection to more channels", "All channels and the newly subscribed ones",
      JsonBody(Ref("SubscribeBody"),
               {{"conn_id", "00000000-0000-0000-0000-000000000000"}, {"channels", {"news"}}}));
  paths["/unsubscribe"]["post"] = Operation(
      "Unsubscribe a connection from channels", "Remaining channels and those left",
      JsonBody(Ref("SubscribeBody"),
               {{"conn_id", "00000000-0000-0000-0000-000000000000"}, {"channels", {"news"}}}));
  paths["/user_state"]["post"] = Operation(
      "Merge into a user's state", "Full state, changed keys and public keys",
      JsonBody(Ref("UserStateBody"), {{"user", "alice"}, {"user_state", {{"status", "away"}}}}));
  Json message_list = {{"type", "array"}, {"items", Ref("Message")}};
  paths["/message"]["post"] = Operation(
      "Publish messages to channels or users", "The accepted messages with uuid and timestamp",
      JsonBody(
          message_list,
          Json::array({{{"channel", "lobby"}, {"user", "alice"}, {"message", {{"text", "hi"}}}}})));
  paths["/message"]["patch"] =
      Operation("Edit stored messages", "The edited messages",
                JsonBody({{"type", "array"}, {"items", Ref("MessageEdit")}},
                         Json::array({{{"uuid", "00000000-0000-0000-0000-000000000000"},
                                       {"channel", "lobby"},
                                       {"message", {{"text", "edited"}}}}})));
  paths["/message"]["delete"] = Operation(
      "Delete stored messages", "The deleted messages",
      JsonBody(
          {{"type", "array"}, {"items", Ref("MessageDelete")}},
          Json::array({{{"uuid", "00000000-0000-0000-0000-000000000000"}, {"channel", "lobby"}}})));
  paths["/channel_config"]["post"] =
      Operation("Create or reconfigure channels", "channels_info of those channels",
                JsonBody(Ref("ChannelConfigs"), {{"lobby", channel_example}}));
  const Json limit = {{"type", "integer"},
                      {"minimum", 0},
                      {"description", "entries (channels + users) per page; 0: info_page_size"}};
  const Json cursor = {{"type", "string"}, {"description", "next_cursor of the previous page"}};
  Json info_body = JsonBody(
      {{"type", "object"},
       {"properties", {{"info", Ref("InfoOptions")}, {"limit", limit}, {"cursor", cursor}}}},
      {{"info", {{"channels", {"lobby"}}, {"include_history", false}}}});
  info_body["required"] = false;
  paths["/info"]["post"] = Operation(
      "Channels, users and history (all channels without a body), paged by limit and cursor",
      "channels_info, and next_cursor when paging", info_body);
  Json admin =
      Operation("Server counters, channels, users and uptime (admin), paged by limit and cursor",
                "Server information, and next_cursor when paging");
  admin["parameters"] = Json::array({QueryParameter("limit", false, limit["description"]),
                                     QueryParameter("cursor", false, cursor["description"])});
  paths["/admin/admin.json"]["get"] = admin;
  if (client_endpoints) AddClientOperations(paths);

  return {{"openapi", "3.0.3"},
          {"info",
           {{"title", "Channelstream"},
            {"version", version},
            {"description",
             "Channelstream 0.7-compatible server API. Signed requests carry "
             "x-channelstream-secret: itsdangerous TimestampSigner(secret).sign(path)."}}},
          {"servers",
           Json::array({{{"url", scheme + "://" + (host.empty() ? "127.0.0.1:8000" : host)}}})},
          {"security", Json::array({{{"channelstreamSecret", Json::array()}}})},
          {"components",
           {{"securitySchemes",
             {{"channelstreamSecret",
               {{"type", "apiKey"}, {"in", "header"}, {"name", "x-channelstream-secret"}}}}},
            {"schemas", Schemas()}}},
          {"paths", paths}};
}

}  // namespace channelstream::rest
