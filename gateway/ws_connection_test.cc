// WsConnection without sockets: a recording sink, an explicit clock, and a "wire" that takes
// what the connection asks to write and decodes the server frames. Pins the behaviour the socket
// tests (tests/gateway_tests, tests/e2e/test_lossless.py) rely on, without real time.
#include "gateway/ws_connection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gateway/ws_codec.h"

namespace channelstream::gateway {
namespace {

using std::chrono::nanoseconds;
using std::chrono::seconds;

class RecordingSink : public WsConnectionSink {
 public:
  SteadyTime Now() const override { return now; }
  void WriteSoon() override { ++write_soon; }
  void Detach(const DeliveredMarks& delivered) override {
    v1::Detach detach;
    delivered.FillDetach(&detach);
    detaches.push_back(detach);
    log.push_back("detach");
  }
  void SlowConsumer() override { ++slow_consumers; }
  void ShutdownSend() override { log.push_back("shutdown"); }
  void Close() override { log.push_back("close"); }

  int Count(const std::string& what) const {
    return static_cast<int>(std::count(log.begin(), log.end(), what));
  }

  SteadyTime now = SteadyTime(std::chrono::hours(100));
  int write_soon = 0;
  int slow_consumers = 0;
  std::vector<v1::Detach> detaches;
  std::vector<std::string> log;  // detach / shutdown / close, in order
};

// One decoded server frame.
struct ServerFrame {
  uint8_t opcode;
  std::string payload;
  uint16_t close_code() const {
    return payload.size() >= 2
               ? static_cast<uint16_t>((uint8_t(payload[0]) << 8) | uint8_t(payload[1]))
               : 0;
  }
  std::string close_reason() const { return payload.size() > 2 ? payload.substr(2) : ""; }
};

// Server frames are unmasked: opcode byte, 7/16/64-bit length, payload. An HTTP answer (the 101)
// is returned as opcode 0xFF with the whole text.
std::vector<ServerFrame> Decode(std::string_view bytes) {
  std::vector<ServerFrame> frames;
  while (!bytes.empty()) {
    if (bytes.substr(0, 5) == "HTTP/") {
      const size_t end = bytes.find("\r\n\r\n");
      frames.push_back({0xFF, std::string(bytes.substr(0, end + 4))});
      bytes.remove_prefix(end + 4);
      continue;
    }
    const uint8_t opcode = uint8_t(bytes[0]) & 0x0F;
    uint64_t length = uint8_t(bytes[1]) & 0x7F;
    size_t header = 2;
    if (length == 126) {
      length = (uint64_t(uint8_t(bytes[2])) << 8) | uint8_t(bytes[3]);
      header = 4;
    } else if (length == 127) {
      length = 0;
      for (int i = 0; i < 8; ++i) length = (length << 8) | uint8_t(bytes[2 + i]);
      header = 10;
    }
    frames.push_back({opcode, std::string(bytes.substr(header, length))});
    bytes.remove_prefix(header + length);
  }
  return frames;
}

FramePtr Delivery(std::string_view json, std::string channel = "", uint64_t seq = 0,
                  bool catchup = false) {
  return MakeDeliveryFrame(json, nullptr, std::move(channel), seq, catchup);
}

v1::AttachResult Found(std::vector<std::string> catchup = {},
                       std::vector<std::pair<std::string, uint64_t>> marks = {}) {
  v1::AttachResult result;
  result.set_found(true);
  result.set_username("alice");
  for (auto& json : catchup) result.add_catchup_json(json);
  for (auto& [channel, seq] : marks) {
    v1::ChannelMark* mark = result.add_catchup_marks();
    mark->set_channel(channel);
    mark->set_seq(seq);
  }
  return result;
}

std::vector<std::pair<std::string, uint64_t>> Marks(const v1::Detach& detach) {
  std::vector<std::pair<std::string, uint64_t>> marks;
  for (const v1::ChannelMark& mark : detach.delivered().marks())
    marks.emplace_back(mark.channel(), mark.seq());
  return marks;
}

class WsConnectionTest : public ::testing::Test {
 protected:
  WsConnectionTest() {
    settings_.heartbeat_frame = MakeRawFrame(ws::ServerFrame(ws::kText, "[]"));
    settings_.ping_frame = MakeRawFrame(ws::ServerFrame(ws::kPing, ""));
    settings_.max_client_message_bytes = 200;
  }

