#include "broker/broker_service.h"

#include <thread>

#include "broker/command_replay.h"
#include "broker/grpc_status.h"
#include "common/log.h"

namespace channelstream::broker {

BrokerService::BrokerService(const BrokerOptions& options, size_t gateway_queue_capacity,
                             Clock clock)
    : options_(options),
      gateway_queue_capacity_(gateway_queue_capacity),
      clock_(std::move(clock)),
      state_(options, clock_()) {}

void BrokerService::DispatchLocked(Outbox& out) {
  for (Outbound& item : out) {
    auto it = streams_.find(item.gateway);
    if (it == streams_.end()) continue;
    const uint64_t gateway = item.gateway;
    if (!it->second.session->Push(std::move(item))) {
      LOG_WARNING("broker: gateway stream ", gateway,
                  " cannot keep up (max_gateway_queue_items reached); disconnecting it");
      it->second.cancel();
    }
  }
  out.clear();
}

void BrokerService::StartRecordingLocked() {
  if (store_ != nullptr) state_.ids().StartRecording();
}

template <typename Fill>
absl::Status BrokerService::JournalLocked(absl::Time now, Fill fill) {
  if (store_ == nullptr) return absl::OkStatus();
  durable::JournalRecord record;
  record.set_now_unix_nanos(absl::ToUnixNanos(now));
  AddRecordedIds(state_.ids().TakeRecorded(), record.mutable_ids());
  fill(record);
  absl::Status status = store_->Append(record);
  if (status.ok()) return status;
  // Applied in memory but not durable: the caller gets an error instead of a 2xx.
  LOG_ERROR("broker: data_dir: ", status.message());
  return absl::UnavailableError(absl::StrCat("data_dir: journal write failed: ", status.message()));
}

absl::Status BrokerService::OpenDurableStore(const DurableStoreOptions& options) {
  const absl::Time started = absl::Now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    LoadStats stats;
    absl::StatusOr<std::unique_ptr<DurableStore>> opened =
        DurableStore::Open(options, &state_, clock_(), &stats);
    if (!opened.ok()) return opened.status();
    store_ = *std::move(opened);
    // The gateways of the previous run are gone: their clients idle until they re-attach (and
    // get their catch-up) or gc_conns_after passes.
    std::vector<uint64_t> gateways;
    for (const auto& [id, gateway] : state_.gateways()) gateways.push_back(id);
    const absl::Time now = clock_();
    for (uint64_t gateway : gateways) {
      StartRecordingLocked();
      state_.RemoveGateway(gateway, now);
      if (absl::Status s = JournalLocked(
              now,
              [&](durable::JournalRecord& r) { r.mutable_remove_gateway()->set_gateway(gateway); });
          !s.ok())
        return s;
    }
    LOG_INFO("broker: data_dir ", options.data_dir, ": ",
             stats.had_snapshot ? "snapshot" : "no snapshot", " + ", stats.journal_records,
             " journal record(s) loaded in ", absl::FormatDuration(absl::Now() - started), ": ",
             state_.users().size(), " users, ", state_.connections().size(), " connections, ",
             state_.channels().size(), " channels",
             stats.replay_failures > 0
                 ? absl::StrCat(" (", stats.replay_failures, " record(s) replayed differently)")
                 : "");
  }
  // A fresh snapshot: the next start reads it instead of replaying these journals again.
  return MaybeWriteSnapshot(/*force=*/true);
}

absl::Status BrokerService::MaybeWriteSnapshot(bool force) {
  if (store_ == nullptr) return absl::OkStatus();
  std::lock_guard<std::mutex> one_at_a_time(snapshot_mu_);
  const absl::Time copy_started = absl::Now();
  absl::StatusOr<durable::Snapshot> snapshot;
  {
    // The records are converted to the snapshot message under the lock: measured as fast as a
    // plain copy of them (durable_bench) and without a second copy in memory. Serializing and
    // writing the file happen without the lock.
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = clock_();
    if (!force && !store_->SnapshotDue(now)) return absl::OkStatus();
    snapshot = store_->BeginSnapshot(state_, now);
  }
  const absl::Duration locked = absl::Now() - copy_started;
  if (!snapshot.ok()) {
    LOG_ERROR("broker: data_dir: cannot start a snapshot: ", snapshot.status().message());
    return snapshot.status();
  }
  absl::StatusOr<uint64_t> written = store_->FinishSnapshot(*snapshot);
  if (!written.ok()) {
    LOG_ERROR("broker: data_dir: cannot write the snapshot: ", written.status().message());
    return written.status();
  }
  LOG_INFO("broker: data_dir: snapshot written (", *written, " bytes, state lock held ",
           absl::FormatDuration(locked), ", total ",
           absl::FormatDuration(absl::Now() - copy_started), ")");
  return absl::OkStatus();
}

namespace {
// A request or response for a DEBUG line: protobuf text, cut short (payloads can be 64 KiB).
std::string DebugExcerpt(const google::protobuf::Message& message) {
  constexpr size_t kMaxDebugBytes = 300;
  std::string text = message.ShortDebugString();
  if (text.size() > kMaxDebugBytes) text = text.substr(0, kMaxDebugBytes) + "...";
  return text;
}
}  // namespace

