#include "eventfiles/scalars.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "eventfiles/test_encoder.h"

namespace paddlecloud::eventfiles {
namespace {

using namespace testenc;

constexpr std::uint64_t kDtFloat = 1, kDtDouble = 2, kDtInt32 = 3, kDtInt64 = 9, kDtString = 7;

std::string Shape(std::initializer_list<std::int64_t> dims) {
  std::string shape;
  for (const std::int64_t dim : dims) shape += BytesField(2, VarintField(1, static_cast<std::uint64_t>(dim)));
  return shape;
}

// An event holding one Summary.Value with the tensor `tensor`.
std::string TensorEvent(const std::string& tensor) {
  return Event(100.5, 3, BytesField(1, SummaryWithTensor("t", tensor)));
}

std::vector<ScalarPoint> Points(std::string_view event, Extracted expected = Extracted::kScalars) {
  std::vector<ScalarPoint> points;
  EXPECT_EQ(ExtractTensorBoardScalars(event, points), expected);
  return points;
}

TEST(TensorBoardScalarsTest, SimpleValues) {
  const std::string values = BytesField(1, SummaryValue("loss", 0.5f)) + BytesField(1, SummaryValue("acc", 0.75f));
  EXPECT_EQ(Points(Event(1700000000.25, 42, values)),
            (std::vector<ScalarPoint>{{"loss", 42, 1700000000.25, 0.5}, {"acc", 42, 1700000000.25, 0.75}}));
}

TEST(TensorBoardScalarsTest, OneElementTensorsOfEachDtype) {
  struct Case {
    std::string name, tensor;
    double value;
  };
  const std::vector<Case> cases = {
      {"float_val", VarintField(1, kDtFloat) + BytesField(2, "") + FloatField(5, 1.5f), 1.5},
      {"packed float_val", VarintField(1, kDtFloat) + BytesField(5, LittleEndian(std::bit_cast<std::uint32_t>(2.5f), 4)), 2.5},
      {"float tensor_content", VarintField(1, kDtFloat) + BytesField(4, LittleEndian(std::bit_cast<std::uint32_t>(-3.0f), 4)), -3.0},
      {"double_val", VarintField(1, kDtDouble) + DoubleField(6, 0.1), 0.1},
      {"double tensor_content", VarintField(1, kDtDouble) + BytesField(4, LittleEndian(std::bit_cast<std::uint64_t>(0.2), 8)), 0.2},
      {"negative int_val", VarintField(1, kDtInt32) + VarintField(7, static_cast<std::uint64_t>(std::int64_t{-7})), -7},
      {"int32 tensor_content", VarintField(1, kDtInt32) + BytesField(4, LittleEndian(0xFFFFFFFEu, 4)), -2},
      {"int64_val", VarintField(1, kDtInt64) + VarintField(10, 1ull << 40), 1099511627776.0},
      {"packed int64_val", VarintField(1, kDtInt64) + BytesField(10, Varint(9)), 9},
      {"shape [1, 1]", VarintField(1, kDtFloat) + BytesField(2, Shape({1, 1})) + FloatField(5, 4.0f), 4.0},
      {"dtype after the values", FloatField(5, 6.0f) + VarintField(1, kDtFloat), 6.0},
  };
  for (const auto& c : cases) {
    const auto points = Points(TensorEvent(c.tensor));
    ASSERT_EQ(points.size(), 1u) << c.name;
    EXPECT_EQ(points[0], (ScalarPoint{"t", 3, 100.5, c.value})) << c.name;
  }
}

TEST(TensorBoardScalarsTest, TensorsThatAreNotOneNumberAreNotScalars) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"two float_val", VarintField(1, kDtFloat) + FloatField(5, 1.0f) + FloatField(5, 2.0f)},
      {"shape [3] with one value repeated", VarintField(1, kDtFloat) + BytesField(2, Shape({3})) + FloatField(5, 1.0f)},
      {"shape [0]", VarintField(1, kDtFloat) + BytesField(2, Shape({0})) + FloatField(5, 1.0f)},
      {"unknown rank", VarintField(1, kDtFloat) + BytesField(2, VarintField(3, 1)) + FloatField(5, 1.0f)},
      {"string", VarintField(1, kDtString) + BytesField(8, "hello")},
      {"half", VarintField(1, 19) + VarintField(13, 0x3C00)},
      {"no dtype", FloatField(5, 1.0f)},
      {"no values", VarintField(1, kDtFloat)},
      {"content of two floats", VarintField(1, kDtFloat) + BytesField(4, std::string(8, '\0'))},
      {"values of another dtype", VarintField(1, kDtDouble) + FloatField(5, 1.0f)},
  };
  for (const auto& [name, tensor] : cases) EXPECT_TRUE(Points(TensorEvent(tensor), Extracted::kNone).empty()) << name;
}

