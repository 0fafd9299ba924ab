// Concurrency without the gRPC transport: client threads call the service's handlers directly
// while a gateway session attaches/detaches and drains its queue and GC sweeps run. This is the
// test to run under --config=tsan (the system gRPC library is not TSan-instrumented, so the
// transport-level hammer reports races inside gRPC itself).
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "broker/broker_service.h"

namespace channelstream::broker {
namespace {

TEST(BrokerConcurrencyTest, HandlersGatewaysAndGcRunInParallel) {
  BrokerOptions options;
  options.gc_conns_after = absl::Milliseconds(1);
  BrokerService service(options, /*gateway_queue_capacity=*/1000000);

  auto session = std::make_shared<GatewaySession>(1000000);
  std::atomic<bool> cancelled{false};
  const uint64_t gateway = service.OpenGateway("g", session, [&] { cancelled = true; });
  ASSERT_NE(gateway, 0u);
  std::atomic<int64_t> attach_results{0}, delivered_handles{0};
  std::thread consumer([&] {
    std::vector<GatewayItem> items;
    while (session->PopAll(&items, 256)) {
      for (const GatewayItem& item : items) {
        v1::GatewayDown down = ToGatewayDown(item);
        if (down.has_attach_result()) ++attach_results;
        for (const v1::Delivery& delivery : down.batch().deliveries())
          delivered_handles += delivery.handles_size();
      }
    }
  });

  std::mutex ids_mu;
  std::vector<std::string> ids;
  std::atomic<bool> done{false};
  std::atomic<int64_t> attaches{0};
  std::thread attacher([&] {
    uint64_t handle = 0;
    while (!done) {
      std::string id;
      {
        std::lock_guard<std::mutex> lock(ids_mu);
        if (!ids.empty()) id = ids[handle % ids.size()];
      }
      if (id.empty()) {
        std::this_thread::yield();
        continue;
      }
      v1::GatewayUp up;
      up.mutable_attach()->set_handle(++handle);
      up.mutable_attach()->set_conn_id(id);
      up.mutable_attach()->set_catchup(true);
      service.HandleGatewayUp(gateway, up);
      ++attaches;
      if (handle % 2 == 0) {
        v1::GatewayUp detach;
        detach.mutable_detach()->set_handle(handle - 1);
        service.HandleGatewayUp(gateway, detach);
      }
    }
  });
  std::thread collector([&] {
    while (!done) {
      service.CollectGarbage();
      std::this_thread::yield();
    }
  });

  constexpr int kThreads = 3, kRounds = 200;
  std::vector<std::thread> clients;
  for (int t = 0; t < kThreads; ++t) {
    clients.emplace_back([&, t] {
      for (int round = 0; round < kRounds; ++round) {
        const std::string user = "u" + std::to_string((t + round) % 5);
        v1::ConnectRequest connect;
        connect.set_username(user);
        connect.add_channels("shared");
        (*connect.mutable_channel_configs())["shared"].set_notify_presence(true);
        v1::ConnectResponse connected;
        ASSERT_TRUE(service.Connect(nullptr, &connect, &connected).ok());
        {
          std::lock_guard<std::mutex> lock(ids_mu);
          ids.push_back(connected.conn_id());
        }
        v1::PublishRequest publish;
        publish.add_publications()->set_channel("shared");
        publish.mutable_publications(0)->set_user(user);
        publish.mutable_publications(0)->set_message_json("1");
        v1::PublishResponse published;
        ASSERT_TRUE(service.Publish(nullptr, &publish, &published).ok());
        v1::UserStateRequest state;
        state.set_user(user);
        state.set_user_state_json(R"({"r":)" + std::to_string(round) + "}");
        v1::UserStateResponse state_response;
        service.SetUserState(nullptr, &state, &state_response);  // may race with GC: NOT_FOUND ok
        v1::InfoRequest info;
        v1::InfoResponse info_response;
        ASSERT_TRUE(service.Info(nullptr, &info, &info_response).ok());
        if (round % 3 == 0) {
          v1::DisconnectRequest disconnect;
          disconnect.set_conn_id(connected.conn_id());
          v1::DisconnectResponse disconnected;
          ASSERT_TRUE(service.Disconnect(nullptr, &disconnect, &disconnected).ok());
        }
      }
    });
  }
  for (std::thread& client : clients) client.join();
  done = true;
  attacher.join();
  collector.join();
  service.CloseGateway(gateway);
  consumer.join();

  EXPECT_FALSE(cancelled.load());
  EXPECT_LE(attach_results.load(), attaches.load());
  v1::AdminInfoResponse admin;
  ASSERT_TRUE(service.AdminInfo(nullptr, nullptr, &admin).ok());
  EXPECT_EQ(admin.total_unique_messages(), kThreads * kRounds);
  service.WithState([&](const BrokerState& state) {
    for (const auto& [id, conn] : state.connections()) {
      EXPECT_TRUE(conn.attachments.empty()) << "the closed gateway left no attachments";
      EXPECT_EQ(state.users().at(conn.user).conn_ids.count(id), 1u);
    }
  });
  service.Shutdown();
  service.Shutdown();
}

}  // namespace
}  // namespace channelstream::broker
