// The broker calls the REST endpoints make, one method per Broker RPC they use, taking and
// returning the v1 messages. The gRPC stub implements it (grpc_broker.h); tests use a fake.
//
// Each call fills `response` and returns the call's status. The handlers call it synchronously
// today; an asynchronous version keeps these messages and statuses and only changes how the
// status arrives (a completion callback instead of the return value).
#pragma once

#include <grpcpp/support/status.h>

#include "channelstream.pb.h"

namespace channelstream::rest {

class BrokerApi {
 public:
  virtual ~BrokerApi() = default;

  virtual grpc::Status Connect(const v1::ConnectRequest& request,
                               v1::ConnectResponse* response) = 0;
  virtual grpc::Status Subscribe(const v1::SubscribeRequest& request,
                                 v1::SubscribeResponse* response) = 0;
  virtual grpc::Status Unsubscribe(const v1::UnsubscribeRequest& request,
                                   v1::UnsubscribeResponse* response) = 0;
  virtual grpc::Status SetUserState(const v1::UserStateRequest& request,
                                    v1::UserStateResponse* response) = 0;
  virtual grpc::Status Publish(const v1::PublishRequest& request,
                               v1::PublishResponse* response) = 0;
  virtual grpc::Status EditMessages(const v1::EditMessagesRequest& request,
                                    v1::EditMessagesResponse* response) = 0;
  virtual grpc::Status DeleteMessages(const v1::DeleteMessagesRequest& request,
                                      v1::DeleteMessagesResponse* response) = 0;
  virtual grpc::Status SetChannelConfig(const v1::ChannelConfigRequest& request,
                                        v1::ChannelConfigResponse* response) = 0;
  virtual grpc::Status Info(const v1::InfoRequest& request, v1::InfoResponse* response) = 0;
  virtual grpc::Status AdminInfo(const v1::AdminInfoRequest& request,
                                 v1::AdminInfoResponse* response) = 0;
};

}  // namespace channelstream::rest
