// Non-blocking TLS reads and writes on an SSL* bound to a socket fd, for the epoll-driven
// WebSocket sessions (wss): each call says whether it moved bytes or what it waits for.
#pragma once

#include <openssl/ssl.h>

#include <cstddef>

namespace channelstream::gateway {

struct TlsIo {
  enum Kind { kDone, kWantRead, kWantWrite, kClosed, kFailed } kind;
  size_t bytes = 0;  // kDone: how many were read or written
};

// SSL_read: kDone with bytes > 0, kWantRead once both the socket and OpenSSL's buffer are empty,
// kClosed at the peer's close_notify or end of stream.
TlsIo TlsRead(SSL* ssl, void* buffer, size_t size);
// SSL_write (SSL_MODE_ENABLE_PARTIAL_WRITE: kDone may cover part of `size`). After kWantWrite
// or kWantRead the same bytes must be offered again first.
TlsIo TlsWrite(SSL* ssl, const void* data, size_t size);
// Best effort close_notify (never waits) when `notify`, then SSL_free. The fd stays open.
void TlsClose(SSL* ssl, bool notify);

}  // namespace channelstream::gateway
