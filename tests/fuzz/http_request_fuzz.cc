// Fuzzes HTTP request parsing as common/http_server.cc does it: Boost.Beast's
// request_parser<string_body> with a 16 KiB header limit and the body limit
// (max_request_body_bytes, or max_unauthenticated_body_bytes once the headers are in), fed the
// bytes in pieces through put(), then the request target through common/query.h. Input:
// [flags][split seed][bytes...].
//
// Checks: the parser never consumes more than it was given; the bytes parsed whole and in pieces
// both fail (the same way when it is the body limit) or give the same request; a complete request
// keeps within the header limit (as Beast applies it: see below) and the body limit (a
// Content-Length body is exactly that long); written out again it parses back to the same request;
// the fields the server reads can be read; ParseTarget of the target agrees with PercentDecode of
// its path.
#include <algorithm>
#include <boost/asio/buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>

#include "common/query.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using channelstream::fuzz::FuzzInput;
using channelstream::fuzz::Splitter;

constexpr size_t kHeaderLimit = 16 * 1024;       // common/http_server.cc
constexpr size_t kMaxBodyBytes = 1 << 20;        // max_request_body_bytes' default
constexpr size_t kUnauthenticatedBytes = 16384;  // max_unauthenticated_body_bytes' default

struct Outcome {
  beast::error_code error;
  bool header_done = false;
  bool done = false;
  std::string request;  // the parsed request, written out field by field
  std::optional<http::request<http::string_body>> message;
};

std::string Describe(const http::request<http::string_body>& request) {
  std::string out;
  out.append(request.method_string().data(), request.method_string().size()).append("|");
  out.append(request.target().data(), request.target().size()).append("|");
  out += std::to_string(request.version()) + "|" + (request.keep_alive() ? "k" : "-") +
         (request.chunked() ? "c" : "-") + "|";
  for (const auto& field : request) {
    out.append(field.name_string().data(), field.name_string().size()).append(":");
    out.append(field.value().data(), field.value().size()).append("\n");
  }
  return out + "|" + request.body();
}

// What the server does with the bytes of one request, read in the pieces `splitter` draws.
Outcome Parse(std::string_view bytes, Splitter splitter, bool unauthenticated) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(kMaxBodyBytes);
  parser.header_limit(kHeaderLimit);
  size_t body_limit = kMaxBodyBytes;
  Outcome outcome;
  std::string buffer;  // what the socket delivered and the parser has not consumed yet
  size_t offset = 0, calls = 0;
  bool eof = false;
  while (!parser.is_done() && !outcome.error) {
    if (offset < bytes.size()) {
      const size_t left = bytes.size() - offset;
      // A read delivers at least one byte; Beast wants more bytes after need_more.
      const size_t size =
          calls++ > 2 * bytes.size() + 16 ? left : std::max<size_t>(1, splitter.Next(left));
      buffer.append(bytes.substr(offset, size));
      offset += size;
    } else {
      eof = true;
    }
    // Parse what is buffered until the parser wants more (at the end: no new bytes, no put()).
    while (!eof && !parser.is_done() && !buffer.empty()) {
      beast::error_code ec;
      const size_t used = parser.put(boost::asio::buffer(buffer.data(), buffer.size()), ec);
      FUZZ_CHECK(used <= buffer.size());
      buffer.erase(0, used);
      if (ec == http::error::need_more) break;
      if (ec) {
        outcome.error = ec;
        break;
      }
      if (parser.is_header_done() && !outcome.header_done) {
        outcome.header_done = true;
        // The server answers 411 to chunked request bodies without parsing them (Beast 1.74's
        // chunk-header parser asserts on some inputs split across reads: this target found it).
        if (parser.chunked()) {
          outcome.error = http::error::bad_transfer_encoding;
          break;
        }
        // The server looks at the headers before reading the body: unauthenticated requests get
        // the smaller limit, and a declared length above it is refused at once.
        if (unauthenticated) {
          body_limit = kUnauthenticatedBytes;
          boost::optional<uint64_t> length = parser.content_length();
          if (length && *length > body_limit) {
            outcome.error = http::error::body_limit;
            break;
          }
          parser.body_limit(body_limit);
        }
        parser.eager(true);  // http::async_read after async_read_header
      }
      if (used == 0) break;
    }
    if (eof && !parser.is_done() && !outcome.error) {
      // The client closed its side: as http::async_read reports it.
      beast::error_code ec = http::error::end_of_stream;
      if (parser.got_some()) parser.put_eof(ec);
      outcome.error = ec;
    }
  }
  if (parser.is_header_done()) outcome.header_done = true;
  outcome.done = parser.is_done() && !outcome.error;
  if (outcome.done) {
    const http::request<http::string_body>& request = parser.get();
    outcome.request = Describe(request);
    FUZZ_CHECK(request.body().size() <= body_limit);
    boost::optional<uint64_t> length = parser.content_length();
    if (length && !parser.chunked()) FUZZ_CHECK(request.body().size() == *length);
    outcome.message = parser.release();
  }
  return outcome;
}

