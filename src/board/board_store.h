// The points of one board (a job's or a standalone run's), kept in one folder with the time-series
// store (timeseries/series_store.h) keyed by step: every point is kept, and a range of any length is
// summarised at screen resolution reading O(points asked), each bucket keeping its min and max.
//
// Layout of `dir`: one series per curve (graph, curve, pod) in "c<n>" (the store's Scale::kSteps,
// keyed by the step's distance from the curve's first step), columns value and wall time (seconds
// since the curve's first point; both float32), steps increasing; an append-only index ("index", a
// checksummed line per curve: its folder, first step and first wall time, its names percent-encoded)
// names them. A torn index line is ignored. Names are data, never paths: a curve of any name cannot
// reach outside `dir`. Nothing is followed through a symbolic link: a link in place of the board,
// the index or a curve's folder makes what needs it fail (never written through).
//
// One BoardWriter per folder (the caller keeps it unique; it keeps the files of at most 64 curves
// open, about 9 each); any number of readers at the same time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/status.h"

namespace paddlecloud::board {

struct CurveKey {
  std::string graph;
  std::string curve;
  std::string pod;  // the writer: "trainer-0"; "" for a standalone run
  bool operator==(const CurveKey&) const = default;
};

struct Point {
  std::int64_t step = 0;
  double wall_time_s = 0;  // seconds since the epoch
  double value = 0;        // kept as a float: NaN and infinities too, beyond its range an infinity
};

struct CurveInfo {
  CurveKey key;
  std::uint64_t points = 0;
  std::int64_t first_step = 0, last_step = 0;
  double last_value = 0, last_wall_time_s = 0;
};

struct AppendCounts {
  std::uint64_t stored = 0;
  std::uint64_t out_of_order = 0;  // step not above the curve's last kept step: skipped
};

class BoardWriter {
 public:
  // Opens (creating if missing) the board in `dir`; a torn tail of a crash is dropped.
  static Result<std::unique_ptr<BoardWriter>> Open(const std::string& dir);
  ~BoardWriter();

  // Appends points of one curve, given in file order; each point whose step is not above the
  // curve's last kept step (or lies more than 2^62 steps after its first) is skipped and counted.
  // The first point of a new curve fixes its first step and first wall time.
  Result<AppendCounts> Append(const CurveKey& key, std::span<const Point> points);
  // Writes the buckets still open (at the end of a job). Queries see every point without it; after
  // it they read fewer records.
  Status Seal();

  struct Impl;

 private:
  explicit BoardWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The curves of the board in `dir`, in the order they were first written, each read from its index
// line and its last record. Empty when `dir` holds none; curves without a point are left out.
Result<std::vector<CurveInfo>> ListCurves(const std::string& dir);

struct RangeQuery {
  std::optional<std::int64_t> from_step, to_step;  // inclusive; unset: the curve's first/last step
  std::size_t points = 1000;                       // 1..5000
  std::optional<double> smoothing;                 // 0 <= w < 1
};

// One curve's answer, arrays aligned (see docs/board.md, GET /board/data).
struct CurveBuckets {
  CurveKey key;
  bool exact = false;              // one entry per point
  std::int64_t bucket_steps = 1;
  std::vector<std::int64_t> step;  // exact: the point's step; else the bucket's first step
  std::vector<double> min, max, mean, last, wall_time_s;
  std::vector<std::uint32_t> count;
  std::vector<double> smoothed;    // with RangeQuery::smoothing only
};

// Every curve of `graph` in the board in `dir` over the range: exact when the range holds at most
// `points` points, else buckets of the grid [k·bucket_steps, (k+1)·bucket_steps) counted from the
// curve's first step, each summarising exactly its points within the range (the first bucket's
// `step` is the range's first step), read in O(points) records. `smoothed` is the debiased EMA over
// the curve's raw points from its first (it reads them up to the range's end). A curve with no point
// in the range gives empty arrays. InvalidArgument naming "from_step", "points" or "smoothing"; an
// unknown graph gives no curves.
Result<std::vector<CurveBuckets>> QueryGraph(const std::string& dir, const std::string& graph, const RangeQuery& range);

// Every raw point of every curve, curve by curve in ListCurves order, in chunks of at most 4096
// points; stops at the first error of `sink` and returns it.
Status ExportPoints(const std::string& dir,
                    const std::function<Status(const CurveKey&, std::span<const Point>)>& sink);

}  // namespace paddlecloud::board
