// An in-process broker (BrokerRuntime behind a grpc::Server, no network port) for the service
// tests.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <thread>

#include "broker/broker_runtime.h"
#include "broker/broker_service.h"
#include "channelstream.grpc.pb.h"
#include "common/config.h"

namespace channelstream::broker {

class InProcessBroker {
 public:
  explicit InProcessBroker(const common::Config& config) : runtime_(config) {
    grpc::ServerBuilder builder;
    builder.RegisterService(runtime_.service());
    server_ = builder.BuildAndStart();
    runtime_.Start();
    channel_ = server_->InProcessChannel(grpc::ChannelArguments());
    stub_ = v1::Broker::NewStub(channel_);
  }
  ~InProcessBroker() { Stop(); }

  void Stop() {
    runtime_.Stop();
    if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  }

  v1::Broker::Stub& stub() { return *stub_; }
  BrokerRuntime& runtime() { return runtime_; }
  BrokerService& service() { return *static_cast<BrokerService*>(runtime_.service()); }
  std::shared_ptr<grpc::Channel> channel() { return channel_; }

  // Waits (bounded) until `condition` holds on the state; false if it never did.
  bool WaitForState(const std::function<bool(const BrokerState&)>& condition) {
    for (int i = 0; i < 500; ++i) {
      bool done = false;
      service().WithState([&](const BrokerState& state) { done = condition(state); });
      if (done) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  BrokerRuntime runtime_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Broker::Stub> stub_;
};

}  // namespace channelstream::broker
