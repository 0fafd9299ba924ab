// Helpers shared by the state-model tests: a BrokerState on a fake clock and short-hands for
// the requests the tests send.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "broker/broker_state.h"

namespace channelstream::broker {

class BrokerStateTestBase : public ::testing::Test {
 protected:
  BrokerStateTestBase() { Reset(); }

  void Reset() { state = std::make_unique<BrokerState>(options, now); }

  void Advance(absl::Duration d) { now += d; }

  // Connects `user` to `channels`; returns the conn_id (fails the test on error).
  std::string Connect(const std::string& user, const std::vector<std::string>& channels,
                      const std::string& conn_id = "") {
    v1::ConnectRequest request;
    request.set_username(user);
    request.set_conn_id(conn_id);
    for (const std::string& c : channels) request.add_channels(c);
    v1::ConnectResponse response;
    absl::Status status = state->Connect(request, now, &response, &out);
    EXPECT_TRUE(status.ok()) << status;
    return response.conn_id();
  }

  void Configure(const std::string& channel, const v1::ChannelConfig& config) {
    v1::ChannelConfigRequest request;
    (*request.mutable_channel_configs())[channel] = config;
    v1::ChannelConfigResponse response;
    ASSERT_TRUE(state->SetChannelConfig(request, now, &response).ok());
  }

  absl::Status Publish(const std::string& channel, const std::string& user,
                       const std::string& message_json,
                       const std::vector<std::string>& pm_users = {},
                       const std::vector<std::string>& exclude_users = {},
                       v1::PublishResponse* response = nullptr, bool no_history = false) {
    v1::PublishRequest request;
    v1::Publication* p = request.add_publications();
    p->set_channel(channel);
    p->set_user(user);
    p->set_message_json(message_json);
    p->set_no_history(no_history);
    for (const auto& u : pm_users) p->add_pm_users(u);
    for (const auto& u : exclude_users) p->add_exclude_users(u);
    v1::PublishResponse local;
    return state->Publish(request, now, response ? response : &local, &out);
  }

  v1::AttachResult Attach(uint64_t gateway, uint64_t handle, const std::string& conn_id,
                          bool catchup = true, const std::vector<v1::Position>& since = {}) {
    v1::Attach attach;
    attach.set_handle(handle);
    attach.set_conn_id(conn_id);
    attach.set_catchup(catchup);
    for (const v1::Position& position : since) *attach.add_since() = position;
    return state->Attach(gateway, attach, now, &out);
  }

  static v1::Position At(const std::string& channel, uint64_t offset, const std::string& epoch) {
    v1::Position position;
    position.set_channel(channel);
    position.set_offset(offset);
    position.set_epoch(epoch);
    return position;
  }

  // Payloads delivered to (gateway, handle) in `out`, parsed, in order.
  std::vector<Json> DeliveredTo(uint64_t gateway, uint64_t handle) const {
    std::vector<Json> result;
    for (const Outbound& item : out) {
      if (item.kind != Outbound::Kind::kDelivery || item.gateway != gateway) continue;
      for (uint64_t h : item.handles) {
        if (h == handle) result.push_back(Json::parse(*item.payload_json));
      }
    }
    return result;
  }

  static std::vector<Json> Parse(const v1::AttachResult& result) {
    std::vector<Json> frames;
    for (const std::string& text : result.catchup_json()) frames.push_back(Json::parse(text));
    return frames;
  }

  absl::Time now = absl::FromUnixSeconds(1764044853);
  BrokerOptions options;
  std::unique_ptr<BrokerState> state;
  Outbox out;
};

}  // namespace channelstream::broker
