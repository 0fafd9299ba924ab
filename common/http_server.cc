#include "common/http_server.h"

#include <sys/resource.h>

#include <algorithm>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <future>
#include <memory>
#include <optional>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/tls_stream.h"

namespace channelstream::common {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// What HttpExchange needs of a connection, whichever stream it runs on.
class HttpSession {
 public:
  virtual ~HttpSession() = default;
  virtual asio::any_io_executor executor() = 0;
  virtual void Send(HttpResponse response) = 0;
  virtual HttpExchange::TakenSocket Release(beast::flat_buffer* leftover) = 0;
};

namespace {

// The few things that differ between plain TCP and TLS connections.
void ShutdownSend(beast::tcp_stream& stream) {
  beast::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}
void ShutdownSend(TlsStream& stream) { stream.ShutdownSend(); }
HttpExchange::TakenSocket ReleaseStream(beast::tcp_stream& stream) {
  return {stream.release_socket(), nullptr};
}
HttpExchange::TakenSocket ReleaseStream(TlsStream& stream) {
  SslPtr ssl = stream.release_ssl();
  return {stream.release_socket(), std::move(ssl)};
}

}  // namespace

// One client connection: reads a request's headers, lets the HeaderCheck decide whether and how
// much of the body to read, reads it, hands the request to the handler, writes the answer, repeats.
// `Stream` is beast::tcp_stream, or TlsStream on a TLS port (which first does the handshake).
template <typename Stream>
class HttpSessionOn final : public HttpSession,
                            public std::enable_shared_from_this<HttpSessionOn<Stream>> {
 public:
  template <typename... StreamArgs>
  HttpSessionOn(HttpServer& server, tcp::socket socket, StreamArgs&&... stream_args)
      : stream_(std::move(socket), std::forward<StreamArgs>(stream_args)...), server_(server) {
    server_.connections_.Add();
  }
  ~HttpSessionOn() override {
    ReleaseReservation();
    if (!taken_) server_.connections_.Release();
  }

  void Start() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      stream_.expires_after(
          std::chrono::milliseconds(static_cast<long long>(options().idle_timeout_seconds * 1000)));
      stream_.async_handshake([self = this->shared_from_this()](beast::error_code ec) {
        if (ec) {
          // A plain-HTTP client, an untrusted certificate, a scanner: one line, and the
          // connection closes (the client sees the handshake fail).
          LOG_DEBUG("TLS handshake with ", self->RemoteAddress().to_string(),
                    " failed: ", ec.message());
          self->Shutdown();
          return;
        }
        self->ReadRequest();
      });
    } else {
      ReadRequest();
    }
  }

  asio::any_io_executor executor() override { return stream_.get_executor(); }

  void Send(HttpResponse response) override {
    asio::dispatch(stream_.get_executor(),
                   [self = this->shared_from_this(), response = std::move(response)]() mutable {
                     self->Write(std::move(response));
                   });
  }

  // The socket leaves; the taker now owns its connection slot (ConnectionGauge::Release).
  HttpExchange::TakenSocket Release(beast::flat_buffer* leftover) override {
    if (leftover != nullptr) *leftover = std::move(buffer_);
    Observe(101, {});
    stream_.expires_never();
    taken_ = true;
    return ReleaseStream(stream_);
  }

 private:
  const HttpServerOptions& options() const { return server_.options_; }

  void ReadRequest() {
    parser_.emplace();
    parser_->body_limit(options().max_body_bytes);
    parser_->header_limit(16 * 1024);
    body_limit_ = options().max_body_bytes;
    body_limit_key_ = "max_request_body_bytes";
    authenticated_ = false;
    stream_.expires_after(
        std::chrono::milliseconds(static_cast<long long>(options().idle_timeout_seconds * 1000)));
    http::async_read_header(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(beast::error_code ec) {
    if (ec == http::error::body_limit) {  // a Content-Length over the limit fails in the header
      RefuseTooLarge(body_limit_, body_limit_key_);
      return;
    }
    if (ec) {
      Shutdown();
      return;
    }
    const HttpRequestHeader& header = parser_->get();
    head_request_ = header.method() == http::verb::head;
    if (parser_->chunked()) {
      // Beast 1.74's chunk-header parser asserts (aborts) on some inputs split across reads
      // (found by //tests/fuzz:http_request_fuzz); JSON API clients send Content-Length anyway.
      RefuseBody(http::status::length_required,
                 "Chunked request bodies are not accepted: send Content-Length.");
      return;
    }
    const bool has_body = !parser_->is_done();
    client_ = RemoteAddress();
    if (server_.client_address_) client_ = server_.client_address_(header, client_);
    if (server_.access_observer_) {
      request_started_ = std::chrono::steady_clock::now();
      method_ = std::string(header.method_string());
      target_ = std::string(header.target());
      observe_pending_ = true;
    }
    HeaderVerdict verdict = HeaderVerdict::Authenticated();
    if (server_.header_check_) verdict = server_.header_check_(header, client_);
    switch (verdict.kind) {
      case HeaderVerdict::Kind::kRefuse: {
        HttpResponse response = std::move(*verdict.refusal);
        // The body stays unread, so the connection cannot carry another request.
        if (has_body || !KeepAlive(header)) response.keep_alive(false);
        response.prepare_payload();
        Write(std::move(response));
        return;
      }
      case HeaderVerdict::Kind::kUnauthenticated:
        if (has_body && !ReserveUnauthenticatedBody()) return;
        break;
      case HeaderVerdict::Kind::kAuthenticated:
        authenticated_ = true;
        break;
    }
    if (!has_body) {
      OnRead({});
      return;
    }
    auto expect = header.find(http::field::expect);
    if (expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      // The client waits for this before it sends the body (curl does for large bodies).
      static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue, sizeof(kContinue) - 1),
                        [self = this->shared_from_this()](beast::error_code ec, size_t) {
                          if (ec) return self->Shutdown();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  // Bodies read before authentication get max_unauthenticated_body_bytes each, and all of them
  // together at most max_unauthenticated_bytes_in_flight: unauthenticated clients cannot make the
  // server hold more than that, however many uploads they start and leave unfinished.
  bool ReserveUnauthenticatedBody() {
    const size_t limit =
        std::min(options().max_body_bytes, options().max_unauthenticated_body_bytes);
    boost::optional<uint64_t> length = parser_->content_length();
    if (length && *length > limit) {
      RefuseTooLarge(limit, "max_unauthenticated_body_bytes");
      return false;
    }
    const size_t reserve = length ? static_cast<size_t>(*length) : limit;
    if (!server_.ReserveUnauthenticated(reserve)) {
      RefuseBody(http::status::service_unavailable,
                 "Too many unauthenticated request bodies in progress "
                 "(max_unauthenticated_bytes_in_flight); try again later.");
      return false;
    }
    reserved_ = reserve;
    parser_->body_limit(limit);
    body_limit_ = limit;
    body_limit_key_ = "max_unauthenticated_body_bytes";
    return true;
  }

  // 413 naming the limit and its config key.
  void RefuseTooLarge(size_t limit, const char* key) {
    RefuseBody(http::status::payload_too_large,
               absl::StrCat("Request body larger than ", limit, " bytes (", key, ")."));
  }

  void RefuseBody(http::status status, const std::string& message) {
    HttpResponse response =
        MakeResponse(parser_->get(), status, absl::StrCat("{\"_schema\": [\"", message, "\"]}"));
    response.keep_alive(false);
    if (status == http::status::service_unavailable) response.set(http::field::retry_after, "1");
    Write(std::move(response));
  }

  void ReleaseReservation() {
    if (reserved_ == 0) return;
    server_.ReleaseUnauthenticated(reserved_);
    reserved_ = 0;
  }

  void ReadBody() {
    http::async_read(
        stream_, buffer_, *parser_,
        [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    ReleaseReservation();
    if (ec == http::error::body_limit) {
      RefuseTooLarge(body_limit_, body_limit_key_);
      return;
    }
    if (ec) {
      Shutdown();
      return;
    }
    stream_.expires_never();  // the handler may take its time (long polls)
    auto exchange = std::make_shared<HttpExchange>(this->shared_from_this(), parser_->release(),
                                                   client_, authenticated_);
    try {
      server_.handler_(exchange);
    } catch (const std::exception& e) {
      LOG_ERROR("HTTP handler threw: ", e.what());
      if (!exchange->answered()) {
        exchange->Respond(MakeResponse(exchange->request(), http::status::internal_server_error,
                                       "{\"error\": \"internal error\"}"));
      }
    }
  }

  asio::ip::address RemoteAddress() {
    beast::error_code ignored;
    return stream_.socket().remote_endpoint(ignored).address();
  }

  // Reports the request that is being answered to the access observer, once.
  void Observe(int status, std::string_view body) {
    if (!observe_pending_ || !server_.access_observer_) return;
    observe_pending_ = false;
    HttpAccessRecord record;
    record.method = std::move(method_);
    record.target = std::move(target_);
    record.status = status;
    record.body_bytes = head_request_ ? 0 : body.size();
    record.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - request_started_).count();
    record.client = client_;
    record.body = body;
    try {
      server_.access_observer_(record);
    } catch (const std::exception& e) {
      LOG_ERROR("access observer threw: ", e.what());
    }
  }

  void Shutdown() {
    if constexpr (std::is_same_v<Stream, TlsStream>) ShutdownSend(stream_);  // close_notify first
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  }

  void Write(HttpResponse response) {
    Observe(response.result_int(), response.body());
    if (head_request_) {
      // HEAD: the headers of the GET answer, no body (a keep-alive client reads none).
      const size_t length = response.body().size();
      response.body().clear();
      response.content_length(length);
    }
    bool keep_alive = response.keep_alive();
    auto message = std::make_shared<HttpResponse>(std::move(response));
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(
        stream_, *message,
        [self = this->shared_from_this(), message, keep_alive](beast::error_code ec, size_t) {
          if (ec || !keep_alive) {
            ShutdownSend(self->stream_);
            return;
          }
          self->ReadRequest();
        });
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  HttpServer& server_;
  size_t reserved_ = 0;  // bytes of the unauthenticated-body budget this request holds
  size_t body_limit_ = 0;
  const char* body_limit_key_ = "";
  bool authenticated_ = false;
  bool head_request_ = false;
  bool taken_ = false;
  bool observe_pending_ = false;  // an access record is due for the current request
  asio::ip::address client_;      // the current request's client (after trusted proxies)
  std::string method_, target_;
  std::chrono::steady_clock::time_point request_started_;
};

HttpExchange::HttpExchange(std::shared_ptr<HttpSession> session, HttpRequest request,
                           asio::ip::address remote, bool authenticated)
    : session_(std::move(session)),
      request_(std::move(request)),
      remote_(std::move(remote)),
      authenticated_(authenticated) {}

HttpExchange::~HttpExchange() {
  if (!answered_.exchange(true) && session_) {
    HttpResponse response{http::status::internal_server_error, request_.version()};
    response.set(http::field::content_type, "application/json");
    response.body() = "{\"error\": \"request dropped without an answer\"}";
    response.keep_alive(false);
    response.prepare_payload();
    session_->Send(std::move(response));
  }
}

asio::any_io_executor HttpExchange::executor() const { return session_->executor(); }

void HttpExchange::Respond(HttpResponse response) {
  if (answered_.exchange(true)) return;
  if (!request_.keep_alive()) response.keep_alive(false);
  response.prepare_payload();
  session_->Send(std::move(response));
}

HttpExchange::TakenSocket HttpExchange::TakeSocket(beast::flat_buffer* leftover) {
  answered_ = true;
  return session_->Release(leftover);
}

bool KeepAlive(const HttpRequestHeader& request) {
  auto connection = request.find(http::field::connection);
  if (connection == request.end()) return request.version() >= 11;
  http::token_list tokens(connection->value());
  return request.version() >= 11 ? !tokens.exists("close") : tokens.exists("keep-alive");
}

HttpResponse MakeResponse(const HttpRequestHeader& request, http::status status, std::string body,
                          const std::string& content_type) {
  HttpResponse response{status, request.version()};
  response.set(http::field::server, "channelstream");
  response.set(http::field::content_type, content_type);
  response.keep_alive(KeepAlive(request));
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpServerOptions::HttpServerOptions() : HttpServerOptions(Config()) {}

HttpServerOptions::HttpServerOptions(const Config& config)
    : host(config.GetString("host")),
      port(static_cast<int>(config.GetInt("port"))),
      threads(static_cast<int>(config.GetInt("io_threads"))),
      max_body_bytes(static_cast<size_t>(config.GetInt("max_request_body_bytes"))),
      max_connections(config.GetInt("max_connections")),
      max_unauthenticated_body_bytes(
          static_cast<size_t>(config.GetInt("max_unauthenticated_body_bytes"))),
      max_unauthenticated_bytes_in_flight(
          static_cast<size_t>(config.GetInt("max_unauthenticated_bytes_in_flight"))) {}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {
  int threads =
      options_.threads > 0 ? options_.threads : std::max(1u, std::thread::hardware_concurrency());
  for (int i = 0; i < threads; ++i) {
    contexts_.push_back(std::make_unique<asio::io_context>(1));
    guards_.push_back(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
        contexts_.back()->get_executor()));
  }
}

HttpServer::~HttpServer() { Stop(); }

std::vector<asio::io_context*> HttpServer::loops() {
  std::vector<asio::io_context*> result;
  for (auto& context : contexts_) result.push_back(context.get());
  return result;
}

absl::Status HttpServer::Listen() {
  beast::error_code ec;
  auto address = asio::ip::make_address(options_.host, ec);
  if (ec)
    return absl::InvalidArgumentError(
        absl::StrCat("host: not an IP address: '", options_.host, "'"));
  tcp::endpoint endpoint(address, static_cast<unsigned short>(options_.port));
  acceptor_ = std::make_unique<tcp::acceptor>(*contexts_[0]);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", options_.host, ":", options_.port, ": ", ec.message()));
  }
  bound_port_ = acceptor_->local_endpoint().port();
  max_connections_ = EffectiveMaxConnections(options_.max_connections);
  Accept();
  return absl::OkStatus();
}

int64_t EffectiveMaxConnections(int64_t configured) {
  if (configured > 0) return configured;
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return 100000;
  // Keep a tenth (at least 32) for everything else: gRPC, epoll sets, log files, timers.
  const int64_t open_files = static_cast<int64_t>(limit.rlim_cur);
  return std::max<int64_t>(1, open_files - std::max<int64_t>(32, open_files / 10));
}

void HttpServer::Accept() {
  asio::io_context& target = *contexts_[next_loop_];
  next_loop_ = (next_loop_ + 1) % contexts_.size();
  acceptor_->async_accept(target, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
    if (!ec) {
      accept_retry_seconds_ = 0;
      if (connections_.open() >= max_connections_) {
        RefuseConnection(std::move(socket));
      } else {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        StartSession(std::move(socket));
      }
    } else if (ec == asio::error::no_descriptors || ec.value() == ENFILE || ec.value() == ENOBUFS ||
               ec.value() == ENOMEM) {
      PauseAccepting(ec);  // retrying at once would spin: nothing frees a descriptor meanwhile
      return;
    }
    Accept();
  });
}

void HttpServer::StartSession(tcp::socket socket) {
  if (!options_.tls) {
    std::make_shared<HttpSessionOn<beast::tcp_stream>>(*this, std::move(socket))->Start();
    return;
  }
  SSL* ssl = options_.tls->NewSsl();
  if (ssl == nullptr) {  // out of memory: drop this one connection, keep serving
    LOG_WARNING("TLS: cannot allocate a connection (SSL_new failed)");
    return;
  }
  std::make_shared<HttpSessionOn<TlsStream>>(*this, std::move(socket), ssl)->Start();
}

void HttpServer::PauseAccepting(const beast::error_code& ec) {
  ++accept_failures_;
  accept_retry_seconds_ = std::min(options_.accept_retry_max_seconds,
                                   accept_retry_seconds_ == 0 ? 0.01 : accept_retry_seconds_ * 2);
  const auto now = std::chrono::steady_clock::now();
  if (now - last_accept_warning_ >= std::chrono::seconds(5)) {
    LOG_WARNING("accept: ", ec.message(), " (", accept_failures_, " times since the last report, ",
                connections_.open(), " connections open); pausing accepts, retrying every ",
                accept_retry_seconds_,
                " s at most. Raise the open-files limit or lower max_connections.");
    last_accept_warning_ = now;
    accept_failures_ = 0;
  }
  if (!accept_retry_timer_)
    accept_retry_timer_ = std::make_unique<asio::steady_timer>(*contexts_[0]);
  accept_retry_timer_->expires_after(
      std::chrono::microseconds(static_cast<int64_t>(accept_retry_seconds_ * 1e6)));
  accept_retry_timer_->async_wait([this](beast::error_code wait_ec) {
    if (wait_ec || stopped_ || !acceptor_->is_open()) return;
    Accept();
  });
}

void HttpServer::RefuseConnection(tcp::socket socket) {
  static const char kRefusal[] =
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
      "Retry-After: 1\r\nConnection: close\r\nContent-Length: 67\r\n\r\n"
      "{\"error\": \"server at max_connections; try again later\", \"retry\": 1}";
  static_assert(
      sizeof("{\"error\": \"server at max_connections; try again later\", \"retry\": 1}") - 1 ==
      67);
  beast::error_code ignored;
  socket.non_blocking(true, ignored);  // a fresh socket's send buffer takes it whole; never wait
  socket.write_some(asio::buffer(kRefusal, sizeof(kRefusal) - 1), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
  ++refused_connections_;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_warning_ >= std::chrono::seconds(5)) {
    LOG_WARNING("max_connections (", max_connections_, ") reached: refused ", refused_connections_,
                " connections since the last report");
    last_refusal_warning_ = now;
    refused_connections_ = 0;
  }
}

bool HttpServer::ReserveUnauthenticated(size_t bytes) {
  size_t current = unauthenticated_in_flight_.load(std::memory_order_relaxed);
  do {
    if (current + bytes > options_.max_unauthenticated_bytes_in_flight) return false;
  } while (!unauthenticated_in_flight_.compare_exchange_weak(current, current + bytes));
  return true;
}

void HttpServer::ReleaseUnauthenticated(size_t bytes) {
  unauthenticated_in_flight_.fetch_sub(bytes, std::memory_order_relaxed);
}

void HttpServer::Start() {
  for (auto& context : contexts_) {
    threads_.emplace_back([context = context.get()] { context->run(); });
  }
}

void HttpServer::StopAccepting() {
  if (!acceptor_ || stopped_) return;
  auto closed = std::make_shared<std::promise<void>>();
  std::future<void> done = closed->get_future();
  asio::post(*contexts_[0], [this, closed] {
    beast::error_code ignored;
    acceptor_->close(ignored);
    if (accept_retry_timer_) accept_retry_timer_->cancel();
    closed->set_value();
  });
  // Bounded: the loops may not be running (then Stop() closes it).
  done.wait_for(std::chrono::seconds(2));
}

void HttpServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (acceptor_) {
    asio::post(*contexts_[0], [this] {
      beast::error_code ignored;
      acceptor_->close(ignored);
      if (accept_retry_timer_) accept_retry_timer_->cancel();
    });
  }
  guards_.clear();
  for (auto& context : contexts_) context->stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace channelstream::common
