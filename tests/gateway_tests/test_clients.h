// Real-socket clients for the gateway tests: a Beast WebSocket client with read timeouts that
// leave the read pending (so "nothing arrived yet" does not break the connection), and a
// blocking HTTP GET/POST helper.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace channelstream::testing {

namespace beast = boost::beast;
namespace asio = boost::asio;
namespace websocket = beast::websocket;
namespace http = beast::http;
using tcp = asio::ip::tcp;

class WsClient {
 public:
  WsClient() : ws_(ioc_) {}

  // Connects and upgrades; returns false (with `status` set when the server answered HTTP).
  bool Connect(int port, const std::string& target,
               const std::map<std::string, std::string>& headers = {}, int* status = nullptr,
               int receive_buffer = 0) {
    beast::error_code ec;
    auto& socket = beast::get_lowest_layer(ws_);
    socket.open(tcp::v4(), ec);
    if (receive_buffer > 0)
      socket.set_option(asio::socket_base::receive_buffer_size(receive_buffer), ec);
    socket.connect(
        tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
    if (ec) return false;
    ws_.set_option(websocket::stream_base::decorator([headers](websocket::request_type& request) {
      for (const auto& [name, value] : headers) request.set(name, value);
    }));
    websocket::response_type response;
    ws_.handshake(response, "127.0.0.1", target, ec);
    if (status != nullptr) *status = static_cast<int>(response.result_int());
    return !ec;
  }

  // The next text frame, or nullopt on timeout or close (closed() tells which).
  std::optional<std::string> Read(double timeout_seconds = 5) {
    if (closed_) return std::nullopt;
    if (!reading_) {
      reading_ = true;
      done_ = false;
      ws_.async_read(buffer_, [this](beast::error_code ec, size_t) {
        done_ = true;
        reading_ = false;
        ec_ = ec;
      });
    }
    ioc_.restart();
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
    while (!done_ && std::chrono::steady_clock::now() < deadline) {
      ioc_.run_one_for(std::chrono::milliseconds(20));
    }
    if (!done_) return std::nullopt;
    if (ec_) {
      closed_ = true;
      close_code_ = ws_.reason().code;
      close_reason_ = std::string(ws_.reason().reason.c_str());
      return std::nullopt;
    }
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    return text;
  }

  // Reads frames until `pred(frame)` holds or the time is up; heartbeats `[]` are skipped.
  template <typename Pred>
  std::optional<std::string> ReadUntil(Pred pred, double timeout_seconds = 5) {
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
    while (std::chrono::steady_clock::now() < deadline) {
      double left =
          std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      auto frame = Read(left);
      if (!frame) return std::nullopt;
      if (pred(*frame)) return frame;
    }
    return std::nullopt;
  }

  // Waits for the server to close; true when it did within the time.
  bool WaitClosed(double timeout_seconds = 5) {
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_seconds);
    while (!closed_ && std::chrono::steady_clock::now() < deadline) {
      double left =
          std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      Read(left);
    }
    return closed_;
  }

  void SendText(const std::string& text) {
    beast::error_code ec;
    ws_.text(true);
    ws_.write(asio::buffer(text), ec);
  }

  bool closed() const { return closed_; }
  int close_code() const { return close_code_; }
  const std::string& close_reason() const { return close_reason_; }
  beast::error_code error() const { return ec_; }

 private:
  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  bool reading_ = false;
  bool done_ = false;
  bool closed_ = false;
  int close_code_ = 0;
  std::string close_reason_;
  beast::error_code ec_;
};

struct HttpResult {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;
};

inline HttpResult HttpCall(int port, http::verb method, const std::string& target,
                           const std::string& body = "",
                           const std::map<std::string, std::string>& headers = {}) {
  asio::io_context ioc;
  tcp::socket socket(ioc);
  beast::error_code ec;
  socket.connect(
      tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
  HttpResult result;
  if (ec) return result;
  http::request<http::string_body> request{method, target, 11};
  request.set(http::field::host, "127.0.0.1");
  for (const auto& [name, value] : headers) request.set(name, value);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
  }
  request.prepare_payload();
  http::write(socket, request, ec);
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(socket, buffer, response, ec);
  if (ec) return result;
  result.status = static_cast<int>(response.result_int());
  result.body = response.body();
  for (const auto& field : response)
    result.headers[std::string(field.name_string())] = std::string(field.value());
  return result;
}

}  // namespace channelstream::testing
