// Appends points to one board and publishes what it stored to the live feed. It keeps each curve's
// last stored step, so a point that does not step past it (a restarted writer counting from 0
// again) is skipped and counted here, and live readers see exactly what the store holds.
// Not thread-safe: one appender per board, used by one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "board/board_hub.h"
#include "board/board_store.h"

namespace paddlecloud::board {

class BoardAppender {
 public:
  // `source` names the board in the live feed ("job:12", "run:4").
  static Result<std::unique_ptr<BoardAppender>> Open(const std::string& dir, std::string source, BoardHub& hub);

  Result<AppendCounts> Append(const CurveKey& key, std::vector<Point> points);
  Status Seal() { return writer_->Seal(); }
  std::size_t curves() const { return last_step_.size(); }
  const std::string& source() const { return source_; }

 private:
  using CurveId = std::tuple<std::string, std::string, std::string>;
  BoardAppender(std::unique_ptr<BoardWriter> writer, std::string source, BoardHub& hub)
      : writer_(std::move(writer)), source_(std::move(source)), hub_(hub) {}

  std::unique_ptr<BoardWriter> writer_;
  std::string source_;
  BoardHub& hub_;
  std::map<CurveId, std::int64_t> last_step_;
};

}  // namespace paddlecloud::board
