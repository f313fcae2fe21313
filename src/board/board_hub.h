// The live feed of board points: the ingester and the run routes publish what they have just
// stored; board streams (SSE) read what came after the last sequence they saw. It keeps about the
// newest `capacity_points` points; a reader that fell further behind is told it lost some, so it
// reloads instead of drawing a hole. Thread-safe.
#pragma once

#include <cstdint>
#include <algorithm>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "board/board_store.h"

namespace paddlecloud::board {

struct LiveBatch {
  std::uint64_t sequence = 0;
  std::string source;  // "job:12"
  bool ended = false;  // the source's job has ended and its last points are stored (key, points empty)
  CurveKey key;
  std::vector<Point> points;
};

class BoardHub {
 public:
  explicit BoardHub(std::size_t capacity_points = 1'000'000) : capacity_points_(capacity_points) {}

  void Publish(const std::string& source, const CurveKey& key, std::vector<Point> points);
  void PublishEnd(const std::string& source);
  std::uint64_t latest() const;

  struct Since {
    std::vector<LiveBatch> batches;  // of the sources asked, in order
    std::uint64_t through = 0;       // the sequence to ask after next time
    bool lost = false;               // batches after `after` were dropped before being read
  };
  Since After(std::uint64_t after, const std::set<std::string>& sources) const;

 private:
  void Add(LiveBatch batch);

  const std::size_t capacity_points_;
  mutable std::mutex mutex_;
  std::deque<LiveBatch> batches_;
  std::size_t points_ = 0;
  std::uint64_t next_sequence_ = 1;
};

}  // namespace paddlecloud::board
