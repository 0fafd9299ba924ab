// Measures data_dir's costs: snapshot write and load for a large state, and publish throughput
// through the service with the journal on and off. Not a test: run it by hand.
//   bazel run -c opt //broker:durable_bench -- [users] [publishes]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <string>

#include "broker/broker_service.h"

namespace channelstream::broker {
namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void Populate(BrokerService& service, int users) {
  v1::ConnectRequest solo;
  solo.set_username("solo");
  solo.add_channels("solo");
  v1::ConnectResponse solo_response;
  service.Connect(nullptr, &solo, &solo_response);
  for (int i = 0; i < users; ++i) {
    v1::ConnectRequest request;
    request.set_username("user" + std::to_string(i));
    request.add_channels("channel" + std::to_string(i % 100));
    request.set_user_state_json(R"({"status": "online", "score": 42})");
    (*request.mutable_channel_configs())["channel" + std::to_string(i % 100)].set_store_history(
        true);
    v1::ConnectResponse response;
    service.Connect(nullptr, &request, &response);
  }
}

// Publishes to channel0..channel99 (~users/100 subscribers each), or to `solo` (one subscriber)
// to show the journal's own cost without the fan-out.
double PublishRate(BrokerService& service, int publishes, bool solo = false) {
  v1::PublishRequest request;
  v1::Publication* p = request.add_publications();
  p->set_user("bench");
  p->set_message_json(R"({"text": "a message of a typical chat size, some sixty bytes"})");
  // CPU time (user + system) of this process: the machine may be shared, wall time is noisy.
  const std::clock_t start = std::clock();
  for (int i = 0; i < publishes; ++i) {
    p->set_channel(solo ? "solo" : "channel" + std::to_string(i % 100));
    v1::PublishResponse response;
    service.Publish(nullptr, &request, &response);
  }
  // fsync waits are not CPU time: this rate is only meaningful without journal_fsync.
  return publishes / (static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC);
}

int Run(int argc, char** argv) {
  const int users = argc > 1 ? std::atoi(argv[1]) : 50000;
  const int publishes = argc > 2 ? std::atoi(argv[2]) : 100000;
  const std::string dir = std::filesystem::temp_directory_path() / "channelstream_durable_bench";
  std::filesystem::remove_all(dir);
  BrokerOptions options;
  DurableStoreOptions durable;
  durable.data_dir = dir;
  durable.journal_max_bytes = uint64_t{1} << 40;  // no snapshot during the publish run

  BrokerService memory(options, 1 << 20);
  Populate(memory, users);
  const double memory_rate = PublishRate(memory, publishes);
  // A copy of the records versus converting them to the snapshot message (what the snapshot does
  // under the state lock): about the same, so the broker converts directly.
  memory.WithState([&](const BrokerState& state) {
    for (int round = 0; round < 3; ++round) {
      auto start = std::chrono::steady_clock::now();
      BrokerState copy = state;
      const double copy_seconds = Seconds(start);
      start = std::chrono::steady_clock::now();
      durable::State saved;
      copy.SaveTo(&saved);
      std::printf(
          "state copy: %.3f s, conversion to the snapshot message (under the lock): %.3f s\n",
          copy_seconds, Seconds(start));
    }
  });
  const double memory_solo_rate = PublishRate(memory, publishes, /*solo=*/true);

  {
    BrokerService journaled(options, 1 << 20);
    if (!journaled.OpenDurableStore(durable).ok()) return 1;
    auto start = std::chrono::steady_clock::now();
    Populate(journaled, users);
    std::printf("connect %d users with the journal: %.2f s\n", users, Seconds(start));
    const double journal_rate = PublishRate(journaled, publishes);
    const double journal_solo_rate = PublishRate(journaled, publishes, /*solo=*/true);
    std::printf("publish to %d subscribers, memory only: %.0f/s, journal on: %.0f/s\n", users / 100,
                memory_rate, journal_rate);
    std::printf("publish to 1 subscriber, memory only: %.0f/s, journal on: %.0f/s\n",
                memory_solo_rate, journal_solo_rate);
    start = std::chrono::steady_clock::now();
    if (!journaled.MaybeWriteSnapshot(/*force=*/true).ok()) return 1;
    std::printf("snapshot of %d users, %d connections: %.3f s, %.1f MB\n", users, users,
                Seconds(start), std::filesystem::file_size(dir + "/snapshot.pb") / 1e6);
  }
  {
    DurableStoreOptions with_fsync = durable;
    with_fsync.journal_fsync = true;
    BrokerService synced(options, 1 << 20);
    if (!synced.OpenDurableStore(with_fsync).ok()) return 1;
    const int count = std::min(publishes, 3000);
    const auto wall = std::chrono::steady_clock::now();
    PublishRate(synced, count, /*solo=*/true);
    std::printf("publish to 1 subscriber with journal_fsync (wall time): %.0f/s\n",
                count / Seconds(wall));
  }
  auto start = std::chrono::steady_clock::now();
  BrokerService loaded(options, 1 << 20);
  if (!loaded.OpenDurableStore(durable).ok()) return 1;
  std::printf("load (snapshot + journal) and write the startup snapshot: %.3f s\n", Seconds(start));
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace channelstream::broker

int main(int argc, char** argv) { return channelstream::broker::Run(argc, argv); }