  WsConnection& Connection() {
    if (!connection_) connection_.emplace(settings_, sink_);
    return *connection_;
  }

  // Upgrade done, conn_id known: the 101 answer is queued and the Attach sent.
  void Start(std::string_view leftover = "",
             std::optional<WsConnection::Refusal> refusal = std::nullopt) {
    Connection().Start(sink_.now, MakeRawFrame("HTTP/1.1 101 Switching Protocols\r\n\r\n"),
                       leftover, "conn-1", refusal, [this] { ++attaches_; });
  }
  // Started, attached, the 101 written: the client sees only what follows.
  void StartOpen(v1::AttachResult result = Found()) {
    Start();
    Connection().OnAttachResult(result);
    std::vector<ServerFrame> frames = WriteAll();
    ASSERT_FALSE(frames.empty());
    ASSERT_EQ(frames[0].opcode, 0xFF);
  }

  // Writes everything pending, as a socket that takes it all would.
  std::vector<ServerFrame> WriteAll() {
    WsConnection& connection = Connection();
    std::string wire;
    for (size_t i = 0; i < connection.pending_frames(); ++i)
      wire.append(connection.pending_bytes(i));
    if (!wire.empty()) connection.OnWritten(wire.size());
    connection.OnAllWritten();
    return Decode(wire);
  }
  // Writes only `bytes` of what is pending (a short sendmsg); returns them raw.
  std::string WriteSome(size_t bytes) {
    WsConnection& connection = Connection();
    std::string wire;
    for (size_t i = 0; i < connection.pending_frames() && wire.size() < bytes; ++i)
      wire.append(connection.pending_bytes(i));
    wire.resize(std::min(bytes, wire.size()));
    connection.OnWritten(wire.size());
    return wire;
  }
  bool ClientSends(ws::Opcode opcode, std::string_view payload) {
    const std::string bytes = ws::ClientFrame(opcode, payload);
    return Connection().OnClientBytes(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  }
  bool ClientCloses(uint16_t code) {
    std::string payload;
    payload.push_back(char(code >> 8));
    payload.push_back(char(code & 0xFF));
    return ClientSends(ws::kClose, payload);
  }
  void Advance(SteadyTime::duration by) { sink_.now += by; }
  void Tick() { Connection().OnTick(sink_.now); }

  GatewaySettings settings_;
  RecordingSink sink_;
  std::optional<WsConnection> connection_;
  int attaches_ = 0;
};

// --- start and attach ---

TEST_F(WsConnectionTest, StartQueuesTheUpgradeAnswerAndAttaches) {
  Start();
  EXPECT_EQ(attaches_, 1);
  EXPECT_GE(sink_.write_soon, 1);
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, 0xFF);
  EXPECT_FALSE(Connection().open());
  Connection().OnAttachResult(Found());
  EXPECT_TRUE(Connection().open());
}

TEST_F(WsConnectionTest, RefusedStartAnswersTheUpgradeThenClosesWithoutAttaching) {
  Start("", WsConnection::Refusal{ws::kPolicyViolation, "unknown conn_id"});
  EXPECT_EQ(attaches_, 0);
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].opcode, 0xFF);  // the 101 is never dropped
  EXPECT_EQ(frames[1].opcode, ws::kClose);
  EXPECT_EQ(frames[1].close_code(), ws::kPolicyViolation);
  EXPECT_EQ(frames[1].close_reason(), "unknown conn_id");
  EXPECT_TRUE(sink_.detaches.empty());
  EXPECT_EQ(sink_.log, std::vector<std::string>{"shutdown"});
}