// The reads the server makes of a complete request.
void Inspect(const http::request<http::string_body>& request) {
  auto expect = request.find(http::field::expect);
  if (expect != request.end()) (void)beast::iequals(expect->value(), "100-continue");
  (void)request.keep_alive();
  (void)request.method();
  (void)request[http::field::host];
  (void)request.count("x-channelstream-secret");
  const std::string_view target(request.target().data(), request.target().size());
  const channelstream::common::RequestTarget parsed = channelstream::common::ParseTarget(target);
  FUZZ_CHECK(parsed.path ==
             channelstream::common::PercentDecode(target.substr(0, target.find('?')), false));
  for (const auto& [key, value] : parsed.params)
    FUZZ_CHECK(parsed.Find(key) != nullptr && *parsed.Find(key) == value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzInput input(data, size);
  const uint8_t flags = input.Byte();
  const uint32_t seed = input.Byte();
  const std::string_view bytes = input.Rest();
  const bool unauthenticated = flags & 1;

  const Outcome whole = Parse(bytes, Splitter(0, 0), unauthenticated);
  const Outcome pieces = Parse(bytes, Splitter(seed, 1 + seed % 64), unauthenticated);
  // Beast 1.74 applies header_limit to the request line and then again to the fields when it
  // has them at once (the limit is not decremented), but to the whole header when it arrives in
  // pieces (it then waits for the blank line): a header of 16 to 32 KiB passes or not depending
  // on how the socket delivered it. Any other difference between whole and pieces is a bug.
  const size_t header_end = bytes.find("\r\n\r\n");
  if (!whole.error != !pieces.error) {
    const Outcome& refused = whole.error ? whole : pieces;
    FUZZ_CHECK(refused.error == http::error::header_limit);
    FUZZ_CHECK(header_end != std::string_view::npos && header_end + 4 > kHeaderLimit);
    return 0;
  }
  // Which error may also depend on the pieces (Beast parses a field line as soon as it is
  // complete, but after a cut waits for the whole header): only the one the server answers
  // (413) rather than closing must agree.
  FUZZ_CHECK((whole.error == http::error::body_limit) == (pieces.error == http::error::body_limit));
  FUZZ_CHECK(whole.header_done == pieces.header_done && whole.done == pieces.done);
  FUZZ_CHECK(whole.request == pieces.request);
  if (whole.header_done)
    FUZZ_CHECK(header_end != std::string_view::npos && header_end + 4 <= 2 * kHeaderLimit);
  if (!whole.done) return 0;

  Inspect(*whole.message);
  // Written out (re-chunked when it was chunked), the request parses back to itself. Not with
  // several Transfer-Encoding fields: the parser goes by all of them, the writer by the first.
  if (whole.message->count(http::field::transfer_encoding) > 1) return 0;
  std::ostringstream written;
  written << *whole.message;
  const std::string text = written.str();
  const Outcome again = Parse(text, Splitter(seed, 7), false);
  FUZZ_CHECK(again.done);
  FUZZ_CHECK(again.request == whole.request);
  return 0;
}
