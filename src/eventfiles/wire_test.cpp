#include "eventfiles/wire.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "eventfiles/scalars.h"
#include "eventfiles/test_encoder.h"

namespace paddlecloud::eventfiles {
namespace {

using namespace testenc;
using wire::Field;
using wire::WireType;

std::vector<Field> ReadAll(std::string_view bytes, bool* error) {
  wire::Reader reader(bytes);
  std::vector<Field> fields;
  Field field;
  while (reader.Next(field)) fields.push_back(field);
  *error = reader.error();
  return fields;
}

TEST(WireTest, ReadsEachWireType) {
  const std::string bytes = VarintField(1, 300) + DoubleField(2, 2.5) + BytesField(3, "abc") + FloatField(4, -1.5f) +
                            VarintField(536870911, ~0ull);
  bool error = true;
  const auto fields = ReadAll(bytes, &error);
  EXPECT_FALSE(error);
  ASSERT_EQ(fields.size(), 5u);
  EXPECT_EQ(fields[0].varint, 300u);
  EXPECT_EQ(wire::AsDouble(fields[1].fixed64), 2.5);
  EXPECT_EQ(fields[2].bytes, "abc");
  EXPECT_EQ(wire::AsFloat(fields[3].fixed32), -1.5f);
  EXPECT_EQ(fields[4].number, 536870911u);
  EXPECT_EQ(fields[4].varint, ~0ull);
}

TEST(WireTest, SkipsGroupsIncludingNestedOnes) {
  // field 7 start group { field 1 varint, field 8 start group { field 2 bytes } end 8 } end 7, then field 9.
  const std::string group = Key(7, 3) + VarintField(1, 5) + Key(8, 3) + BytesField(2, "x") + Key(8, 4) + Key(7, 4);
  bool error = true;
  const auto fields = ReadAll(group + VarintField(9, 1), &error);
  EXPECT_FALSE(error);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].number, 9u);
}

TEST(WireTest, MalformedInputStopsWithAnError) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"truncated varint", VarintField(1, 300).substr(0, 2)},
      {"varint longer than ten bytes", Key(1, 0) + std::string(10, '\x80') + "\x01"},
      {"varint over 64 bits", Key(1, 0) + std::string(9, '\xFF') + "\x02"},
      {"truncated fixed64", DoubleField(1, 1.0).substr(0, 5)},
      {"truncated fixed32", FloatField(1, 1.0f).substr(0, 3)},
      {"length past the end", Key(1, 2) + Varint(10) + "abc"},
      {"huge length", Key(1, 2) + Varint(~0ull) + "abc"},
      {"field number zero", Key(0, 0) + Varint(1)},
      {"wire type 6", Key(1, 6)},
      {"wire type 7", Key(1, 7)},
      {"end group without start", Key(1, 4)},
      {"group never closed", Key(1, 3) + VarintField(2, 1)},
      {"group closed by another number", Key(1, 3) + Key(2, 4)},
      {"groups nested too deep", [] {
         std::string s;
         for (int i = 0; i < 100; ++i) s += Key(1, 3);
         return s;
       }()},
  };
  for (const auto& [name, bytes] : cases) {
    bool error = false;
    ReadAll(bytes, &error);
    EXPECT_TRUE(error) << name;
  }
}

// Random and mutated bytes through the reader and both extractors: no crash, no read out of bounds
// (run under a sanitizer to see the latter).
TEST(WireTest, ArbitraryBytesNeverCrash) {
  std::mt19937 random(12345);
  const std::string valid = ScalarEvent(1.5, 7, "loss", 0.25f) + VdlScalar(3, "acc", 1000, 0.5f);
  std::vector<ScalarPoint> points;
  for (int round = 0; round < 100000; ++round) {
    std::string bytes = valid;
    if (round % 2 == 0) {
      bytes.resize(random() % 40);
      for (char& c : bytes) c = static_cast<char>(random());
    } else {
      for (int flips = 1 + random() % 3; flips > 0; --flips) bytes[random() % bytes.size()] = static_cast<char>(random());
      bytes.resize(random() % (bytes.size() + 1));
    }
    bool error = false;
    ReadAll(bytes, &error);
    ExtractTensorBoardScalars(bytes, points);
    ExtractVisualDlScalars(bytes, points);
    points.clear();
  }
}

}  // namespace
}  // namespace paddlecloud::eventfiles
