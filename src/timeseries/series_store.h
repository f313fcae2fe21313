// A time series of fixed columns kept in one folder, written append-only by one writer and read by
// any number of readers. The store is shared by resource monitoring and Paddle Board.
//
// The key "t_ms" is a time in milliseconds, or a step count (Scale::kSteps, Paddle Board), never negative.
//
// Layout: one file per resolution level and key segment, "L<level>-<segment>.ts". Level 0 holds the
// samples; the levels above hold buckets (kTime: 1 min, 10 min, 1 h and 6 h; kSteps: 16^1 to 16^7
// steps), each keeping per column the min, max, mean and last value and how many samples it
// summarises, so spikes survive any zoom level. "series.meta" names the columns and the scale.
// Records have a fixed size and end with a checksum: a torn or zero-filled tail left by a crash is
// dropped when the writer opens the series and ignored by readers. Files are opened without
// following links. A value that could not be measured is NaN and is left out of every statistic.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace paddlecloud::timeseries {

// Bucket widths of the levels above 0, each a multiple of the one below. Steps come in powers of 16 so
// that any range asked in N buckets is read in O(N) records, however long and however sparse.
inline constexpr std::array<std::int64_t, 4> kRollupWidthsMs = {60'000, 600'000, 3'600'000, 21'600'000};
inline constexpr std::array<std::int64_t, 7> kRollupWidthsSteps = {16,        256,        4'096,      65'536,
                                                                   1'048'576, 16'777'216, 268'435'456};
// The largest key a sample may have (keeps segment arithmetic far from overflow).
inline constexpr std::int64_t kMaxKey = std::int64_t{1} << 62;

// What the key counts, chosen when a series is created; a series written before scales existed is kTime.
enum class Scale { kTime, kSteps };

struct Sample {
  std::int64_t t_ms = 0;
  std::vector<float> values;  // one per column; NaN: not measured
};

// What one bucket says of one column. count 0: no value in the bucket (the other fields are NaN).
struct ColumnStat {
  float min, max, mean, last;
  std::uint32_t count;
};

struct Bucket {
  std::int64_t t_ms = 0;  // start of the bucket
  std::vector<ColumnStat> columns;
};

struct QueryResult {
  std::int64_t bucket_ms = 0;    // width of the answer's buckets
  std::vector<Bucket> buckets;   // in time order; buckets without any record are left out
  std::size_t records_read = 0;  // how much was read: O(points), whatever the range
};

class SeriesWriter {
 public:
  // Opens `dir` (created if missing) for appending samples of `columns` values. An existing series
  // must have the same number of columns and scale. A torn tail is cut off; buckets still open are
  // rebuilt from the level below them.
  static Result<std::unique_ptr<SeriesWriter>> Open(const std::string& dir, std::size_t columns,
                                                    Scale scale = Scale::kTime);
  ~SeriesWriter();

  // Samples come in increasing time (0..kMaxKey); an earlier or equal time, or the wrong number of
  // values, is InvalidArgument and writes nothing. Nothing is fsynced: a crash loses the last
  // samples only.
  Status Append(const Sample& sample);
  // Appends t_ms.size() samples at once, `values` holding their columns row after row: one write per
  // level and segment. Refused as a whole like Append.
  Status Append(std::span<const std::int64_t> t_ms, std::span<const float> values);
  // The time of the last sample, -1 when there is none.
  std::int64_t LastTime() const;
  // Writes the buckets still open, so coarse levels cover the series to its last sample (at the end
  // of a pod). Appending may go on afterwards.
  Status Seal();

  struct Impl;

 private:
  explicit SeriesWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Summarises [from_ms, to_ms) in at most `points` buckets of equal width, read from the coarsest
// level whose buckets are no wider than the answer's (the finer levels fill in what the coarse one
// has not written yet). NotFound when `dir` holds no series; InvalidArgument for from >= to or
// points outside 1..100000.
Result<QueryResult> Query(const std::string& dir, std::int64_t from_ms, std::int64_t to_ms, std::size_t points);

// Summarises [from_ms, to_ms) in at most `points` buckets of the grid [k·w, (k+1)·w), w being
// bucket_ms, a multiple of the widest level it reads: unlike Query, each bucket holds exactly the
// samples of its interval within the range (the first bucket's t_ms may lie before from_ms).
// Whole rollup buckets are read where they fit and finer levels at the edges of the range and
// after the last written bucket: O(points + 16 · levels) records. Errors as Query.
Result<QueryResult> QueryGrid(const std::string& dir, std::int64_t from_ms, std::int64_t to_ms, std::size_t points);

// Calls `take` with each sample of [from_ms, to_ms) in time order until it returns false.
Status ScanSamples(const std::string& dir, std::int64_t from_ms, std::int64_t to_ms,
                   const std::function<bool(std::int64_t t_ms, std::span<const float> values)>& take);

// The samples of [from_ms, to_ms), at most `max_samples` of them, in time order.
struct SampleRun {
  std::vector<std::int64_t> t_ms;
  std::vector<float> values;  // the columns of each sample, sample after sample
  bool more = false;          // the range holds more than max_samples samples
};
Result<SampleRun> ReadSamples(const std::string& dir, std::int64_t from_ms, std::int64_t to_ms,
                              std::size_t max_samples);

// How many samples the series holds and its last one, read from the end of its newest segment.
struct SeriesExtent {
  std::size_t columns = 0;
  std::uint64_t samples = 0;
  std::optional<Sample> last;
};
Result<SeriesExtent> Extent(const std::string& dir);

// Removes segments that ended before now - retention: samples after `sample_retention_ms`, buckets
// after `rollup_retention_ms`.
Status Prune(const std::string& dir, std::int64_t now_ms, std::int64_t sample_retention_ms,
             std::int64_t rollup_retention_ms);

// Folds points into equal buckets of [from_ms, from_ms + width_ms * buckets); what Query does with
// the records it reads, kept apart so it can be measured alone. Points come in time order: one
// earlier than the bucket being filled, or outside the range, is left out.
class Downsampler {
 public:
  Downsampler(std::size_t columns, std::int64_t from_ms, std::int64_t width_ms, std::size_t buckets);
  void AddSample(std::int64_t t_ms, const float* values);
  void AddStats(std::int64_t t_ms, const ColumnStat* stats);
  // Points of a one-column series in increasing time; the fast path for long raw series.
  void AddSeries(const std::int64_t* t_ms, const float* values, std::size_t count);
  std::vector<Bucket> Take();

 private:
  bool Enter(std::int64_t t_ms);  // makes the bucket of t_ms the current one; false: left out
  void Close();                   // moves the current bucket to the answer

  std::size_t columns_;
  std::int64_t from_ms_, width_ms_;
  std::size_t buckets_;
  std::vector<Bucket> done_;
  std::int64_t current_ = -1;     // index of the bucket being filled
  std::vector<ColumnStat> stats_;  // of the current bucket
  std::vector<double> sums_;       // its means as running sums
};

}  // namespace paddlecloud::timeseries
