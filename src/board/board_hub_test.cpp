#include "board/board_hub.h"

#include <gtest/gtest.h>

#include "board/board_ingester.h"

namespace paddlecloud::board {
namespace {

std::vector<Point> Points(int n) {
  std::vector<Point> out;
  for (int i = 0; i < n; ++i) out.push_back({i, 1.0 * i, 0.5 * i});
  return out;
}

TEST(BoardHubTest, ReadersSeeOnlyTheirSourcesAfterWhatTheySaw) {
  BoardHub hub;
  const std::uint64_t start = hub.latest();
  hub.Publish("job:1", {"cost", "cost", "trainer-0"}, Points(2));
  hub.Publish("job:2", {"cost", "cost", "trainer-0"}, Points(3));
  hub.PublishEnd("job:1");
  auto since = hub.After(start, {"job:1"});
  ASSERT_EQ(since.batches.size(), 2u);
  EXPECT_EQ(since.batches[0].points.size(), 2u);
  EXPECT_TRUE(since.batches[1].ended);
  EXPECT_FALSE(since.lost);
  EXPECT_TRUE(hub.After(since.through, {"job:1", "job:2"}).batches.empty());
}

TEST(BoardHubTest, AReaderThatFellBehindIsToldItLostPoints) {
  BoardHub hub(10);
  const std::uint64_t start = hub.latest();
  for (int i = 0; i < 5; ++i) hub.Publish("job:1", {"g", "c", ""}, Points(4));
  auto since = hub.After(start, {"job:1"});
  EXPECT_TRUE(since.lost);
  EXPECT_LE(since.batches.size(), 3u);
  EXPECT_FALSE(hub.After(since.through, {"job:1"}).lost);
}

TEST(BoardTagTest, TagsSplitAtTheFirstSlashAndDecodeEscapes) {
  EXPECT_EQ(SplitTag("train/loss"), (CurveKey{"train", "loss", ""}));
  EXPECT_EQ(SplitTag("loss"), (CurveKey{"loss", "loss", ""}));
  EXPECT_EQ(SplitTag("eval%2Ftop-1/acc"), (CurveKey{"eval/top-1", "acc", ""}));
  EXPECT_EQ(SplitTag("a/b/c"), (CurveKey{"a", "b/c", ""}));
  EXPECT_EQ(SplitTag("100%25/x%2"), (CurveKey{"100%", "x%2", ""}));
  EXPECT_EQ(SplitTag("%252F/c"), (CurveKey{"%2F", "c", ""}));  // one pass: %25 is not decoded twice
}

TEST(BoardTagTest, NamesAreShortPrintableUtf8) {
  EXPECT_TRUE(ValidName("cost, evaluator"));
  EXPECT_TRUE(ValidName(std::string(256, 'x')));
  EXPECT_FALSE(ValidName(std::string(257, 'x')));
  EXPECT_FALSE(ValidName(""));
  EXPECT_FALSE(ValidName("a\nb"));
  EXPECT_FALSE(ValidName("\xff"));
}

}  // namespace
}  // namespace paddlecloud::board
