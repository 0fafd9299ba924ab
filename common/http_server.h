// A small asynchronous HTTP/1.1 server on Boost.Beast, shared by the all-in-one binary, the
// gateway and the REST adapter. One acceptor hands sockets round-robin to one io_context per
// thread, so every core serves connections and no lock sits on a connection's path.
//
// The handler gets an HttpExchange per request and either answers it (now or later, from any
// thread: long polls answer seconds later) or takes the socket over (WebSocket upgrade).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/config.h"
#include "common/tls_context.h"

namespace channelstream::common {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;
using HttpRequestHeader = boost::beast::http::request_header<>;
using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class HttpSession;

// What the server does with a request once its headers are in, before any body byte is read:
// a request that fails authentication is answered (and its connection closed if it carried a
// body) without buffering the body; a body that may be read without authentication gets a small
// limit and counts against a server-wide budget.
struct HeaderVerdict {
  enum class Kind { kAuthenticated, kUnauthenticated, kRefuse };
  Kind kind = Kind::kAuthenticated;
  std::shared_ptr<HttpResponse> refusal;  // kRefuse: the complete answer

  static HeaderVerdict Authenticated() { return {Kind::kAuthenticated, nullptr}; }
  static HeaderVerdict Unauthenticated() { return {Kind::kUnauthenticated, nullptr}; }
  static HeaderVerdict Refuse(HttpResponse response) {
    return {Kind::kRefuse, std::make_shared<HttpResponse>(std::move(response))};
  }
};
using HeaderCheck = std::function<HeaderVerdict(const HttpRequestHeader& header,
                                                const boost::asio::ip::address& remote)>;

// Who the client is, decided once from the headers: the TCP peer, or behind trusted proxies the
// address they forwarded (see client_address.h). HeaderCheck and the handler see its answer.
using ClientAddressResolverFn = std::function<boost::asio::ip::address(
    const HttpRequestHeader& header, const boost::asio::ip::address& peer)>;

// One answered request, for the access log and request metrics.
struct HttpAccessRecord {
  std::string method;
  std::string target;               // as sent, query string included: redact before logging
  int status = 0;                   // 101 for a WebSocket taken over
  size_t body_bytes = 0;            // response body bytes sent
  double seconds = 0;               // headers read -> response handed to the socket
  boost::asio::ip::address client;  // after trusted proxies
  std::string_view body;            // the response body (valid during the call only)
};
using AccessObserver = std::function<void(const HttpAccessRecord& record)>;

// Open connections of one server, HTTP and taken-over (WebSocket) alike, checked against
// max_connections at accept. Whoever takes a socket over calls Release() when it closes it.
class ConnectionGauge {
 public:
  void Add() { open_.fetch_add(1, std::memory_order_relaxed); }
  void Release() { open_.fetch_sub(1, std::memory_order_relaxed); }
  int64_t open() const { return open_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> open_{0};
};

// One request in flight. Exactly one of Respond() or TakeSocket() must be called.
class HttpExchange {
 public:
  HttpExchange(std::shared_ptr<HttpSession> session, HttpRequest request,
               boost::asio::ip::address remote, bool authenticated);
  ~HttpExchange();  // an exchange dropped unanswered gets a 500, so no client hangs

  HttpRequest& request() { return request_; }
  const boost::asio::ip::address& remote_address() const { return remote_; }
  // The event loop that owns this connection; timers for the exchange belong on it.
  boost::asio::any_io_executor executor() const;

  // Sends the response (keep-alive honoured). Safe from any thread; later calls are ignored.
  void Respond(HttpResponse response);
  // Hands over the connection (WebSocket upgrade). `leftover` receives bytes already read past
  // the request (decrypted, on TLS). The HTTP session ends without writing anything.
  struct TakenSocket {
    boost::asio::ip::tcp::socket socket;
    SslPtr tls;  // on a TLS port: the connection's SSL, bound to the socket's fd; else null
  };
  TakenSocket TakeSocket(boost::beast::flat_buffer* leftover);
  bool answered() const { return answered_.load(); }
  // The server's HeaderCheck accepted this request as authenticated (no need to check again).
  bool authenticated() const { return authenticated_; }