#define CS_UNARY(Method, Request, Response, record_field)                              \
  grpc::Status BrokerService::Method(grpc::ServerContext*, const v1::Request* request, \
                                     v1::Response* response) {                         \
    Outbox out;                                                                        \
    std::lock_guard<std::mutex> lock(mu_);                                             \
    const absl::Time now = clock_();                                                   \
    StartRecordingLocked();                                                            \
    absl::Status status = state_.Method(*request, now, response, &out);                \
    if (status.ok()) {                                                                 \
      status = JournalLocked(now, [&](durable::JournalRecord& record) {                \
        *record.mutable_##record_field() = *request;                                   \
      });                                                                              \
    }                                                                                  \
    DispatchLocked(out);                                                               \
    LOG_DEBUG("broker: " #Method " ", status.ok() ? "ok" : status.ToString(), ": ",    \
              DebugExcerpt(*request), " -> ", DebugExcerpt(*response));                \
    return ToGrpcStatus(status);                                                       \
  }

CS_UNARY(Connect, ConnectRequest, ConnectResponse, connect)
CS_UNARY(Subscribe, SubscribeRequest, SubscribeResponse, subscribe)
CS_UNARY(Unsubscribe, UnsubscribeRequest, UnsubscribeResponse, unsubscribe)
CS_UNARY(SetUserState, UserStateRequest, UserStateResponse, set_user_state)
CS_UNARY(EditMessages, EditMessagesRequest, EditMessagesResponse, edit_messages)
CS_UNARY(DeleteMessages, DeleteMessagesRequest, DeleteMessagesResponse, delete_messages)
#undef CS_UNARY

grpc::Status BrokerService::Publish(grpc::ServerContext*, const v1::PublishRequest* request,
                                    v1::PublishResponse* response) {
  // Validation and JSON encoding need no state: done before taking the lock.
  std::vector<PreparedPublication> prepared;
  const absl::Time prepared_at = clock_();
  IdSource prepare_ids;  // the message uuids it draws, for the journal
  const bool durable = store_ != nullptr;
  if (durable) prepare_ids.StartRecording();
  absl::Status status =
      BrokerState::PreparePublish(*request, prepared_at, options_, &prepared, &prepare_ids);
  if (!status.ok()) return ToGrpcStatus(status);
  Outbox out;
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_();
  StartRecordingLocked();
  state_.ApplyPublish(prepared, now, response, &out);
  if (durable) {
    status = JournalLocked(now, [&](durable::JournalRecord& record) {
      durable::PublishCommand* command = record.mutable_publish();
      *command->mutable_request() = *request;
      command->set_prepare_unix_nanos(absl::ToUnixNanos(prepared_at));
      AddRecordedIds(prepare_ids.TakeRecorded(), command->mutable_prepare_ids());
    });
  }
  DispatchLocked(out);
  publications_->Add(prepared.size());
  LOG_DEBUG("broker: Publish ", prepared.size(), " message(s): ", DebugExcerpt(*request));
  return ToGrpcStatus(status);
}

grpc::Status BrokerService::SetChannelConfig(grpc::ServerContext*,
                                             const v1::ChannelConfigRequest* request,
                                             v1::ChannelConfigResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_();
  StartRecordingLocked();
  absl::Status status = state_.SetChannelConfig(*request, now, response);
  if (status.ok()) {
    status = JournalLocked(now, [&](durable::JournalRecord& record) {
      *record.mutable_set_channel_config() = *request;
    });
  }
  return ToGrpcStatus(status);
}

grpc::Status BrokerService::Info(grpc::ServerContext*, const v1::InfoRequest* request,
                                 v1::InfoResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  return ToGrpcStatus(state_.Info(*request, response));
}

grpc::Status BrokerService::Disconnect(grpc::ServerContext*, const v1::DisconnectRequest* request,
                                       v1::DisconnectResponse* response) {
  Outbox out;
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_();
  StartRecordingLocked();
  response->set_existed(state_.Disconnect(request->conn_id(), now, &out));
  absl::Status status;
  if (response->existed()) {
    status = JournalLocked(now, [&](durable::JournalRecord& record) {
      record.mutable_disconnect()->set_conn_id(request->conn_id());
    });
  }
  DispatchLocked(out);
  return ToGrpcStatus(status);
}

grpc::Status BrokerService::AdminInfo(grpc::ServerContext*, const v1::AdminInfoRequest* request,
                                      v1::AdminInfoResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  return ToGrpcStatus(state_.AdminInfo(
      request ? *request : v1::AdminInfoRequest::default_instance(), clock_(), response));
}

void BrokerService::CollectGarbage() {
  Outbox out;
  std::lock_guard<std::mutex> lock(mu_);
  const absl::Time now = clock_();
  StartRecordingLocked();
  state_.CollectGarbage(now, &out);
  JournalLocked(now, [](durable::JournalRecord& record) {
    record.mutable_collect_garbage();
  }).IgnoreError();  // logged; a sweep has nobody to answer
  DispatchLocked(out);
}

