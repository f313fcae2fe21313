// Throttle: rate limits of sign-ins, mails and invitations, kept in the `throttle` table so that
// every server replica agrees. Used inside the caller's transaction when it has one.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "db/database.h"

namespace paddlecloud::accounts {

// Mails (verification, reset) per email and per client address within kMailWindow seconds.
constexpr std::int64_t kMailWindow = 60 * 60;
constexpr int kMailsPerEmail = 3;
constexpr int kMailsPerAddress = 10;

// Fixed-window counters with an optional block.
class Throttle {
 public:
  Throttle(db::Session& db, std::int64_t now) : db_(db), now_(now) {}

  // Seconds until `key` may act again; 0 when it may now.
  std::int64_t RetryAfter(const std::string& key);
  // Counts one event; once `max_hits` are reached within `window`, blocks the key: until the window
  // ends, or with exponential backoff (30 s doubling, at most the window) when `backoff`.
  void Hit(const std::string& key, int max_hits, std::int64_t window, bool backoff);
  void Clear(const std::string& key);

 private:
  db::Session& db_;
  std::int64_t now_;
};

// The ResourceExhausted answer of a throttled action, with details.retry_after in seconds.
Status Throttled(std::int64_t retry_after, const std::string& what);

}  // namespace paddlecloud::accounts
