#include "broker/broker_runtime.h"

#include <algorithm>

#include "broker/broker_service.h"

namespace channelstream::broker {

BrokerRuntime::BrokerRuntime(const common::Config& config)
    : service_(std::make_unique<BrokerService>(
          BrokerOptions::FromConfig(config),
          static_cast<size_t>(std::max<long long>(1, config.GetInt("max_gateway_queue_items"))))),
      gc_interval_(absl::Seconds(std::max(0.01, config.GetDouble("gc_interval")))) {
  durable_options_.data_dir = config.GetString("data_dir");
  durable_options_.journal_fsync = config.GetBool("journal_fsync");
  durable_options_.snapshot_interval =
      absl::Seconds(std::max(1.0, config.GetDouble("snapshot_interval")));
  durable_options_.journal_max_bytes =
      static_cast<uint64_t>(std::max<long long>(4096, config.GetInt("journal_max_bytes")));
  common::MetricsRegistry& registry = common::GlobalMetrics();
  // Sizes read under the state lock at scrape time (a map size each: cheap).
  auto size_of = [this](size_t (*read)(const BrokerState&)) {
    return [this, read] {
      size_t value = 0;
      service_->WithState([&](const BrokerState& state) { value = read(state); });
      return static_cast<double>(value);
    };
  };
  metric_callbacks_.emplace_back(
      &registry,
      registry.AddCallback("channelstream_users",
                           "Users the broker knows (connected or within gc_users_after).",
                           common::MetricType::kGauge, {},
                           size_of([](const BrokerState& state) { return state.users().size(); })));
  metric_callbacks_.emplace_back(
      &registry,
      registry.AddCallback(
          "channelstream_channels", "Channels the broker holds.", common::MetricType::kGauge, {},
          size_of([](const BrokerState& state) { return state.channels().size(); })));
  metric_callbacks_.emplace_back(
      &registry,
      registry.AddCallback(
          "channelstream_broker_connections",
          "Connections (conn_ids) the broker holds, attached or not.", common::MetricType::kGauge,
          {}, size_of([](const BrokerState& state) { return state.connections().size(); })));
  metric_callbacks_.emplace_back(
      &registry, registry.AddCallback(
                     "channelstream_gateway_streams", "Gateway streams open to the broker.",
                     common::MetricType::kGauge, {},
                     size_of([](const BrokerState& state) { return state.gateway_count(); })));
}

BrokerRuntime::~BrokerRuntime() { Stop(); }

grpc::Service* BrokerRuntime::service() { return service_.get(); }

absl::Status BrokerRuntime::LoadDurableState() {
  if (durable_options_.data_dir.empty()) return absl::OkStatus();
  return service_->OpenDurableStore(durable_options_);
}

absl::Status BrokerRuntime::SaveSnapshot() { return service_->MaybeWriteSnapshot(/*force=*/true); }

size_t BrokerRuntime::open_gateways() {
  size_t count = 0;
  service_->WithState([&](const BrokerState& state) { count = state.gateway_count(); });
  return count;
}

size_t BrokerRuntime::attached_connections() {
  size_t count = 0;
  service_->WithState([&](const BrokerState& state) {
    for (const auto& [id, connection] : state.connections())
      count += connection.attachments.empty() ? 0 : 1;
  });
  return count;
}

void BrokerRuntime::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (gc_thread_.joinable() || stopping_) return;
  gc_thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, absl::ToChronoNanoseconds(gc_interval_), [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      service_->CollectGarbage();
      lock.lock();
    }
  });
  if (!service_->durable()) return;
  // Checks once a second whether snapshot_interval passed or the journal reached
  // journal_max_bytes; the snapshot itself holds the state lock only while copying.
  snapshot_thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      wake_.wait_for(lock, std::chrono::seconds(1), [this] { return stopping_; });
      if (stopping_) break;
      lock.unlock();
      service_->MaybeWriteSnapshot(/*force=*/false).IgnoreError();  // logged
      lock.lock();
    }
  });
}

void BrokerRuntime::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (gc_thread_.joinable()) gc_thread_.join();
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  service_->Shutdown();
}

}  // namespace channelstream::broker
