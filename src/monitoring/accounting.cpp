#include "monitoring/accounting.h"

#include <chrono>
#include <ctime>
#include <map>

#include "db/tenant_scope.h"

namespace paddlecloud::monitoring {
namespace {

constexpr std::int64_t kHour = 3600;
constexpr std::int64_t kDay = 24 * kHour;
constexpr int kDailyDays = 30;

std::string DayName(std::int64_t day_index) {
  std::time_t t = static_cast<std::time_t>(day_index * kDay);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y-%m-%d", &tm);
  return text;
}

UsageTotals TotalsAt(const db::Rows& rows, std::size_t i) {
  return {rows.Real(i, "cpu_seconds"), rows.Real(i, "gpu_seconds")};
}

}  // namespace

std::vector<db::Migration> AccountingMigrations() {
  return {{50, "resource accounting by pod and hour", R"sql(
CREATE TABLE usage_hours (
  account_id TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  job_id INTEGER NOT NULL,
  pod TEXT NOT NULL,
  hour INTEGER NOT NULL,
  cpu_seconds REAL NOT NULL DEFAULT 0,
  gpu_seconds REAL NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, pod, hour)
) WITHOUT ROWID;
CREATE INDEX usage_hours_by_account ON usage_hours(account_id, hour, user_id);
)sql"}};
}

Accounting::Accounting(db::Database& database, std::function<std::int64_t()> now)
    : db_(database), now_(std::move(now)) {}

std::int64_t Accounting::Now() const {
  if (now_) return now_();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Status Accounting::Charge(const std::vector<PodCharge>& charges) {
  if (charges.empty()) return Status::Ok();
  return db_.Transaction([&](db::Session& session) -> Status {
    for (const PodCharge& c : charges) {
      auto added = session.Execute(
          "INSERT INTO usage_hours (account_id, user_id, job_id, pod, hour, cpu_seconds, gpu_seconds) "
          "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job_id, pod, hour) DO UPDATE SET "
          "cpu_seconds = usage_hours.cpu_seconds + excluded.cpu_seconds, "
          "gpu_seconds = usage_hours.gpu_seconds + excluded.gpu_seconds",
          {c.account_id, c.user_id, c.job_id, c.pod, c.at_s / kHour, c.cpu_seconds, c.gpu_seconds});
      if (!added) return added.error();
    }
    return Status::Ok();
  });
}

Result<AccountUsage> Accounting::ForAccount(const Principal& principal, const std::string& window) {
  static const std::map<std::string, std::int64_t> kWindows = {{"1d", 1}, {"7d", 7}, {"30d", 30}};
  auto days = kWindows.find(window);
  if (days == kWindows.end()) return Err(Status::InvalidArgument("window must be 1d, 7d or 30d", "window"));
  AccountUsage usage{.window = window, .from_s = 0, .to_s = Now(), .total = {}, .users = {}, .daily = {}};
  usage.from_s = usage.to_s - days->second * kDay;
  // A member sees only their own usage: user_id = ? with their id; the master passes -1 (everyone).
  std::int64_t only_user = principal.master ? -1 : principal.user_id;
  db::TenantScope scope(db_, principal.account_id);
  auto by_user = scope.Query(
      "SELECT u.user_id, coalesce(x.email, '') AS email, sum(u.cpu_seconds) AS cpu_seconds, "
      "sum(u.gpu_seconds) AS gpu_seconds FROM usage_hours u LEFT JOIN users x ON x.id = u.user_id "
      "WHERE u.account_id = :account AND u.hour >= ? AND (? = -1 OR u.user_id = ?) "
      "GROUP BY u.user_id, x.email ORDER BY cpu_seconds DESC",
      {usage.from_s / kHour, only_user, only_user});
  if (!by_user) return Err(by_user.error());
  for (std::size_t i = 0; i < by_user->size(); ++i) {
    UserUsage user{by_user->Int(i, "user_id"), by_user->Text(i, "email"), TotalsAt(*by_user, i)};
    usage.total.cpu_seconds += user.usage.cpu_seconds;
    usage.total.gpu_seconds += user.usage.gpu_seconds;
    usage.users.push_back(std::move(user));
  }
  std::int64_t today = usage.to_s / kDay;
  std::int64_t first_day = today - (kDailyDays - 1);
  auto by_day = scope.Query(
      "SELECT u.hour / 24 AS day, sum(u.cpu_seconds) AS cpu_seconds, sum(u.gpu_seconds) AS gpu_seconds "
      "FROM usage_hours u WHERE u.account_id = :account AND u.hour >= ? AND (? = -1 OR u.user_id = ?) GROUP BY day",
      {first_day * 24, only_user, only_user});
  if (!by_day) return Err(by_day.error());
  std::map<std::int64_t, UsageTotals> days_used;
  for (std::size_t i = 0; i < by_day->size(); ++i) days_used[by_day->Int(i, "day")] = TotalsAt(*by_day, i);
  for (std::int64_t day = first_day; day <= today; ++day) usage.daily.push_back({DayName(day), days_used[day]});
  return usage;
}

Result<std::vector<std::pair<std::string, UsageTotals>>> Accounting::ForJob(const std::string& account_id,
                                                                            std::int64_t job_id) {
  auto rows = db::TenantScope(db_, account_id)
                  .Query("SELECT pod, sum(cpu_seconds) AS cpu_seconds, sum(gpu_seconds) AS gpu_seconds "
                         "FROM usage_hours WHERE job_id = ? AND account_id = :account GROUP BY pod ORDER BY pod",
                         {job_id});
  if (!rows) return Err(rows.error());
  std::vector<std::pair<std::string, UsageTotals>> pods;
  for (std::size_t i = 0; i < rows->size(); ++i) pods.emplace_back(rows->Text(i, "pod"), TotalsAt(*rows, i));
  return pods;
}

}  // namespace paddlecloud::monitoring
