#include "board/board_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "testing/server_process.h"

namespace paddlecloud::board {
namespace {

namespace fs = std::filesystem;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kWall0 = 1'796'000'000.25;

// Points at steps from, from + stride, ...: value f(step), one second apart.
template <typename F>
std::vector<Point> Points(std::int64_t from, std::int64_t count, F value, std::int64_t stride = 1) {
  std::vector<Point> points;
  for (std::int64_t i = 0; i < count; ++i) {
    std::int64_t step = from + i * stride;
    points.push_back({step, kWall0 + static_cast<double>(i), value(step)});
  }
  return points;
}

class BoardStoreTest : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.path() + "/board"; }
  std::unique_ptr<BoardWriter> Open() {
    auto writer = BoardWriter::Open(dir());
    EXPECT_TRUE(writer.has_value()) << writer.error().message();
    return writer ? std::move(*writer) : nullptr;
  }
  static AppendCounts Append(BoardWriter& writer, const CurveKey& key, const std::vector<Point>& points) {
    auto counts = writer.Append(key, points);
    EXPECT_TRUE(counts.has_value()) << counts.error().message();
    return counts ? *counts : AppendCounts{};
  }
  std::vector<CurveBuckets> Query(const std::string& graph, RangeQuery range) {
    auto answer = QueryGraph(dir(), graph, range);
    EXPECT_TRUE(answer.has_value()) << answer.error().message();
    return answer ? *answer : std::vector<CurveBuckets>{};
  }
  CurveBuckets QueryOne(const std::string& graph, RangeQuery range) {
    auto answer = Query(graph, range);
    EXPECT_EQ(answer.size(), 1u);
    return answer.empty() ? CurveBuckets{} : answer[0];
  }
  std::vector<CurveInfo> List() {
    auto curves = ListCurves(dir());
    EXPECT_TRUE(curves.has_value()) << curves.error().message();
    return curves ? *curves : std::vector<CurveInfo>{};
  }
  // The series file of level 0 of the only curve folder, c1.
  std::string RawFile() const {
    for (const auto& e : fs::directory_iterator(dir() + "/c1"))
      if (e.path().filename().string().starts_with("L0-")) return e.path();
    return "";
  }
  testing::TempDir tmp_;
};

const CurveKey kLoss{"loss", "loss", "trainer-0"};

