#include "board/board_appender.h"

#include <optional>

namespace paddlecloud::board {

Result<std::unique_ptr<BoardAppender>> BoardAppender::Open(const std::string& dir, std::string source, BoardHub& hub) {
  auto curves = ListCurves(dir);
  if (!curves) return Err(curves.error());
  auto writer = BoardWriter::Open(dir);
  if (!writer) return Err(writer.error());
  std::unique_ptr<BoardAppender> appender(new BoardAppender(std::move(*writer), std::move(source), hub));
  for (const CurveInfo& c : *curves)
    if (c.points > 0) appender->last_step_[{c.key.graph, c.key.curve, c.key.pod}] = c.last_step;
  return appender;
}

Result<AppendCounts> BoardAppender::Append(const CurveKey& key, std::vector<Point> points) {
  AppendCounts counts;
  CurveId id{key.graph, key.curve, key.pod};
  auto known = last_step_.find(id);
  std::optional<std::int64_t> last;
  if (known != last_step_.end()) last = known->second;
  std::vector<Point> kept;
  kept.reserve(points.size());
  for (const Point& p : points) {
    if (last && p.step <= *last) {
      ++counts.out_of_order;
      continue;
    }
    kept.push_back(p);
    last = p.step;
  }
  if (kept.empty()) return counts;
  auto stored = writer_->Append(key, kept);
  if (!stored) return Err(stored.error());
  counts.stored = stored->stored;
  counts.out_of_order += stored->out_of_order;
  last_step_[id] = *last;
  hub_.Publish(source_, key, std::move(kept));
  return counts;
}

}  // namespace paddlecloud::board
