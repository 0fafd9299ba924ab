// Concurrency: several client threads drive every RPC while gateway streams attach, detach and
// read deliveries and the GC thread sweeps. Run under --config=asan (under tsan, Debian's
// uninstrumented gRPC reports false positives; broker_concurrency_test is the TSan one); the
// assertions check the counters stay consistent with what the threads did.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "broker/broker_service_test_util.h"

namespace channelstream::broker {
namespace {

using Stream = grpc::ClientReaderWriter<v1::GatewayUp, v1::GatewayDown>;

common::Config HammerConfig() {
  common::Config config;
  EXPECT_TRUE(config.Set("gc_interval", "0.01", "test").ok());
  EXPECT_TRUE(config.Set("gc_conns_after", "0.05", "test").ok());
  return config;
}

TEST(BrokerHammerTest, ManyThreadsKeepTheStateConsistent) {
  InProcessBroker broker(HammerConfig());
  constexpr int kClientThreads = 4;
  constexpr int kRounds = 60;
  std::atomic<int64_t> publications{0};
  std::atomic<bool> clients_done{false};

  // A gateway that keeps attaching the connections it hears about and reads everything.
  std::vector<std::string> shared_ids;
  std::mutex ids_mu;
  std::atomic<int64_t> deliveries{0};
  grpc::ClientContext gateway_context;
  std::unique_ptr<Stream> stream = broker.stub().GatewayStream(&gateway_context);
  v1::GatewayUp hello;
  hello.mutable_hello()->set_gateway_id("hammer");
  ASSERT_TRUE(stream->Write(hello));
  std::thread reader([&] {
    v1::GatewayDown down;
    while (stream->Read(&down)) {
      for (const v1::Delivery& delivery : down.batch().deliveries())
        deliveries += delivery.handles_size();
    }
  });
  std::thread attacher([&] {
    uint64_t handle = 0;
    while (!clients_done) {
      std::string id;
      {
        std::lock_guard<std::mutex> lock(ids_mu);
        if (!shared_ids.empty()) id = shared_ids[handle % shared_ids.size()];
      }
      if (!id.empty()) {
        v1::GatewayUp up;
        up.mutable_attach()->set_handle(++handle);
        up.mutable_attach()->set_conn_id(id);
        up.mutable_attach()->set_catchup(true);
        if (!stream->Write(up)) break;
        if (handle % 3 == 0) {
          v1::GatewayUp detach;
          detach.mutable_detach()->set_handle(handle - 1);
          if (!stream->Write(detach)) break;
        }
      }
      std::this_thread::yield();
    }
  });

  std::vector<std::thread> clients;
  for (int t = 0; t < kClientThreads; ++t) {
    clients.emplace_back([&, t] {
      v1::Broker::Stub& stub = broker.stub();
      for (int round = 0; round < kRounds; ++round) {
        const std::string user = "user" + std::to_string((t * kRounds + round) % 7);
        grpc::ClientContext connect_context;
        v1::ConnectRequest connect;
        connect.set_username(user);
        connect.add_channels("shared");
        connect.add_channels("room" + std::to_string(round % 3));
        (*connect.mutable_channel_configs())["shared"].set_notify_presence(true);
        (*connect.mutable_channel_configs())["shared"].set_store_history(true);
        v1::ConnectResponse connected;
        ASSERT_TRUE(stub.Connect(&connect_context, connect, &connected).ok());
        {
          std::lock_guard<std::mutex> lock(ids_mu);
          shared_ids.push_back(connected.conn_id());
        }

        grpc::ClientContext publish_context;
        v1::PublishRequest publish;
        v1::Publication* p = publish.add_publications();
        p->set_channel("shared");
        p->set_user(user);
        p->set_message_json(R"({"round":)" + std::to_string(round) + "}");
        v1::PublishResponse published;
        ASSERT_TRUE(stub.Publish(&publish_context, publish, &published).ok());
        ++publications;

        grpc::ClientContext state_context;
        v1::UserStateRequest state;
        state.set_user(user);
        state.set_user_state_json(R"({"round":)" + std::to_string(round) + "}");
        v1::UserStateResponse state_response;
        grpc::Status state_status = stub.SetUserState(&state_context, state, &state_response);
        ASSERT_TRUE(state_status.ok() || state_status.error_code() == grpc::StatusCode::NOT_FOUND);

        grpc::ClientContext info_context;
        v1::InfoRequest info;
        info.mutable_info()->set_include_history(true);
        info.mutable_info()->set_include_users(true);
        v1::InfoResponse info_response;
        ASSERT_TRUE(stub.Info(&info_context, info, &info_response).ok());

        if (round % 2 == 0) {
          grpc::ClientContext disconnect_context;
          v1::DisconnectRequest disconnect;
          disconnect.set_conn_id(connected.conn_id());
          v1::DisconnectResponse disconnected;
          ASSERT_TRUE(stub.Disconnect(&disconnect_context, disconnect, &disconnected).ok());
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  clients_done = true;
  attacher.join();

  grpc::ClientContext admin_context;
  v1::AdminInfoResponse admin;
  ASSERT_TRUE(broker.stub().AdminInfo(&admin_context, v1::AdminInfoRequest(), &admin).ok());
  EXPECT_EQ(admin.total_unique_messages(), publications.load());
  EXPECT_EQ(publications.load(), kClientThreads * kRounds);
  EXPECT_GE(admin.total_messages(), publications.load()) << "each publisher is a recipient";
  broker.service().WithState([&](const BrokerState& state) {
    // Cross-check the indexes: every connection is in its user's and its channels' sets.
    for (const auto& [id, conn] : state.connections()) {
      EXPECT_EQ(state.users().at(conn.user).conn_ids.count(id), 1u);
      for (const auto& [channel, seen] : conn.channels)
        EXPECT_EQ(state.channels().at(channel).conn_ids.count(id), 1u);
    }
    int64_t subscribed = 0;
    for (const auto& [name, channel] : state.channels()) subscribed += channel.conn_ids.size();
    int64_t expected = 0;
    for (const auto& [id, conn] : state.connections()) expected += conn.channels.size();
    EXPECT_EQ(subscribed, expected);
  });

  stream->WritesDone();
  reader.join();
  EXPECT_TRUE(stream->Finish().ok());
  broker.Stop();
}

}  // namespace
}  // namespace channelstream::broker
