#include "gateway/gateway.h"

#include <unistd.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <chrono>
#include <future>
#include <nlohmann/json.hpp>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/bounded_json.h"
#include "common/ids.h"
#include "common/log.h"
#include "common/positions_json.h"
#include "common/query.h"
#include "gateway/broker_link.h"
#include "gateway/frame.h"
#include "gateway/long_poll.h"
#include "gateway/settings.h"
#include "gateway/shard.h"
#include "gateway/ws_codec.h"
#include "gateway/ws_session.h"

namespace channelstream::gateway {

namespace asio = boost::asio;
namespace http = boost::beast::http;

Gateway::Gateway(const common::Config& config, std::shared_ptr<grpc::Channel> broker_channel,
                 common::HttpServer& server, bool network_channel)
    : host_(config.GetString("host")),
      configured_id_(config.GetString("gateway_id")),
      settings_(std::make_shared<GatewaySettings>(GatewaySettings::FromConfig(config))),
      server_(server),
      stub_(v1::Broker::NewStub(broker_channel)) {
  BrokerLink::Handlers handlers;
  handlers.on_message = [this](v1::GatewayDown* message) { OnBrokerMessage(message); };
  handlers.on_lost = [this](uint64_t generation) { OnStreamLost(generation); };
  link_ = std::make_shared<BrokerLink>(broker_channel, settings_->broker_reconnect_delay,
                                       std::move(handlers), network_channel);
  std::vector<asio::io_context*> loops = server_.loops();
  for (size_t i = 0; i < loops.size(); ++i)
    shards_.push_back(std::make_shared<Shard>(i, loops.size(), loops[i], link_, settings_));
  for (auto& shard : shards_) shard->set_connection_gauge(&server_.connections());
  RegisterMetrics();
}

std::string DefaultGatewayId(const std::string& host, int port) {
  char name[256] = {};
  const bool named = ::gethostname(name, sizeof(name) - 1) == 0 && name[0] != '\0';
  return absl::StrCat(named ? std::string(name) : host, ":", port);
}

void Gateway::RegisterMetrics() {
  common::MetricsRegistry& registry = common::GlobalMetrics();
  // Summed over the shards at scrape time: the hot path only bumps its own shard's counters.
  auto sum = [this](std::atomic<uint64_t> ShardCounters::*field) {
    return [this, field] {
      double total = 0;
      for (const auto& shard : shards_)
        total += static_cast<double>((shard->counters().*field).load(std::memory_order_relaxed));
      return total;
    };
  };
  auto add = [&](const char* name, const char* help, common::MetricType type,
                 common::MetricLabels labels, std::function<double()> fn) {
    metric_callbacks_.emplace_back(&registry,
                                   registry.AddCallback(name, help, type, labels, std::move(fn)));
  };
  add("channelstream_connections", "Clients attached to this gateway, by transport.",
      common::MetricType::kGauge, {{"transport", "websocket"}}, sum(&ShardCounters::websockets));
  add("channelstream_connections", "Clients attached to this gateway, by transport.",
      common::MetricType::kGauge, {{"transport", "long_poll"}}, sum(&ShardCounters::long_polls));
  add("channelstream_deliveries_total",
      "Deliveries received from the broker (one per message, before fan-out).",
      common::MetricType::kCounter, {}, sum(&ShardCounters::deliveries));
  add("channelstream_client_frames_total", "Frames queued to WebSocket clients (after fan-out).",
      common::MetricType::kCounter, {}, sum(&ShardCounters::frames_queued));
  add("channelstream_bytes_out_total",
      "Bytes written to clients (WebSocket frames and long-poll bodies).",
      common::MetricType::kCounter, {}, sum(&ShardCounters::bytes_out));
  add("channelstream_slow_consumer_closes_total",
      "WebSocket clients closed because their queue passed max_queue_messages / max_queue_bytes "
      "(frames dropped).",
      common::MetricType::kCounter, {}, sum(&ShardCounters::slow_consumer_closes));
  add("channelstream_broker_stream_up", "1 while the gateway's stream to the broker is open.",
      common::MetricType::kGauge, {}, [this] { return link_->generation() != 0 ? 1.0 : 0.0; });
}

Gateway::~Gateway() { Stop(); }

void Gateway::Start() {
  if (started_.exchange(true)) return;
  std::string id =
      configured_id_.empty() ? DefaultGatewayId(host_, server_.port()) : configured_id_;
  link_->Start(id);
  for (auto& shard : shards_) {
    asio::post(shard->loop(), [shard] {
      shard->StartTicking();
      shard->WatchSockets();
    });
  }
}

void Gateway::Drain() {
  if (!started_ || stopped_ || draining_.exchange(true)) return;
  const SteadyTime deadline =
      std::chrono::steady_clock::now() + SteadySeconds(settings_->drain_timeout);
  LOG_INFO("draining: ", OpenClients(), " clients, at most ", settings_->drain_timeout,
           " s (drain_timeout)");
  server_.StopAccepting();
  for (auto& shard : shards_) shard->PostDrain(deadline);
  // Each client leaves once it has taken its last frame and answered the close.
  while (OpenClients() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  const uint64_t left = OpenClients();
  link_->Drain(deadline);
  if (left > 0) {
    LOG_WARNING("drain_timeout reached: closing ", left, " clients that have not finished");
  } else {
    LOG_INFO("drained: every client closed");
  }
}

uint64_t Gateway::OpenClients() const {
  uint64_t open = 0;
  for (const auto& shard : shards_) open += shard->open_clients();
  return open;
}

void Gateway::Stop() {
  if (stopped_.exchange(true)) return;
  link_->Stop();  // joins the broker threads: nothing is posted to the shards after this
  if (!started_) return;
  std::vector<std::future<void>> done;
  for (auto& shard : shards_) {
    auto promise = std::make_shared<std::promise<void>>();
    done.push_back(promise->get_future());
    shard->PostShutdown([promise] { promise->set_value(); });
  }
  // The loops may already be stopped; the shards stay alive with any work still posted to them.
  for (auto& future : done) future.wait_for(std::chrono::seconds(2));
}

GatewayStats Gateway::stats() const {
  GatewayStats stats;
  for (const auto& shard : shards_) {
    ShardCounters& counters = shard->counters();
    stats.deliveries += counters.deliveries.load(std::memory_order_relaxed);
    stats.frames_queued += counters.frames_queued.load(std::memory_order_relaxed);
    stats.slow_consumer_closes += counters.slow_consumer_closes.load(std::memory_order_relaxed);
    stats.websockets += counters.websockets.load(std::memory_order_relaxed);
    stats.long_polls += counters.long_polls.load(std::memory_order_relaxed);
    stats.bytes_out += counters.bytes_out.load(std::memory_order_relaxed);
  }
  stats.broker_connected = link_->generation() != 0;
  return stats;
}

// --- Broker side (reader thread) -------------------------------------------------------------

void Gateway::OnBrokerMessage(v1::GatewayDown* message) {
  const size_t shard_count = shards_.size();
  switch (message->kind_case()) {
    case v1::GatewayDown::kBatch:
      for (v1::Delivery& delivery : *message->mutable_batch()->mutable_deliveries())
        OnDelivery(&delivery);
      break;
    case v1::GatewayDown::kAttachResult: {
      auto result = std::make_shared<v1::AttachResult>();
      result->Swap(message->mutable_attach_result());
      shards_[result->handle() % shard_count]->PostAttachResult(std::move(result));
      break;
    }
    case v1::GatewayDown::kKick:
      shards_[message->kick().handle() % shard_count]->PostKick(message->kick().handle());
      break;
    case v1::GatewayDown::KIND_NOT_SET:
      break;
  }
}

void Gateway::OnDelivery(v1::Delivery* delivery) {
  const size_t shard_count = shards_.size();
  FramePtr frame = MakeDeliveryFrame(delivery->payload_json(), delivery->mutable_handles(),
                                     std::move(*delivery->mutable_channel()), delivery->seq(),
                                     delivery->catchup());
  if (shard_count == 1) {
    shards_[0]->PostFrame(std::move(frame));
    return;
  }
  // Post only to the loops that hold a recipient (a bit per loop; all of them past 64).
  uint64_t mask = 0;
  for (uint64_t handle : frame->handles) mask |= uint64_t{1} << ((handle % shard_count) & 63);
  for (size_t i = 0; i < shard_count; ++i) {
    if (shard_count > 64 || (mask >> i) & 1) shards_[i]->PostFrame(frame);
  }
}

void Gateway::OnStreamLost(uint64_t generation) {
  // Ending the stream on purpose: clients are closed as the server going away, not as lost.
  if (stopped_ || draining_) return;
  for (auto& shard : shards_) shard->PostStreamLost(generation);
}

// --- Client side (event loops) ----------------------------------------------------------------

Shard* Gateway::ShardFor(const common::HttpExchange& exchange) const {
  const asio::execution_context* context =
      &asio::query(exchange.executor(), asio::execution::context);
  for (const auto& shard : shards_) {
    if (static_cast<const asio::execution_context*>(&shard->loop()) == context) return shard.get();
  }
  return nullptr;
}

uint64_t Gateway::NextHandle(size_t shard_index) {
  return next_handle_.fetch_add(1, std::memory_order_relaxed) * shards_.size() + shard_index;
}

std::string Gateway::CorsOrigin(const common::HttpRequest& request) const {
  if (settings_->allow_cors.empty()) return "*";
  auto origin = request.find(http::field::origin);
  if (origin == request.end()) return "";
  std::string value(origin->value());
  for (const std::string& allowed : settings_->allow_cors) {
    if (allowed == value || allowed == "*") return value;
  }
  return "";
}

void Gateway::RespondJson(const std::shared_ptr<common::HttpExchange>& exchange,
                          http::status status, std::string body) const {
  common::HttpResponse response =
      common::MakeResponse(exchange->request(), status, std::move(body));
  std::string origin = CorsOrigin(exchange->request());
  if (!origin.empty()) response.set(http::field::access_control_allow_origin, origin);
  exchange->Respond(std::move(response));
}

bool Gateway::Serves(const common::HttpRequestHeader& header) {
  common::RequestTarget target =
      common::ParseTarget(std::string_view(header.target().data(), header.target().size()));
  return target.path == "/ws" || target.path == "/listen" || target.path == "/disconnect";
}

bool Gateway::Handle(const std::shared_ptr<common::HttpExchange>& exchange) {
  common::HttpRequest& request = exchange->request();
  common::RequestTarget target =
      common::ParseTarget(std::string_view(request.target().data(), request.target().size()));
  const bool ws = target.path == "/ws";
  const bool listen = target.path == "/listen";
  const bool disconnect = target.path == "/disconnect";
  if (!ws && !listen && !disconnect) return false;

  if (request.method() == http::verb::options) {  // CORS preflight
    common::HttpResponse response = common::MakeResponse(request, http::status::ok, "");
    std::string origin = CorsOrigin(request);
    if (!origin.empty()) response.set(http::field::access_control_allow_origin, origin);
    response.set(http::field::access_control_allow_methods, "GET, POST, OPTIONS");
    response.set(http::field::access_control_allow_headers, "Content-Type");
    response.set(http::field::access_control_max_age, "86400");
    exchange->Respond(std::move(response));
    return true;
  }
  if (stopped_ || draining_ || !started_) {
    RespondJson(exchange, http::status::service_unavailable,
                "{\"error\": \"gateway not running\"}");
    return true;
  }
  google::protobuf::RepeatedPtrField<v1::Position> since;
  if (ws || listen) {
    // Positions the client presents to resume exactly (common/positions_json.h).
    if (const std::string* text = target.Find("since"); text != nullptr && !text->empty()) {
      if (auto error = common::ReadPositionsText(*text, settings_->max_json_depth, &since)) {
        RespondJson(exchange, http::status::unprocessable_entity,
                    nlohmann::json{{error->field, {error->message}}}.dump());
        return true;
      }
    }
  }
  if (ws) {
    HandleWebSocket(exchange, target.Find("conn_id"), std::move(since));
  } else if (listen) {
    HandleListen(exchange, target.Find("conn_id"), target.Find("callback"), std::move(since));
  } else {
    HandleDisconnect(exchange, target.Find("conn_id"));
  }
  return true;
}

void Gateway::HandleWebSocket(const std::shared_ptr<common::HttpExchange>& exchange,
                              const std::string* conn_id,
                              google::protobuf::RepeatedPtrField<v1::Position> since) {
  common::HttpRequest& request = exchange->request();
  if (!boost::beast::websocket::is_upgrade(request)) {
    RespondJson(exchange, http::status::bad_request,
                "{\"error\": \"/ws expects a WebSocket upgrade (GET with Upgrade: websocket)\"}");
    return;
  }
  auto version = request.find(http::field::sec_websocket_version);
  if (version == request.end() ||
      absl::StripAsciiWhitespace(std::string(version->value())) != "13") {
    common::HttpResponse response =
        common::MakeResponse(request, http::status::upgrade_required,
                             "{\"error\": \"unsupported Sec-WebSocket-Version (13 required)\"}");
    response.set(http::field::sec_websocket_version, "13");
    exchange->Respond(std::move(response));
    return;
  }
  auto key = request.find(http::field::sec_websocket_key);
  if (key == request.end() || key->value().empty()) {
    RespondJson(exchange, http::status::bad_request, "{\"error\": \"missing Sec-WebSocket-Key\"}");
    return;
  }
  if (!settings_->allowed_origins.empty()) {
    auto origin = request.find(http::field::origin);
    if (origin != request.end()) {
      std::string value(origin->value());
      const auto& allowed = settings_->allowed_origins;
      if (std::find(allowed.begin(), allowed.end(), value) == allowed.end()) {
        RespondJson(exchange, http::status::forbidden,
                    "{\"error\": \"Origin not allowed (allowed_origins)\"}");
        return;
      }
    }
  }
  Shard* shard = ShardFor(*exchange);
  if (shard == nullptr || shard->stopped()) {
    RespondJson(exchange, http::status::service_unavailable,
                "{\"error\": \"gateway not running\"}");
    return;
  }
  std::string response = absl::StrCat(
      "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Accept: ",
      ws::AcceptKey(std::string_view(key->value().data(), key->value().size())),
      "\r\nServer: channelstream\r\n\r\n");
  // 0.7 semantics: the upgrade succeeds and an unknown conn_id is closed right away.
  std::string normalized = conn_id != nullptr && common::IsUuid(*conn_id)
                               ? common::NormalizeUuid(*conn_id)
                               : std::string();
  boost::beast::flat_buffer leftover;
  common::HttpExchange::TakenSocket taken = exchange->TakeSocket(&leftover);
  boost::system::error_code ec;
  // Leaves Asio: the shard's epoll set watches it from now on (with its SSL, on a TLS port).
  const int fd = taken.socket.release(ec);
  if (ec) {  // the connection is already gone
    shard->ReleaseConnection();
    return;
  }
  auto bytes = leftover.data();
  WsSession::Open(*shard, fd, NextHandle(shard->index()), std::move(response),
                  std::string_view(static_cast<const char*>(bytes.data()), bytes.size()),
                  normalized, std::move(taken.tls), std::move(since));
  shard->EndTurn();
}

void Gateway::HandleListen(const std::shared_ptr<common::HttpExchange>& exchange,
                           const std::string* conn_id, const std::string* callback,
                           google::protobuf::RepeatedPtrField<v1::Position> since) {
  // 0.7 answers plain JSON to an empty callback=.
  if (callback != nullptr && !callback->empty() && !common::IsValidCallbackName(*callback)) {
    RespondJson(
        exchange, http::status::unprocessable_entity,
        "{\"callback\": [\"Invalid callback name: use letters, digits, '_', '.' or '$'.\"]}");
    return;
  }
  if (conn_id == nullptr || !common::IsUuid(*conn_id)) {
    RespondJson(exchange, http::status::unauthorized, "{\"conn_id\": [\"Unknown connection\"]}");
    return;
  }
  Shard* shard = ShardFor(*exchange);
  if (shard == nullptr || shard->stopped()) {
    RespondJson(exchange, http::status::service_unavailable,
                "{\"error\": \"gateway not running\"}");
    return;
  }
  auto poll = std::make_shared<LongPoll>(
      shard->shared_from_this(), exchange, NextHandle(shard->index()),
      callback != nullptr ? *callback : std::string(), CorsOrigin(exchange->request()));
  poll->Start(common::NormalizeUuid(*conn_id), std::move(since));
  shard->EndTurn();
}

void Gateway::HandleDisconnect(const std::shared_ptr<common::HttpExchange>& exchange,
                               const std::string* query_conn_id) {
  common::HttpRequest& request = exchange->request();
  std::string conn_id;
  bool have = false;
  if (request.method() == http::verb::post && !request.body().empty()) {
    common::BoundedJsonResult parsed =
        common::ParseBoundedJson(request.body(), settings_->max_json_depth);
    const nlohmann::json& body = parsed.value;
    if (!parsed.ok() || !body.is_object()) {
      RespondJson(exchange, http::status::unprocessable_entity,
                  "{\"_schema\": [\"Invalid input type.\"]}");
      return;
    }
    auto it = body.find("conn_id");
    if (it != body.end()) {
      if (!it->is_string()) {
        RespondJson(exchange, http::status::unprocessable_entity,
                    "{\"conn_id\": [\"Not a valid UUID.\"]}");
        return;
      }
      conn_id = it->get<std::string>();
      have = true;
    }
  } else if (request.method() != http::verb::get && request.method() != http::verb::post) {
    RespondJson(exchange, http::status::method_not_allowed, "{\"error\": \"use GET or POST\"}");
    return;
  }
  if (!have && query_conn_id != nullptr) {
    conn_id = *query_conn_id;
    have = true;
  }
  if (!have) {
    RespondJson(exchange, http::status::unprocessable_entity,
                "{\"conn_id\": [\"Missing data for required field.\"]}");
    return;
  }
  if (!common::IsUuid(conn_id)) {
    RespondJson(exchange, http::status::unprocessable_entity,
                "{\"conn_id\": [\"Not a valid UUID.\"]}");
    return;
  }
  // Asynchronous call: the event loop never waits for the broker.
  struct Call {
    grpc::ClientContext context;
    v1::DisconnectRequest request;
    v1::DisconnectResponse response;
  };
  auto call = std::make_shared<Call>();
  call->request.set_conn_id(common::NormalizeUuid(conn_id));
  call->context.set_deadline(
      std::chrono::system_clock::now() +
      std::chrono::milliseconds(static_cast<long long>(settings_->rpc_timeout * 1000)));
  std::string origin = CorsOrigin(request);
  stub_->async()->Disconnect(
      &call->context, &call->request, &call->response,
      [call, exchange, origin](grpc::Status status) {
        http::status code = http::status::ok;
        std::string body;
        if (status.ok()) {
          body = call->response.existed() ? "true" : "false";
        } else if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
          body = "false";
        } else if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
          code = http::status::unprocessable_entity;
          body = nlohmann::json{{"conn_id", {status.error_message()}}}.dump();
        } else {
          code = http::status::service_unavailable;
          body = nlohmann::json{{"error", "broker unavailable: " + status.error_message()}}.dump();
        }
        common::HttpResponse response =
            common::MakeResponse(exchange->request(), code, std::move(body));
        if (!origin.empty()) response.set(http::field::access_control_allow_origin, origin);
        exchange->Respond(std::move(response));
      });
}

}  // namespace channelstream::gateway