TEST_F(WsConnectionTest, LeftoverBytesAreParsedBeforeTheAttach) {
  Start(ws::ClientFrame(ws::kPing, "early"));
  EXPECT_EQ(attaches_, 1);
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].opcode, ws::kPong);
  EXPECT_EQ(frames[1].payload, "early");
}

TEST_F(WsConnectionTest, BadLeftoverAttachesThenClosesAndDetaches) {
  std::string unmasked = ws::ServerFrame(ws::kText, "x");  // client frames must be masked
  Start(unmasked);
  EXPECT_EQ(attaches_, 1);
  ASSERT_EQ(sink_.detaches.size(), 1u);  // paired with the Attach already sent
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].close_code(), ws::kProtocolError);
}

TEST_F(WsConnectionTest, AttachTimeoutClosesAsInternalError) {
  Start();
  WriteAll();
  Advance(WsConnection::kAttachTimeout);
  Tick();
  EXPECT_FALSE(Connection().closing());  // the deadline itself is still in time
  Advance(nanoseconds(1));
  Tick();
  ASSERT_TRUE(Connection().closing());
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::kInternalError);
  EXPECT_EQ(frames[0].close_reason(), "broker did not answer");
  ASSERT_EQ(sink_.detaches.size(), 1u);  // the Attach was sent: it is paired
}

TEST_F(WsConnectionTest, UnknownConnIdFromTheBrokerClosesWithoutDetach) {
  Start();
  v1::AttachResult result;
  result.set_found(false);
  Connection().OnAttachResult(result);
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].close_code(), ws::kPolicyViolation);
  EXPECT_EQ(frames[1].close_reason(), "unknown conn_id");
  EXPECT_TRUE(sink_.detaches.empty());  // the broker has nothing attached
}

TEST_F(WsConnectionTest, FramesBeforeTheAttachResultAreDropped) {
  Start();
  EXPECT_FALSE(Connection().OnFrame(Delivery(R"({"n":1})")));
  Connection().OnAttachResult(Found());
  EXPECT_TRUE(Connection().OnFrame(Delivery(R"({"n":2})")));
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].payload, R"([{"n":2}])");
}

TEST_F(WsConnectionTest, CatchupIsOneListFrameAndItsMarksAreDelivered) {
  Start();
  Connection().OnAttachResult(Found({R"({"a":1})", R"({"b":2})"}, {{"ch", 7}, {"", 3}}));
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[1].payload, R"([{"a":1},{"b":2}])");
  Connection().OnTransportClosed();
  ASSERT_EQ(sink_.detaches.size(), 1u);
  EXPECT_TRUE(sink_.detaches[0].has_delivered());
  auto marks = Marks(sink_.detaches[0]);
  std::sort(marks.begin(), marks.end());
  EXPECT_EQ(marks, (std::vector<std::pair<std::string, uint64_t>>{{"", 3}, {"ch", 7}}));
}

// --- heartbeats, pings, client timeout ---

TEST_F(WsConnectionTest, HeartbeatEveryIntervalWhenNothingIsQueued) {
  settings_.ws_ping_interval = 0;
  StartOpen();
  Advance(seconds(5) - nanoseconds(1));
  Tick();
  EXPECT_TRUE(WriteAll().empty());
  Advance(nanoseconds(1));
  Tick();
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, ws::kText);
  EXPECT_EQ(frames[0].payload, "[]");
  Advance(seconds(1));
  Tick();
  EXPECT_TRUE(WriteAll().empty());  // next one 5 s after the last
  Advance(seconds(4));
  Tick();
  EXPECT_EQ(WriteAll().size(), 1u);
}

