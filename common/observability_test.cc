// The pure parts of observability: forwarded-address parsing, secret masking, endpoint labels,
// log line formats.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "common/access_log.h"
#include "common/client_address.h"
#include "common/log.h"

namespace channelstream::common {
namespace {

namespace ip = boost::asio::ip;

ip::address A(const char* text) { return ip::make_address(text); }

ClientAddressResolver Trusting(const std::vector<std::string>& entries) {
  return ClientAddressResolver(*AddressAllowlist::Parse(entries, "trusted_proxies"));
}

TEST(ForwardedHopTest, ParsesAddressesWithAndWithoutPorts) {
  EXPECT_EQ(*ParseForwardedHop(" 203.0.113.7 "), A("203.0.113.7"));
  EXPECT_EQ(*ParseForwardedHop("203.0.113.7:4711"), A("203.0.113.7"));
  EXPECT_EQ(*ParseForwardedHop("2001:db8::1"), A("2001:db8::1"));
  EXPECT_EQ(*ParseForwardedHop("[2001:db8::1]:443"), A("2001:db8::1"));
  EXPECT_EQ(*ParseForwardedHop("[2001:db8::1]"), A("2001:db8::1"));
  for (const char* bad : {"", "unknown", "_hidden", "1.2.3", "1.2.3.4:", "1.2.3.4:x", "[::1",
                          "[::1]x", "[::1]:", "999.1.1.1", "\x01\xff"}) {
    EXPECT_FALSE(ParseForwardedHop(bad).has_value()) << bad;
  }
}

TEST(ClientAddressTest, UntrustedPeersHeadersAreIgnored) {
  ClientAddressResolver resolver = Trusting({"10.0.0.0/8"});
  EXPECT_EQ(resolver.Resolve(A("192.0.2.1"), std::string_view("203.0.113.7"), std::nullopt),
            A("192.0.2.1"));
  ClientAddressResolver none;
  EXPECT_EQ(none.Resolve(A("10.0.0.1"), std::string_view("203.0.113.7"), std::nullopt),
            A("10.0.0.1"));
}

TEST(ClientAddressTest, RightmostUntrustedHopWins) {
  ClientAddressResolver resolver = Trusting({"10.0.0.0/8", "127.0.0.1"});
  // The client claims 1.1.1.1; the edge proxy saw 203.0.113.7; an inner proxy 10.0.0.2.
  EXPECT_EQ(resolver.Resolve(A("127.0.0.1"), std::string_view("1.1.1.1, 203.0.113.7, 10.0.0.2"),
                             std::nullopt),
            A("203.0.113.7"));
  EXPECT_EQ(resolver.Resolve(A("127.0.0.1"), std::string_view("10.0.0.3,10.0.0.2"), std::nullopt),
            A("10.0.0.3"));
  EXPECT_EQ(resolver.Resolve(A("::ffff:127.0.0.1"), std::string_view("203.0.113.9"), std::nullopt),
            A("203.0.113.9"));
}

TEST(ClientAddressTest, MalformedHeadersFallBackWithoutCrashing) {
  ClientAddressResolver resolver = Trusting({"127.0.0.1"});
  EXPECT_EQ(
      resolver.Resolve(A("127.0.0.1"), std::string_view("203.0.113.7, garbage"), std::nullopt),
      A("127.0.0.1"));
  EXPECT_EQ(
      resolver.Resolve(A("127.0.0.1"), std::string_view(",,"), std::string_view("198.51.100.4")),
      A("198.51.100.4"));
  EXPECT_EQ(resolver.Resolve(A("127.0.0.1"), std::nullopt, std::string_view("nope")),
            A("127.0.0.1"));
  EXPECT_EQ(resolver.Resolve(A("127.0.0.1"), std::nullopt, std::string_view("198.51.100.4")),
            A("198.51.100.4"));
  EXPECT_EQ(
      resolver.Resolve(A("127.0.0.1"), std::string_view(std::string(100000, ',')), std::nullopt),
      A("127.0.0.1"));
}

TEST(ClientAddressTest, ReadsEveryForwardedForHeader) {
  ClientAddressResolver resolver = Trusting({"127.0.0.1", "10.0.0.0/8"});
  HttpRequestHeader header;
  header.insert("X-Forwarded-For", "203.0.113.7");
  header.insert("X-Forwarded-For", "10.1.1.1");
  EXPECT_EQ(resolver.Resolve(header, A("127.0.0.1")), A("203.0.113.7"));
}

TEST(AccessLogTest, SecretsAreMaskedInTargets) {
  EXPECT_EQ(RedactTarget("/connect"), "/connect");
  EXPECT_EQ(RedactTarget("/info?secret=abc.def&x=1"), "/info?secret=***&x=1");
  EXPECT_EQ(RedactTarget("/info?a=1&SECRET=zzz"), "/info?a=1&SECRET=***");
  EXPECT_EQ(RedactTarget("/info?secret"), "/info?secret=***");
  EXPECT_EQ(RedactTarget("/info?secretive=1"), "/info?secretive=1");
  EXPECT_EQ(RedactTarget("/x?&&"), "/x?&&");
}

TEST(AccessLogTest, EndpointLabelsAreBounded) {
  EXPECT_EQ(EndpointLabel("/connect?x=1"), "/connect");
  EXPECT_EQ(EndpointLabel("/ws"), "/ws");
  EXPECT_EQ(EndpointLabel("/wp-login.php"), "other");
}

TEST(LogFormatTest, TextLinesCarryIsoTimeAndFields) {
  const std::string line =
      FormatLogLine(LogLevel::kInfo, "access", {{"path", "/a b"}, {"status", "200"}},
                    LogFormat::kText, "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(line, "2026-01-02T03:04:05.678Z INFO access path=\"/a b\" status=200\n");
  const std::string now = LogTimestampNow();
  ASSERT_EQ(now.size(), 24u) << now;
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now.back(), 'Z');
}

TEST(LogFormatTest, JsonLinesAreOneObjectEvenWithBadUtf8) {
  const std::string line = FormatLogLine(LogLevel::kWarning, "bad \xff\n", {{"user", "a\"b"}},
                                         LogFormat::kJson, "2026-01-02T03:04:05.678Z");
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1);
  nlohmann::json parsed = nlohmann::json::parse(line);
  EXPECT_EQ(parsed["ts"], "2026-01-02T03:04:05.678Z");
  EXPECT_EQ(parsed["level"], "WARNING");
  EXPECT_EQ(parsed["msg"], "bad \xef\xbf\xbd\n");
  EXPECT_EQ(parsed["user"], "a\"b");
}

}  // namespace
}  // namespace channelstream::common
