// One gateway stream's bounded outbound queue. Producers push under the broker's state lock
// (memory only, never blocking); the stream's writer thread pops and does the I/O. A gateway
// that falls behind by more than `capacity` items overflows and is disconnected.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <variant>
#include <vector>

#include "broker/records.h"
#include "channelstream.pb.h"

namespace channelstream::broker {

using GatewayItem = std::variant<Outbound, v1::AttachResult>;

class GatewaySession {
 public:
  explicit GatewaySession(size_t capacity) : capacity_(capacity) {}

  // False only when this push overflowed the queue (the session closes itself then); items
  // pushed to a closed session are dropped.
  bool Push(GatewayItem item);
  // Blocks until an item is available, then moves out everything queued (at most `max` items):
  // true; false once the session is closed (what was still queued is dropped).
  bool PopAll(std::vector<GatewayItem>* items, size_t max);
  // Wakes the writer; items still queued are dropped.
  void Close();
  bool overflowed() const;

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<GatewayItem> queue_;
  bool closed_ = false;
  bool overflowed_ = false;
};

// Builds the wire message for one queued item (done on the writer thread, outside any lock); a
// delivery travels as a batch of one.
v1::GatewayDown ToGatewayDown(const GatewayItem& item);
// Builds the wire messages for a run of queued items, in order: consecutive deliveries become
// one DeliveryBatch (the stream's only delivery message), so a gateway wakes once per burst rather
// than once per delivery. A batch closes once its payloads reach `max_batch_bytes` (a single
// delivery may be larger: its payload is bounded by max_payload_bytes, far below the transport's
// limit).
std::vector<v1::GatewayDown> ToGatewayMessages(const std::vector<GatewayItem>& items,
                                               size_t max_batch_bytes);

}  // namespace channelstream::broker
