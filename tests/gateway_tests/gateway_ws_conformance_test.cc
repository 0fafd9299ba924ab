// Autobahn-style WebSocket conformance of a real gateway (against the fake broker), driven by a
// raw-socket client that writes exactly the bytes a case needs (malformed frames included) and
// reads the server's frames as they come. Only the cases that apply to a server which never
// echoes messages: framing (1.x-5.x), ping/pong (2.x), fragmentation (5.x), UTF-8 (6.x) and the
// closing handshake (7.x). Unit-level cases on byte strings are in gateway/ws_codec_test.cc.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gateway/ws_codec.h"
#include "tests/gateway_tests/fake_broker.h"
#include "tests/gateway_tests/test_gateway.h"

namespace channelstream::testing {
namespace {

const char* kConn = "11111111-1111-4111-8111-111111111111";
constexpr double kTimeout = 5;  // seconds: the bound on every wait (none is a fixed sleep)

using gateway::ws::ClientFrame;

// A blocking-free WebSocket client over a plain socket: every read waits with poll() up to a
// deadline, so "nothing more arrives" is an answer and not a hang.
class RawWsClient {
 public:
  struct Frame {
    uint8_t opcode = 0;
    bool fin = false;
    std::string payload;
    uint16_t close_code() const {
      if (payload.size() < 2) return 0;
      return static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8) |
                                   static_cast<uint8_t>(payload[1]));
    }
  };

  ~RawWsClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Connects and upgrades; true on the 101 answer.
  bool Connect(int port, const std::string& conn_id) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) return false;
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return false;
    Send("GET /ws?conn_id=" + conn_id +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
    auto deadline = Deadline(kTimeout);
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Receive(deadline)) return false;
    }
    const bool upgraded = buffer_.rfind("HTTP/1.1 101", 0) == 0;
    buffer_.erase(0, end + 4);  // frames sent right after the answer stay buffered
    return upgraded;
  }

  void Send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // the server already closed: what it said is still readable
      sent += static_cast<size_t>(n);
    }
  }

  // The next server frame, or nullopt at the end of stream or after `seconds`.
  std::optional<Frame> ReadFrame(double seconds = kTimeout) {
    auto deadline = Deadline(seconds);
    for (;;) {
      if (auto frame = ParseFrame()) return frame;
      if (!Receive(deadline)) return std::nullopt;
    }
  }

  // The next frame that is not the gateway's own traffic (a `[]` heartbeat or a ping).
  std::optional<Frame> ReadReply(double seconds = kTimeout) {
    auto deadline = Deadline(seconds);
    for (;;) {
      double left =
          std::chrono::duration<double>(deadline - std::chrono::steady_clock::now()).count();
      auto frame = ReadFrame(left > 0 ? left : 0);
      if (!frame) return frame;
      if (frame->opcode == gateway::ws::kPing ||
          (frame->opcode == gateway::ws::kText && frame->payload == "[]"))
        continue;
      return frame;
    }
  }

  // True once the server closed the TCP connection, with no frame before the end of stream.
  bool WaitEndOfStream(double seconds = kTimeout) {
    auto deadline = Deadline(seconds);
    while (!eof_) {
      if (!Receive(deadline)) break;
    }
    return eof_ && buffer_.empty();
  }

  // Round trip: a ping the server must answer, proving the connection is open and every frame
  // sent before it was processed.
  bool Alive(const std::string& token = "alive?") {
    Send(ClientFrame(gateway::ws::kPing, token));
    auto reply = ReadReply();
    return reply && reply->opcode == gateway::ws::kPong && reply->payload == token;
  }

 private:
  static std::chrono::steady_clock::time_point Deadline(double seconds) {
    return std::chrono::steady_clock::now() +
           std::chrono::duration_cast<std::chrono::steady_clock::duration>(
               std::chrono::duration<double>(seconds));
  }

  // Reads what is available (waiting until `deadline`); false at the end of stream or timeout.
  bool Receive(std::chrono::steady_clock::time_point deadline) {
    if (eof_) return false;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd entry{fd_, POLLIN, 0};
      int ready = ::poll(&entry, 1, static_cast<int>(std::max<int64_t>(left.count(), 0)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
      char chunk[16384];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // a reset also ends the stream
        eof_ = true;
        return false;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
      return true;
    }
  }

  // One complete unmasked server frame from the buffer.
  std::optional<Frame> ParseFrame() {
    if (buffer_.size() < 2) return std::nullopt;
    const auto* data = reinterpret_cast<const uint8_t*>(buffer_.data());
    uint64_t length = data[1] & 0x7F;
    size_t header = 2;
    if (length == 126) {
      if (buffer_.size() < 4) return std::nullopt;
      length = (uint64_t{data[2]} << 8) | data[3];
      header = 4;
    } else if (length == 127) {
      if (buffer_.size() < 10) return std::nullopt;
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | data[2 + i];
      header = 10;
    }
    EXPECT_EQ(data[1] & 0x80, 0) << "server frames are not masked";
    if (buffer_.size() < header + length) return std::nullopt;
    Frame frame;
    frame.fin = (data[0] & 0x80) != 0;
    frame.opcode = data[0] & 0x0F;
    frame.payload = buffer_.substr(header, static_cast<size_t>(length));
    buffer_.erase(0, header + static_cast<size_t>(length));
    return frame;
  }

  int fd_ = -1;
  std::string buffer_;
  bool eof_ = false;
};

