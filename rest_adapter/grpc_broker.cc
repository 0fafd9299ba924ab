#include "rest_adapter/grpc_broker.h"

#include <chrono>

namespace channelstream::rest {

GrpcBroker::GrpcBroker(std::shared_ptr<grpc::Channel> channel, absl::Duration rpc_timeout)
    : stub_(v1::Broker::NewStub(std::move(channel))), rpc_timeout_(rpc_timeout) {}

std::unique_ptr<grpc::ClientContext> GrpcBroker::NewContext() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::microseconds(absl::ToInt64Microseconds(rpc_timeout_)));
  return context;
}

grpc::Status GrpcBroker::Connect(const v1::ConnectRequest& request, v1::ConnectResponse* response) {
  return stub_->Connect(NewContext().get(), request, response);
}

grpc::Status GrpcBroker::Subscribe(const v1::SubscribeRequest& request,
                                   v1::SubscribeResponse* response) {
  return stub_->Subscribe(NewContext().get(), request, response);
}

grpc::Status GrpcBroker::Unsubscribe(const v1::UnsubscribeRequest& request,
                                     v1::UnsubscribeResponse* response) {
  return stub_->Unsubscribe(NewContext().get(), request, response);
}

grpc::Status GrpcBroker::SetUserState(const v1::UserStateRequest& request,
                                      v1::UserStateResponse* response) {
  return stub_->SetUserState(NewContext().get(), request, response);
}

grpc::Status GrpcBroker::Publish(const v1::PublishRequest& request, v1::PublishResponse* response) {
  return stub_->Publish(NewContext().get(), request, response);
}

grpc::Status GrpcBroker::EditMessages(const v1::EditMessagesRequest& request,
                                      v1::EditMessagesResponse* response) {
  return stub_->EditMessages(NewContext().get(), request, response);
}

grpc::Status GrpcBroker::DeleteMessages(const v1::DeleteMessagesRequest& request,
                                        v1::DeleteMessagesResponse* response) {
  return stub_->DeleteMessages(NewContext().get(), request, response);
}

grpc::Status GrpcBroker::SetChannelConfig(const v1::ChannelConfigRequest& request,
                                          v1::ChannelConfigResponse* response) {
  return stub_->SetChannelConfig(NewContext().get(), request, response);
}

grpc::Status GrpcBroker::Info(const v1::InfoRequest& request, v1::InfoResponse* response) {
  return stub_->Info(NewContext().get(), request, response);
}

grpc::Status GrpcBroker::AdminInfo(const v1::AdminInfoRequest& request,
                                   v1::AdminInfoResponse* response) {
  return stub_->AdminInfo(NewContext().get(), request, response);
}

}  // namespace channelstream::rest
