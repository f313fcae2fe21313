#include "timeseries/series_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "testing/server_process.h"

namespace paddlecloud::timeseries {
namespace {

namespace fs = std::filesystem;
constexpr std::int64_t kStart = 1'700'006'400'000;  // midnight: buckets and segments start with it
constexpr std::int64_t kHour = 3'600'000;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

class SeriesStoreTest : public ::testing::Test {
 protected:
  std::string dir() const { return tmp_.path() + "/pod"; }
  std::unique_ptr<SeriesWriter> Open(std::size_t columns = 2) {
    auto writer = SeriesWriter::Open(dir(), columns);
    EXPECT_TRUE(writer.has_value()) << writer.error().message();
    return writer ? std::move(*writer) : nullptr;
  }
  // One sample every 5 s for `count` samples from `from`: column 0 counts up, column 1 is constant.
  void Fill(SeriesWriter& writer, std::int64_t from, int count) {
    for (int i = 0; i < count; ++i)
      ASSERT_TRUE(writer.Append({from + i * 5000, {static_cast<float>(i), 1.0f}}).ok());
  }
  QueryResult Ask(std::int64_t from, std::int64_t to, std::size_t points) {
    auto result = Query(dir(), from, to, points);
    EXPECT_TRUE(result.has_value()) << result.error().message();
    return result ? *result : QueryResult{};
  }
  testing::TempDir tmp_;
};

TEST_F(SeriesStoreTest, FineQueriesReturnTheSamples) {
  auto writer = Open();
  Fill(*writer, kStart, 10);
  QueryResult r = Ask(kStart, kStart + 50'000, 10);
  ASSERT_EQ(r.buckets.size(), 10u);
  EXPECT_EQ(r.bucket_ms, 5000);
  EXPECT_EQ(r.buckets[3].t_ms, kStart + 15'000);
  EXPECT_EQ(r.buckets[3].columns[0].last, 3.0f);
  EXPECT_EQ(r.buckets[3].columns[1].count, 1u);
}

TEST_F(SeriesStoreTest, CoarseQueriesReadBucketsAndKeepSpikes) {
  auto writer = Open();
  std::int64_t day = 24 * kHour;
  for (std::int64_t t = kStart, i = 0; t < kStart + day; t += 5000, ++i)
    ASSERT_TRUE(writer->Append({t, {i == 9001 ? 1000.0f : 1.0f, 2.0f}}).ok());  // one 5-second spike
  QueryResult r = Ask(kStart, kStart + day, 100);
  EXPECT_LE(r.buckets.size(), 100u);
  EXPECT_LE(r.records_read, 300u);  // 10-minute buckets, not 17,280 samples
  float highest = 0;
  double samples = 0;
  for (const Bucket& b : r.buckets) {
    highest = std::max(highest, b.columns[0].max);
    samples += b.columns[1].count;
    EXPECT_FLOAT_EQ(b.columns[1].mean, 2.0f);
  }
  EXPECT_EQ(highest, 1000.0f);
  EXPECT_EQ(samples, day / 5000);  // the open bucket at the end comes from the finer levels
}

TEST_F(SeriesStoreTest, NotMeasuredValuesAreLeftOutOfStatistics) {
  auto writer = Open();
  ASSERT_TRUE(writer->Append({kStart, {kNaN, 4.0f}}).ok());
  ASSERT_TRUE(writer->Append({kStart + 5000, {kNaN, 6.0f}}).ok());
  QueryResult r = Ask(kStart, kStart + 10'000, 1);
  ASSERT_EQ(r.buckets.size(), 1u);
  EXPECT_EQ(r.buckets[0].columns[0].count, 0u);
  EXPECT_TRUE(std::isnan(r.buckets[0].columns[0].mean));
  EXPECT_FLOAT_EQ(r.buckets[0].columns[1].mean, 5.0f);
}

TEST_F(SeriesStoreTest, BadSamplesAndQueriesAreRefused) {
  auto writer = Open();
  Fill(*writer, kStart, 2);
  EXPECT_EQ(writer->Append({kStart + 5000, {1, 1}}).code(), Code::kInvalidArgument);  // not later
  EXPECT_EQ(writer->Append({kStart + 9000, {1}}).code(), Code::kInvalidArgument);     // one value short
  EXPECT_EQ(Query(dir(), kStart + 10, kStart, 10).error().field(), "from");
  EXPECT_EQ(Query(dir(), kStart, kStart + 10, 0).error().field(), "points");
  EXPECT_EQ(Query(dir(), kStart, kStart + 10, 100'001).error().field(), "points");
  EXPECT_EQ(Query(tmp_.path() + "/nothing", kStart, kStart + 10, 1).error().code(), Code::kNotFound);
  EXPECT_EQ(SeriesWriter::Open(dir(), 3).error().code(), Code::kInvalidArgument);  // it has 2 columns
  EXPECT_EQ(Ask(kStart, kStart + 10'000, 10).buckets.size(), 2u);  // nothing was written by the refusals
}

TEST_F(SeriesStoreTest, ATornOrZeroFilledTailIsDroppedAndOpenBucketsAreRebuilt) {
  {
    auto writer = Open();
    Fill(*writer, kStart, 30);  // 2.5 minutes: the second minute's bucket is written, the third is open
  }
  std::string raw;
  for (const auto& e : fs::directory_iterator(dir()))
    if (e.path().filename().string().starts_with("L0-")) raw = e.path();
  ASSERT_FALSE(raw.empty());
  auto size = fs::file_size(raw);
  std::ofstream(raw, std::ios::app | std::ios::binary) << std::string(7, 'x') << std::string(40, '\0');
  EXPECT_EQ(Ask(kStart, kStart + 150'000, 30).buckets.size(), 30u);  // readers ignore the damage
  auto writer = Open();
  EXPECT_EQ(fs::file_size(raw), size);  // cut back to the last whole record
  Fill(*writer, kStart + 150'000, 12);  // on to 3.5 minutes: closes the third minute's bucket
  ASSERT_TRUE(writer->Seal().ok());
  // Read by minute: the third minute's bucket holds the samples from before and after the reopen.
  QueryResult r = Ask(kStart, kStart + 4 * 60'000, 4);
  ASSERT_EQ(r.buckets.size(), 4u);
  EXPECT_EQ(r.buckets[2].columns[1].count, 12u);
  EXPECT_LE(r.records_read, 4u);
}

TEST_F(SeriesStoreTest, APlantedLinkIsNeverFollowed) {
  std::string secret = tmp_.path() + "/secret";
  std::ofstream(secret) << "keep";
  fs::create_directory(dir());
  std::string segment = "L0-" + std::to_string(kStart / (24 * kHour)) + ".ts";
  fs::create_symlink(secret, dir() + "/" + segment);
  auto writer = SeriesWriter::Open(dir(), 2);  // refused at once, or at the first write
  EXPECT_FALSE(writer.has_value() && (*writer)->Append({kStart, {1, 1}}).ok());
  std::ifstream in(secret);
  std::string content((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(content, "keep");
  fs::create_symlink(tmp_.path(), tmp_.path() + "/linked");
  EXPECT_FALSE(SeriesWriter::Open(tmp_.path() + "/linked", 2).has_value());
}

TEST_F(SeriesStoreTest, PruneDropsExpiredSegmentsOnly) {
  auto writer = Open();
  std::int64_t day = 24 * kHour;
  ASSERT_TRUE(writer->Append({kStart, {1, 1}}).ok());
  ASSERT_TRUE(writer->Append({kStart + 10 * day, {2, 2}}).ok());
  ASSERT_TRUE(writer->Seal().ok());
  ASSERT_TRUE(Prune(dir(), kStart + 10 * day, 7 * day, 365 * day).ok());
  QueryResult fine = Ask(kStart, kStart + 60'000, 12);  // the samples of day 0 are gone ...
  EXPECT_EQ(fine.buckets.size(), 0u);
  QueryResult coarse = Ask(kStart, kStart + 11 * day, 11);  // ... their rollups are not
  ASSERT_EQ(coarse.buckets.size(), 2u);
  EXPECT_EQ(coarse.buckets[0].columns[0].max, 1.0f);
}

// A series of steps: column 0 is the step's value, column 1 counts the samples.
class StepSeriesTest : public SeriesStoreTest {
 protected:
  std::unique_ptr<SeriesWriter> OpenSteps() {
    auto writer = SeriesWriter::Open(dir(), 2, Scale::kSteps);
    EXPECT_TRUE(writer.has_value()) << writer.error().message();
    return writer ? std::move(*writer) : nullptr;
  }
  // Steps from, from + stride, ... (count of them), value = step % 1000, one batch.
  static void FillSteps(SeriesWriter& writer, std::int64_t from, std::int64_t stride, std::int64_t count) {
    std::vector<std::int64_t> t;
    std::vector<float> v;
    for (std::int64_t i = 0; i < count; ++i) {
      t.push_back(from + i * stride);
      v.push_back(static_cast<float>((from + i * stride) % 1000));
      v.push_back(1.0f);
    }
    ASSERT_TRUE(writer.Append(t, v).ok());
  }
  QueryResult Grid(std::int64_t from, std::int64_t to, std::size_t points) {
    auto result = QueryGrid(dir(), from, to, points);
    EXPECT_TRUE(result.has_value()) << result.error().message();
    return result ? *result : QueryResult{};
  }
  // What a grid bucket must hold, counted from the samples FillSteps wrote.
  static void ExpectExact(const QueryResult& r, std::int64_t from, std::int64_t to, std::int64_t stride,
                          std::int64_t last_step, std::int64_t origin = 0) {
    auto first_at_or_after = [&](std::int64_t step) {
      return step <= origin ? origin : origin + (step - origin + stride - 1) / stride * stride;
    };
    std::int64_t total = 0;
    for (const Bucket& b : r.buckets) {
      std::int64_t lo = std::max(b.t_ms, from), hi = std::min({b.t_ms + r.bucket_ms, to, last_step + 1});
      std::int64_t first = first_at_or_after(lo), count = first < hi ? (hi - 1 - first) / stride + 1 : 0;
      ASSERT_EQ(b.columns[1].count, static_cast<std::uint32_t>(count)) << "bucket at " << b.t_ms;
      std::int64_t last = first + (count - 1) * stride;
      EXPECT_EQ(b.columns[0].last, static_cast<float>(last % 1000)) << "bucket at " << b.t_ms;
      total += count;
    }
    std::int64_t lo = first_at_or_after(from), hi = std::min(to, last_step + 1);
    EXPECT_EQ(total, lo < hi ? (hi - 1 - lo) / stride + 1 : 0);
  }
};

TEST_F(StepSeriesTest, GridQueriesHoldExactlyTheSamplesOfEachBucketReadingOPoints) {
  auto writer = OpenSteps();
  FillSteps(*writer, 0, 1, 1'000'000);  // the open buckets at the end come from the finer levels
  for (auto [from, to, points] : {std::tuple<std::int64_t, std::int64_t, std::size_t>{0, 1'000'000, 1000},
                                  {12'345, 987'651, 1000}, {499'990, 500'013, 7}, {3, 999'999, 1}, {0, 5'000'000, 3}}) {
    QueryResult r = Grid(from, to, points);
    SCOPED_TRACE(std::to_string(from) + ".." + std::to_string(to));
    EXPECT_LE(r.buckets.size(), points);
    EXPECT_LE(r.records_read, 20 * points + 16 * 2 * 8);
    ExpectExact(r, from, to, 1, 999'999);
  }
  EXPECT_EQ(Grid(0, 1'000'000, 1000).bucket_ms, 1024);  // a multiple of the 256-step level read
}

TEST_F(StepSeriesTest, SparseStepsAreReadInOPointsToo) {
  auto writer = OpenSteps();
  FillSteps(*writer, 7, 1'000'003, 20'000);  // 2e10 steps
  ASSERT_TRUE(writer->Seal().ok());
  QueryResult r = Grid(0, kMaxKey, 100);
  EXPECT_LE(r.records_read, 20u * 100 + 16 * 2 * 8);
  ExpectExact(r, 0, kMaxKey, 1'000'003, 7 + 19'999 * std::int64_t{1'000'003}, 7);
  r = Grid(5'000'000'000, 5'100'000'000, 1000);  // about 100 samples: read one by one
  ExpectExact(r, 5'000'000'000, 5'100'000'000, 1'000'003, 7 + 19'999 * std::int64_t{1'000'003}, 7);
  EXPECT_LE(r.records_read, 200u);
}

TEST_F(StepSeriesTest, ReopenedSeriesRebuildOpenBucketsFromTheLevelBelow) {
  {
    auto writer = OpenSteps();
    FillSteps(*writer, 0, 1, 70'000);
    ASSERT_TRUE(writer->Seal().ok());  // a partial bucket at every level, continued below
    FillSteps(*writer, 70'000, 1, 30'000);
  }
  {
    auto writer = OpenSteps();
    FillSteps(*writer, 100'000, 1, 200'000);
  }
  auto writer = OpenSteps();
  ASSERT_TRUE(writer->Seal().ok());
  for (auto [from, to] : {std::pair<std::int64_t, std::int64_t>{0, 300'000}, {65'530, 262'150}}) {
    QueryResult r = Grid(from, to, 3);
    ExpectExact(r, from, to, 1, 299'999);
    EXPECT_LE(r.records_read, 300u);
  }
}

TEST_F(StepSeriesTest, BucketsLostInACrashAreRebuiltFromTheLevelBelow) {
  {
    auto writer = OpenSteps();
    FillSteps(*writer, 0, 1, 5000);  // 312 buckets of 16 written, 19 of 256
  }
  // Killed between writing the samples and the buckets: the last 100 of 16 steps and every one of
  // 256 steps are lost (a bucket of 2 columns takes 60 bytes).
  fs::resize_file(dir() + "/L1-0.ts", fs::file_size(dir() + "/L1-0.ts") - 100 * 60);
  fs::remove(dir() + "/L2-0.ts");
  {
    auto writer = OpenSteps();
    FillSteps(*writer, 5000, 1, 1000);
    ASSERT_TRUE(writer->Seal().ok());
  }
  for (std::size_t points : {300, 20, 2}) {  // read from the buckets of 16, of 256 and of 4096
    SCOPED_TRACE(points);
    ExpectExact(Grid(0, 6000, points), 0, 6000, 1, 5999);
  }
}

TEST_F(StepSeriesTest, TheScaleIsKeptAndAnOldSeriesIsTime) {
  OpenSteps();
  EXPECT_EQ(SeriesWriter::Open(dir(), 2).error().code(), Code::kInvalidArgument);
  std::string old = tmp_.path() + "/old";
  fs::create_directory(old);
  std::ofstream(old + "/series.meta") << "columns 2\n";
  EXPECT_TRUE(SeriesWriter::Open(old, 2).has_value());
  EXPECT_FALSE(SeriesWriter::Open(old, 2, Scale::kSteps).has_value());
}

TEST_F(StepSeriesTest, ABatchIsRefusedAsAWhole) {
  auto writer = OpenSteps();
  FillSteps(*writer, 10, 1, 5);
  std::vector<std::int64_t> t = {20, 21, 21};
  std::vector<float> v(6, 1.0f);
  EXPECT_EQ(writer->Append(t, v).code(), Code::kInvalidArgument);
  t = {20, 21};
  EXPECT_EQ(writer->Append(t, v).code(), Code::kInvalidArgument);  // 6 values for 2 samples
  t = {kMaxKey + 1};
  EXPECT_EQ(writer->Append(t, std::span<const float>(v).first(2)).code(), Code::kInvalidArgument);
  auto read = ReadSamples(dir(), 0, kMaxKey, 100);
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->t_ms.size(), 5u);
}

TEST_F(StepSeriesTest, ReadSamplesAndExtentSeeTheRawSamples) {
  auto writer = OpenSteps();
  FillSteps(*writer, 100, 3, 1000);
  auto some = ReadSamples(dir(), 103, 130, 100);
  ASSERT_TRUE(some.has_value());
  EXPECT_EQ(some->t_ms, (std::vector<std::int64_t>{103, 106, 109, 112, 115, 118, 121, 124, 127}));
  EXPECT_EQ(some->values.size(), 18u);
  EXPECT_EQ(some->values[2], 106.0f);
  EXPECT_FALSE(some->more);
  auto capped = ReadSamples(dir(), 103, 130, 9);
  EXPECT_FALSE(capped->more);
  capped = ReadSamples(dir(), 103, 130, 4);
  EXPECT_TRUE(capped->more);
  EXPECT_EQ(capped->t_ms.size(), 4u);
  EXPECT_EQ(capped->values.size(), 8u);
  auto extent = Extent(dir());
  ASSERT_TRUE(extent.has_value());
  EXPECT_EQ(extent->samples, 1000u);
  ASSERT_TRUE(extent->last.has_value());
  EXPECT_EQ(extent->last->t_ms, 100 + 999 * 3);
  EXPECT_EQ(extent->last->values[0], static_cast<float>((100 + 999 * 3) % 1000));
  writer.reset();
  std::string raw;
  for (const auto& e : fs::directory_iterator(dir()))
    if (e.path().filename().string().starts_with("L0-")) raw = e.path();
  std::ofstream(raw, std::ios::app | std::ios::binary) << std::string(25, 'x');  // a torn record
  EXPECT_EQ(Extent(dir())->samples, 1000u);
  EXPECT_EQ(Extent(dir())->last->t_ms, 100 + 999 * 3);
  EXPECT_EQ(Extent(tmp_.path() + "/nothing").error().code(), Code::kNotFound);
}

TEST(DownsamplerTest, KeepsExtremesOfEveryBucket) {
  Downsampler d(1, 0, 100, 10);
  for (int t = 0; t < 1000; ++t) {
    float v = t == 555 ? -7.0f : static_cast<float>(t % 100);
    d.AddSample(t, &v);
  }
  float outside = 99;
  d.AddSample(1000, &outside);  // past the last bucket: left out
  auto buckets = d.Take();
  ASSERT_EQ(buckets.size(), 10u);
  EXPECT_EQ(buckets[5].columns[0].min, -7.0f);
  EXPECT_EQ(buckets[9].columns[0].max, 99.0f);
  EXPECT_EQ(buckets[9].columns[0].count, 100u);
}

TEST(DownsamplerTest, ASeriesFoldsLikeItsPointsOneByOne) {
  std::vector<std::int64_t> t;
  std::vector<float> v;
  for (int i = 0; i < 1003; ++i) {
    t.push_back(i * 3);
    v.push_back(i % 17 == 5 ? kNaN : static_cast<float>((i * 7919) % 101) - 50);
  }
  Downsampler one_by_one(1, 30, 97, 30), batched(1, 30, 97, 30);
  for (std::size_t i = 0; i < t.size(); ++i) one_by_one.AddSample(t[i], &v[i]);
  batched.AddSeries(t.data(), v.data(), t.size());
  auto a = one_by_one.Take(), b = batched.Take();
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].t_ms, b[i].t_ms);
    const ColumnStat &x = a[i].columns[0], &y = b[i].columns[0];
    EXPECT_EQ(x.min, y.min);
    EXPECT_EQ(x.max, y.max);
    EXPECT_EQ(x.last, y.last);
    EXPECT_EQ(x.count, y.count);
    EXPECT_NEAR(x.mean, y.mean, 1e-4);
  }
}

}  // namespace
}  // namespace paddlecloud::timeseries