std::string CodeBytes(uint16_t code) {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
}

std::string Printable(const std::string& bytes) { return ::testing::PrintToString(bytes); }

class GatewayWsConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::ServerBuilder builder;
    builder.RegisterService(&broker_);
    grpc_server_ = builder.BuildAndStart();
    broker_.AddConnection(kConn);
    // No heartbeats or pings of the gateway's own in the way (ReadReply skips them anyway).
    gateway_ = std::make_unique<TestGateway>(
        grpc_server_->InProcessChannel(grpc::ChannelArguments()),
        std::map<std::string, std::string>{{"heartbeat_interval", "100"},
                                           {"ws_ping_interval", "100"},
                                           {"broker_reconnect_delay", "0.1"},
                                           {"max_client_message_bytes", "65536"}});
    ASSERT_TRUE(broker_.WaitStreams(1));
    ASSERT_TRUE(gateway_->WaitConnected());
  }
  void TearDown() override {
    gateway_.reset();
    grpc_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(1));
  }

  std::unique_ptr<RawWsClient> Open() {
    auto client = std::make_unique<RawWsClient>();
    EXPECT_TRUE(client->Connect(gateway_->port(), kConn));
    return client;
  }

  // Sends `bytes` on a fresh connection and expects the gateway to close it with `code`: the
  // close frame is the next reply, and nothing follows it but the end of stream.
  void ExpectClosedWith(const std::string& bytes, uint16_t code, const std::string& what) {
    SCOPED_TRACE(what);
    auto client = Open();
    client->Send(bytes);
    ExpectCloseFrame(*client, code);
  }

  static void ExpectCloseFrame(RawWsClient& client, uint16_t code) {
    auto frame = client.ReadReply();
    ASSERT_TRUE(frame.has_value()) << "no close frame";
    ASSERT_EQ(frame->opcode, gateway::ws::kClose)
        << "got opcode " << int{frame->opcode} << ": " << Printable(frame->payload);
    EXPECT_EQ(frame->close_code(), code) << Printable(frame->payload);
    EXPECT_TRUE(client.WaitEndOfStream()) << "the TCP connection stays open or more frames follow";
  }

  FakeBroker broker_;
  std::unique_ptr<grpc::Server> grpc_server_;
  std::unique_ptr<TestGateway> gateway_;
};

// --- Framing (Autobahn 3.x, 4.x, 5.x) ---

TEST_F(GatewayWsConformanceTest, ReservedBitsAreProtocolErrors) {
  for (uint8_t rsv : {0x10, 0x20, 0x40, 0x70}) {
    std::string frame = ClientFrame(gateway::ws::kText, "hello");
    frame[0] = static_cast<char>(frame[0] | rsv);
    ExpectClosedWith(frame, gateway::ws::kProtocolError, "rsv " + std::to_string(rsv));
  }
  std::string ping = ClientFrame(gateway::ws::kPing, "p");
  ping[0] = static_cast<char>(ping[0] | 0x40);
  ExpectClosedWith(ping, gateway::ws::kProtocolError, "rsv1 on a ping");
}

