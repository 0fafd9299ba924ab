#include "common/text.h"

#include "gtest/gtest.h"

namespace channelstream::common {
namespace {

TEST(TextTest, Utf8LengthCountsCharactersNotBytes) {
  EXPECT_EQ(Utf8Length(""), 0u);
  EXPECT_EQ(Utf8Length("abc"), 3u);
  EXPECT_EQ(Utf8Length("\xc3\xa9t\xc3\xa9"), 3u);  // "été"
  EXPECT_EQ(Utf8Length("\xf0\x9f\x98\x80"), 1u);   // one emoji
  EXPECT_EQ(Utf8Length(std::string(512 * 2, '\0')
                           .replace(0, 1024,
                                    [] {
                                      std::string s;
                                      for (int i = 0; i < 512; ++i) s += "\xc3\xa9";
                                      return s;
                                    }())),
            512u);
  EXPECT_EQ(Utf8Length("\xff\xfe"), 2u);  // invalid bytes count one each
  EXPECT_EQ(Utf8Length("\xe2\x82"), 2u);  // truncated sequence
}

TEST(TextTest, EscapeForLogKeepsPrintableUtf8) {
  EXPECT_EQ(EscapeForLog("GET /lobby \xc3\xa9t\xc3\xa9"), "GET /lobby \xc3\xa9t\xc3\xa9");
}

TEST(TextTest, EscapeForLogNeutralisesNewlinesEscapesAndInvalidBytes) {
  EXPECT_EQ(EscapeForLog("/\xff\nFORGED ERROR x"), "/\\xff\\x0aFORGED ERROR x");
  EXPECT_EQ(EscapeForLog("\x1b[31mred"), "\\x1b[31mred");
  EXPECT_EQ(EscapeForLog("a\rb\tc\x7f"), "a\\x0db\\x09c\\x7f");
  EXPECT_EQ(EscapeForLog("\xc2\x9b"
                         "2J"),
            "\\xc2\\x9b2J");                                   // C1 CSI
  EXPECT_EQ(EscapeForLog("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // a surrogate is not UTF-8
  EXPECT_EQ(EscapeForLog("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
}

}  // namespace
}  // namespace channelstream::common
