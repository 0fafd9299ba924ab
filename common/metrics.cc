#include "common/metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace channelstream::common {

namespace {

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string EscapeHelp(const std::string& help) {
  std::string out;
  for (char c : help) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

// Labels plus one more pair (histogram buckets add `le`).
std::string LabelsWith(const MetricLabels& labels, const std::string& name,
                       const std::string& value) {
  MetricLabels all = labels;
  all.emplace_back(name, value);
  return RenderLabels(all);
}

}  // namespace

std::string RenderLabels(const MetricLabels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < labels.size(); ++i) {
    if (i > 0) out += ",";
    absl::StrAppend(&out, labels[i].first, "=\"", EscapeLabelValue(labels[i].second), "\"");
  }
  out += "}";
  return out;
}

std::string FormatMetricValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  if (value == std::floor(value) && std::fabs(value) < 1e15)
    return absl::StrCat(static_cast<int64_t>(value));
  // The shortest of %.15g / %.17g that reads back as the same double (0.1 stays "0.1").
  std::string shorter = absl::StrFormat("%.15g", value);
  if (std::strtod(shorter.c_str(), nullptr) == value) return shorter;
  return absl::StrFormat("%.17g", value);
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)) {
  std::sort(bounds_.begin(), bounds_.end());
  bounds_.erase(std::unique(bounds_.begin(), bounds_.end()), bounds_.end());
  buckets_ = std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) buckets_[i].store(0);
}

void Histogram::Observe(double value) {
  if (std::isnan(value)) return;  // would poison the sum forever
  const size_t i = static_cast<size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                       bounds_.begin());
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  uint64_t old_bits = sum_bits_.load(std::memory_order_relaxed);
  while (true) {
    double old_sum;
    std::memcpy(&old_sum, &old_bits, sizeof(old_sum));
    const double new_sum = old_sum + value;
    uint64_t new_bits;
    std::memcpy(&new_bits, &new_sum, sizeof(new_bits));
    if (sum_bits_.compare_exchange_weak(old_bits, new_bits, std::memory_order_relaxed)) break;
  }
}

double Histogram::sum() const {
  const uint64_t bits = sum_bits_.load(std::memory_order_relaxed);
  double value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

MetricsRegistry::Family* MetricsRegistry::FamilyFor(const std::string& name,
                                                    const std::string& help, MetricType type) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.help = help;
    it->second.type = type;
  }
  return it->second.type == type ? &it->second : nullptr;
}