void BrokerService::Shutdown() {
  std::lock_guard<std::mutex> lock(mu_);
  shut_down_ = true;
  for (auto& [id, stream] : streams_) {
    stream.session->Close();
    stream.cancel();
  }
}

void BrokerService::WithState(const std::function<void(const BrokerState&)>& fn) {
  std::lock_guard<std::mutex> lock(mu_);
  fn(state_);
}

uint64_t BrokerService::OpenGateway(const std::string& name,
                                    std::shared_ptr<GatewaySession> session,
                                    std::function<void()> cancel) {
  std::lock_guard<std::mutex> lock(mu_);
  if (shut_down_) return 0;
  StartRecordingLocked();
  const uint64_t gateway = state_.AddGateway(name);
  JournalLocked(clock_(), [&](durable::JournalRecord& record) {
    record.mutable_add_gateway()->set_name(name);
    record.mutable_add_gateway()->set_id(gateway);
  }).IgnoreError();  // logged
  streams_[gateway] = {std::move(session), std::move(cancel)};
  return gateway;
}

void BrokerService::HandleGatewayUp(uint64_t gateway, const v1::GatewayUp& up) {
  std::lock_guard<std::mutex> lock(mu_);
  auto stream = streams_.find(gateway);
  if (stream == streams_.end()) return;
  const absl::Time now = clock_();
  if (up.has_attach()) {
    StartRecordingLocked();
    Outbox catchup_rest;  // catch-up past the result's chunk, sent right after it
    v1::AttachResult result = state_.Attach(gateway, up.attach(), now, &catchup_rest);
    if (result.found()) {
      JournalLocked(now, [&](durable::JournalRecord& record) {
        record.mutable_attach()->set_gateway(gateway);
        *record.mutable_attach()->mutable_attach() = up.attach();
      }).IgnoreError();  // logged
    }
    if (!stream->second.session->Push(std::move(result))) {
      LOG_WARNING("broker: gateway stream ", gateway,
                  " cannot keep up (max_gateway_queue_items reached); disconnecting it");
      stream->second.cancel();
      return;
    }
    DispatchLocked(catchup_rest);
  } else if (up.has_detach()) {
    StartRecordingLocked();
    state_.Detach(gateway, up.detach().handle(), now, &up.detach());
    JournalLocked(now, [&](durable::JournalRecord& record) {
      record.mutable_detach()->set_gateway(gateway);
      *record.mutable_detach()->mutable_detach() = up.detach();
    }).IgnoreError();  // logged
  }
}

void BrokerService::CloseGateway(uint64_t gateway) {
  std::shared_ptr<GatewaySession> session;
  {
    std::lock_guard<std::mutex> lock(mu_);
    const absl::Time now = clock_();
    StartRecordingLocked();
    state_.RemoveGateway(gateway, now);
    JournalLocked(now, [&](durable::JournalRecord& record) {
      record.mutable_remove_gateway()->set_gateway(gateway);
    }).IgnoreError();  // logged
    auto stream = streams_.find(gateway);
    if (stream == streams_.end()) return;
    session = stream->second.session;
    streams_.erase(stream);
  }
  session->Close();
}

// Items one writer burst takes from a gateway's queue (bounds one batch message's size).
constexpr size_t kMaxItemsPerBurst = 256;

grpc::Status BrokerService::GatewayStream(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::GatewayDown, v1::GatewayUp>* stream) {
  v1::GatewayUp up;
  if (!stream->Read(&up)) return grpc::Status::OK;
  if (!up.has_hello())
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "hello: the first message on the stream must be GatewayHello");
  const std::string name = up.hello().gateway_id();
  auto session = std::make_shared<GatewaySession>(gateway_queue_capacity_);
  const uint64_t gateway = OpenGateway(name, session, [context] { context->TryCancel(); });
  if (gateway == 0) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "broker is shutting down");
  LOG_INFO("broker: gateway '", name, "' connected (stream ", gateway, ")");

  // The writer does the stream I/O so that no producer ever waits on a slow gateway.
  std::thread writer([&] {
    std::vector<GatewayItem> items;
    bool open = true;
    while (open && session->PopAll(&items, kMaxItemsPerBurst)) {
      std::vector<v1::GatewayDown> messages =
          ToGatewayMessages(items, static_cast<size_t>(options_.catchup_chunk_bytes));
      for (size_t i = 0; i < messages.size(); ++i) {
        // Only the burst's last message flushes the stream.
        grpc::WriteOptions options;
        if (i + 1 < messages.size()) options.set_buffer_hint();
        if (!stream->Write(messages[i], options)) {
          context->TryCancel();
          open = false;
          break;
        }
      }
    }
  });
  while (stream->Read(&up)) HandleGatewayUp(gateway, up);
  CloseGateway(gateway);
  writer.join();
  LOG_INFO("broker: gateway '", name, "' disconnected (stream ", gateway, ")",
           session->overflowed() ? " after its queue overflowed" : "");
  return grpc::Status::OK;
}

}  // namespace channelstream::broker
