// Accounting: the CPU time (measured core-seconds) and GPU time (GPU-seconds held) of every pod,
// kept by the hour after its job ends, summed per job, per user and per account.
//
// All methods block: call them on the blocking pool. Reads are scoped to the principal's account;
// members see their own usage, the master every user's.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/principal.h"
#include "common/status.h"
#include "db/database.h"

namespace paddlecloud::monitoring {

std::vector<db::Migration> AccountingMigrations();

// What one pod used during one sampling interval.
struct PodCharge {
  std::string account_id;
  std::int64_t user_id = 0;
  std::int64_t job_id = 0;
  std::string pod;
  std::int64_t at_s = 0;  // when: the hour it falls into is charged
  double cpu_seconds = 0;
  double gpu_seconds = 0;
};

struct UsageTotals {
  double cpu_seconds = 0;
  double gpu_seconds = 0;
};

struct UserUsage {
  std::int64_t user_id = 0;
  std::string email;
  UsageTotals usage;
};

struct DailyUsage {
  std::string day;  // "2026-12-05" (UTC)
  UsageTotals usage;
};

struct AccountUsage {
  std::string window;  // "1d", "7d", "30d"
  std::int64_t from_s = 0, to_s = 0;
  UsageTotals total;
  std::vector<UserUsage> users;   // the master: every user with usage; a member: themself
  std::vector<DailyUsage> daily;  // the last 30 UTC days, today included, oldest first
};

class Accounting {
 public:
  explicit Accounting(db::Database& database, std::function<std::int64_t()> now = {});

  // Adds the charges of one sampling pass in one transaction.
  Status Charge(const std::vector<PodCharge>& charges);
  // `window`: "1d", "7d" or "30d" (InvalidArgument naming `window` otherwise).
  Result<AccountUsage> ForAccount(const Principal& principal, const std::string& window);
  // Per pod of one job (already checked to be the principal's to see), by pod name.
  Result<std::vector<std::pair<std::string, UsageTotals>>> ForJob(const std::string& account_id, std::int64_t job_id);

 private:
  std::int64_t Now() const;
  db::Database& db_;
  std::function<std::int64_t()> now_;
};

}  // namespace paddlecloud::monitoring