TEST(TensorBoardScalarsTest, EventsWithoutSummaryHoldNoScalar) {
  EXPECT_TRUE(Points(FileVersionEvent(1.0), Extracted::kNone).empty());
  EXPECT_TRUE(Points(DoubleField(1, 1.0) + BytesField(4, "graph bytes"), Extracted::kNone).empty());
  EXPECT_TRUE(Points("", Extracted::kNone).empty());
}

TEST(TensorBoardScalarsTest, UnknownFieldsAndWireTypesAreSkipped) {
  const std::string value = VarintField(99, 1) + BytesField(9, "metadata") + SummaryValue("loss", 1.0f) +
                            Key(50, 3) + VarintField(1, 2) + Key(50, 4);
  const std::string event = VarintField(1, 5) /* wall_time of the wrong wire type */ + DoubleField(1, 7.0) +
                            BytesField(10, "source metadata") + VarintField(2, 9) + BytesField(5, BytesField(1, value)) +
                            FloatField(77, 1.0f);
  EXPECT_EQ(Points(event), (std::vector<ScalarPoint>{{"loss", 9, 7.0, 1.0}}));
}

TEST(TensorBoardScalarsTest, NonFiniteValuesAreKept) {
  const float inf = std::numeric_limits<float>::infinity();
  const std::string values = BytesField(1, SummaryValue("nan", std::nanf(""))) + BytesField(1, SummaryValue("inf", inf)) +
                             BytesField(1, SummaryValue("-inf", -inf));
  const auto points = Points(Event(1, 1, values));
  ASSERT_EQ(points.size(), 3u);
  EXPECT_TRUE(std::isnan(points[0].value));
  EXPECT_EQ(points[1].value, std::numeric_limits<double>::infinity());
  EXPECT_EQ(points[2].value, -std::numeric_limits<double>::infinity());
}

TEST(TensorBoardScalarsTest, MalformedEventYieldsNoPartialPoints) {
  const std::string good = BytesField(1, SummaryValue("a", 1.0f));
  const std::string truncated_varint = Key(1, 2) + Varint(3) + Key(2, 0) + "\x80\x80";  // Value{id: <truncated>}
  std::vector<ScalarPoint> points;
  EXPECT_EQ(ExtractTensorBoardScalars(Event(1, 1, good + truncated_varint), points), Extracted::kMalformed);
  EXPECT_TRUE(points.empty());
  EXPECT_EQ(ExtractTensorBoardScalars(ScalarEvent(1, 1, "a", 1).substr(0, 12), points), Extracted::kMalformed);
  EXPECT_EQ(ExtractTensorBoardScalars(VarintField(2, 1) + "\xFF", points), Extracted::kMalformed);
}

TEST(TensorBoardScalarsTest, TheLastMemberOfTheValueOneofWins) {
  const std::string image_after = SummaryValue("x", 1.0f) + BytesField(4, "image");
  EXPECT_TRUE(Points(Event(1, 1, BytesField(1, image_after)), Extracted::kNone).empty());
}

TEST(TensorBoardScalarsTest, TagsThatAreNotUtf8AreDropped) {
  EXPECT_TRUE(Points(ScalarEvent(1, 1, "bad\xC3", 1.0f), Extracted::kNone).empty());
}

TEST(VisualDlScalarsTest, ValuesWithAFloat) {
  std::vector<ScalarPoint> points;
  const std::string record = VdlScalar(5, "train/loss", 1700000000123, 0.5f) + VdlScalar(6, "train/acc", 1700000000500, 2.0f);
  EXPECT_EQ(ExtractVisualDlScalars(record, points), Extracted::kScalars);
  EXPECT_EQ(points, (std::vector<ScalarPoint>{{"train/loss", 5, 1700000000.123, 0.5}, {"train/acc", 6, 1700000000.5, 2.0}}));
}

TEST(VisualDlScalarsTest, OtherValueKindsAreNotScalars) {
  std::vector<ScalarPoint> points;
  const std::string image = BytesField(1, VarintField(1, 1) + BytesField(2, "img") + VarintField(3, 1) + BytesField(5, "png"));
  const std::string meta = BytesField(1, BytesField(2, "meta_data_tag") + BytesField(10, BytesField(1, "run")));
  const std::string value_then_histogram = BytesField(1, BytesField(2, "h") + FloatField(4, 1.0f) + BytesField(8, ""));
  EXPECT_EQ(ExtractVisualDlScalars(image + meta + value_then_histogram, points), Extracted::kNone);
  EXPECT_EQ(ExtractVisualDlScalars("", points), Extracted::kNone);
  EXPECT_TRUE(points.empty());
}

TEST(VisualDlScalarsTest, MalformedRecordYieldsNoPartialPoints) {
  std::vector<ScalarPoint> points;
  const std::string record = VdlScalar(1, "a", 1, 1.0f) + BytesField(1, Key(1, 0) + "\x80");
  EXPECT_EQ(ExtractVisualDlScalars(record, points), Extracted::kMalformed);
  EXPECT_TRUE(points.empty());
}

}  // namespace
}  // namespace paddlecloud::eventfiles
