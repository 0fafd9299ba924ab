#include "broker/gateway_session.h"

namespace channelstream::broker {

bool GatewaySession::Push(GatewayItem item) {
  bool just_overflowed = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return true;  // the stream is ending; nothing to report twice
    if (queue_.size() >= capacity_) {
      just_overflowed = overflowed_ = closed_ = true;
      queue_.clear();
    } else {
      queue_.push_back(std::move(item));
    }
  }
  ready_.notify_all();
  return !just_overflowed;
}

bool GatewaySession::PopAll(std::vector<GatewayItem>* items, size_t max) {
  items->clear();
  std::unique_lock<std::mutex> lock(mu_);
  ready_.wait(lock, [&] { return closed_ || !queue_.empty(); });
  if (closed_) return false;
  while (!queue_.empty() && items->size() < max) {
    items->push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  return true;
}

void GatewaySession::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    queue_.clear();
  }
  ready_.notify_all();
}

bool GatewaySession::overflowed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return overflowed_;
}

namespace {

void FillDelivery(const Outbound& out, v1::Delivery* delivery) {
  delivery->set_payload_json(*out.payload_json);
  delivery->mutable_handles()->Add(out.handles.begin(), out.handles.end());
  delivery->set_channel(out.channel);
  delivery->set_seq(out.seq);
  delivery->set_catchup(out.catchup);
}

// What a delivery adds to a batch: its payload and its packed handles.
size_t DeliveryBytes(const Outbound& out) {
  return out.payload_json->size() + out.handles.size() * 10;
}

}  // namespace

v1::GatewayDown ToGatewayDown(const GatewayItem& item) {
  v1::GatewayDown down;
  if (const auto* result = std::get_if<v1::AttachResult>(&item)) {
    *down.mutable_attach_result() = *result;
    return down;
  }
  const Outbound& out = std::get<Outbound>(item);
  if (out.kind == Outbound::Kind::kKick) {
    down.mutable_kick()->set_handle(out.handles.empty() ? 0 : out.handles.front());
    return down;
  }
  FillDelivery(out, down.mutable_batch()->add_deliveries());
  return down;
}

std::vector<v1::GatewayDown> ToGatewayMessages(const std::vector<GatewayItem>& items,
                                               size_t max_batch_bytes) {
  std::vector<v1::GatewayDown> messages;
  auto is_delivery = [](const GatewayItem& item) {
    const auto* out = std::get_if<Outbound>(&item);
    return out != nullptr && out->kind == Outbound::Kind::kDelivery;
  };
  for (size_t i = 0; i < items.size();) {
    size_t end = i + 1;
    if (is_delivery(items[i])) {
      size_t bytes = DeliveryBytes(std::get<Outbound>(items[i]));
      while (end < items.size() && is_delivery(items[end])) {
        bytes += DeliveryBytes(std::get<Outbound>(items[end]));
        if (bytes > max_batch_bytes) break;
        ++end;
      }
    }
    if (is_delivery(items[i])) {
      v1::GatewayDown down;
      v1::DeliveryBatch* batch = down.mutable_batch();
      for (size_t j = i; j < end; ++j)
        FillDelivery(std::get<Outbound>(items[j]), batch->add_deliveries());
      messages.push_back(std::move(down));
    } else {
      messages.push_back(ToGatewayDown(items[i]));
    }
    i = end;
  }
  return messages;
}

}  // namespace channelstream::broker
