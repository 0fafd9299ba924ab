#include "broker/broker_service.h"

#include <thread>

#include "common/log.h"

namespace channelstream {
namespace {

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: code = grpc::StatusCode::INVALID_ARGUMENT; break;
    case absl::StatusCode::kNotFound: code = grpc::StatusCode::NOT_FOUND; break;
    case absl::StatusCode::kResourceExhausted: code = grpc::StatusCode::RESOURCE_EXHAUSTED; break;
    default: break;
  }
  return grpc::Status(code, std::string(status.message()));
}

}  // namespace

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

namespace {
// A request or response for a DEBUG line: protobuf text, cut short (payloads can be 64 KiB).
std::string DebugExcerpt(const google::protobuf::Message& message) {
  constexpr size_t kMaxDebugBytes = 300;
  std::string text = message.ShortDebugString();
  if (text.size() > kMaxDebugBytes) text = text.substr(0, kMaxDebugBytes) + "...";
  return text;
}
}  // namespace

#define CS_UNARY(Method, Request, Response)                                              \
  grpc::Status BrokerService::Method(grpc::ServerContext*, const v1::Request* request,   \
                                     v1::Response* response) {                           \
    Outbox out;                                                                          \
    std::lock_guard<std::mutex> lock(mu_);                                               \
    absl::Status status = state_.Method(*request, clock_(), response, &out);             \
    DispatchLocked(out);                                                                 \
    LOG_DEBUG("broker: " #Method " ", status.ok() ? "ok" : status.ToString(), ": ",       \
              DebugExcerpt(*request), " -> ", DebugExcerpt(*response));                   \
    return ToGrpc(status);                                                               \
  }

CS_UNARY(Connect, ConnectRequest, ConnectResponse)
CS_UNARY(Subscribe, SubscribeRequest, SubscribeResponse)
CS_UNARY(Unsubscribe, UnsubscribeRequest, UnsubscribeResponse)
CS_UNARY(SetUserState, UserStateRequest, UserStateResponse)
CS_UNARY(EditMessages, EditMessagesRequest, EditMessagesResponse)
CS_UNARY(DeleteMessages, DeleteMessagesRequest, DeleteMessagesResponse)
#undef CS_UNARY

grpc::Status BrokerService::Publish(grpc::ServerContext*, const v1::PublishRequest* request,
                                    v1::PublishResponse* response) {
  // Validation and JSON encoding need no state: done before taking the lock.
  std::vector<PreparedPublication> prepared;
  absl::Status status =
      BrokerState::PreparePublish(*request, clock_(), options_, &prepared);
  if (!status.ok()) return ToGrpc(status);
  Outbox out;
  std::lock_guard<std::mutex> lock(mu_);
  state_.ApplyPublish(prepared, clock_(), response, &out);
  DispatchLocked(out);
  publications_->Add(prepared.size());
  LOG_DEBUG("broker: Publish ", prepared.size(), " message(s): ", DebugExcerpt(*request));
  return grpc::Status::OK;
}

grpc::Status BrokerService::SetChannelConfig(grpc::ServerContext*,
                                             const v1::ChannelConfigRequest* request,
                                             v1::ChannelConfigResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  return ToGrpc(state_.SetChannelConfig(*request, clock_(), response));
}

grpc::Status BrokerService::Info(grpc::ServerContext*, const v1::InfoRequest* request,
                                 v1::InfoResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  return ToGrpc(state_.Info(*request, response));
}

grpc::Status BrokerService::Disconnect(grpc::ServerContext*, const v1::DisconnectRequest* request,
                                       v1::DisconnectResponse* response) {
  Outbox out;
  std::lock_guard<std::mutex> lock(mu_);
  response->set_existed(state_.Disconnect(request->conn_id(), clock_(), &out));
  DispatchLocked(out);
  return grpc::Status::OK;
}

grpc::Status BrokerService::AdminInfo(grpc::ServerContext*, const v1::AdminInfoRequest* request,
                                      v1::AdminInfoResponse* response) {
  std::lock_guard<std::mutex> lock(mu_);
  return ToGrpc(state_.AdminInfo(request ? *request : v1::AdminInfoRequest::default_instance(),
                                 clock_(), response));
}

void BrokerService::CollectGarbage() {
  Outbox out;
  std::lock_guard<std::mutex> lock(mu_);
  state_.CollectGarbage(clock_(), &out);
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
  const uint64_t gateway = state_.AddGateway(name);
  streams_[gateway] = {std::move(session), std::move(cancel)};
  return gateway;
}

void BrokerService::HandleGatewayUp(uint64_t gateway, const v1::GatewayUp& up) {
  std::lock_guard<std::mutex> lock(mu_);
  auto stream = streams_.find(gateway);
  if (stream == streams_.end()) return;
  const absl::Time now = clock_();
  if (up.has_attach()) {
    if (!stream->second.session->Push(state_.Attach(gateway, up.attach(), now))) {
      LOG_WARNING("broker: gateway stream ", gateway,
                  " cannot keep up (max_gateway_queue_items reached); disconnecting it");
      stream->second.cancel();
    }
  } else if (up.has_detach()) {
    state_.Detach(gateway, up.detach().handle(), now, &up.detach());
  }
}

void BrokerService::CloseGateway(uint64_t gateway) {
  std::shared_ptr<GatewaySession> session;
  {
    std::lock_guard<std::mutex> lock(mu_);
    state_.RemoveGateway(gateway, clock_());
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
      std::vector<v1::GatewayDown> messages = ToGatewayMessages(items);
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

}  // namespace channelstream
