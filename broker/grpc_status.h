// absl::Status (the state layer's) -> grpc::Status, with the typed details (status_details.h)
// as gRPC's binary error details: a serialized google.rpc.Status {code, message, details}.
#pragma once

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"

namespace channelstream::broker {

grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace channelstream::broker