TEST_F(WsConnectionTest, NoHeartbeatWhileFramesWaitToBeWritten) {
  settings_.ws_ping_interval = 0;
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})"));
  Advance(seconds(5));
  Tick();
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, R"([{"n":1}])");
  Advance(seconds(4));
  Tick();
  EXPECT_TRUE(WriteAll().empty());  // the skipped heartbeat still moved the schedule
}

TEST_F(WsConnectionTest, HeartbeatsOffWithZeroInterval) {
  settings_.heartbeat_interval = 0;
  settings_.ws_ping_interval = 0;
  settings_.client_timeout = 0;
  StartOpen();
  Advance(seconds(3600));
  Tick();
  EXPECT_TRUE(WriteAll().empty());
  EXPECT_TRUE(Connection().open());
}

TEST_F(WsConnectionTest, ProtocolPingEveryPingInterval) {
  settings_.heartbeat_interval = 0;
  StartOpen();
  Advance(seconds(20) - nanoseconds(1));
  Tick();
  EXPECT_TRUE(WriteAll().empty());
  Advance(nanoseconds(1));
  Tick();
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, ws::kPing);
}

TEST_F(WsConnectionTest, SilentClientTimesOutAndAnyTrafficCountsAsActivity) {
  settings_.heartbeat_interval = 0;
  settings_.ws_ping_interval = 0;
  StartOpen();
  Advance(seconds(50));
  EXPECT_TRUE(ClientSends(ws::kText, "[]"));  // a 0.7 text heartbeat
  Advance(seconds(60));
  Tick();
  EXPECT_TRUE(Connection().open());  // exactly client_timeout since the last bytes
  Advance(nanoseconds(1));
  Tick();
  ASSERT_TRUE(Connection().closing());
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::kGoingAway);
  EXPECT_EQ(frames[0].close_reason(), "client timeout");
}

TEST_F(WsConnectionTest, IdleConnectionGivesItsQueueBackAtATick) {
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})"));
  WriteAll();
  EXPECT_TRUE(Connection().holds_queue_memory());  // kept for the next burst
  Tick();
  EXPECT_FALSE(Connection().holds_queue_memory());
}

// --- queue limits ---

TEST_F(WsConnectionTest, SlowConsumerOverTheFrameLimitIsClosed) {
  settings_.max_queue_messages = 3;
  StartOpen();
  for (int i = 0; i < 3; ++i)
    EXPECT_TRUE(Connection().OnFrame(Delivery(R"({"n":1})", "ch", i + 1)));
  EXPECT_EQ(sink_.slow_consumers, 0);
  EXPECT_TRUE(Connection().OnFrame(Delivery(R"({"n":4})", "ch", 4)));
  EXPECT_EQ(sink_.slow_consumers, 1);
  ASSERT_TRUE(Connection().closing());
  // Nothing queued was started: all of it is dropped, and stays due (no marks for it).
  ASSERT_EQ(sink_.detaches.size(), 1u);
  EXPECT_TRUE(Marks(sink_.detaches[0]).empty());
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::kPolicyViolation);
  EXPECT_EQ(frames[0].close_reason(), "slow consumer: queue limit");
}

TEST_F(WsConnectionTest, SlowConsumerOverTheByteLimitIsClosed) {
  settings_.max_queue_bytes = 100;
  StartOpen();
  const std::string big(60, 'x');
  EXPECT_TRUE(Connection().OnFrame(Delivery("\"" + big + "\"")));
  EXPECT_EQ(sink_.slow_consumers, 0);
  Connection().OnFrame(Delivery("\"" + big + "\""));
  EXPECT_EQ(sink_.slow_consumers, 1);
  EXPECT_TRUE(Connection().closing());
}

TEST_F(WsConnectionTest, OneFrameOverTheByteLimitAloneIsAccepted) {
  settings_.max_queue_bytes = 10;
  StartOpen();
  Connection().OnFrame(Delivery("\"" + std::string(100, 'x') + "\""));
  EXPECT_EQ(sink_.slow_consumers, 0);
  EXPECT_EQ(WriteAll().size(), 1u);
}