Counter* MetricsRegistry::GetCounter(const std::string& name, const std::string& help,
                                     const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = FamilyFor(name, help, MetricType::kCounter);
  if (family == nullptr) return detached_counters_.emplace_back(std::make_unique<Counter>()).get();
  auto& slot = family->counters[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return slot.get();
}

Gauge* MetricsRegistry::GetGauge(const std::string& name, const std::string& help,
                                 const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = FamilyFor(name, help, MetricType::kGauge);
  if (family == nullptr) return detached_gauges_.emplace_back(std::make_unique<Gauge>()).get();
  auto& slot = family->gauges[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return slot.get();
}

Histogram* MetricsRegistry::GetHistogram(const std::string& name, const std::string& help,
                                         const std::vector<double>& bounds,
                                         const MetricLabels& labels) {
  std::lock_guard<std::mutex> lock(mu_);
  Family* family = FamilyFor(name, help, MetricType::kHistogram);
  if (family == nullptr)
    return detached_histograms_.emplace_back(std::make_unique<Histogram>(bounds)).get();
  auto& slot = family->histograms[RenderLabels(labels)];
  if (!slot.second) slot = {labels, std::make_unique<Histogram>(bounds)};
  return slot.second.get();
}

int MetricsRegistry::AddCallback(const std::string& name, const std::string& help, MetricType type,
                                 const MetricLabels& labels, std::function<double()> value) {
  if (type == MetricType::kHistogram) return 0;
  std::lock_guard<std::mutex> lock(callbacks_mu_);
  auto [it, inserted] = callback_families_.try_emplace(name);
  if (inserted) {
    it->second.help = help;
    it->second.type = type;
  }
  if (it->second.type != type) return 0;
  const int id = next_callback_id_++;
  it->second.callbacks[id] = {RenderLabels(labels), std::move(value)};
  callback_family_[id] = name;
  return id;
}

void MetricsRegistry::RemoveCallback(int id) {
  std::lock_guard<std::mutex> lock(callbacks_mu_);
  auto it = callback_family_.find(id);
  if (it == callback_family_.end()) return;
  callback_families_[it->second].callbacks.erase(id);
  callback_family_.erase(it);
}

std::string MetricsRegistry::Render() const {
  struct Block {
    std::string help;
    MetricType type;
    std::map<std::string, double> samples;  // by label set, summed
    const Family* stored = nullptr;
  };
  std::map<std::string, Block> blocks;
  {
    std::lock_guard<std::mutex> lock(callbacks_mu_);
    for (const auto& [name, family] : callback_families_) {
      if (family.callbacks.empty()) continue;
      Block& block = blocks[name];
      block.help = family.help;
      block.type = family.type;
      for (const auto& [id, callback] : family.callbacks)
        block.samples[callback.first] += callback.second();
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, family] : families_) {
    auto it = blocks.find(name);
    if (it != blocks.end() && it->second.type != family.type)
      continue;  // misuse: keep the callbacks'
    Block& block = blocks[name];
    block.help = family.help;
    block.type = family.type;
    block.stored = &family;
    for (const auto& [labels, counter] : family.counters)
      block.samples[labels] += static_cast<double>(counter->value());
    for (const auto& [labels, gauge] : family.gauges)
      block.samples[labels] += static_cast<double>(gauge->value());
  }
  std::string out;
  for (const auto& [name, block] : blocks) {
    const bool has_histograms = block.stored != nullptr && !block.stored->histograms.empty();
    if (block.samples.empty() && !has_histograms) continue;
    absl::StrAppend(&out, "# HELP ", name, " ", EscapeHelp(block.help), "\n# TYPE ", name, " ",
                    TypeName(block.type), "\n");
    for (const auto& [labels, value] : block.samples)
      absl::StrAppend(&out, name, labels, " ", FormatMetricValue(value), "\n");
    if (!has_histograms) continue;
    for (const auto& [key, entry] : block.stored->histograms) {
      const MetricLabels& labels = entry.first;
      const Histogram& histogram = *entry.second;
      uint64_t cumulative = 0;
      for (size_t i = 0; i < histogram.bounds().size(); ++i) {
        cumulative += histogram.bucket(i);
        absl::StrAppend(&out, name, "_bucket",
                        LabelsWith(labels, "le", FormatMetricValue(histogram.bounds()[i])), " ",
                        cumulative, "\n");
      }
      cumulative += histogram.bucket(histogram.bounds().size());
      // +Inf and _count come from the same pass over the buckets, so a scrape racing an
      // Observe never shows +Inf below a finite bucket.
      absl::StrAppend(&out, name, "_bucket", LabelsWith(labels, "le", "+Inf"), " ", cumulative,
                      "\n");
      absl::StrAppend(&out, name, "_sum", key, " ", FormatMetricValue(histogram.sum()), "\n");
      absl::StrAppend(&out, name, "_count", key, " ", cumulative, "\n");
    }
  }
  return out;
}

MetricsRegistry& GlobalMetrics() {
  static MetricsRegistry* registry = new MetricsRegistry();  // never destroyed: used until exit
  return *registry;
}

CallbackHandle& CallbackHandle::operator=(CallbackHandle&& other) noexcept {
  if (this != &other) {
    Reset();
    registry_ = other.registry_;
    id_ = other.id_;
    other.registry_ = nullptr;
  }
  return *this;
}

void CallbackHandle::Reset() {
  if (registry_ != nullptr) registry_->RemoveCallback(id_);
  registry_ = nullptr;
}

}  // namespace channelstream::common