TEST_F(GatewayWsConformanceTest, ReservedOpcodesAreProtocolErrors) {
  for (uint8_t opcode : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    std::string frame = ClientFrame(gateway::ws::kText, "x");
    frame[0] = static_cast<char>(0x80 | opcode);
    ExpectClosedWith(frame, gateway::ws::kProtocolError, "opcode " + std::to_string(opcode));
  }
}

TEST_F(GatewayWsConformanceTest, UnmaskedClientFrameIsAProtocolError) {
  ExpectClosedWith(gateway::ws::ServerFrame(gateway::ws::kText, "unmasked"),
                   gateway::ws::kProtocolError, "unmasked text");
}

TEST_F(GatewayWsConformanceTest, LongOrFragmentedControlFramesAreProtocolErrors) {
  ExpectClosedWith(ClientFrame(gateway::ws::kPing, std::string(126, 'p')),
                   gateway::ws::kProtocolError, "ping of 126 bytes");
  ExpectClosedWith(ClientFrame(gateway::ws::kClose, CodeBytes(1000) + std::string(124, 'r')),
                   gateway::ws::kProtocolError, "close of 126 bytes");
  ExpectClosedWith(
      ClientFrame(gateway::ws::kPing, "p", false) + ClientFrame(gateway::ws::kContinuation, "q"),
      gateway::ws::kProtocolError, "fragmented ping");
  ExpectClosedWith(ClientFrame(gateway::ws::kPong, "p", false), gateway::ws::kProtocolError,
                   "fragmented pong");
}

// --- Ping / pong (Autobahn 2.x) ---

TEST_F(GatewayWsConformanceTest, PingIsAnsweredWithItsPayload) {
  auto client = Open();
  std::string binary;
  for (int i = 0; i < 125; ++i) binary.push_back(static_cast<char>(0xFF - i));
  for (const std::string& payload : {std::string(), std::string("Hello, world!"), binary}) {
    client->Send(ClientFrame(gateway::ws::kPing, payload));
    auto reply = client->ReadReply();
    ASSERT_TRUE(reply.has_value());
    EXPECT_EQ(reply->opcode, gateway::ws::kPong);
    EXPECT_TRUE(reply->fin);
    EXPECT_EQ(reply->payload, payload);
  }
  // Ten pings in one write: ten pongs, in order (Autobahn 2.10).
  std::string burst;
  for (int i = 0; i < 10; ++i) burst += ClientFrame(gateway::ws::kPing, "n" + std::to_string(i));
  client->Send(burst);
  for (int i = 0; i < 10; ++i) {
    auto reply = client->ReadReply();
    ASSERT_TRUE(reply.has_value()) << i;
    EXPECT_EQ(reply->payload, "n" + std::to_string(i));
  }
}

TEST_F(GatewayWsConformanceTest, UnsolicitedPongIsIgnored) {
  auto client = Open();
  client->Send(ClientFrame(gateway::ws::kPong, "") +
               ClientFrame(gateway::ws::kPong, "unsolicited"));
  EXPECT_TRUE(client->Alive());  // the pongs drew no answer: the first reply is the ping's pong
}

// --- Fragmentation (Autobahn 5.x) ---

TEST_F(GatewayWsConformanceTest, ContinuationWithoutStartIsAProtocolError) {
  ExpectClosedWith(ClientFrame(gateway::ws::kContinuation, "fragment", true),
                   gateway::ws::kProtocolError, "lone final continuation");
  ExpectClosedWith(ClientFrame(gateway::ws::kContinuation, "fragment", false),
                   gateway::ws::kProtocolError, "lone continuation");
}

TEST_F(GatewayWsConformanceTest, NewMessageInsideAFragmentedOneIsAProtocolError) {
  ExpectClosedWith(
      ClientFrame(gateway::ws::kText, "frag", false) + ClientFrame(gateway::ws::kText, "ment"),
      gateway::ws::kProtocolError, "text inside text");
  ExpectClosedWith(ClientFrame(gateway::ws::kBinary, "frag", false) +
                       ClientFrame(gateway::ws::kText, "ment", false),
                   gateway::ws::kProtocolError, "text inside binary");
}

