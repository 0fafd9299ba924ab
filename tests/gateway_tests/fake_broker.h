// A fake broker implementing only GatewayStream and Disconnect, so the gateway's behaviour
// (attach, catch-up, fan-out, kick, stream loss) is tested without the real broker.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "channelstream.grpc.pb.h"

namespace channelstream::testing {

class FakeBroker final : public v1::Broker::Service {
 public:
  void AddConnection(const std::string& conn_id, std::vector<std::string> catchup = {}) {
    std::lock_guard<std::mutex> lock(mutex_);
    known_.insert(conn_id);
    catchup_[conn_id] = std::move(catchup);
  }

  // Sends `payload` once per stream, naming every handle attached for the conn_ids.
  int Deliver(const std::string& payload, const std::vector<std::string>& conn_ids) {
    std::vector<std::pair<std::shared_ptr<Stream>, v1::GatewayDown>> sends;
    int recipients = 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& stream : streams_) {
        v1::GatewayDown down;
        auto* delivery = down.mutable_batch()->add_deliveries();
        delivery->set_payload_json(payload);
        for (const auto& [handle, conn_id] : stream->handles) {
          for (const auto& wanted : conn_ids) {
            if (conn_id == wanted) delivery->add_handles(handle);
          }
        }
        if (delivery->handles_size() == 0) continue;
        recipients += delivery->handles_size();
        sends.emplace_back(stream, std::move(down));
      }
    }
    for (auto& [stream, down] : sends) stream->Write(down);
    return recipients;
  }

  void Kick(const std::string& conn_id) {
    std::vector<std::pair<std::shared_ptr<Stream>, v1::GatewayDown>> sends;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto& stream : streams_) {
        for (const auto& [handle, id] : stream->handles) {
          if (id != conn_id) continue;
          v1::GatewayDown down;
          down.mutable_kick()->set_handle(handle);
          sends.emplace_back(stream, std::move(down));
        }
      }
    }
    for (auto& [stream, down] : sends) stream->Write(down);
  }

  // Waits until `conn_id` is attached `count` times over all streams.
  bool WaitAttached(const std::string& conn_id, int count, double timeout_seconds = 5) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::duration<double>(timeout_seconds),
                             [&] { return AttachedLocked(conn_id) == count; });
  }
  bool WaitStreams(int count, double timeout_seconds = 5) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::duration<double>(timeout_seconds),
                             [&] { return static_cast<int>(streams_.size()) == count; });
  }
  // Waits until `total` streams have been opened since the start (reconnects count).
  bool WaitStreamsOpened(int total, double timeout_seconds = 5) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, std::chrono::duration<double>(timeout_seconds),
                             [&] { return streams_opened_ >= total; });
  }
  int attaches() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return attaches_;
  }

  // Ends every open gateway stream (the broker side of a dropped stream).
  void DropStreams() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& stream : streams_) stream->context->TryCancel();
  }

  grpc::Status Disconnect(grpc::ServerContext*, const v1::DisconnectRequest* request,
                          v1::DisconnectResponse* response) override {
    bool existed;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      existed = known_.erase(request->conn_id()) > 0;
    }
    if (existed) Kick(request->conn_id());
    response->set_existed(existed);
    return grpc::Status::OK;
  }

  grpc::Status GatewayStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::GatewayDown, v1::GatewayUp>* raw) override {
    auto stream = std::make_shared<Stream>();
    stream->context = context;
    stream->raw = raw;
    v1::GatewayUp up;
    if (!raw->Read(&up) || !up.has_hello())
      return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "hello: missing");
    {
      std::lock_guard<std::mutex> lock(mutex_);
      streams_.push_back(stream);
      ++streams_opened_;
    }
    changed_.notify_all();
    while (raw->Read(&up)) {
      if (up.has_attach()) {
        v1::GatewayDown down;
        auto* result = down.mutable_attach_result();
        result->set_handle(up.attach().handle());
        {
          std::lock_guard<std::mutex> lock(mutex_);
          ++attaches_;
          const std::string& conn_id = up.attach().conn_id();
          if (known_.count(conn_id)) {
            result->set_found(true);
            stream->handles[up.attach().handle()] = conn_id;
            if (up.attach().catchup()) {
              for (const auto& item : catchup_[conn_id]) result->add_catchup_json(item);
              catchup_[conn_id].clear();
            }
          }
        }
        stream->Write(down);
      } else if (up.has_detach()) {
        std::lock_guard<std::mutex> lock(mutex_);
        stream->handles.erase(up.detach().handle());
      }
      changed_.notify_all();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      for (auto it = streams_.begin(); it != streams_.end(); ++it) {
        if (*it == stream) {
          streams_.erase(it);
          break;
        }
      }
    }
    {
      std::lock_guard<std::mutex> lock(stream->write_mutex);
      stream->closed = true;  // no Write after the handler returns
    }
    changed_.notify_all();
    return grpc::Status::OK;
  }

 private:
  struct Stream {
    grpc::ServerContext* context = nullptr;
    grpc::ServerReaderWriter<v1::GatewayDown, v1::GatewayUp>* raw = nullptr;
    std::map<uint64_t, std::string> handles;  // guarded by FakeBroker::mutex_
    std::mutex write_mutex;
    bool closed = false;
    void Write(const v1::GatewayDown& down) {
      std::lock_guard<std::mutex> lock(write_mutex);
      if (!closed) raw->Write(down);
    }
  };

  int AttachedLocked(const std::string& conn_id) const {
    int count = 0;
    for (const auto& stream : streams_) {
      for (const auto& [handle, id] : stream->handles) count += id == conn_id;
    }
    return count;
  }

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::set<std::string> known_;
  std::map<std::string, std::vector<std::string>> catchup_;
  std::vector<std::shared_ptr<Stream>> streams_;
  int attaches_ = 0;
  int streams_opened_ = 0;
};

}  // namespace channelstream::testing
