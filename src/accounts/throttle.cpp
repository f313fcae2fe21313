#include "accounts/throttle.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace paddlecloud::accounts {

std::int64_t Throttle::RetryAfter(const std::string& key) {
  auto rows = db_.Query("SELECT blocked_until FROM throttle WHERE key = ?", {key});
  if (!rows || rows->empty()) return 0;
  return std::max<std::int64_t>(0, rows->Int(0, "blocked_until") - now_);
}

void Throttle::Hit(const std::string& key, int max_hits, std::int64_t window, bool backoff) {
  auto rows = db_.Query("SELECT hits, window_start FROM throttle WHERE key = ?", {key});
  std::int64_t hits = 1, start = now_;
  if (rows && !rows->empty() && now_ - rows->Int(0, "window_start") < window) {
    hits = rows->Int(0, "hits") + 1;
    start = rows->Int(0, "window_start");
  }
  std::int64_t blocked_until = 0;
  if (hits >= max_hits) {
    blocked_until = backoff ? now_ + std::min<std::int64_t>(window, 30LL << std::min<std::int64_t>(hits - max_hits, 10))
                            : start + window;
  }
  auto counted = db_.Execute(
      "INSERT INTO throttle (key, hits, window_start, blocked_until) VALUES (?, ?, ?, ?) "
      "ON CONFLICT(key) DO UPDATE SET hits = excluded.hits, window_start = excluded.window_start, "
      "blocked_until = excluded.blocked_until",
      {key, hits, start, blocked_until});
  if (!counted) spdlog::error("throttle: an attempt for {} was not counted: {}", key, counted.error().message());
}

void Throttle::Clear(const std::string& key) {
  if (auto cleared = db_.Execute("DELETE FROM throttle WHERE key = ?", {key}); !cleared)
    spdlog::warn("throttle: attempts for {} not cleared: {}", key, cleared.error().message());
}

Status Throttled(std::int64_t retry_after, const std::string& what) {
  Status s = Status::ResourceExhausted("too many " + what + "; try again in " + std::to_string(retry_after) + " s");
  s.WithDetail("retry_after", std::to_string(retry_after));
  return s;
}

}  // namespace paddlecloud::accounts
