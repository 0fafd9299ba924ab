// BrokerApi over a gRPC channel to the broker: one blocking stub call per method, each with
// the rpc_timeout deadline.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/time/time.h"
#include "channelstream.grpc.pb.h"
#include "rest_adapter/broker_api.h"

namespace channelstream::rest {

class GrpcBroker : public BrokerApi {
 public:
  GrpcBroker(std::shared_ptr<grpc::Channel> channel, absl::Duration rpc_timeout);

  grpc::Status Connect(const v1::ConnectRequest& request, v1::ConnectResponse* response) override;
  grpc::Status Subscribe(const v1::SubscribeRequest& request,
                         v1::SubscribeResponse* response) override;
  grpc::Status Unsubscribe(const v1::UnsubscribeRequest& request,
                           v1::UnsubscribeResponse* response) override;
  grpc::Status SetUserState(const v1::UserStateRequest& request,
                            v1::UserStateResponse* response) override;
  grpc::Status Publish(const v1::PublishRequest& request, v1::PublishResponse* response) override;
  grpc::Status EditMessages(const v1::EditMessagesRequest& request,
                            v1::EditMessagesResponse* response) override;
  grpc::Status DeleteMessages(const v1::DeleteMessagesRequest& request,
                              v1::DeleteMessagesResponse* response) override;
  grpc::Status SetChannelConfig(const v1::ChannelConfigRequest& request,
                                v1::ChannelConfigResponse* response) override;
  grpc::Status Info(const v1::InfoRequest& request, v1::InfoResponse* response) override;
  grpc::Status AdminInfo(const v1::AdminInfoRequest& request,
                         v1::AdminInfoResponse* response) override;

 private:
  std::unique_ptr<grpc::ClientContext> NewContext() const;

  std::unique_ptr<v1::Broker::Stub> stub_;
  absl::Duration rpc_timeout_;
};

}  // namespace channelstream::rest