 private:
  std::shared_ptr<HttpSession> session_;
  HttpRequest request_;
  boost::asio::ip::address remote_;
  bool authenticated_;
  std::atomic<bool> answered_{false};
};

using HttpHandler = std::function<void(std::shared_ptr<HttpExchange>)>;

struct HttpServerOptions {
  // The configuration key table's defaults (common/config_keys.cc), so they are written once.
  HttpServerOptions();
  // The keyed fields from `config`. TLS is left unset: common::HttpServerOptionsFromConfig loads
  // the certificate, which can fail at startup.
  explicit HttpServerOptions(const Config& config);

  std::string host;       // key host
  int port;               // key port; 0: pick a free port (tests), see HttpServer::port()
  int threads;            // key io_threads; 0: one per core
  size_t max_body_bytes;  // key max_request_body_bytes
  double idle_timeout_seconds = 60;  // keep-alive connections idle this long are closed
  // Key max_connections: open connections beyond which new ones get a 503 and are closed at once
  // (0: derived from the open-files limit, keeping a reserve for everything else the process
  // opens).
  int64_t max_connections;
  size_t max_unauthenticated_body_bytes;       // per request (sign-in form, /disconnect)
  size_t max_unauthenticated_bytes_in_flight;  // all such bodies being read at once
  double accept_retry_max_seconds = 1;  // back-off ceiling while accept() finds no descriptors
  // Set: the port speaks only TLS (https, wss) with this context's current certificate.
  std::shared_ptr<TlsContext> tls;
};

// max_connections as the server applies it: `configured`, or the open-files limit less a reserve.
int64_t EffectiveMaxConnections(int64_t configured);

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();

  // Decides on each request from its headers before its body is read. Set before Start().
  void SetHeaderCheck(HeaderCheck check) { header_check_ = std::move(check); }
  // Set before Start(); see ClientAddressResolverFn and AccessObserver.
  void SetClientAddressResolver(ClientAddressResolverFn resolver) {
    client_address_ = std::move(resolver);
  }
  void SetAccessObserver(AccessObserver observer) { access_observer_ = std::move(observer); }
  ConnectionGauge& connections() { return connections_; }
  int64_t max_connections() const { return max_connections_; }

  // Binds and listens. A port in use is an error naming host:port.
  absl::Status Listen();
  // Starts the event-loop threads; returns at once.
  void Start();
  // Closes the listening socket (new connections are refused; open ones go on): the first step
  // of a graceful stop. Returns once it is closed.
  void StopAccepting();
  // Stops accepting, closes the loops and joins the threads.
  void Stop();

  int port() const { return bound_port_; }
  // The loops, so other parts (gateway sessions, timers) can run on the same threads.
  std::vector<boost::asio::io_context*> loops();

 private:
  template <typename Stream>
  friend class HttpSessionOn;
  void Accept();
  // An accepted connection's session: plain HTTP, or TLS when options_.tls is set.
  void StartSession(boost::asio::ip::tcp::socket socket);
  // accept() found no descriptors: wait (doubling up to accept_retry_max_seconds), then retry.
  void PauseAccepting(const boost::system::error_code& ec);
  // At max_connections: a canned 503 written without blocking, then close.
  void RefuseConnection(boost::asio::ip::tcp::socket socket);
  // Reserves `bytes` of the unauthenticated-body budget; false when it is spent.
  bool ReserveUnauthenticated(size_t bytes);
  void ReleaseUnauthenticated(size_t bytes);

  HttpServerOptions options_;
  HttpHandler handler_;
  HeaderCheck header_check_;
  ClientAddressResolverFn client_address_;
  AccessObserver access_observer_;
  ConnectionGauge connections_;
  int64_t max_connections_ = 0;
  std::atomic<size_t> unauthenticated_in_flight_{0};
  std::unique_ptr<boost::asio::steady_timer> accept_retry_timer_;
  double accept_retry_seconds_ = 0;
  // Throttled warnings (accept loop only: contexts_[0]).
  int64_t accept_failures_ = 0, refused_connections_ = 0;
  std::chrono::steady_clock::time_point last_accept_warning_{}, last_refusal_warning_{};
  std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
  std::vector<
      std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>>
      guards_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::vector<std::thread> threads_;
  size_t next_loop_ = 0;
  int bound_port_ = 0;
  bool stopped_ = false;
};

// Helpers for handlers.
// Whether the client asked to keep the connection open (HTTP/1.1 default, Connection header).
bool KeepAlive(const HttpRequestHeader& request);
HttpResponse MakeResponse(const HttpRequestHeader& request, boost::beast::http::status status,
                          std::string body, const std::string& content_type = "application/json");

}  // namespace channelstream::common
