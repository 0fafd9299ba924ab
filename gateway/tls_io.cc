#include "gateway/tls_io.h"

#include <openssl/err.h>

#include <algorithm>

namespace channelstream::gateway {

namespace {

TlsIo Classify(SSL* ssl, int result) {
  if (result > 0) return {TlsIo::kDone, static_cast<size_t>(result)};
  const int error = SSL_get_error(ssl, result);
  ERR_clear_error();  // leave nothing in this thread's queue for the next connection's call
  switch (error) {
    case SSL_ERROR_WANT_READ:
      return {TlsIo::kWantRead};
    case SSL_ERROR_WANT_WRITE:
      return {TlsIo::kWantWrite};
    case SSL_ERROR_ZERO_RETURN:
      return {TlsIo::kClosed};
    case SSL_ERROR_SYSCALL:
      return {result == 0 ? TlsIo::kClosed : TlsIo::kFailed};
    default:
      return {TlsIo::kFailed};
  }
}

constexpr size_t kMaxCall = 1 << 30;  // SSL_read/SSL_write take an int

}  // namespace

TlsIo TlsRead(SSL* ssl, void* buffer, size_t size) {
  ERR_clear_error();  // SSL_get_error reads this thread's error queue
  return Classify(ssl, SSL_read(ssl, buffer, static_cast<int>(std::min(size, kMaxCall))));
}

TlsIo TlsWrite(SSL* ssl, const void* data, size_t size) {
  ERR_clear_error();
  return Classify(ssl, SSL_write(ssl, data, static_cast<int>(std::min(size, kMaxCall))));
}

void TlsClose(SSL* ssl, bool notify) {
  if (notify && SSL_is_init_finished(ssl)) {
    ERR_clear_error();
    SSL_shutdown(ssl);
    ERR_clear_error();
  }
  SSL_free(ssl);
}

}  // namespace channelstream::gateway
