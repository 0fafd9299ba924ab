#include "gateway/ws_codec.h"

#include <gtest/gtest.h>

namespace channelstream::ws {
namespace {

std::vector<ClientEvent> FeedAll(FrameParser& parser, const std::string& bytes, bool expect_ok = true) {
  std::vector<ClientEvent> events;
  bool ok = parser.Feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &events);
  EXPECT_EQ(ok, expect_ok);
  return events;
}

TEST(ServerFrame, HeaderSizesFollowPayloadLength) {
  EXPECT_EQ(ServerFrame(kText, std::string(125, 'a')).size(), 127u);
  std::string medium = ServerFrame(kText, std::string(126, 'a'));
  EXPECT_EQ(medium.size(), 130u);
  EXPECT_EQ(static_cast<uint8_t>(medium[1]), 126);
  std::string large = ServerFrame(kBinary, std::string(70000, 'a'));
  EXPECT_EQ(large.size(), 70010u);
  EXPECT_EQ(static_cast<uint8_t>(large[0]), 0x82);
  EXPECT_EQ(static_cast<uint8_t>(large[1]), 127);
}

TEST(ServerFrame, JsonListFrameJoinsParts) {
  size_t offset = 0;
  std::string frame = JsonListFrame({"{\"a\":1}", "{\"b\":2}"}, &offset);
  EXPECT_EQ(static_cast<uint8_t>(frame[0]), 0x81);
  EXPECT_EQ(frame.substr(2), "[{\"a\":1},{\"b\":2}]");
  EXPECT_EQ(offset, 3u);
  EXPECT_EQ(JsonListFrame({}).substr(2), "[]");
}

TEST(ServerFrame, CloseFrameCarriesCodeAndReason) {
  std::string frame = CloseFrame(1008, "slow consumer: queue limit");
  EXPECT_EQ(static_cast<uint8_t>(frame[0]), 0x88);
  EXPECT_EQ(static_cast<uint8_t>(frame[2]), 1008 >> 8);
  EXPECT_EQ(static_cast<uint8_t>(frame[3]), 1008 & 0xFF);
  EXPECT_EQ(frame.substr(4), "slow consumer: queue limit");
  EXPECT_LE(CloseFrame(1000, std::string(300, 'x')).size(), 127u);
}

TEST(AcceptKey, MatchesRfcExample) {
  EXPECT_EQ(AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(FrameParser, ParsesMaskedTextAndControlFrames) {
  FrameParser parser(1024);
  std::string bytes = ClientFrame(kText, "hello") + ClientFrame(kPing, "p") + ClientFrame(kPong, "") +
                      ClientFrame(kClose, std::string("\x03\xE8", 2) + "bye");
  auto events = FeedAll(parser, bytes);
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].kind, ClientEvent::kText);
  EXPECT_EQ(events[0].payload, "hello");
  EXPECT_EQ(events[1].kind, ClientEvent::kPing);
  EXPECT_EQ(events[1].payload, "p");
  EXPECT_EQ(events[2].kind, ClientEvent::kPong);
  EXPECT_EQ(events[3].kind, ClientEvent::kClose);
  EXPECT_EQ(events[3].close_code, 1000);
  EXPECT_EQ(events[3].payload, "bye");
  EXPECT_FALSE(parser.holds_partial());
}

TEST(FrameParser, ReassemblesBytesSplitAnywhere) {
  std::string bytes = ClientFrame(kText, std::string(300, 'z')) + ClientFrame(kText, "x");
  for (size_t step : {1u, 2u, 3u, 7u, 100u}) {
    FrameParser parser(1024);
    std::vector<ClientEvent> events;
    for (size_t i = 0; i < bytes.size(); i += step) {
      size_t n = std::min(step, bytes.size() - i);
      ASSERT_TRUE(parser.Feed(reinterpret_cast<const uint8_t*>(bytes.data() + i), n, &events));
    }
    ASSERT_EQ(events.size(), 2u) << step;
    EXPECT_EQ(events[0].payload, std::string(300, 'z'));
    EXPECT_EQ(events[1].payload, "x");
    EXPECT_FALSE(parser.holds_partial());
  }
}

TEST(FrameParser, JoinsFragmentsWithControlFramesBetween) {
  FrameParser parser(1024);
  std::string bytes = ClientFrame(kText, "ab", false) + ClientFrame(kPing, "") +
                      ClientFrame(kContinuation, "cd", false) + ClientFrame(kContinuation, "ef", true);
  auto events = FeedAll(parser, bytes);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, ClientEvent::kPing);
  EXPECT_EQ(events[1].kind, ClientEvent::kText);
  EXPECT_EQ(events[1].payload, "abcdef");
}

TEST(FrameParser, RejectsUnmaskedFrames) {
  FrameParser parser(1024);
  FeedAll(parser, ServerFrame(kText, "x"), false);
  EXPECT_EQ(parser.error_code(), kProtocolError);
}

TEST(FrameParser, RejectsOversizedMessagesBeforeTheirBytesArrive) {
  FrameParser parser(100);
  std::string frame = ClientFrame(kText, std::string(101, 'a'));
  FeedAll(parser, frame.substr(0, 4), false);  // header only
  EXPECT_EQ(parser.error_code(), kMessageTooBig);
  FrameParser fragmented(100);
  FeedAll(fragmented, ClientFrame(kText, std::string(60, 'a'), false) +
                          ClientFrame(kContinuation, std::string(60, 'a')), false);
  EXPECT_EQ(fragmented.error_code(), kMessageTooBig);
}

TEST(FrameParser, RejectsProtocolViolations) {
  struct Case { std::string bytes; const char* name; };
  std::string rsv = ClientFrame(kText, "x");
  rsv[0] = static_cast<char>(rsv[0] | 0x40);
  std::string bad_opcode = ClientFrame(kText, "x");
  bad_opcode[0] = static_cast<char>(0x83);
  for (const Case& c : {Case{rsv, "reserved bits"}, Case{bad_opcode, "opcode 3"},
                        Case{ClientFrame(kPing, "x", false), "fragmented ping"},
                        Case{ClientFrame(kPing, std::string(126, 'x')), "long ping"},
                        Case{ClientFrame(kContinuation, "x"), "lone continuation"},
                        Case{ClientFrame(kText, "a", false) + ClientFrame(kText, "b"), "nested message"},
                        Case{ClientFrame(kClose, "x"), "1-byte close"}}) {
    FrameParser parser(1024);
    FeedAll(parser, c.bytes, false);
    EXPECT_EQ(parser.error_code(), kProtocolError) << c.name;
    EXPECT_FALSE(parser.holds_partial()) << c.name;
  }
}

TEST(FrameParser, EmptyCloseMeansNoStatus) {
  FrameParser parser(1024);
  auto events = FeedAll(parser, ClientFrame(kClose, ""));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].close_code, kNoStatus);
}

}  // namespace
}  // namespace channelstream::ws