TEST_F(GatewayWsConformanceTest, ControlFramesBetweenFragmentsAreAnswered) {
  auto client = Open();
  client->Send(ClientFrame(gateway::ws::kText, "frag", false) +
               ClientFrame(gateway::ws::kPing, "between"));
  auto reply = client->ReadReply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->opcode, gateway::ws::kPong);
  EXPECT_EQ(reply->payload, "between");
  client->Send(ClientFrame(gateway::ws::kPong, "") +
               ClientFrame(gateway::ws::kContinuation, "ment", true));
  EXPECT_TRUE(client->Alive());
}

// --- UTF-8 (Autobahn 6.x) ---

TEST_F(GatewayWsConformanceTest, ValidUtf8TextIsAccepted) {
  const std::string kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5";
  auto client = Open();
  for (const std::string& text :
       {std::string("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"),
        kosme, std::string("\xf4\x8f\xbf\xbf"), std::string("\xef\xbf\xbe"),
        std::string("\xed\x9f\xbf\xee\x80\x80")}) {
    client->Send(ClientFrame(gateway::ws::kText, text));
  }
  // The same text split into two fragments at every byte boundary, one connection throughout.
  for (size_t i = 0; i <= kosme.size(); ++i) {
    client->Send(ClientFrame(gateway::ws::kText, kosme.substr(0, i), false) +
                 ClientFrame(gateway::ws::kContinuation, kosme.substr(i)));
  }
  EXPECT_TRUE(client->Alive());
}

TEST_F(GatewayWsConformanceTest, InvalidUtf8TextClosesWithInvalidPayload) {
  for (const std::string& text :
       {std::string("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65"
                    "\x64"),  // surrogate
        std::string("\xc0\xaf"), std::string("\xe0\x80\xaf"),
        std::string("\xf0\x80\x80\xaf"),                                   // overlongs
        std::string("\xf4\x90\x80\x80"), std::string("\xf5\x80\x80\x80"),  // > U+10FFFF
        std::string("\xed\xbf\xbf"), std::string("\x80"), std::string("\xfe\xff"),
        std::string("\xce\xba\xe1\xbd")}) {  // truncated
    ExpectClosedWith(ClientFrame(gateway::ws::kText, text), gateway::ws::kInvalidPayload,
                     Printable(text));
  }
}

TEST_F(GatewayWsConformanceTest, InvalidUtf8SplitAcrossFragmentsClosesWithInvalidPayload) {
  // Autobahn 6.3.2 / 6.6.x: the bad sequence arrives in pieces, cut at every byte boundary.
  for (const std::string& text :
       {std::string("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64"),
        std::string("\xf4\x90\x80\x80"), std::string("\xce\xba\xe1\xbd")}) {
    for (size_t i = 0; i <= text.size(); ++i) {
      ExpectClosedWith(ClientFrame(gateway::ws::kText, text.substr(0, i), false) +
                           ClientFrame(gateway::ws::kContinuation, text.substr(i), true),
                       gateway::ws::kInvalidPayload,
                       Printable(text) + " cut at " + std::to_string(i));
    }
  }
}

