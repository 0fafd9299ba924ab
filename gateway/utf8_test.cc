// The behaviour of the Beast-backed UTF-8 validator that the WebSocket codec relies on (a Boost
// upgrade that changes it fails here first).
#include "gateway/utf8.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace channelstream::gateway {
namespace {

// Encodes `cp` in exactly `length` bytes (1-4), overlong or out of range if asked to: a test
// input generator, not a validator.
std::string Encode(uint32_t cp, int length) {
  std::string out;
  switch (length) {
    case 1:
      out.push_back(static_cast<char>(cp));
      break;
    case 2:
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      break;
    case 3:
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      break;
    default:
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      break;
  }
  return out;
}

int ShortestLength(uint32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// Every split of `text` into pieces of `step` bytes, then Finish().
bool ValidInSteps(const std::string& text, size_t step) {
  Utf8Validator validator;
  for (size_t i = 0; i < text.size(); i += step) {
    if (!validator.Write(std::string_view(text).substr(i, step))) return false;
  }
  return validator.Finish();
}

TEST(Utf8, EveryCodePointInItsShortestFormIsValidExceptSurrogates) {
  for (uint32_t cp = 0; cp <= 0x10FFFF; ++cp) {
    const bool surrogate = cp >= 0xD800 && cp <= 0xDFFF;
    ASSERT_EQ(IsValidUtf8(Encode(cp, ShortestLength(cp))), !surrogate) << std::hex << cp;
  }
}

TEST(Utf8, OverlongAndOutOfRangeFormsAreInvalid) {
  for (uint32_t cp = 0; cp < 0x10000; ++cp) {
    for (int length = ShortestLength(cp) + 1; length <= 4; ++length) {
      ASSERT_FALSE(IsValidUtf8(Encode(cp, length))) << std::hex << cp << " in " << length;
    }
  }
  for (uint32_t cp = 0x110000; cp <= 0x1FFFFF; cp += 0x3F) {
    ASSERT_FALSE(IsValidUtf8(Encode(cp, 4))) << std::hex << cp;
  }
  for (int byte = 0xF8; byte <= 0xFF; ++byte) {  // no 5- or 6-byte forms, no FE/FF
    EXPECT_FALSE(IsValidUtf8(std::string(1, static_cast<char>(byte)) + "\x80\x80\x80\x80\x80"));
  }
}

TEST(Utf8, EmptyTextIsValid) {
  EXPECT_TRUE(IsValidUtf8(std::string_view()));  // a null data pointer
  EXPECT_TRUE(IsValidUtf8(""));
  Utf8Validator validator;
  EXPECT_TRUE(validator.Write(nullptr, 0));
  EXPECT_TRUE(validator.Write(std::string_view()));
  EXPECT_TRUE(validator.Finish());
}

TEST(Utf8, SplitsAnywhereGiveTheWholeTextsAnswer) {
  // Every 1- and 2-byte string, and 3- and 4-byte ones around the interesting lead bytes, in
  // every piece size: the incremental answer is the one-shot answer.
  std::vector<std::string> texts;
  for (int a = 0; a < 256; ++a) {
    texts.push_back(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b)
      texts.push_back(std::string{static_cast<char>(a), static_cast<char>(b)});
  }
  for (int lead : {0xC2, 0xDF, 0xE0, 0xE1, 0xED, 0xEF, 0xF0, 0xF1, 0xF4, 0xF5}) {
    for (int b = 0x70; b < 0xD0; ++b) {
      for (int c : {0x41, 0x80, 0x9F, 0xA0, 0xBF, 0xC0}) {
        texts.push_back(
            std::string{static_cast<char>(lead), static_cast<char>(b), static_cast<char>(c)});
        texts.push_back(std::string{static_cast<char>(lead), static_cast<char>(b),
                                    static_cast<char>(c), '\x80'});
      }
    }
  }
  for (const std::string& text : texts) {
    const bool whole = IsValidUtf8(text);
    for (size_t step = 1; step < text.size(); ++step) {
      ASSERT_EQ(ValidInSteps(text, step), whole)
          << ::testing::PrintToString(text) << " step " << step;
    }
  }
}

TEST(Utf8, LongTextsAtEveryAlignment) {
  // Beast checks ASCII a machine word at a time once aligned: put a bad (or good) sequence at
  // every offset of a longer text, and cut the text at every point.
  for (const std::string& bad :
       {std::string("\xed\xa0\x80"), std::string("\xc0\xaf"), std::string("\xff"),
        std::string("\xf4\x90\x80\x80"), std::string("\xce")}) {
    for (size_t offset = 0; offset <= 24; ++offset) {
      std::string text = std::string(offset, 'a') + bad + std::string(24, 'b');
      EXPECT_FALSE(IsValidUtf8(text)) << offset;
      EXPECT_FALSE(IsValidUtf8(std::string(offset, 'a') + bad)) << offset;
      for (size_t cut = 1; cut < text.size(); ++cut) {
        Utf8Validator validator;
        bool ok = validator.Write(std::string_view(text).substr(0, cut)) &&
                  validator.Write(std::string_view(text).substr(cut)) && validator.Finish();
        EXPECT_FALSE(ok) << offset << " cut " << cut;
      }
    }
  }
  for (const std::string& good : {std::string("\xed\x9f\xbf"), std::string("\xc2\xb5"),
                                  std::string("\xf4\x8f\xbf\xbf"), std::string("\xef\xbf\xbe")}) {
    for (size_t offset = 0; offset <= 24; ++offset) {
      std::string text = std::string(offset, 'a') + good + std::string(24, 'b') + good;
      EXPECT_TRUE(IsValidUtf8(text)) << offset;
      for (size_t cut = 0; cut <= text.size(); ++cut) {
        Utf8Validator validator;
        EXPECT_TRUE(validator.Write(std::string_view(text).substr(0, cut)));
        EXPECT_TRUE(validator.Write(std::string_view(text).substr(cut)));
        EXPECT_TRUE(validator.Finish()) << offset << " cut " << cut;
      }
    }
  }
}

TEST(Utf8, FailsFastOnTheKnownPrefixOfASequence) {
  for (std::string prefix : {std::string("\xed\xa0"), std::string("\xf4\x90"), std::string("\xc0"),
                             std::string("\xe0\x80"), std::string("\xf0\x80"), std::string("\xf5"),
                             std::string("\x80"), std::string("ok\xff")}) {
    Utf8Validator validator;
    EXPECT_FALSE(validator.Write(prefix)) << ::testing::PrintToString(prefix);
  }
  Utf8Validator validator;
  EXPECT_TRUE(validator.Write("\xe2"));  // could still become U+20AC
  EXPECT_TRUE(validator.Write("\x82"));
  EXPECT_TRUE(validator.Write("\xac"));
  EXPECT_TRUE(validator.Finish());
}

// True when some continuation bytes complete `text` into valid UTF-8 (a second byte from each
// of the ranges the lead bytes care about: 80-8F, 90-9F, A0-BF).
bool CanStillBecomeValid(const std::string& text) {
  static const char kContinuations[] = {'\x80', '\x8f', '\x90', '\x9f', '\xa0', '\xbf'};
  if (IsValidUtf8(text)) return true;
  std::vector<std::string> tails = {""};
  for (int extra = 1; extra <= 3; ++extra) {
    std::vector<std::string> longer;
    for (const std::string& tail : tails) {
      for (char c : kContinuations) {
        longer.push_back(tail + c);
        if (IsValidUtf8(text + longer.back())) return true;
      }
    }
    tails.swap(longer);
  }
  return false;
}

TEST(Utf8, FailsFastExactlyWhenNoCompletionRemains) {
  // Write() refuses a prefix exactly when no continuation could make it valid, whether the cut
  // sequence arrived in one piece or in several.
  std::vector<std::string> prefixes;
  for (int a = 0; a < 256; ++a) {
    prefixes.push_back(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b)
      prefixes.push_back(std::string{static_cast<char>(a), static_cast<char>(b)});
  }
  for (int lead : {0xE0, 0xED, 0xEF, 0xF0, 0xF3, 0xF4}) {
    for (int b = 0x70; b < 0xD0; ++b) {
      for (int c : {0x41, 0x80, 0xBF, 0xC0}) {
        prefixes.push_back(
            std::string{static_cast<char>(lead), static_cast<char>(b), static_cast<char>(c)});
      }
    }
  }
  for (const std::string& prefix : prefixes) {
    const bool expected = CanStillBecomeValid(prefix);
    Utf8Validator whole;
    ASSERT_EQ(whole.Write("abc" + prefix), expected) << ::testing::PrintToString(prefix);
    for (size_t cut = 1; cut < prefix.size(); ++cut) {
      Utf8Validator split;
      const bool first = split.Write(prefix.substr(0, cut));
      ASSERT_EQ(first, CanStillBecomeValid(prefix.substr(0, cut)))
          << ::testing::PrintToString(prefix) << cut;
      if (first) {
        ASSERT_EQ(split.Write(prefix.substr(cut)), expected)
            << ::testing::PrintToString(prefix) << cut;
      }
    }
  }
}

TEST(Utf8, FinishRefusesACutSequenceAndStartsOver) {
  Utf8Validator validator;
  EXPECT_TRUE(validator.Write("abc\xf0\x9f\x98"));
  EXPECT_FALSE(validator.Finish());
  // Finish reset it: the next text starts afresh (a continuation byte is not taken as the end of
  // the cut sequence).
  EXPECT_FALSE(validator.Write("\x80"));
  validator.Reset();
  EXPECT_TRUE(validator.Write("\xc2\xb5"));
  EXPECT_TRUE(validator.Finish());
  EXPECT_TRUE(validator.Write("\xce"));
  validator.Reset();  // forgets the open sequence
  EXPECT_TRUE(validator.Write("x"));
  EXPECT_TRUE(validator.Finish());
}

}  // namespace
}  // namespace channelstream::gateway