TEST_F(WsConnectionTest, WrittenFramesNoLongerCountAgainstTheLimit) {
  settings_.max_queue_messages = 2;
  StartOpen();
  for (int i = 0; i < 10; ++i) {
    Connection().OnFrame(Delivery(R"({"n":1})"));
    Connection().OnFrame(Delivery(R"({"n":2})"));
    WriteAll();
  }
  EXPECT_EQ(sink_.slow_consumers, 0);
  EXPECT_TRUE(Connection().open());
}

TEST_F(WsConnectionTest, CatchupIsExemptFromTheQueueLimit) {
  settings_.max_queue_messages = 2;
  settings_.max_queue_bytes = 100;
  Start();
  WriteAll();  // the 101
  // A catch-up list far over the byte limit, then live frames up to the limit beside it.
  Connection().OnAttachResult(Found({"\"" + std::string(500, 'c') + "\""}));
  Connection().OnFrame(Delivery(R"({"n":1})"));
  Connection().OnFrame(Delivery(R"({"n":2})"));
  EXPECT_EQ(sink_.slow_consumers, 0);
  Connection().OnFrame(Delivery(R"({"n":3})"));  // the third live frame is one too many
  EXPECT_EQ(sink_.slow_consumers, 1);
}

TEST_F(WsConnectionTest, CatchupDeliveryFramesAreExemptToo) {
  settings_.max_queue_messages = 1;
  StartOpen();
  for (int i = 0; i < 5; ++i)
    Connection().OnFrame(Delivery(R"({"c":1})", "ch", i + 1, /*catchup=*/true));
  Connection().OnFrame(Delivery(R"({"n":1})"));
  EXPECT_EQ(sink_.slow_consumers, 0);
  EXPECT_EQ(WriteAll().size(), 6u);
}

TEST_F(WsConnectionTest, CatchupFrameIsTakenEvenWithTheLiveQueueFull) {
  settings_.max_queue_messages = 1;
  settings_.max_queue_bytes = 30;
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})"));
  Connection().OnFrame(Delivery("\"" + std::string(100, 'c') + "\"", "ch", 1, /*catchup=*/true));
  EXPECT_EQ(sink_.slow_consumers, 0);
  EXPECT_EQ(WriteAll().size(), 2u);
}

// --- close handshake ---

TEST_F(WsConnectionTest, ClientCloseIsEchoedAndEndsOnceOurCloseIsOut) {
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})"));  // not started: dropped by the close
  EXPECT_TRUE(ClientCloses(ws::kGoingAway));
  ASSERT_TRUE(Connection().closing());
  EXPECT_EQ(sink_.log, std::vector<std::string>{"detach"});
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, ws::kClose);
  EXPECT_EQ(frames[0].close_code(), ws::kGoingAway);
  EXPECT_EQ(frames[0].close_reason(), "");
  EXPECT_EQ(sink_.log, (std::vector<std::string>{"detach", "close"}));  // no half-close first
  EXPECT_TRUE(Connection().closed());
}

TEST_F(WsConnectionTest, ClientCloseWithoutCodeIsAnsweredAsNormalClosure) {
  StartOpen();
  EXPECT_TRUE(ClientSends(ws::kClose, ""));
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::kNormalClosure);
}

TEST_F(WsConnectionTest, ServerCloseHalfClosesThenEndsAtTheClientsClose) {
  StartOpen();
  Connection().OnKick();
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::kNormalClosure);
  EXPECT_EQ(frames[0].close_reason(), "disconnected");
  EXPECT_EQ(sink_.log, std::vector<std::string>{"shutdown"});  // kicked: no Detach
  EXPECT_FALSE(ClientCloses(ws::kNormalClosure));              // the answer ends it: closed
  EXPECT_EQ(sink_.log, (std::vector<std::string>{"shutdown", "close"}));
}

