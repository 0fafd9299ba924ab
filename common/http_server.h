// A small asynchronous HTTP/1.1 server on Boost.Beast, shared by the all-in-one binary, the
// gateway and the REST adapter. One acceptor hands sockets round-robin to one io_context per
// thread, so every core serves connections and no lock sits on a connection's path.
//
// The handler gets an HttpExchange per request and either answers it (now or later, from any
// thread: long polls answer seconds later) or takes the socket over (WebSocket upgrade).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "absl/status/status.h"

namespace channelstream {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class HttpSession;

// One request in flight. Exactly one of Respond() or TakeSocket() must be called.
class HttpExchange {
 public:
  HttpExchange(std::shared_ptr<HttpSession> session, HttpRequest request,
               boost::asio::ip::address remote);
  ~HttpExchange();  // an exchange dropped unanswered gets a 500, so no client hangs

  HttpRequest& request() { return request_; }
  const boost::asio::ip::address& remote_address() const { return remote_; }
  // The event loop that owns this connection; timers for the exchange belong on it.
  boost::asio::any_io_executor executor() const;

  // Sends the response (keep-alive honoured). Safe from any thread; later calls are ignored.
  void Respond(HttpResponse response);
  // Hands over the connection (WebSocket upgrade). `leftover` receives bytes already read past
  // the request. The HTTP session ends without writing anything.
  boost::asio::ip::tcp::socket TakeSocket(boost::beast::flat_buffer* leftover);
  bool answered() const { return answered_.load(); }

 private:
  std::shared_ptr<HttpSession> session_;
  HttpRequest request_;
  boost::asio::ip::address remote_;
  std::atomic<bool> answered_{false};
};

using HttpHandler = std::function<void(std::shared_ptr<HttpExchange>)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8000;             // 0: pick a free port (tests); see HttpServer::port()
  int threads = 0;             // 0: one per core
  size_t max_body_bytes = 1 << 20;
  double idle_timeout_seconds = 60;  // keep-alive connections idle this long are closed
};

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();

  // Binds and listens. A port in use is an error naming host:port.
  absl::Status Listen();
  // Starts the event-loop threads; returns at once.
  void Start();
  // Stops accepting, closes the loops and joins the threads.
  void Stop();

  int port() const { return bound_port_; }
  // The loops, so other parts (gateway sessions, timers) can run on the same threads.
  std::vector<boost::asio::io_context*> loops();

 private:
  void Accept();

  HttpServerOptions options_;
  HttpHandler handler_;
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>> guards_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::vector<std::thread> threads_;
  size_t next_loop_ = 0;
  int bound_port_ = 0;
  bool stopped_ = false;
};

// Helpers for handlers.
HttpResponse MakeResponse(const HttpRequest& request, boost::beast::http::status status,
                          std::string body, const std::string& content_type = "application/json");

}  // namespace channelstream
