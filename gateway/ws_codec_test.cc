#include "gateway/ws_codec.h"

#include <gtest/gtest.h>

namespace channelstream::gateway::ws {
namespace {

std::vector<ClientEvent> FeedAll(FrameParser& parser, const std::string& bytes,
                                 bool expect_ok = true) {
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
  std::string bytes = ClientFrame(kText, "hello") + ClientFrame(kPing, "p") +
                      ClientFrame(kPong, "") +
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
                      ClientFrame(kContinuation, "cd", false) +
                      ClientFrame(kContinuation, "ef", true);
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
  FeedAll(fragmented,
          ClientFrame(kText, std::string(60, 'a'), false) +
              ClientFrame(kContinuation, std::string(60, 'a')),
          false);
  EXPECT_EQ(fragmented.error_code(), kMessageTooBig);
}

TEST(FrameParser, RejectsProtocolViolations) {
  struct Case {
    std::string bytes;
    const char* name;
  };
  std::string rsv = ClientFrame(kText, "x");
  rsv[0] = static_cast<char>(rsv[0] | 0x40);
  std::string bad_opcode = ClientFrame(kText, "x");
  bad_opcode[0] = static_cast<char>(0x83);
  for (const Case& c :
       {Case{rsv, "reserved bits"}, Case{bad_opcode, "opcode 3"},
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

// --- Autobahn-style conformance (the cases that apply to a server that only sends) ---

// Feeds `bytes` in slices of `step` bytes; returns false once the parser refused them.
bool FeedInSteps(FrameParser& parser, const std::string& bytes, size_t step,
                 std::vector<ClientEvent>* events) {
  for (size_t i = 0; i < bytes.size(); i += step) {
    size_t n = std::min(step, bytes.size() - i);
    if (!parser.Feed(reinterpret_cast<const uint8_t*>(bytes.data() + i), n, events)) return false;
  }
  return true;
}

std::string CodeBytes(uint16_t code) {
  return std::string{static_cast<char>(code >> 8), static_cast<char>(code & 0xFF)};
}

// The text split into a fragmented message: [0, i) opens it, [i, j) continues it, [j, end) ends it.
std::string Fragmented(std::string_view text, size_t i, size_t j) {
  return ClientFrame(kText, text.substr(0, i), false) +
         ClientFrame(kContinuation, text.substr(i, j - i), false) +
         ClientFrame(kContinuation, text.substr(j), true);
}

// Autobahn 6.x: well-formed UTF-8, including noncharacters and the boundary code points.
const std::vector<std::string>& ValidUtf8() {
  // One row per Autobahn case group, kept as written.
  // clang-format off
  static const std::vector<std::string> cases = {
      "",
      "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",  // 6.2
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",                                 // 6.5 "kosme"
      std::string("\x00", 1), "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80",       // 6.7 first of each length
      "\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf",                         // 6.9 last of each length
      "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd",                                 // 6.10 around the surrogates
      "\xef\xbf\xbe", "\xef\xb7\x90", "\xf0\x9f\xbf\xbe", "\xf3\xbf\xbf\xbf",         // 6.22 noncharacters
      "\xef\xbb\xbf", "\xf0\x9f\x98\x80 emoji",                                       // 6.23 BOM, astral
  };
  // clang-format on
  return cases;
}

// Autobahn 6.x: malformed UTF-8.
const std::vector<std::string>& InvalidUtf8() {
  // One row per Autobahn case group, kept as written.
  // clang-format off
  static const std::vector<std::string> cases = {
      "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64",  // 6.3 surrogate
      "\xce\xba\xe1\xbd",                                                                // 6.6 truncated
      "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80",                                // 6.8 5/6 bytes
      "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf7\xbf\xbf\xbf",                        // 6.11 > U+10FFFF
      "\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80",                                        // 6.12 lone continuations
      "\xc0\x20", "\xe0\x20", "\xf0\x20", "\xf8\x20", "\xfc\x20",                        // 6.13 lonely starts
      "\xc0", "\xe0\x80", "\xf0\x80\x80", "\xdf", "\xef\xbf", "\xf7\xbf\xbf",            // 6.14 last byte missing
      "\xc0\xe0\x80\xf0\x80\x80\xdf\xef\xbf",                                            // 6.15 concatenated
      "\xfe", "\xff", "\xfe\xfe\xff\xff",                                                // 6.16 impossible bytes
      "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xc1\xbf", "\xe0\x9f\xbf",        // 6.17 overlongs
      "\xf0\x8f\xbf\xbf", "\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80",
      "\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf",                    // 6.18 surrogates
      "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf",
      "\xed\xa0\x80\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf",                            // 6.19 pairs
      "valid prefix \xce\xba then \xff",
  };
  // clang-format on
  return cases;
}

TEST(FrameParserUtf8, AcceptsValidTextFrames) {
  for (const std::string& text : ValidUtf8()) {
    FrameParser parser(1024);
    auto events = FeedAll(parser, ClientFrame(kText, text));
    ASSERT_EQ(events.size(), 1u) << ::testing::PrintToString(text);
    EXPECT_EQ(events[0].kind, ClientEvent::kText);
    EXPECT_EQ(events[0].payload, text);
  }
}

TEST(FrameParserUtf8, InvalidTextFrameIsInvalidPayload) {
  for (const std::string& text : InvalidUtf8()) {
    FrameParser parser(1024);
    auto events = FeedAll(parser, ClientFrame(kText, text), false);
    EXPECT_TRUE(events.empty()) << ::testing::PrintToString(text);
    EXPECT_EQ(parser.error_code(), kInvalidPayload) << ::testing::PrintToString(text);
    EXPECT_FALSE(parser.holds_partial());
  }
}

TEST(FrameParserUtf8, BinaryMessagesAreNotChecked) {
  FrameParser parser(1024);
  auto events =
      FeedAll(parser, ClientFrame(kBinary, "\xff\xfe") + ClientFrame(kBinary, "\xed\xa0", false) +
                          ClientFrame(kContinuation, "\x80"));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].payload, "\xed\xa0\x80");
}

TEST(FrameParserUtf8, ValidTextSplitAtEveryBoundaryIsAccepted) {
  for (const std::string& text : ValidUtf8()) {
    for (size_t i = 0; i <= text.size(); ++i) {
      for (size_t j = i; j <= text.size(); ++j) {
        FrameParser parser(1024);
        auto events = FeedAll(parser, Fragmented(text, i, j));
        ASSERT_EQ(events.size(), 1u) << ::testing::PrintToString(text) << " " << i << "/" << j;
        EXPECT_EQ(events[0].kind, ClientEvent::kText);
        EXPECT_EQ(events[0].payload, text);
        EXPECT_FALSE(parser.holds_partial());  // the validator went with the message
      }
    }
  }
}

TEST(FrameParserUtf8, InvalidTextSplitAtEveryBoundaryIsInvalidPayload) {
  for (const std::string& text : InvalidUtf8()) {
    for (size_t i = 0; i <= text.size(); ++i) {
      for (size_t j = i; j <= text.size(); ++j) {
        FrameParser parser(1024);
        auto events = FeedAll(parser, Fragmented(text, i, j), false);
        EXPECT_TRUE(events.empty());
        EXPECT_EQ(parser.error_code(), kInvalidPayload)
            << ::testing::PrintToString(text) << " " << i << "/" << j;
        EXPECT_FALSE(parser.holds_partial());
      }
    }
  }
}

TEST(FrameParserUtf8, InvalidPrefixFailsBeforeTheMessageEnds) {
  // Fail fast (Autobahn 6.4): a fragment that already cannot be the start of valid text closes
  // the connection without waiting for the rest of the message.
  for (std::string prefix :
       {std::string("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"),
        std::string("ok \xed\xa0"), std::string("\xf4\x90"), std::string("\xc0"),
        std::string("\xe0\x80"), std::string("\xf0\x80"), std::string("\xf5"), std::string("\xff"),
        std::string("\x80"), std::string("ab\xc2\x41")}) {
    FrameParser parser(1024);
    FeedAll(parser, ClientFrame(kText, prefix, false), false);
    EXPECT_EQ(parser.error_code(), kInvalidPayload) << ::testing::PrintToString(prefix);
    FrameParser later(1024);
    FeedAll(later, ClientFrame(kText, "fine", false) + ClientFrame(kContinuation, prefix, false),
            false);
    EXPECT_EQ(later.error_code(), kInvalidPayload) << ::testing::PrintToString(prefix);
  }
}

TEST(FrameParserUtf8, MessageEndingInsideASequenceFailsAtFin) {
  for (std::string open :
       {std::string("\xce"), std::string("\xce\xba\xe1\xbd"), std::string("x\xf0\x9f\x98")}) {
    FrameParser parser(1024);
    // A valid beginning: nothing to refuse yet, and control frames still pass.
    auto events = FeedAll(parser, ClientFrame(kText, open, false) + ClientFrame(kPing, "p"));
    ASSERT_EQ(events.size(), 1u);
    EXPECT_EQ(events[0].kind, ClientEvent::kPing);
    EXPECT_TRUE(parser.holds_partial());
    FeedAll(parser, ClientFrame(kContinuation, "", true), false);
    EXPECT_EQ(parser.error_code(), kInvalidPayload) << ::testing::PrintToString(open);
  }
}

TEST(FrameParserUtf8, SequenceSplitAroundAControlFrameIsJoined) {
  FrameParser parser(1024);
  auto events = FeedAll(parser, ClientFrame(kText, "a\xe2\x82", false) + ClientFrame(kPing, "") +
                                    ClientFrame(kContinuation, "\xac!", true));
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind, ClientEvent::kText);
  EXPECT_EQ(events[1].payload, "a\xe2\x82\xac!");
}

TEST(FrameParserUtf8, EachMessageIsCheckedOnItsOwnWhateverTheReadSizes) {
  // Two fragmented messages back to back, fed in every read size: the second starts afresh.
  std::string bytes =
      Fragmented("\xce\xba\xe1\xbd\xb9", 1, 3) + Fragmented("\xf0\x9f\x98\x80", 2, 2);
  for (size_t step = 1; step <= bytes.size(); ++step) {
    FrameParser parser(1024);
    std::vector<ClientEvent> events;
    ASSERT_TRUE(FeedInSteps(parser, bytes, step, &events)) << step;
    ASSERT_EQ(events.size(), 2u) << step;
    EXPECT_EQ(events[0].payload, "\xce\xba\xe1\xbd\xb9");
    EXPECT_EQ(events[1].payload, "\xf0\x9f\x98\x80");
    EXPECT_FALSE(parser.holds_partial());
  }
  std::string bad = Fragmented("ok", 1, 1) + Fragmented("\xed\xa0\x80", 1, 2);
  for (size_t step = 1; step <= bad.size(); ++step) {
    FrameParser parser(1024);
    std::vector<ClientEvent> events;
    EXPECT_FALSE(FeedInSteps(parser, bad, step, &events)) << step;
    EXPECT_EQ(parser.error_code(), kInvalidPayload) << step;
    EXPECT_EQ(events.size(), 1u) << step;  // the first message was fine
  }
}

TEST(FrameParserClose, ValidCodesAreReported) {
  for (uint16_t code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
                        3000, 3999, 4000, 4999}) {
    FrameParser parser(1024);
    auto events = FeedAll(parser, ClientFrame(kClose, CodeBytes(code) + "why"));
    ASSERT_EQ(events.size(), 1u) << code;
    EXPECT_EQ(events[0].kind, ClientEvent::kClose);
    EXPECT_EQ(events[0].close_code, code);
    EXPECT_EQ(events[0].payload, "why");
  }
}

TEST(FrameParserClose, CodesInvalidOnTheWireAreProtocolErrors) {
  // RFC 6455 7.4 and the IANA registry (Autobahn 7.9, 7.13): 1004-1006 and 1015 are never sent,
  // 1016-2999 are reserved, 0-999 unused, and nothing is defined from 5000 up.
  for (uint16_t code : {0, 1, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    FrameParser parser(1024);
    auto events = FeedAll(parser, ClientFrame(kClose, CodeBytes(code)), false);
    EXPECT_TRUE(events.empty()) << code;
    EXPECT_EQ(parser.error_code(), kProtocolError) << code;
  }
}

TEST(FrameParserClose, ReasonMustBeUtf8) {
  FrameParser valid(1024);
  auto events = FeedAll(
      valid, ClientFrame(kClose, CodeBytes(1000) + "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].payload, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5");
  for (std::string reason :
       {std::string("\xff"), std::string("bye \xed\xa0\x80"), std::string("cut \xce")}) {
    FrameParser parser(1024);
    EXPECT_TRUE(FeedAll(parser, ClientFrame(kClose, CodeBytes(1000) + reason), false).empty());
    EXPECT_EQ(parser.error_code(), kInvalidPayload) << ::testing::PrintToString(reason);
  }
}

TEST(FrameParserClose, NothingIsParsedAfterAClose) {
  // Autobahn 7.1: after the client's close, its further frames (even malformed ones) are ignored.
  std::string after =
      ClientFrame(kPing, "after") + ClientFrame(kText, "text") + ServerFrame(kText, "unmasked");
  std::string bytes = ClientFrame(kClose, CodeBytes(1000)) + after;
  for (size_t step : {bytes.size(), size_t{1}, size_t{5}}) {
    FrameParser parser(1024);
    std::vector<ClientEvent> events;
    EXPECT_TRUE(FeedInSteps(parser, bytes, step, &events)) << step;
    ASSERT_EQ(events.size(), 1u) << step;
    EXPECT_EQ(events[0].kind, ClientEvent::kClose);
    EXPECT_FALSE(parser.failed());
    EXPECT_FALSE(parser.holds_partial()) << step;
    EXPECT_TRUE(FeedAll(parser, after).empty());
  }
  // A close inside a fragmented message drops the message (Autobahn 7.1.5).
  FrameParser parser(1024);
  auto events = FeedAll(parser, ClientFrame(kText, "frag", false) + ClientFrame(kClose, "") +
                                    ClientFrame(kContinuation, "ment"));
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind, ClientEvent::kClose);
  EXPECT_FALSE(parser.holds_partial());
}

TEST(FrameParser, RejectsEveryReservedBitAndOpcode) {
  std::vector<std::string> cases;
  for (uint8_t rsv : {0x10, 0x20, 0x40, 0x70}) {
    for (Opcode opcode : {kText, kBinary, kPing, kContinuation}) {
      std::string frame = ClientFrame(opcode, "x");
      frame[0] = static_cast<char>(frame[0] | rsv);
      cases.push_back(frame);
    }
  }
  for (uint8_t opcode : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    std::string frame = ClientFrame(kText, "");
    frame[0] = static_cast<char>(0x80 | opcode);
    cases.push_back(frame);
    cases.push_back(ClientFrame(kText, "a", false) + frame);  // inside a fragmented message too
  }
  for (const std::string& bytes : cases) {
    FrameParser parser(1024);
    std::vector<ClientEvent> events;
    EXPECT_FALSE(
        parser.Feed(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &events));
    EXPECT_EQ(parser.error_code(), kProtocolError) << ::testing::PrintToString(bytes);
    EXPECT_FALSE(parser.holds_partial());
  }
}

TEST(FrameParser, RejectsLongOrFragmentedControlFrames) {
  for (Opcode opcode : {kPing, kPong, kClose}) {
    for (const std::string& bytes : {ClientFrame(opcode, CodeBytes(1000) + std::string(124, 'x')),
                                     ClientFrame(opcode, CodeBytes(1000), false)}) {
      FrameParser parser(1024);
      FeedAll(parser, bytes, false);
      EXPECT_EQ(parser.error_code(), kProtocolError) << int{opcode};
    }
  }
}

TEST(FrameParser, PingAndPongCarryTheirPayload) {
  std::string binary;
  for (int i = 0; i < 125; ++i)
    binary.push_back(static_cast<char>(0xFF - i));  // not UTF-8: not checked
  FrameParser parser(1024);
  auto events = FeedAll(parser, ClientFrame(kPing, binary) + ClientFrame(kPong, "unsolicited") +
                                    ClientFrame(kPing, ""));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].kind, ClientEvent::kPing);
  EXPECT_EQ(events[0].payload, binary);
  EXPECT_EQ(events[1].kind, ClientEvent::kPong);
  EXPECT_EQ(events[2].kind, ClientEvent::kPing);
  EXPECT_EQ(events[2].payload, "");
}

