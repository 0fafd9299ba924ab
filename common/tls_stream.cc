#include "common/tls_stream.h"

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

namespace channelstream::common {

namespace asio = boost::asio;
namespace beast = boost::beast;

TlsStream::TlsStream(asio::ip::tcp::socket socket, SSL* ssl)
    : socket_(std::move(socket)),
      ssl_(ssl),
      timer_(socket_.get_executor()),
      deadline_(std::make_shared<Deadline>(Deadline{&socket_})) {
  beast::error_code ignored;
  socket_.non_blocking(true, ignored);  // OpenSSL's reads and writes must never block the loop
  if (ssl_ != nullptr) SSL_set_fd(ssl_.get(), static_cast<int>(socket_.native_handle()));
}

TlsStream::~TlsStream() {
  deadline_->socket = nullptr;  // a deadline handler already queued finds nothing to cancel
}

void TlsStream::expires_after(std::chrono::steady_clock::duration duration) {
  const uint64_t generation = ++deadline_->generation;
  deadline_->expired = false;
  timer_.expires_after(duration);
  timer_.async_wait([deadline = deadline_, generation](const beast::error_code& ec) {
    if (ec || deadline->socket == nullptr || deadline->generation != generation) return;
    deadline->expired = true;
    beast::error_code ignored;
    deadline->socket->cancel(ignored);  // the waiting operation completes with operation_aborted
  });
}

void TlsStream::expires_never() {
  ++deadline_->generation;
  deadline_->expired = false;
  timer_.cancel();
}

int TlsStream::Read(void* data, size_t size) {
  ERR_clear_error();  // SSL_get_error reads this thread's error queue
  return SSL_read(ssl_.get(), data, static_cast<int>(std::min<size_t>(size, 1 << 30)));
}

int TlsStream::Write(const void* data, size_t size) {
  ERR_clear_error();
  return SSL_write(ssl_.get(), data, static_cast<int>(size));
}

TlsStream::Step TlsStream::Classify(int result, beast::error_code& ec) {
  if (ssl_ == nullptr) {
    ec = asio::error::no_memory;
    return Step::kFailed;
  }
  if (result > 0) return Step::kDone;
  switch (SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_NONE:
      return Step::kDone;
    case SSL_ERROR_WANT_READ:
      return Step::kWaitRead;
    case SSL_ERROR_WANT_WRITE:
      return Step::kWaitWrite;
    case SSL_ERROR_ZERO_RETURN:  // close_notify
      ec = asio::error::eof;
      return Step::kFailed;
    case SSL_ERROR_SYSCALL:
      ec = errno != 0 && result < 0 ? beast::error_code(errno, beast::system_category())
                                    : beast::error_code(asio::error::eof);
      return Step::kFailed;
    default: {
      // Not TLS (a plain HTTP request), an untrusted peer, a protocol error: one line says which.
      unsigned long code = ERR_peek_last_error();
      ec = beast::error_code(static_cast<int>(code != 0 ? code : 1),
                             asio::error::get_ssl_category());
      ERR_clear_error();
      return Step::kFailed;
    }
  }
}

void TlsStream::ShutdownSend() {
  if (ssl_ != nullptr && SSL_is_init_finished(ssl_.get())) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());  // sends close_notify if the socket takes it; never waits
    ERR_clear_error();
  }
  beast::error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

}  // namespace channelstream::common
