// The broker's gRPC service: a thin shell over BrokerState. One mutex guards the state and is
// held only for in-memory work; outbound items are pushed to each gateway's bounded queue under
// it (keeping event order) and written to the streams by their own writer threads.
#pragma once

#include <grpcpp/grpcpp.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "absl/time/time.h"
#include "broker/broker_state.h"
#include "broker/durable_store.h"
#include "broker/gateway_session.h"
#include "channelstream.grpc.pb.h"
#include "common/config.h"
#include "common/metrics.h"

namespace channelstream::broker {

class BrokerService final : public v1::Broker::Service {
 public:
  using Clock = std::function<absl::Time()>;
  BrokerService(
      const BrokerOptions& options, size_t gateway_queue_capacity,
      Clock clock = [] { return absl::Now(); });

  grpc::Status Connect(grpc::ServerContext*, const v1::ConnectRequest*,
                       v1::ConnectResponse*) override;
  grpc::Status Subscribe(grpc::ServerContext*, const v1::SubscribeRequest*,
                         v1::SubscribeResponse*) override;
  grpc::Status Unsubscribe(grpc::ServerContext*, const v1::UnsubscribeRequest*,
                           v1::UnsubscribeResponse*) override;
  grpc::Status SetUserState(grpc::ServerContext*, const v1::UserStateRequest*,
                            v1::UserStateResponse*) override;
  grpc::Status Publish(grpc::ServerContext*, const v1::PublishRequest*,
                       v1::PublishResponse*) override;
  grpc::Status EditMessages(grpc::ServerContext*, const v1::EditMessagesRequest*,
                            v1::EditMessagesResponse*) override;
  grpc::Status DeleteMessages(grpc::ServerContext*, const v1::DeleteMessagesRequest*,
                              v1::DeleteMessagesResponse*) override;
  grpc::Status SetChannelConfig(grpc::ServerContext*, const v1::ChannelConfigRequest*,
                                v1::ChannelConfigResponse*) override;
  grpc::Status Info(grpc::ServerContext*, const v1::InfoRequest*, v1::InfoResponse*) override;
  grpc::Status Disconnect(grpc::ServerContext*, const v1::DisconnectRequest*,
                          v1::DisconnectResponse*) override;
  grpc::Status AdminInfo(grpc::ServerContext*, const v1::AdminInfoRequest*,
                         v1::AdminInfoResponse*) override;
  grpc::Status GatewayStream(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<v1::GatewayDown, v1::GatewayUp>* stream) override;

  // One garbage-collection sweep (the runtime calls it every gc_interval).
  void CollectGarbage();
  // Ends every open gateway stream and refuses new ones. Safe to call twice.
  void Shutdown();

  // data_dir: loads the snapshot and journals into the state, drops the gateway attachments they
  // held (those clients re-attach), writes a fresh snapshot; from then on every mutating call is
  // journaled before it is answered. Call once, before serving.
  absl::Status OpenDurableStore(const DurableStoreOptions& options);
  bool durable() const { return store_ != nullptr; }
  // Writes a snapshot if one is due (periodic thread) or now (`force`: shutdown). OK and nothing
  // done without data_dir.
  absl::Status MaybeWriteSnapshot(bool force);

  // Runs `fn` on the state under the lock (tests and admin tooling).
  void WithState(const std::function<void(const BrokerState&)>& fn);

  // The transport-free core of GatewayStream (the concurrency test drives it directly).
  // OpenGateway registers a stream; `cancel` must end it (called on overflow and Shutdown);
  // returns 0 when shutting down.
  uint64_t OpenGateway(const std::string& name, std::shared_ptr<GatewaySession> session,
                       std::function<void()> cancel);
  // Applies one attach/detach; the attach result is queued on the stream's session.
  void HandleGatewayUp(uint64_t gateway, const v1::GatewayUp& up);
  // The stream ended: drops its attachments and closes its session.
  void CloseGateway(uint64_t gateway);

 private:
  struct OpenStream {
    std::shared_ptr<GatewaySession> session;
    std::function<void()> cancel;
  };
  // Hands outbound items to their gateways' queues; call with mu_ held.
  void DispatchLocked(Outbox& out);
  // With data_dir: starts recording the ids the next state call draws. Call with mu_ held.
  void StartRecordingLocked();
  // With data_dir: writes the record `fill` describes (plus `now` and the recorded ids) to the
  // journal. Call with mu_ held, after the state call succeeded and before answering.
  template <typename Fill>
  absl::Status JournalLocked(absl::Time now, Fill fill);

  const BrokerOptions options_;
  const size_t gateway_queue_capacity_;
  const Clock clock_;
  common::Counter* publications_ = common::GlobalMetrics().GetCounter(
      "channelstream_publications_total",
      "Messages published through the broker (REST /message or gRPC Publish).");
  std::mutex mu_;
  BrokerState state_;
  std::map<uint64_t, OpenStream> streams_;
  bool shut_down_ = false;
  std::unique_ptr<DurableStore> store_;  // null: memory only (no data_dir)
  std::mutex snapshot_mu_;               // one snapshot at a time; taken before mu_
};

}  // namespace channelstream::broker
