#include "common/http_server.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace channelstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// One client connection: reads a request, hands it to the handler, writes the answer, repeats.
class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, const HttpServerOptions& options, const HttpHandler& handler)
      : stream_(std::move(socket)), options_(options), handler_(handler) {}

  void Start() { ReadRequest(); }

  asio::any_io_executor executor() { return stream_.get_executor(); }

  void Send(HttpResponse response) {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this(),
                                            response = std::move(response)]() mutable {
      self->Write(std::move(response));
    });
  }

  tcp::socket Release(beast::flat_buffer* leftover) {
    if (leftover != nullptr) *leftover = std::move(buffer_);
    stream_.expires_never();
    return stream_.release_socket();
  }

 private:
  void ReadRequest() {
    parser_.emplace();
    parser_->body_limit(options_.max_body_bytes);
    parser_->header_limit(16 * 1024);
    stream_.expires_after(std::chrono::milliseconds(
        static_cast<long long>(options_.idle_timeout_seconds * 1000)));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      HttpResponse response{http::status::payload_too_large, 11};
      response.set(http::field::content_type, "application/json");
      response.keep_alive(false);
      response.body() = absl::StrCat("{\"_schema\": [\"Request body larger than ",
                                     options_.max_body_bytes, " bytes (max_request_body_bytes).\"]}");
      response.prepare_payload();
      Write(std::move(response));
      return;
    }
    if (ec) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      return;
    }
    stream_.expires_never();  // the handler may take its time (long polls)
    beast::error_code remote_ec;
    auto remote = stream_.socket().remote_endpoint(remote_ec).address();
    auto exchange = std::make_shared<HttpExchange>(shared_from_this(), parser_->release(), remote);
    try {
      handler_(exchange);
    } catch (const std::exception& e) {
      LOG_ERROR("HTTP handler threw: ", e.what());
      if (!exchange->answered()) {
        exchange->Respond(MakeResponse(exchange->request(), http::status::internal_server_error,
                                       "{\"error\": \"internal error\"}"));
      }
    }
  }

  void Write(HttpResponse response) {
    bool keep_alive = response.keep_alive();
    auto message = std::make_shared<HttpResponse>(std::move(response));
    stream_.expires_after(std::chrono::seconds(30));
    http::async_write(stream_, *message,
                      [self = shared_from_this(), message, keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive) {
                          beast::error_code ignored;
                          self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
                          return;
                        }
                        self->ReadRequest();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  const HttpServerOptions& options_;
  const HttpHandler& handler_;
};

HttpExchange::HttpExchange(std::shared_ptr<HttpSession> session, HttpRequest request,
                           asio::ip::address remote)
    : session_(std::move(session)), request_(std::move(request)), remote_(std::move(remote)) {}

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

tcp::socket HttpExchange::TakeSocket(beast::flat_buffer* leftover) {
  answered_ = true;
  return session_->Release(leftover);
}

HttpResponse MakeResponse(const HttpRequest& request, http::status status, std::string body,
                          const std::string& content_type) {
  HttpResponse response{status, request.version()};
  response.set(http::field::server, "channelstream");
  response.set(http::field::content_type, content_type);
  response.keep_alive(request.keep_alive());
  response.body() = std::move(body);
  response.prepare_payload();
  return response;
}

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {
  int threads = options_.threads > 0 ? options_.threads
                                     : std::max(1u, std::thread::hardware_concurrency());
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
  if (ec) return absl::InvalidArgumentError(absl::StrCat("host: not an IP address: '", options_.host, "'"));
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
  Accept();
  return absl::OkStatus();
}

void HttpServer::Accept() {
  asio::io_context& target = *contexts_[next_loop_];
  next_loop_ = (next_loop_ + 1) % contexts_.size();
  acceptor_->async_accept(target, [this](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_->is_open()) return;
    if (!ec) {
      beast::error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      std::make_shared<HttpSession>(std::move(socket), options_, handler_)->Start();
    } else if (ec == asio::error::no_descriptors) {
      LOG_WARNING("accept: out of file descriptors");
    }
    Accept();
  });
}

void HttpServer::Start() {
  for (auto& context : contexts_) {
    threads_.emplace_back([context = context.get()] { context->run(); });
  }
}

void HttpServer::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (acceptor_) {
    asio::post(*contexts_[0], [this] {
      beast::error_code ignored;
      acceptor_->close(ignored);
    });
  }
  guards_.clear();
  for (auto& context : contexts_) context->stop();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

}  // namespace channelstream
