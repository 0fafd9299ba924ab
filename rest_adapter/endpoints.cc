#include "rest_adapter/endpoints.h"

#include "rest_adapter/broker_errors.h"
#include "rest_adapter/paging_params.h"
#include "rest_adapter/request_readers.h"
#include "rest_adapter/response_writers.h"
#include "rest_adapter/translate.h"

namespace channelstream::rest {
namespace {

Reply Invalid(const FieldErrors& errors) { return JsonReply(422, errors.json()); }

}  // namespace

Reply Endpoints::Connect(const Json& body) {
  FieldErrors errors;
  v1::ConnectRequest request;
  if (!ReadConnectRequest(body, errors, &request)) return Invalid(errors);
  v1::ConnectResponse response;
  grpc::Status status = broker_.Connect(request, &response);
  if (!status.ok()) return BrokerErrorReply(status);
  return JsonReply(200, ConnectResponseToJson(response, request.info().include_connections()));
}

Reply Endpoints::Subscribe(const Json& body) {
  FieldErrors errors;
  v1::SubscribeRequest request;
  if (!ReadSubscribeRequest(body, errors, &request)) return Invalid(errors);
  v1::SubscribeResponse response;
  grpc::Status status = broker_.Subscribe(request, &response);
  if (!status.ok()) return BrokerErrorReply(status);
  return JsonReply(200, SubscribeResponseToJson(response, request.info().include_connections()));
}

Reply Endpoints::Unsubscribe(const Json& body) {
  FieldErrors errors;
  v1::UnsubscribeRequest request;
  if (!ReadUnsubscribeRequest(body, errors, &request)) return Invalid(errors);
  v1::UnsubscribeResponse response;
  grpc::Status status = broker_.Unsubscribe(request, &response);
  if (!status.ok()) return BrokerErrorReply(status);
  return JsonReply(200, UnsubscribeResponseToJson(response, request.info().include_connections()));
}

Reply Endpoints::UserState(const Json& body) {
  FieldErrors errors;
  v1::UserStateRequest request;
  if (!ReadUserStateRequest(body, errors, &request)) return Invalid(errors);
  v1::UserStateResponse response;
  grpc::Status status = broker_.SetUserState(request, &response);
  if (!status.ok()) return BrokerErrorReply(status);
  return JsonReply(200, UserStateResponseToJson(response));
}

Reply Endpoints::PublishMessages(const Json& body) {
  FieldErrors errors;
  v1::PublishRequest request;
  if (!ReadPublishRequest(body, errors, &request)) return Invalid(errors);
  v1::PublishResponse response;
  grpc::Status status = broker_.Publish(request, &response);
  if (!status.ok()) return BrokerErrorReply(status, "publications");
  return JsonReply(200, PublishResponseToJson(response));
}

Reply Endpoints::EditMessages(const Json& body) {
  FieldErrors errors;
  v1::EditMessagesRequest request;
  if (!ReadEditMessagesRequest(body, errors, &request)) return Invalid(errors);
  v1::EditMessagesResponse response;
  grpc::Status status = broker_.EditMessages(request, &response);
  if (!status.ok()) return BrokerErrorReply(status, "edits");
  return JsonReply(200, MessagesToJson(response.messages_json()));
}

Reply Endpoints::DeleteMessages(const Json& body) {
  FieldErrors errors;
  v1::DeleteMessagesRequest request;
  if (!ReadDeleteMessagesRequest(body, errors, &request)) return Invalid(errors);
  v1::DeleteMessagesResponse response;
  grpc::Status status = broker_.DeleteMessages(request, &response);
  if (!status.ok()) return BrokerErrorReply(status, "deletes");
  return JsonReply(200, MessagesToJson(response.messages_json()));
}

Reply Endpoints::ChannelConfig(const Json& body) {
  FieldErrors errors;
  v1::ChannelConfigRequest request;
  if (!ReadChannelConfigRequest(body, errors, &request)) return Invalid(errors);
  v1::ChannelConfigResponse response;
  grpc::Status status = broker_.SetChannelConfig(request, &response);
  if (!status.ok()) return BrokerErrorReply(status);
  return JsonReply(200, ChannelsInfoToJson(response.channels_info(), false));
}

Reply Endpoints::Info(const Json& body, const std::map<std::string, std::string>& query) {
  v1::InfoRequest request;
  FieldErrors errors;
  PagingParams paging;
  ReadPagingQuery(query, errors, &paging);
  ReadPagingBody(body, errors, &paging);
  if (!ReadInfoRequest(body, errors, &request)) return Invalid(errors);
  if (!errors.empty()) return Invalid(errors);
  request.set_limit(paging.limit);
  request.set_cursor(paging.cursor);
  v1::InfoResponse response;
  grpc::Status status = broker_.Info(request, &response);
  if (!status.ok()) return BrokerErrorReply(status);
  Json answer = ChannelsInfoToJson(response.channels_info(), request.info().include_connections());
  AddNextCursor(paging, response.next_cursor(), &answer);
  return JsonReply(200, answer);
}

Reply Endpoints::AdminJson(const std::map<std::string, std::string>& query) {
  FieldErrors errors;
  PagingParams paging;
  ReadPagingQuery(query, errors, &paging);
  if (!errors.empty()) return Invalid(errors);
  v1::AdminInfoRequest request;
  request.set_limit(paging.limit);
  request.set_cursor(paging.cursor);
  v1::AdminInfoResponse response;
  grpc::Status status = broker_.AdminInfo(request, &response);
  if (!status.ok()) return BrokerErrorReply(status);
  Json answer = AdminInfoToJson(response);
  AddNextCursor(paging, response.next_cursor(), &answer);
  return JsonReply(200, answer);
}

}  // namespace channelstream::rest