TEST_F(GatewayWsConformanceTest, InvalidUtf8PrefixFailsBeforeTheMessageEnds) {
  // Autobahn 6.4.1-6.4.2: the connection is closed on the bad fragment, while the message is
  // still open (no final frame ever sent).
  ExpectClosedWith(
      ClientFrame(gateway::ws::kText, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", false) +
          ClientFrame(gateway::ws::kContinuation, "\xf4\x90\x80\x80", false),
      gateway::ws::kInvalidPayload, "> U+10FFFF in the second fragment");
  ExpectClosedWith(ClientFrame(gateway::ws::kText, "ok \xed\xa0", false),
                   gateway::ws::kInvalidPayload, "half a surrogate");
}

TEST_F(GatewayWsConformanceTest, MessageEndingInsideASequenceFailsAtItsEnd) {
  auto client = Open();
  client->Send(ClientFrame(gateway::ws::kText, "\xce\xba\xe1\xbd", false));
  EXPECT_TRUE(client->Alive());  // a valid beginning: not refused yet
  client->Send(ClientFrame(gateway::ws::kContinuation, "", true));
  ExpectCloseFrame(*client, gateway::ws::kInvalidPayload);
}

// --- Closing handshake (Autobahn 7.x) ---

TEST_F(GatewayWsConformanceTest, ValidCloseCodesAreEchoed) {
  for (uint16_t code :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999}) {
    ExpectClosedWith(ClientFrame(gateway::ws::kClose, CodeBytes(code) + "reason"), code,
                     "code " + std::to_string(code));
  }
  ExpectClosedWith(ClientFrame(gateway::ws::kClose, ""), gateway::ws::kNormalClosure,
                   "empty close");
  ExpectClosedWith(ClientFrame(gateway::ws::kClose,
                               CodeBytes(1000) + "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),
                   gateway::ws::kNormalClosure, "UTF-8 reason");
}

TEST_F(GatewayWsConformanceTest, InvalidCloseCodesAreAnsweredWithProtocolError) {
  for (uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    ExpectClosedWith(ClientFrame(gateway::ws::kClose, CodeBytes(code)), gateway::ws::kProtocolError,
                     "code " + std::to_string(code));
  }
}

TEST_F(GatewayWsConformanceTest, OneByteClosePayloadIsAProtocolError) {
  ExpectClosedWith(ClientFrame(gateway::ws::kClose, "\x03"), gateway::ws::kProtocolError,
                   "1-byte close");
}

TEST_F(GatewayWsConformanceTest, CloseReasonThatIsNotUtf8IsInvalidPayload) {
  ExpectClosedWith(
      ClientFrame(gateway::ws::kClose,
                  CodeBytes(1000) + "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"),
      gateway::ws::kInvalidPayload, "surrogate in the reason");
}

TEST_F(GatewayWsConformanceTest, NothingIsProcessedAfterTheClientsClose) {
  // Autobahn 7.1.2-7.1.5: a second close, a ping, a message, a malformed frame or the rest of a
  // fragmented message after the close: none draws anything but the one close answer.
  ExpectClosedWith(ClientFrame(gateway::ws::kClose, CodeBytes(1000)) +
                       ClientFrame(gateway::ws::kClose, CodeBytes(1001)),
                   gateway::ws::kNormalClosure, "two closes");
  ExpectClosedWith(
      ClientFrame(gateway::ws::kClose, CodeBytes(1000)) + ClientFrame(gateway::ws::kPing, "after"),
      gateway::ws::kNormalClosure, "ping after close");
  ExpectClosedWith(
      ClientFrame(gateway::ws::kClose, CodeBytes(1000)) + ClientFrame(gateway::ws::kText, "after"),
      gateway::ws::kNormalClosure, "text after close");
  ExpectClosedWith(ClientFrame(gateway::ws::kClose, CodeBytes(1000)) +
                       gateway::ws::ServerFrame(gateway::ws::kText, "unmasked"),
                   gateway::ws::kNormalClosure, "malformed frame after close");
  ExpectClosedWith(ClientFrame(gateway::ws::kText, "frag", false) +
                       ClientFrame(gateway::ws::kClose, CodeBytes(1000)) +
                       ClientFrame(gateway::ws::kContinuation, "ment", true),
                   gateway::ws::kNormalClosure, "close between fragments");
  // The same with the frames after the close arriving in a later read.
  auto client = Open();
  ASSERT_TRUE(client->Alive());
  client->Send(ClientFrame(gateway::ws::kClose, CodeBytes(3000)));
  auto frame = client->ReadReply();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->opcode, gateway::ws::kClose);
  EXPECT_EQ(frame->close_code(), 3000);
  client->Send(ClientFrame(gateway::ws::kPing, "late") +
               gateway::ws::ServerFrame(gateway::ws::kText, "unmasked"));
  EXPECT_TRUE(client->WaitEndOfStream());
}

}  // namespace
}  // namespace channelstream::testing
