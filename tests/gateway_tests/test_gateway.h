// One in-process gateway for the gateway tests: its own HttpServer on a free port, attached to
// a broker channel (fake or real), stoppable mid-test like a gateway going away.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/config.h"
#include "common/http_server.h"
#include "gateway/gateway.h"

namespace channelstream::testing {

// Polls `done` every 5 ms until it holds or `seconds` pass; returns its last value.
template <typename Predicate>
bool PollUntil(Predicate done, double seconds = 5) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!done() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return done();
}

class TestGateway {
 public:
  TestGateway(std::shared_ptr<grpc::Channel> channel,
              const std::map<std::string, std::string>& overrides) {
    for (const auto& [key, value] : overrides)
      EXPECT_TRUE(config_.Set(key, value, "test").ok()) << key;
    common::HttpServerOptions options;
    options.port = 0;
    options.threads = 2;
    server_ = std::make_unique<common::HttpServer>(
        options, [this](std::shared_ptr<common::HttpExchange> exchange) {
          if (gateway_ != nullptr && gateway_->Handle(exchange)) return;
          exchange->Respond(common::MakeResponse(exchange->request(),
                                                 boost::beast::http::status::not_found, "{}"));
        });
    gateway_ = std::make_unique<gateway::Gateway>(config_, channel, *server_);
    EXPECT_TRUE(server_->Listen().ok());
    gateway_->Start();
    server_->Start();
  }
  ~TestGateway() { Stop(); }
  void Stop() {
    if (stopped_) return;
    stopped_ = true;
    gateway_->Stop();
    server_->Stop();
  }
  int port() const { return server_->port(); }
  gateway::Gateway& gateway() { return *gateway_; }
  // Waits until the gateway's broker stream is open.
  bool WaitConnected(double seconds = 5) {
    return PollUntil([this] { return gateway_->stats().broker_connected; }, seconds);
  }

 private:
  common::Config config_;
  std::unique_ptr<common::HttpServer> server_;
  std::unique_ptr<gateway::Gateway> gateway_;
  bool stopped_ = false;
};

}  // namespace channelstream::testing
