// A tiny Prometheus metrics registry (text exposition format 0.0.4), no external library.
// Registration takes a mutex; updates are single atomic operations, so the hot paths (deliveries,
// writes) never lock. Values owned elsewhere (per-loop counters, broker state sizes) are read at
// scrape time through callbacks instead of being mirrored.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace channelstream::common {

// Label pairs in the order given, e.g. {{"transport", "websocket"}}.
using MetricLabels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { kCounter, kGauge, kHistogram };

class Counter {
 public:
  void Add(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void Set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void Add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> value_{0};
};

// Fixed upper bounds (ascending); the +Inf bucket is implicit.
class Histogram {
 public:
  explicit Histogram(std::vector<double> bounds);
  void Observe(double value);

  const std::vector<double>& bounds() const { return bounds_; }
  // Non-cumulative count of bucket i (i == bounds().size(): above every bound).
  uint64_t bucket(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_bits_{0};  // a double, updated by compare-exchange
};

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Find-or-create. The pointer stays valid for the registry's life. A name registered before
  // with another type returns a detached metric (counted, never exposed) rather than crash.
  Counter* GetCounter(const std::string& name, const std::string& help,
                      const MetricLabels& labels = {});
  Gauge* GetGauge(const std::string& name, const std::string& help,
                  const MetricLabels& labels = {});
  Histogram* GetHistogram(const std::string& name, const std::string& help,
                          const std::vector<double>& bounds, const MetricLabels& labels = {});

  // A counter or gauge sample computed at scrape time. Samples of equal name and labels from
  // several callbacks are summed (two gateways in one process expose one total). Returns an id
  // for RemoveCallback, which the owner calls before it goes away.
  int AddCallback(const std::string& name, const std::string& help, MetricType type,
                  const MetricLabels& labels, std::function<double()> value);
  void RemoveCallback(int id);

  // Every family, sorted by name, as text exposition format 0.0.4.
  std::string Render() const;

 private:
  struct Family {
    std::string help;
    MetricType type;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // by rendered label set
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::pair<MetricLabels, std::unique_ptr<Histogram>>> histograms;
  };
  struct CallbackFamily {
    std::string help;
    MetricType type;
    std::map<int, std::pair<std::string, std::function<double()>>> callbacks;  // id -> labels, fn
  };
  Family* FamilyFor(const std::string& name, const std::string& help, MetricType type);

  // Callbacks run under callbacks_mu_ only, never under mu_: a callback may take its owner's lock
  // (the broker's state mutex), and that owner may register a counter while holding it.
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
  mutable std::mutex callbacks_mu_;
  std::map<std::string, CallbackFamily> callback_families_;
  std::vector<std::unique_ptr<Counter>> detached_counters_;
  std::vector<std::unique_ptr<Gauge>> detached_gauges_;
  std::vector<std::unique_ptr<Histogram>> detached_histograms_;
  std::map<int, std::string> callback_family_;  // id -> family name
  int next_callback_id_ = 1;
};

// The process-wide registry every part records into and /metrics renders.
MetricsRegistry& GlobalMetrics();

// `{a="x",b="y"}` with values escaped as the format requires ("" for no labels).
std::string RenderLabels(const MetricLabels& labels);
// A sample value: integers without a fraction, +Inf / -Inf / NaN spelled as the format wants.
std::string FormatMetricValue(double value);

// Removes a callback when it goes out of scope (owners that register several keep a vector).
class CallbackHandle {
 public:
  CallbackHandle() = default;
  CallbackHandle(MetricsRegistry* registry, int id) : registry_(registry), id_(id) {}
  CallbackHandle(CallbackHandle&& other) noexcept : registry_(other.registry_), id_(other.id_) {
    other.registry_ = nullptr;
  }
  CallbackHandle& operator=(CallbackHandle&& other) noexcept;
  ~CallbackHandle() { Reset(); }
  void Reset();

 private:
  MetricsRegistry* registry_ = nullptr;
  int id_ = 0;
};

}  // namespace channelstream::common
