#include "eventfiles/crc32c.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace paddlecloud::eventfiles {
namespace {

// The definition, one bit at a time: what the table-driven code must agree with.
std::uint32_t BitwiseCrc32c(std::string_view bytes) {
  std::uint32_t crc = ~0u;
  for (unsigned char byte : bytes) {
    crc ^= byte;
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? 0x82F63B78u : 0u);
  }
  return ~crc;
}

TEST(Crc32cTest, StandardCheckValue) { EXPECT_EQ(Crc32c("123456789"), 0xE3069283u); }

TEST(Crc32cTest, Rfc3720TestVectors) {
  EXPECT_EQ(Crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(Crc32c(std::string(32, '\xFF')), 0x62A8AB43u);
  std::string ascending, descending;
  for (int i = 0; i < 32; ++i) {
    ascending.push_back(static_cast<char>(i));
    descending.push_back(static_cast<char>(31 - i));
  }
  EXPECT_EQ(Crc32c(ascending), 0x46DD794Eu);
  EXPECT_EQ(Crc32c(descending), 0x113FDB5Cu);
}

TEST(Crc32cTest, EmptyIsZero) { EXPECT_EQ(Crc32c(""), 0u); }

TEST(Crc32cTest, AgreesWithTheBitwiseDefinitionAtEveryLengthAndAlignment) {
  std::mt19937 random(7);
  std::string bytes(300, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  for (std::size_t start = 0; start < 9; ++start)
    for (std::size_t length = 0; start + length <= bytes.size(); length += 7)
      ASSERT_EQ(Crc32c(std::string_view(bytes).substr(start, length)),
                BitwiseCrc32c(std::string_view(bytes).substr(start, length)))
          << start << "+" << length;
}

TEST(Crc32cTest, ContinuesARunningCrc) {
  const std::string text = "The quick brown fox jumps over the lazy dog";
  for (std::size_t split = 0; split <= text.size(); ++split)
    EXPECT_EQ(Crc32c(text.substr(split), Crc32c(text.substr(0, split))), Crc32c(text));
}

TEST(Crc32cTest, MaskRotatesAndAddsTheTFRecordDelta) {
  EXPECT_EQ(MaskCrc(0), 0xa282ead8u);
  EXPECT_EQ(MaskCrc(0x00008000u), 0xa282ead9u);  // bit 15 rotates to bit 0
  EXPECT_EQ(MaskCrc(0x00000001u), 0xa284ead8u);  // bit 0 rotates to bit 17
}

}  // namespace
}  // namespace paddlecloud::eventfiles