TEST_F(WsConnectionTest, ClientCloseBeforeOursIsWrittenEndsAfterTheWrite) {
  StartOpen();
  Connection().OnKick();
  EXPECT_TRUE(ClientCloses(ws::kNormalClosure));
  EXPECT_FALSE(Connection().closed());
  WriteAll();
  EXPECT_EQ(sink_.log, std::vector<std::string>{"close"});
}

TEST_F(WsConnectionTest, GracePeriodEndsAClosingConnection) {
  StartOpen();
  Connection().OnKick();
  WriteAll();
  Advance(WsConnection::kCloseGrace);
  Tick();
  EXPECT_FALSE(Connection().closed());
  Advance(nanoseconds(1));
  Tick();
  EXPECT_TRUE(Connection().closed());
  EXPECT_EQ(sink_.log, (std::vector<std::string>{"shutdown", "close"}));
}

TEST_F(WsConnectionTest, ClosingTwiceSendsOneCloseFrame) {
  StartOpen();
  Connection().OnKick();
  Connection().OnStreamLost(false);
  EXPECT_FALSE(Connection().OnFrame(Delivery("1")));
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::kNormalClosure);
}

TEST_F(WsConnectionTest, TransportEndDetachesAndCloses) {
  StartOpen();
  Connection().OnTransportClosed();
  EXPECT_EQ(sink_.log, (std::vector<std::string>{"detach", "close"}));
  EXPECT_TRUE(Connection().closed());
  EXPECT_EQ(Connection().pending_frames(), 0u);
  Connection().OnTransportClosed();
  EXPECT_EQ(sink_.Count("close"), 1);
}

TEST_F(WsConnectionTest, AbortClosesWithoutAnyFrame) {
  Connection().Abort();
  EXPECT_EQ(sink_.log, std::vector<std::string>{"close"});
  EXPECT_TRUE(Connection().closed());
}

// --- kick and stream lost ---

TEST_F(WsConnectionTest, StreamLostClosesAsServiceRestartWithoutDetach) {
  StartOpen();
  Connection().OnStreamLost(/*shutting_down=*/false);
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::kServiceRestart);
  EXPECT_EQ(frames[0].close_reason(), "broker stream lost");
  EXPECT_TRUE(sink_.detaches.empty());
}

TEST_F(WsConnectionTest, ShutdownClosesAsGoingAway) {
  StartOpen();
  Connection().OnStreamLost(/*shutting_down=*/true);
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::kGoingAway);
  EXPECT_EQ(frames[0].close_reason(), "going away");
  EXPECT_TRUE(sink_.detaches.empty());
}

TEST_F(WsConnectionTest, KickWhileAttachingClosesToo) {
  Start();
  Connection().OnKick();
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 2u);  // the 101, then the close
  EXPECT_EQ(frames[1].close_reason(), "disconnected");
  EXPECT_TRUE(sink_.detaches.empty());
}

// --- drain ---

TEST_F(WsConnectionTest, DrainWritesWhatIsQueuedThenGoingAway) {
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})", "ch", 1));
  Connection().OnFrame(Delivery(R"({"n":2})", "ch", 2));
  const SteadyTime deadline = sink_.now + seconds(5);
  Connection().Drain(deadline);
  // The Detach leaves before anything is written, with the marks of all that is queued.
  ASSERT_EQ(sink_.detaches.size(), 1u);
  EXPECT_EQ(Marks(sink_.detaches[0]), (std::vector<std::pair<std::string, uint64_t>>{{"ch", 2}}));
  EXPECT_FALSE(Connection().OnFrame(Delivery(R"({"n":3})", "ch", 3)));
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].payload, R"([{"n":1}])");
  EXPECT_EQ(frames[1].payload, R"([{"n":2}])");
  EXPECT_EQ(frames[2].close_code(), ws::kGoingAway);
  EXPECT_EQ(frames[2].close_reason(), "going away");
  EXPECT_EQ(sink_.log, (std::vector<std::string>{"detach", "shutdown"}));
  Connection().Drain(deadline);  // once
  EXPECT_EQ(sink_.detaches.size(), 1u);
}

