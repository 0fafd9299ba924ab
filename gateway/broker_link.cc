#include "gateway/broker_link.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "common/metrics.h"

namespace channelstream::gateway {

BrokerLink::BrokerLink(std::shared_ptr<grpc::Channel> channel, double reconnect_delay_seconds,
                       Handlers handlers, bool network_channel)
    : channel_(channel),
      stub_(v1::Broker::NewStub(std::move(channel))),
      reconnect_delay_seconds_(reconnect_delay_seconds),
      network_channel_(network_channel),
      handlers_(std::move(handlers)) {}

BrokerLink::~BrokerLink() { Stop(); }

void BrokerLink::Start(const std::string& gateway_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (started_) return;
  started_ = true;
  gateway_id_ = gateway_id;
  reader_ = std::thread([this] { RunReader(); });
  writer_ = std::thread([this] { RunWriter(); });
}

void BrokerLink::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (stopping_) return;
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  changed_.notify_all();
  if (reader_.joinable()) reader_.join();
  if (writer_.joinable()) writer_.join();
}

void BrokerLink::Drain(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (!started_ || stopping_ || draining_) return;
  draining_ = true;
  changed_.wait_until(lock, deadline,
                      [this] { return generation_ == 0 || (outbox_.empty() && !writer_busy_); });
  if (generation_ != 0 && outbox_.empty() && !writer_busy_) {
    // Half-close: the broker handles everything sent so far, then ends the stream.
    writes_done_ = true;  // Send drops from now on, so the writer stays idle
    // WritesDone uses the stream's ClientContext, which lives on the reader's stack: count as a
    // write in progress so the reader, if the stream ends meanwhile, waits before leaving scope.
    writer_busy_ = true;
    auto stream = stream_;
    lock.unlock();
    stream->WritesDone();
    lock.lock();
    writer_busy_ = false;
    changed_.notify_all();
    changed_.wait_until(lock, deadline, [this] { return generation_ == 0; });
  }
  lock.unlock();
  Stop();
}

uint64_t BrokerLink::generation() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return generation_;
}

void BrokerLink::Send(uint64_t generation, v1::GatewayUp message) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (generation == 0 || generation != generation_ || writes_done_) return;
    outbox_.emplace_back(generation, std::move(message));
  }
  changed_.notify_all();
}

void BrokerLink::SendAttach(uint64_t generation, uint64_t handle, const std::string& conn_id,
                            google::protobuf::RepeatedPtrField<v1::Position>* since) {
  v1::GatewayUp up;
  v1::Attach* attach = up.mutable_attach();
  attach->set_handle(handle);
  attach->set_conn_id(conn_id);
  attach->set_catchup(true);
  attach->mutable_since()->Swap(since);
  Send(generation, std::move(up));
}

void BrokerLink::RunReader() {
  bool first_attempt = true;
  while (true) {
    if (!first_attempt) WaitBeforeRetry();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    first_attempt = false;

    grpc::ClientContext context;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      context_ = &context;
    }
    std::shared_ptr<grpc::ClientReaderWriter<v1::GatewayUp, v1::GatewayDown>> stream(
        stub_->GatewayStream(&context));
    v1::GatewayUp hello;
    hello.mutable_hello()->set_gateway_id(gateway_id_);
    uint64_t generation = 0;
    if (stream->Write(hello)) {
      std::lock_guard<std::mutex> lock(mutex_);
      generation = generation_ = ++last_generation_;
      stream_ = stream;
    }
    if (generation > 1) {
      static common::Counter* reconnects =
          common::GlobalMetrics().GetCounter("channelstream_broker_stream_reconnects_total",
                                             "Times a gateway reopened its stream to the broker.");
      reconnects->Add();
    }
    if (generation != 0) {
      LOG_INFO("gateway ", gateway_id_, ": broker stream open (generation ", generation, ")");
      if (handlers_.on_up) handlers_.on_up(generation);
      changed_.notify_all();
      v1::GatewayDown message;
      while (stream->Read(&message)) {
        handlers_.on_message(&message);
        message.Clear();
      }
    }
    {
      // Stop routing writes to this stream and wait for a Write in progress to return.
      std::unique_lock<std::mutex> lock(mutex_);
      generation_ = 0;
      outbox_.clear();
      context.TryCancel();
      changed_.wait(lock, [this] { return !writer_busy_; });
      stream_.reset();
      context_ = nullptr;
    }
    changed_.notify_all();  // Drain() waits for the stream's end
    grpc::Status status = stream->Finish();
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping = stopping_ || draining_;  // a drained stream ends on purpose
    }
    if (generation != 0) {
      if (!stopping) {
        LOG_WARNING("gateway ", gateway_id_, ": broker stream lost (", status.error_message(),
                    "); closing its clients, reconnecting");
      }
      if (handlers_.on_lost) handlers_.on_lost(generation);
    } else if (!stopping) {
      LOG_WARNING("gateway ", gateway_id_, ": cannot open the broker stream (",
                  status.error_message(), "); retrying in ", reconnect_delay_seconds_, " s");
    }
  }
}

void BrokerLink::WaitBeforeRetry() {
  const auto until = std::chrono::system_clock::now() +
                     std::chrono::duration_cast<std::chrono::system_clock::duration>(
                         std::chrono::duration<double>(reconnect_delay_seconds_));
  bool was_down = false;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
    }
    const auto now = std::chrono::system_clock::now();
    if (now >= until) return;
    if (!network_channel_) {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait_until(lock, until, [this] { return stopping_; });
      return;
    }
    const grpc_connectivity_state state = channel_->GetState(/*try_to_connect=*/true);
    // Reconnected: go now. READY all along (the broker refused the stream itself): wait it out.
    if (state == GRPC_CHANNEL_READY && was_down) return;
    was_down = was_down || state != GRPC_CHANNEL_READY;
    // Short slices, so Stop() is not kept waiting.
    channel_->WaitForStateChange(state, std::min(until, now + std::chrono::milliseconds(100)));
  }
}

void BrokerLink::RunWriter() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (true) {
    changed_.wait(lock, [this] { return stopping_ || (!outbox_.empty() && stream_ != nullptr); });
    if (stopping_) return;
    auto item = std::move(outbox_.front());
    outbox_.pop_front();
    if (item.first != generation_) continue;
    auto stream = stream_;
    const bool more = !outbox_.empty();
    writer_busy_ = true;
    lock.unlock();
    // buffer_hint lets gRPC coalesce a burst of attaches/detaches into fewer writes.
    grpc::WriteOptions options;
    if (more) options.set_buffer_hint();
    stream->Write(item.second, options);
    lock.lock();
    writer_busy_ = false;
    changed_.notify_all();
  }
}

}  // namespace channelstream::gateway
