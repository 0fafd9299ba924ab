// The broker as a component: its gRPC service plus the garbage-collection thread. The all-in-one
// binary and broker/main.cc register service() with their grpc::Server.
#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "broker/durable_store.h"
#include "common/config.h"
#include "common/metrics.h"

namespace channelstream::broker {

class BrokerService;

class BrokerRuntime {
 public:
  explicit BrokerRuntime(const common::Config& config);
  ~BrokerRuntime();
  BrokerRuntime(const BrokerRuntime&) = delete;
  BrokerRuntime& operator=(const BrokerRuntime&) = delete;

  grpc::Service* service();
  // With data_dir set: loads the durable state (snapshot + journal). Call before serving; an
  // error (damaged files, directory in use) is a startup error naming the file and offset.
  absl::Status LoadDurableState();
  // With data_dir set: writes a snapshot now (graceful shutdown, after the servers stopped).
  absl::Status SaveSnapshot();
  // Gateway streams the broker currently holds (admin tooling, tests).
  size_t open_gateways();
  // Connections some gateway stream has attached right now, i.e. whose client is being served
  // (tests wait on it instead of sleeping until an attach lands).
  size_t attached_connections();
  // Starts the garbage-collection thread (every gc_interval seconds) and, with data_dir, the
  // periodic snapshot thread.
  void Start();
  // Stops GC and ends every open GatewayStream so a server Shutdown does not wait on them.
  // Safe to call twice.
  void Stop();

 private:
  std::unique_ptr<BrokerService> service_;
  absl::Duration gc_interval_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread gc_thread_;
  DurableStoreOptions durable_options_;
  std::thread snapshot_thread_;
  std::vector<common::CallbackHandle>
      metric_callbacks_;  // read service_: removed first (declared last)
};

}  // namespace channelstream::broker