TEST_F(WsConnectionTest, DrainDeadlineEndsAClientThatDoesNotRead) {
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})", "ch", 1));
  Connection().Drain(sink_.now + seconds(5));
  Advance(seconds(5));
  Tick();
  EXPECT_FALSE(Connection().closed());
  Advance(nanoseconds(1));
  Tick();
  EXPECT_TRUE(Connection().closed());
  EXPECT_EQ(sink_.log, (std::vector<std::string>{"detach", "close"}));
}

TEST_F(WsConnectionTest, DrainOfAClosingConnectionDoesNothing) {
  StartOpen();
  Connection().OnKick();
  Connection().Drain(sink_.now + seconds(5));
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_reason(), "disconnected");
}

// --- delivered marks ---

TEST_F(WsConnectionTest, DetachCountsWrittenFramesAndTheHalfWrittenHead) {
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})", "ch", 1));
  Connection().OnFrame(Delivery(R"({"n":2})", "ch", 2));
  Connection().OnFrame(Delivery(R"({"n":3})", "ch", 3));
  Connection().OnFrame(Delivery(R"({"p":1})", "", 9));
  std::string wire = WriteSome(Connection().pending_bytes(0).size() + 3);  // frame 1 out, 2 started
  ASSERT_TRUE(ClientCloses(ws::kNormalClosure));
  // Detached at once, before the close frame is written: frame 2 will be completed, so it counts.
  ASSERT_EQ(sink_.detaches.size(), 1u);
  EXPECT_EQ(sink_.log, std::vector<std::string>{"detach"});
  EXPECT_EQ(Marks(sink_.detaches[0]), (std::vector<std::pair<std::string, uint64_t>>{{"ch", 2}}));
  wire += [&] {
    std::string rest;
    for (size_t i = 0; i < Connection().pending_frames(); ++i)
      rest.append(Connection().pending_bytes(i));
    Connection().OnWritten(rest.size());
    Connection().OnAllWritten();
    return rest;
  }();
  std::vector<ServerFrame> frames = Decode(wire);
  ASSERT_EQ(frames.size(), 3u);
  EXPECT_EQ(frames[0].payload, R"([{"n":1}])");
  EXPECT_EQ(frames[1].payload, R"([{"n":2}])");  // completed before the close
  EXPECT_EQ(frames[2].opcode, ws::kClose);
}

TEST_F(WsConnectionTest, DetachAtTheEndOfStreamCountsOnlyWhatWasWritten) {
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})", "a", 5));
  Connection().OnFrame(Delivery(R"({"n":2})", "b", 6));
  WriteSome(Connection().pending_bytes(0).size() + 1);
  Connection().OnTransportClosed();
  ASSERT_EQ(sink_.detaches.size(), 1u);
  EXPECT_TRUE(sink_.detaches[0].has_delivered());
  EXPECT_EQ(Marks(sink_.detaches[0]), (std::vector<std::pair<std::string, uint64_t>>{{"a", 5}}));
}

TEST_F(WsConnectionTest, CommittedHeadIsKeptByAClose) {
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})", "ch", 1));
  Connection().OnFrame(Delivery(R"({"n":2})", "ch", 2));
  Connection().HeadCommitted();  // TLS: SSL_write wants the same bytes again
  Connection().OnKick();
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, R"([{"n":1}])");
  EXPECT_EQ(frames[1].opcode, ws::kClose);
}

TEST_F(WsConnectionTest, UnstartedHeadIsDroppedByAClose) {
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})", "ch", 1));
  ASSERT_TRUE(ClientCloses(ws::kNormalClosure));
  EXPECT_TRUE(Marks(sink_.detaches.at(0)).empty());
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, ws::kClose);
}

