// A map from names to small values kept as a sorted vector with one entry inline. A connection's
// channels (with their catch-up marks) are usually one or a few: a B-tree would allocate a node
// for them, this holds the first entry in the record. Inserts and erases shift the vector, which
// stays cheap at the sizes max_channels_per_connection allows.
#pragma once

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

#include "absl/container/inlined_vector.h"

namespace channelstream::broker {

template <typename Value>
class SmallNameMap {
 public:
  using Entry = std::pair<std::string, Value>;
  using Storage = absl::InlinedVector<Entry, 1>;
  using iterator = typename Storage::iterator;
  using const_iterator = typename Storage::const_iterator;

  iterator begin() { return entries_.begin(); }
  iterator end() { return entries_.end(); }
  const_iterator begin() const { return entries_.begin(); }
  const_iterator end() const { return entries_.end(); }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  iterator find(std::string_view name) { return Find(entries_, name); }
  const_iterator find(std::string_view name) const { return Find(entries_, name); }
  size_t count(std::string_view name) const { return find(name) != entries_.end() ? 1 : 0; }
  // Inserts (name, value) unless `name` is present; like std::map::try_emplace.
  std::pair<iterator, bool> try_emplace(const std::string& name, Value value) {
    iterator it = LowerBound(entries_, name);
    if (it != entries_.end() && it->first == name) return {it, false};
    return {entries_.insert(it, Entry(name, std::move(value))), true};
  }
  size_t erase(std::string_view name) {
    iterator it = find(name);
    if (it == entries_.end()) return 0;
    entries_.erase(it);
    return 1;
  }

 private:
  // One implementation for the const and mutable lookups.
  template <typename Entries>
  static auto LowerBound(Entries& entries, std::string_view name) {
    return std::lower_bound(
        entries.begin(), entries.end(), name,
        [](const Entry& entry, std::string_view key) { return entry.first < key; });
  }
  template <typename Entries>
  static auto Find(Entries& entries, std::string_view name) {
    auto it = LowerBound(entries, name);
    return it != entries.end() && it->first == name ? it : entries.end();
  }

  Storage entries_;
};

}  // namespace channelstream::broker
