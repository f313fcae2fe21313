#include "common/utf8.h"

#include <gtest/gtest.h>

namespace paddlecloud {
namespace {

TEST(Utf8Test, AcceptsWellFormedText) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("数据集 ü 😀"));
  EXPECT_TRUE(IsValidUtf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last code point
}

TEST(Utf8Test, RefusesOverlongFormsSurrogatesAndTruncations) {
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // '/' in two bytes
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // '/' in three bytes
  EXPECT_FALSE(IsValidUtf8("\xf0\x80\x80\xaf"));  // '/' in four bytes
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // a UTF-16 surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe6\x95"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));              // a continuation byte alone
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

}  // namespace
}  // namespace paddlecloud
