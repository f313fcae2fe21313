#include "board/board_hub.h"

namespace paddlecloud::board {

void BoardHub::Publish(const std::string& source, const CurveKey& key, std::vector<Point> points) {
  if (points.empty()) return;
  Add(LiveBatch{.sequence = 0, .source = source, .ended = false, .key = key, .points = std::move(points)});
}

void BoardHub::PublishEnd(const std::string& source) {
  Add(LiveBatch{.sequence = 0, .source = source, .ended = true, .key = {}, .points = {}});
}

void BoardHub::Add(LiveBatch batch) {
  std::lock_guard lock(mutex_);
  batch.sequence = next_sequence_++;
  points_ += batch.points.size();
  batches_.push_back(std::move(batch));
  while (batches_.size() > 1 && points_ > capacity_points_) {
    points_ -= batches_.front().points.size();
    batches_.pop_front();
  }
}

std::uint64_t BoardHub::latest() const {
  std::lock_guard lock(mutex_);
  return next_sequence_ - 1;
}

BoardHub::Since BoardHub::After(std::uint64_t after, const std::set<std::string>& sources) const {
  std::lock_guard lock(mutex_);
  Since since;
  since.through = next_sequence_ - 1;
  since.lost = !batches_.empty() && batches_.front().sequence > after + 1;
  for (auto it = batches_.rbegin(); it != batches_.rend() && it->sequence > after; ++it)
    if (sources.contains(it->source)) since.batches.push_back(*it);
  std::reverse(since.batches.begin(), since.batches.end());
  return since;
}

}  // namespace paddlecloud::board
