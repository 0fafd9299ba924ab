// An Asio/Beast stream that speaks TLS through an SSL* bound straight to the socket's fd
// (SSL_set_fd), waiting for readiness with the socket's async_wait.
//
// Why not asio::ssl::stream: its engine keeps OpenSSL behind a memory BIO pair, so after a
// WebSocket upgrade the ciphertext already pulled off the socket and the SSL state would have to
// be carried out of it by hand. Here OpenSSL reads and writes the fd itself, so the same SSL*
// is handed, with the fd, to the gateway's epoll-driven WsSession: nothing is buffered anywhere
// but in OpenSSL (whose pending plaintext the session drains with SSL_pending).
#pragma once

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/error.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>

#include "common/tls_context.h"

namespace channelstream::common {

class TlsStream {
 public:
  using executor_type = boost::asio::any_io_executor;

  // Takes `ssl` (from TlsContext::NewSsl) and binds it to the socket, made non-blocking.
  TlsStream(boost::asio::ip::tcp::socket socket, SSL* ssl);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  executor_type get_executor() { return socket_.get_executor(); }
  boost::asio::ip::tcp::socket& socket() { return socket_; }
  SSL* ssl() { return ssl_.get(); }

  // Operations still waiting when the time is up complete with beast::error::timeout
  // (as beast::tcp_stream's do).
  void expires_after(std::chrono::steady_clock::duration duration);
  void expires_never();

  // Best effort, never waits: one close_notify attempt, then the TCP send side is shut.
  void ShutdownSend();
  // Hands over the SSL* (still bound to the fd); the caller releases the socket next.
  SslPtr release_ssl() { return std::move(ssl_); }
  boost::asio::ip::tcp::socket release_socket() { return std::move(socket_); }

  template <typename Handler>
  auto async_handshake(Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code)>(HandshakeOp{this},
                                                                               handler, socket_);
  }
  template <typename Buffers, typename Handler>
  auto async_read_some(const Buffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, size_t)>(
        ReadOp<Buffers>{this, buffers}, handler, socket_);
  }
  template <typename Buffers, typename Handler>
  auto async_write_some(const Buffers& buffers, Handler&& handler) {
    return boost::asio::async_compose<Handler, void(boost::beast::error_code, size_t)>(
        WriteOp{this, Flatten(buffers)}, handler, socket_);
  }

 private:
  // What one SSL call asks for next.
  enum class Step { kDone, kWaitRead, kWaitWrite, kFailed };
  struct Deadline {
    boost::asio::ip::tcp::socket* socket;  // nullptr once the stream is gone
    uint64_t generation = 0;
    bool expired = false;
  };

  // Classifies SSL_* return `result`; sets `ec` on failure (a clean or unclean EOF is eof).
  Step Classify(int result, boost::beast::error_code& ec);
  int Handshake() {
    ERR_clear_error();
    return SSL_do_handshake(ssl_.get());
  }
  int Read(void* data, size_t size);
  int Write(const void* data, size_t size);

  // Writes go out one TLS record at a time: at most 16 KB, gathered from the buffer sequence
  // (Beast's serializer hands header and body as separate pieces).
  template <typename Buffers>
  static std::string Flatten(const Buffers& buffers) {
    std::string bytes;
    constexpr size_t kMax = 16 * 1024;
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers) && bytes.size() < kMax; ++it) {
      boost::asio::const_buffer piece(*it);
      bytes.append(static_cast<const char*>(piece.data()),
                   std::min(piece.size(), kMax - bytes.size()));
    }
    return bytes;
  }

  // One step of an operation: on kDone or failure completes (posting if nothing was awaited
  // yet, so a handler never runs inside its initiating call), else waits for the socket.
  template <typename Self, typename... Result>
  void Continue(Self& self, bool& waited, Step step, boost::beast::error_code ec,
                Result... result) {
    if ((step == Step::kWaitRead || step == Step::kWaitWrite) && deadline_->expired) {
      step = Step::kFailed;
      ec = boost::beast::error::timeout;
    }
    if (step == Step::kWaitRead || step == Step::kWaitWrite) {
      waited = true;
      socket_.async_wait(step == Step::kWaitRead ? boost::asio::socket_base::wait_read
                                                 : boost::asio::socket_base::wait_write,
                         std::move(self));
      return;
    }
    if (!waited) {
      waited = true;
      boost::asio::post(socket_.get_executor(), [self = std::move(self), ec, result...]() mutable {
        self.complete(ec, result...);
      });
      return;
    }
    self.complete(ec, result...);
  }

  // A wait that ended: cancelled by the deadline (timeout), or failed.
  bool WaitFailed(const boost::beast::error_code& wait_ec, boost::beast::error_code& ec) {
    if (!wait_ec) return false;
    ec = deadline_->expired ? boost::beast::error_code(boost::beast::error::timeout) : wait_ec;
    return true;
  }

  struct HandshakeOp {
    TlsStream* stream;
    bool waited = false;
    template <typename Self>
    void operator()(Self& self, boost::beast::error_code wait_ec = {}) {
      boost::beast::error_code ec;
      if (stream->WaitFailed(wait_ec, ec)) return self.complete(ec);
      Step step = stream->Classify(stream->Handshake(), ec);
      stream->Continue(self, waited, step, ec);
    }
  };

  template <typename Buffers>
  struct ReadOp {
    TlsStream* stream;
    Buffers buffers;
    bool waited = false;
    template <typename Self>
    void operator()(Self& self, boost::beast::error_code wait_ec = {}) {
      boost::beast::error_code ec;
      if (stream->WaitFailed(wait_ec, ec)) return self.complete(ec, size_t{0});
      boost::asio::mutable_buffer target;
      for (auto it = boost::asio::buffer_sequence_begin(buffers);
           it != boost::asio::buffer_sequence_end(buffers); ++it) {
        target = boost::asio::mutable_buffer(*it);
        if (target.size() > 0) break;
      }
      if (target.size() == 0) return stream->Continue(self, waited, Step::kDone, ec, size_t{0});
      const int n = stream->Read(target.data(), target.size());
      Step step = stream->Classify(n, ec);
      stream->Continue(self, waited, step, ec,
                       step == Step::kDone ? static_cast<size_t>(n) : size_t{0});
    }
  };

  struct WriteOp {
    TlsStream* stream;
    std::string bytes;  // the same bytes are offered again after WANT_WRITE, as OpenSSL requires
    bool waited = false;
    template <typename Self>
    void operator()(Self& self, boost::beast::error_code wait_ec = {}) {
      boost::beast::error_code ec;
      if (stream->WaitFailed(wait_ec, ec)) return self.complete(ec, size_t{0});
      if (bytes.empty()) return stream->Continue(self, waited, Step::kDone, ec, size_t{0});
      const int n = stream->Write(bytes.data(), bytes.size());
      Step step = stream->Classify(n, ec);
      stream->Continue(self, waited, step, ec,
                       step == Step::kDone ? static_cast<size_t>(n) : size_t{0});
    }
  };

  boost::asio::ip::tcp::socket socket_;
  SslPtr ssl_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<Deadline> deadline_;
};

}  // namespace channelstream::common