TEST_F(BoardStoreTest, PointsComeBackAsWritten) {
  auto writer = Open();
  CurveKey other{"loss", "loss", "trainer-1"}, accuracy{"acc", "top1", ""};
  EXPECT_EQ(Append(*writer, kLoss, Points(-5, 10'000, [](std::int64_t s) { return 0.5 + s * 0.25; })).stored, 10'000u);
  Append(*writer, accuracy, Points(0, 3, [](std::int64_t s) { return s / 4.0; }));
  Append(*writer, other, Points(100, 2, [](std::int64_t) { return 7.0; }, 10));

  std::vector<CurveInfo> curves = List();
  ASSERT_EQ(curves.size(), 3u);
  EXPECT_EQ(curves[0].key, kLoss);
  EXPECT_EQ(curves[0].points, 10'000u);
  EXPECT_EQ(curves[0].first_step, -5);
  EXPECT_EQ(curves[0].last_step, 9'994);
  EXPECT_EQ(curves[0].last_value, 0.5 + 9'994 * 0.25);
  EXPECT_NEAR(curves[0].last_wall_time_s, kWall0 + 9'999, 1e-3);
  EXPECT_EQ(curves[1].key, accuracy);
  EXPECT_EQ(curves[2].key, other);
  EXPECT_EQ(curves[2].last_step, 110);

  std::vector<CurveBuckets> loss = Query("loss", {.from_step = 0, .to_step = 4, .points = 5});
  ASSERT_EQ(loss.size(), 2u);
  ASSERT_TRUE(loss[0].exact);
  EXPECT_EQ(loss[0].step, (std::vector<std::int64_t>{0, 1, 2, 3, 4}));
  EXPECT_EQ(loss[0].last[2], 1.0);
  EXPECT_EQ(loss[0].wall_time_s[0], kWall0 + 5);
  EXPECT_TRUE(loss[1].step.empty());  // trainer-1 has no point in 0..4
  EXPECT_TRUE(Query("nothing", {}).empty());

  std::vector<std::pair<CurveKey, std::size_t>> chunks;
  std::int64_t next_loss_step = -5;
  ASSERT_TRUE(ExportPoints(dir(), [&](const CurveKey& key, std::span<const Point> points) {
                if (key == kLoss) {
                  for (const Point& p : points) EXPECT_EQ(p.step, next_loss_step++);
                }
                chunks.emplace_back(key, points.size());
                return Status::Ok();
              }).ok());
  std::size_t loss_points = 0;
  for (auto& [key, size] : chunks) {
    EXPECT_LE(size, 4096u);
    if (key == kLoss) loss_points += size;
  }
  EXPECT_EQ(loss_points, 10'000u);
  EXPECT_EQ(chunks.back().first, other);
  EXPECT_EQ(ExportPoints(dir(), [](const CurveKey&, std::span<const Point>) { return Status::Internal("gone"); })
                .code(),
            Code::kInternal);
}

TEST_F(BoardStoreTest, ARangeOfAtMostPointsIsExactElseBucketed) {
  auto writer = Open();
  Append(*writer, kLoss, Points(0, 3000, [](std::int64_t s) { return static_cast<double>(s % 7); }));
  CurveBuckets exact = QueryOne("loss", {.points = 3000});
  EXPECT_TRUE(exact.exact);
  EXPECT_EQ(exact.step.size(), 3000u);
  CurveBuckets buckets = QueryOne("loss", {.points = 2999});
  EXPECT_FALSE(buckets.exact);
  EXPECT_LE(buckets.step.size(), 2999u);
  EXPECT_EQ(buckets.bucket_steps, 2);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < buckets.step.size(); ++i) {
    total += buckets.count[i];
    EXPECT_EQ(buckets.step[i] % buckets.bucket_steps, 0);
    EXPECT_EQ(buckets.max[i], static_cast<double>(std::max(buckets.step[i] % 7, (buckets.step[i] + 1) % 7)));
  }
  EXPECT_EQ(total, 3000u);
  // A zoomed range: buckets start at its first step and hold only its points.
  CurveBuckets zoom = QueryOne("loss", {.from_step = 1001, .to_step = 1998, .points = 10});
  EXPECT_FALSE(zoom.exact);
  EXPECT_EQ(zoom.step.front(), 1001);
  total = 0;
  for (std::uint32_t c : zoom.count) total += c;
  EXPECT_EQ(total, 998u);
  EXPECT_LE(zoom.step.size(), 10u);
  EXPECT_EQ(zoom.wall_time_s.back(), kWall0 + 1998);
}

TEST_F(BoardStoreTest, NotANumberIsAGapAndInfinityShowsInTheExtremes) {
  auto writer = Open();
  std::vector<Point> points = Points(0, 40, [](std::int64_t s) { return s < 10 ? kNaN : 1.0; });
  points[20].value = kInf;
  points[30].value = -1e300;  // beyond float: an infinity
  Append(*writer, kLoss, points);
  CurveBuckets exact = QueryOne("loss", {.to_step = 11, .points = 100});
  ASSERT_TRUE(exact.exact);
  EXPECT_TRUE(std::isnan(exact.last[3]));
  EXPECT_EQ(exact.count[3], 0u);
  EXPECT_EQ(exact.count[10], 1u);
  CurveBuckets buckets = QueryOne("loss", {.points = 4});  // buckets of 10
  ASSERT_EQ(buckets.step.size(), 4u);
  EXPECT_EQ(buckets.bucket_steps, 10);
  EXPECT_EQ(buckets.count[0], 0u);
  EXPECT_TRUE(std::isnan(buckets.min[0]) && std::isnan(buckets.max[0]) && std::isnan(buckets.mean[0]));
  EXPECT_EQ(buckets.wall_time_s[0], kWall0 + 9);
  EXPECT_EQ(buckets.max[2], kInf);
  EXPECT_EQ(buckets.min[3], -kInf);
  EXPECT_EQ(buckets.count[1], 10u);
  CurveBuckets smoothed = QueryOne("loss", {.points = 100, .smoothing = 0.5});
  EXPECT_TRUE(std::isnan(smoothed.smoothed[5]));  // nothing finite yet
  EXPECT_EQ(smoothed.smoothed[10], 1.0);
  EXPECT_EQ(smoothed.smoothed[20], smoothed.smoothed[19]);  // the infinity is skipped
}

TEST_F(BoardStoreTest, SmoothingIsTheDebiasedAverageFromTheFirstPoint) {
  auto writer = Open();
  Append(*writer, kLoss, Points(-3, 50, [](std::int64_t s) { return static_cast<double>(s * s % 11); }));
  Append(*writer, {"flat", "flat", ""}, Points(0, 50, [](std::int64_t) { return 0.1; }));
  const double w = 0.6;
  double s = 0;
  std::vector<double> expected;
  for (int i = 0; i < 50; ++i) {
    std::int64_t step = -3 + i;
    s = s * w + (1 - w) * static_cast<double>(step * step % 11);
    expected.push_back(s / (1 - std::pow(w, i + 1)));
  }
  CurveBuckets all = QueryOne("loss", {.points = 50, .smoothing = w});
  ASSERT_EQ(all.smoothed.size(), 50u);
  for (int i = 0; i < 50; ++i) EXPECT_NEAR(all.smoothed[i], expected[i], 1e-12) << i;
  CurveBuckets part = QueryOne("loss", {.from_step = 30, .to_step = 40, .points = 50, .smoothing = w});
  ASSERT_EQ(part.smoothed.size(), 11u);
  EXPECT_EQ(part.smoothed[0], all.smoothed[33]);
  CurveBuckets buckets = QueryOne("loss", {.points = 5, .smoothing = w});  // the value at each bucket's last point
  ASSERT_FALSE(buckets.exact);
  for (std::size_t i = 0; i < buckets.step.size(); ++i) {
    std::int64_t last = std::min<std::int64_t>(46, (buckets.step[i] + 3) / buckets.bucket_steps * buckets.bucket_steps +
                                                       buckets.bucket_steps - 1 - 3);
    EXPECT_EQ(buckets.smoothed[i], all.smoothed[last + 3]) << i;
  }
  CurveBuckets flat = QueryOne("flat", {.points = 50, .smoothing = 0.99});
  for (std::size_t i = 0; i < flat.smoothed.size(); ++i) EXPECT_EQ(flat.smoothed[i], flat.last[i]);
}

TEST_F(BoardStoreTest, StepsNotAboveTheLastKeptAreSkippedAndCounted) {
  {
    auto writer = Open();
    AppendCounts counts = Append(*writer, kLoss, Points(-10, 10, [](std::int64_t) { return 1.0; }));
    EXPECT_EQ(counts.stored, 10u);
    counts = Append(*writer, kLoss, Points(-5, 10, [](std::int64_t) { return 2.0; }));  // a restart from -5
    EXPECT_EQ(counts.stored, 5u);
    EXPECT_EQ(counts.out_of_order, 5u);
    std::vector<Point> shuffled = {
        {7, kWall0, 1}, {6, kWall0, 1}, {8, kWall0, 1}, {std::numeric_limits<std::int64_t>::min(), kWall0, 1}};
    counts = Append(*writer, kLoss, shuffled);
    EXPECT_EQ(counts.stored, 2u);
    EXPECT_EQ(counts.out_of_order, 2u);
  }
  auto writer = Open();  // the last kept step survives a reopen
  AppendCounts counts = Append(*writer, kLoss, Points(8, 3, [](std::int64_t) { return 3.0; }));
  EXPECT_EQ(counts.stored, 2u);
  EXPECT_EQ(counts.out_of_order, 1u);
  std::vector<CurveInfo> curves = List();
  ASSERT_EQ(curves.size(), 1u);
  EXPECT_EQ(curves[0].points, 19u);
  EXPECT_EQ(curves[0].last_step, 10);
}

std::size_t OpenFileCount() {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator()));
}

TEST_F(BoardStoreTest, ManyCurvesKeepABoundedNumberOfFilesOpen) {
  auto writer = Open();
  const std::size_t before = OpenFileCount();
  constexpr int kCurves = 100;
  for (int round = 0; round < 2; ++round)
    for (int c = 0; c < kCurves; ++c) {
      CurveKey key{"g", "curve" + std::to_string(c), ""};
      EXPECT_EQ(Append(*writer, key, Points(round * 20, 20, [&](std::int64_t s) { return c + s / 100.0; })).stored,
                20u);
      EXPECT_EQ(Append(*writer, key, Points(round * 20 + 10, 1, [](std::int64_t) { return 0.0; })).out_of_order, 1u);
    }
  EXPECT_LE(OpenFileCount() - before, 64u * 9 + 2);  // at most 64 curves' writers: a file per level and the folder
  ASSERT_TRUE(writer->Seal().ok());
  std::vector<CurveBuckets> curves = Query("g", {.points = 100});
  ASSERT_EQ(curves.size(), static_cast<std::size_t>(kCurves));
  for (int c = 0; c < kCurves; ++c) {
    ASSERT_EQ(curves[c].step.size(), 40u);
    EXPECT_EQ(curves[c].last[39], static_cast<float>(c + 0.39));
  }
}

TEST_F(BoardStoreTest, ATornTailOfASeriesOrOfTheIndexIsDropped) {
  {
    auto writer = Open();
    Append(*writer, kLoss, Points(0, 100, [](std::int64_t s) { return static_cast<double>(s); }));
  }
  std::string raw = RawFile();
  ASSERT_FALSE(raw.empty());
  fs::resize_file(raw, fs::file_size(raw) - 7);  // the last point torn
  auto index_size = fs::file_size(dir() + "/index");
  std::ofstream(dir() + "/index", std::ios::app) << "2 0 0000000000000000 loss lo";  // a torn line
  std::vector<CurveInfo> curves = List();
  ASSERT_EQ(curves.size(), 1u);
  EXPECT_EQ(curves[0].points, 99u);
  EXPECT_EQ(curves[0].last_step, 98);
  {
    auto writer = Open();
    EXPECT_EQ(fs::file_size(dir() + "/index"), index_size);
    EXPECT_EQ(Append(*writer, kLoss, Points(99, 1, [](std::int64_t) { return 5.0; })).stored, 1u);
    Append(*writer, {"acc", "acc", ""}, Points(0, 3, [](std::int64_t) { return 1.0; }));
  }
  fs::create_directory(dir() + "/c9");  // a folder left by a crash before its index line
  {
    auto writer = Open();
    Append(*writer, {"lr", "lr", ""}, Points(0, 3, [](std::int64_t) { return 1.0; }));
  }
  EXPECT_TRUE(fs::exists(dir() + "/c10"));
  curves = List();
  ASSERT_EQ(curves.size(), 3u);
  EXPECT_EQ(curves[0].points, 100u);
  EXPECT_EQ(curves[0].last_value, 5.0);
  EXPECT_EQ(curves[1].key.graph, "acc");
  EXPECT_EQ(curves[2].key.graph, "lr");
  EXPECT_EQ(curves[2].points, 3u);
}

TEST_F(BoardStoreTest, NamesAreDataNeverPaths) {
  std::string long_name;
  while (long_name.size() + 3 <= 256) long_name += "\xE6\xB0\xB4";  // 85 three-byte characters
  std::vector<CurveKey> keys = {{"../../escape", "/etc/passwd", ".."},
                                {"a%2Fb", "%", "trainer 0"},
                                {"a/b", "c\td\ne", "%0A"},
                                {long_name, long_name, long_name},
                                {"", "", ""}};
  {
    auto writer = Open();
    for (const CurveKey& key : keys) Append(*writer, key, Points(0, 2, [](std::int64_t) { return 1.0; }));
  }
  std::vector<CurveInfo> curves = List();
  ASSERT_EQ(curves.size(), keys.size());
  for (std::size_t i = 0; i < keys.size(); ++i) EXPECT_EQ(curves[i].key, keys[i]);
  EXPECT_EQ(QueryOne("a/b", {}).key, keys[2]);
  std::vector<std::string> top;
  for (const auto& e : fs::directory_iterator(tmp_.path())) top.push_back(e.path().filename());
  EXPECT_EQ(top, std::vector<std::string>{"board"});
  for (const auto& e : fs::directory_iterator(dir())) {
    std::string name = e.path().filename();
    EXPECT_TRUE(name == "index" || (name[0] == 'c' && name.find_first_not_of("0123456789", 1) == std::string::npos))
        << name;
  }
}

TEST_F(BoardStoreTest, APlantedLinkIsNeverFollowed) {
  std::string outside = tmp_.path() + "/outside";
  fs::create_directory(outside);
  std::ofstream(outside + "/series.meta") << "columns 2\nscale steps\n";
  {
    auto writer = Open();
    ASSERT_NE(writer, nullptr);
    fs::create_directory_symlink(outside, dir() + "/c1");  // where the first curve goes
    EXPECT_FALSE(writer->Append(kLoss, Points(0, 3, [](std::int64_t) { return 1.0; })).has_value());
    EXPECT_EQ(Append(*writer, {"acc", "acc", ""}, Points(0, 3, [](std::int64_t) { return 1.0; })).stored, 3u);
  }
  std::vector<CurveInfo> curves = List();
  ASSERT_EQ(curves.size(), 1u);
  EXPECT_EQ(curves[0].key.graph, "acc");
  // In place of the folder of a curve already written: refused when reading and when writing.
  fs::rename(dir() + "/c2", tmp_.path() + "/c2.saved");
  fs::create_directory_symlink(outside, dir() + "/c2");
  {
    auto writer = Open();
    ASSERT_NE(writer, nullptr);
    EXPECT_FALSE(writer->Append({"acc", "acc", ""}, Points(5, 3, [](std::int64_t) { return 1.0; })).has_value());
  }
  EXPECT_FALSE(ListCurves(dir()).has_value());
  EXPECT_FALSE(QueryGraph(dir(), "acc", {}).has_value());
  EXPECT_EQ(std::distance(fs::directory_iterator(outside), fs::directory_iterator()), 1);  // only series.meta
  fs::remove(dir() + "/c2");
  fs::rename(tmp_.path() + "/c2.saved", dir() + "/c2");

  std::string secret = tmp_.path() + "/secret";
  std::ofstream(secret) << "keep\n";
  fs::rename(dir() + "/index", tmp_.path() + "/index.saved");
  fs::create_symlink(secret, dir() + "/index");
  EXPECT_FALSE(BoardWriter::Open(dir()).has_value());
  EXPECT_FALSE(ListCurves(dir()).has_value());
  EXPECT_FALSE(QueryGraph(dir(), "acc", {}).has_value());
  std::ifstream in(secret);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(in)), {}), "keep\n");

  fs::create_directory_symlink(dir(), tmp_.path() + "/linked");  // the board folder itself
  EXPECT_FALSE(BoardWriter::Open(tmp_.path() + "/linked").has_value());
  EXPECT_FALSE(ListCurves(tmp_.path() + "/linked").has_value());
}

TEST_F(BoardStoreTest, BadRangesNameTheirField) {
  auto field = [&](RangeQuery range) {
    auto answer = QueryGraph(dir(), "loss", range);
    EXPECT_FALSE(answer.has_value());
    return answer ? std::string() : answer.error().field();
  };
  EXPECT_EQ(field({.points = 0}), "points");
  EXPECT_EQ(field({.points = 5001}), "points");
  EXPECT_EQ(field({.from_step = 5, .to_step = 4}), "from_step");
  EXPECT_EQ(field({.smoothing = 1.0}), "smoothing");
  EXPECT_EQ(field({.smoothing = -0.1}), "smoothing");
  EXPECT_EQ(field({.smoothing = kNaN}), "smoothing");
  EXPECT_TRUE(QueryGraph(dir(), "loss", {.points = 5000, .smoothing = 0.0}).has_value());  // no board: no curves
  EXPECT_TRUE(ListCurves(dir())->empty());
}

// The case: one spike in a million points is in `max` at any zoom, and smoothing does not
// depend on the range asked.
TEST_F(BoardStoreTest, ASpikeInAMillionPointsIsAlwaysSeen) {
  std::mt19937_64 random(std::random_device{}());
  const std::int64_t spike = std::uniform_int_distribution<std::int64_t>(1, 999'998)(random);
  SCOPED_TRACE("spike at step " + std::to_string(spike));
  std::uniform_real_distribution<double> noise(-0.01, 0.01);
  double spike_value = 0;
  {
    auto writer = Open();
    for (std::int64_t from = 0; from < 1'000'000; from += 10'000) {
      std::vector<Point> points = Points(from, 10'000, [&](std::int64_t s) {
        double v = 1.0 + noise(random);
        if (s == spike) spike_value = static_cast<float>(v * 100);
        return s == spike ? v * 100 : v;
      });
      ASSERT_EQ(Append(*writer, kLoss, points).stored, 10'000u);
    }
  }
  auto spike_bucket = [&](const CurveBuckets& c) {
    auto at = std::upper_bound(c.step.begin(), c.step.end(), spike) - c.step.begin() - 1;
    return static_cast<std::size_t>(at);
  };
  CurveBuckets all = QueryOne("loss", {.points = 1000});
  ASSERT_FALSE(all.exact);
  EXPECT_LE(all.step.size(), 1000u);
  EXPECT_EQ(*std::max_element(all.max.begin(), all.max.end()), spike_value);
  EXPECT_EQ(all.max[spike_bucket(all)], spike_value);
  CurveBuckets zoom = QueryOne("loss", {.from_step = spike - 5000, .to_step = spike + 5000, .points = 1000});
  ASSERT_FALSE(zoom.exact);
  EXPECT_EQ(zoom.max[spike_bucket(zoom)], spike_value);
  EXPECT_LT(*std::max_element(zoom.max.begin(), zoom.max.begin() + spike_bucket(zoom)), 1.02);

  CurveBuckets around = QueryOne("loss", {.from_step = spike - 400, .to_step = spike + 400, .points = 1000,
                                          .smoothing = 0.9});
  CurveBuckets close = QueryOne("loss", {.from_step = spike - 2, .to_step = spike + 2, .points = 1000,
                                         .smoothing = 0.9});
  ASSERT_TRUE(around.exact && close.exact);
  EXPECT_EQ(around.last[400], spike_value);
  EXPECT_EQ(around.smoothed[400], close.smoothed[2]);
  EXPECT_GT(around.smoothed[400], 5.0);  // the spike pulls the average up
  CurveBuckets smoothed_all = QueryOne("loss", {.points = 1000, .smoothing = 0.9});
  std::size_t b = spike_bucket(smoothed_all);
  std::int64_t bucket_last = std::min<std::int64_t>(
      999'999, (smoothed_all.step[b] / smoothed_all.bucket_steps + 1) * smoothed_all.bucket_steps - 1);
  CurveBuckets at_last = QueryOne("loss", {.from_step = bucket_last, .to_step = bucket_last, .smoothing = 0.9});
  EXPECT_EQ(smoothed_all.smoothed[b], at_last.smoothed[0]);
}

}  // namespace
}  // namespace paddlecloud::board
