#include "common/base64.h"

#include <gtest/gtest.h>

namespace paddlecloud {
namespace {

TEST(Base64Test, EncodesTheRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode(std::string("\xff\xfe\x00", 3)), "//4A");
}

TEST(Base64Test, DecodesEitherAlphabetWithOrWithoutPaddingAndRefusesTheRest) {
  std::string bytes("\xfb\xff\x00 binary\n", 10);
  EXPECT_EQ(Base64Decode(Base64Encode(bytes)), bytes);
  EXPECT_EQ(Base64Decode("-_4A"), Base64Decode("+/4A"));
  EXPECT_EQ(Base64Decode("Zm9vYg"), "foob");
  EXPECT_EQ(Base64Decode("Zm9v\n YmFy"), "foobar");
  EXPECT_EQ(Base64Decode("Zm9v*"), std::nullopt);
  EXPECT_EQ(Base64Decode("Zg==Zg"), std::nullopt);  // data after padding
  EXPECT_EQ(Base64Decode("Z"), std::nullopt);       // a lone sextet is no byte
}

}  // namespace
}  // namespace paddlecloud