TEST(FrameParser, StaysSmallWhenIdle) {
  // One lives in every idle WebSocket session: the state for a message in progress (buffers, the
  // UTF-8 validator) lives behind one pointer allocated only while a message is in progress.
  EXPECT_LE(sizeof(FrameParser), 24u);
}

}  // namespace
}  // namespace channelstream::gateway::ws

namespace channelstream::gateway::ws {
namespace {

// Found by //tests/fuzz:ws_frame_fuzz: a 64-bit length near 2^64 after a fragment wrapped the
// size check and the parser tried to allocate it (std::length_error: a crash in the gateway).
TEST(FrameParserLengths, HugeLengthsAreProtocolErrorsNotAllocations) {
  for (uint64_t length : {~uint64_t{0}, uint64_t{1} << 63, (uint64_t{1} << 63) + 5}) {
    FrameParser parser(65536);
    std::vector<ClientEvent> events;
    std::string start = ClientFrame(kText, "abc", /*fin=*/false);
    ASSERT_TRUE(parser.Feed(reinterpret_cast<const uint8_t*>(start.data()), start.size(), &events));
    std::string frame = {static_cast<char>(0x80), static_cast<char>(0x80 | 127)};
    for (int i = 7; i >= 0; --i) frame.push_back(static_cast<char>((length >> (8 * i)) & 0xFF));
    frame += "mask";
    EXPECT_FALSE(
        parser.Feed(reinterpret_cast<const uint8_t*>(frame.data()), frame.size(), &events));
    EXPECT_TRUE(parser.error_code() == kProtocolError || parser.error_code() == kMessageTooBig);
  }
}

}  // namespace
}  // namespace channelstream::gateway::ws