// --- client frames ---

TEST_F(WsConnectionTest, PingIsAnsweredWithItsPayload) {
  StartOpen();
  EXPECT_TRUE(ClientSends(ws::kPing, "hello"));
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, ws::kPong);
  EXPECT_EQ(frames[0].payload, "hello");
}

TEST_F(WsConnectionTest, PingWhileClosingIsNotAnswered) {
  StartOpen();
  Connection().OnKick();
  EXPECT_TRUE(ClientSends(ws::kPing, "late"));
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].opcode, ws::kClose);
}

TEST_F(WsConnectionTest, TextBinaryAndPongAreIgnored) {
  StartOpen();
  EXPECT_TRUE(ClientSends(ws::kText, "[]"));
  EXPECT_TRUE(ClientSends(ws::kBinary, std::string("\x00\xff", 2)));
  EXPECT_TRUE(ClientSends(ws::kPong, "x"));
  EXPECT_TRUE(WriteAll().empty());
  EXPECT_TRUE(Connection().open());
}

TEST_F(WsConnectionTest, InvalidUtf8ClosesWithInvalidPayload) {
  StartOpen();
  EXPECT_TRUE(ClientSends(ws::kText, "\xc3\x28"));
  ASSERT_TRUE(Connection().closing());
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::kInvalidPayload);
  // Nothing more is parsed after a failure.
  EXPECT_TRUE(ClientSends(ws::kPing, "x"));
  EXPECT_TRUE(WriteAll().empty());
}

TEST_F(WsConnectionTest, OversizeMessageClosesAsTooBig) {
  StartOpen();
  EXPECT_TRUE(ClientSends(ws::kText, std::string(settings_.max_client_message_bytes + 1, 'a')));
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].close_code(), ws::kMessageTooBig);
}

TEST_F(WsConnectionTest, MessageAtTheSizeLimitIsAccepted) {
  StartOpen();
  EXPECT_TRUE(ClientSends(ws::kText, std::string(settings_.max_client_message_bytes, 'a')));
  EXPECT_TRUE(Connection().open());
}

TEST_F(WsConnectionTest, FramesSplitAcrossReadsAreParsed) {
  StartOpen();
  const std::string ping = ws::ClientFrame(ws::kPing, "split");
  const auto* bytes = reinterpret_cast<const uint8_t*>(ping.data());
  EXPECT_TRUE(Connection().OnClientBytes(bytes, 3));
  EXPECT_TRUE(WriteAll().empty());
  EXPECT_TRUE(Connection().OnClientBytes(bytes + 3, ping.size() - 3));
  std::vector<ServerFrame> frames = WriteAll();
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].payload, "split");
}

// --- the write side ---

TEST_F(WsConnectionTest, ShortWritesResumeInsideTheHeadFrame) {
  StartOpen();
  Connection().OnFrame(Delivery(R"({"n":1})"));
  Connection().OnFrame(Delivery(R"({"n":2})"));
  std::string wire;
  while (Connection().pending_frames() > 0) wire += WriteSome(3);
  Connection().OnAllWritten();
  std::vector<ServerFrame> frames = Decode(wire);
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0].payload, R"([{"n":1}])");
  EXPECT_EQ(frames[1].payload, R"([{"n":2}])");
}

TEST_F(WsConnectionTest, TheSameFrameIsSharedNotCopied) {
  StartOpen();
  FramePtr frame = Delivery(R"({"n":1})");
  Connection().OnFrame(frame);
  EXPECT_EQ(Connection().pending_bytes(0).data(), frame->bytes.data());
  EXPECT_EQ(frame.use_count(), 2);
  WriteAll();
  EXPECT_EQ(frame.use_count(), 1);  // released as soon as written
}

}  // namespace
}  // namespace channelstream::gateway
