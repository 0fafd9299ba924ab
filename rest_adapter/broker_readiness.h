// /ready for the REST adapter: ready when its gRPC channel to the broker is READY, waiting at
// most ready_timeout for a connection (an idle channel connects only when asked).
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "common/ops_endpoints.h"

namespace channelstream::rest {

common::ReadinessCheck BrokerChannelReadiness(std::shared_ptr<grpc::Channel> channel,
                                              double timeout_seconds);

}  // namespace channelstream::rest
