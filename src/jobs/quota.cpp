#include "jobs/quota.h"

#include "common/units.h"
#include "db/tenant_scope.h"

namespace paddlecloud::jobs {
namespace {

std::string Counted(std::int64_t n, const char* one, const char* many) { return std::to_string(n) + (n == 1 ? one : many); }

// "6" of "6 CPUs", "512Mi" of "512Mi of memory": the number people read before the unit's name.
std::string Leading(const std::string& described) { return described.substr(0, described.find(' ')); }

const QuotaResource* FindResource(const std::string& name) {
  for (const QuotaResource& r : QuotaResources())
    if (name == r.name) return &r;
  return nullptr;
}

db::Value OptionalValue(const std::optional<std::int64_t>& v) { return v ? db::Value(*v) : db::Value(); }

std::optional<std::int64_t> OptionalColumn(const db::Rows& rows, std::size_t i, const char* column) {
  if (rows.IsNull(i, column)) return std::nullopt;
  return rows.Int(i, column);
}

Limits LimitsFrom(const db::Rows& rows, std::size_t i) {
  return {.cpu_milli = OptionalColumn(rows, i, "cpu_milli"), .memory_bytes = OptionalColumn(rows, i, "memory_bytes"),
          .gpus = OptionalColumn(rows, i, "gpus"), .running_jobs = OptionalColumn(rows, i, "running_jobs")};
}

}  // namespace

Amounts& Amounts::operator+=(const Amounts& other) {
  for (const QuotaResource& r : QuotaResources()) this->*r.amount += other.*r.amount;
  return *this;
}

const std::array<QuotaResource, 4>& QuotaResources() {
  static const std::array<QuotaResource, 4> resources = {{
      {"cpu", "cpu", &Amounts::cpu_milli, &Limits::cpu_milli, [](std::int64_t n) { return units::DescribeCpu(n); }},
      {"memory", "memory_bytes", &Amounts::memory_bytes, &Limits::memory_bytes,
       [](std::int64_t n) { return units::DescribeBytes(n) + " of memory"; }},
      {"gpus", "gpus", &Amounts::gpus, &Limits::gpus, [](std::int64_t n) { return Counted(n, " GPU", " GPUs"); }},
      {"running_jobs", "running_jobs", &Amounts::running_jobs, &Limits::running_jobs,
       [](std::int64_t n) { return Counted(n, " running job", " running jobs"); }},
  }};
  return resources;
}

Amounts JobRequest(int trainers, const cluster::Resources& trainer, int pservers, const cluster::Resources& pserver) {
  return {.cpu_milli = trainers * trainer.cpu_milli + pservers * pserver.cpu_milli,
          .memory_bytes = trainers * trainer.memory_bytes + pservers * pserver.memory_bytes,
          .gpus = trainers * trainer.gpus + pservers * pserver.gpus,
          .running_jobs = 1};
}

Status CheckJobWithin(const Amounts& job, const Limits& quota, const Limits& limit) {
  for (auto [bounds, whose] : {std::pair{&quota, "the account's quota"}, std::pair{&limit, "your limit"}})
    for (const QuotaResource& r : QuotaResources()) {
      const auto& bound = bounds->*r.limit;
      if (bound && job.*r.amount > *bound)
        return Status::QuotaExceeded("quota: this job asks " + r.describe(job.*r.amount) + ", " + whose + " is " +
                                     r.describe(*bound))
            .WithDetail("resource", r.name);
    }
  return Status::Ok();
}

std::optional<QuotaWait> WaitFor(const Amounts& job, const Amounts& account_in_use, const Limits& quota,
                                 const Amounts& member_in_use, const Limits& limit) {
  for (auto [bounds, in_use, account] : {std::tuple{&quota, &account_in_use, true}, std::tuple{&limit, &member_in_use, false}})
    for (const QuotaResource& r : QuotaResources()) {
      const auto& bound = bounds->*r.limit;
      std::int64_t used = in_use->*r.amount;
      if (bound && used + job.*r.amount > *bound)
        return QuotaWait{.reason = std::string(account ? "waiting for account quota: " : "waiting for your limit: ") +
                                   Leading(r.describe(used)) + " of " + r.describe(*bound) + " in use",
                         .account = account};
    }
  return std::nullopt;
}

QuotaQueue::QuotaQueue(Limits quota, std::map<std::int64_t, Limits> limits, std::map<std::int64_t, Amounts> in_use)
    : quota_(std::move(quota)), limits_(std::move(limits)), in_use_(std::move(in_use)) {
  for (const auto& [user, amounts] : in_use_) account_in_use_ += amounts;
}

std::optional<std::string> QuotaQueue::Consider(std::int64_t user_id, const Amounts& job) {
  const Limits& limit = limits_[user_id];
  if (Status within = CheckJobWithin(job, quota_, limit); !within.ok()) return within.message();
  if (account_held_) return account_held_;
  if (auto held = member_held_.find(user_id); held != member_held_.end()) return held->second;
  auto wait = WaitFor(job, account_in_use_, quota_, in_use_[user_id], limit);
  if (!wait) return std::nullopt;
  if (wait->account) account_held_ = wait->reason;
  else member_held_[user_id] = wait->reason;
  return wait->reason;
}

void QuotaQueue::Started(std::int64_t user_id, const Amounts& job) {
  account_in_use_ += job;
  in_use_[user_id] += job;
}

Status CheckLimitsWithin(const Limits& limits, const Limits& quota) {
  for (const QuotaResource& r : QuotaResources()) {
    const auto &limit = limits.*r.limit, &bound = quota.*r.limit;
    if (limit && bound && *limit > *bound)
      return Status::InvalidArgument(std::string(r.name) + ": a limit of " + r.describe(*limit) +
                                         " is above the account's quota of " + r.describe(*bound),
                                     r.name);
  }
  return Status::Ok();
}

db::Migration QuotaMigration() {
  return {51, "quotas: accounts' quotas and members' limits",
          R"sql(
CREATE TABLE account_quotas (
  account_id TEXT NOT NULL,
  resource TEXT NOT NULL CHECK (resource IN ('cpu', 'memory', 'gpus', 'running_jobs', 'storage')),
  amount INTEGER CHECK (amount >= 0),
  PRIMARY KEY (account_id, resource)
);
CREATE TABLE member_limits (
  account_id TEXT NOT NULL,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  cpu_milli INTEGER CHECK (cpu_milli >= 0),
  memory_bytes INTEGER CHECK (memory_bytes >= 0),
  gpus INTEGER CHECK (gpus >= 0),
  running_jobs INTEGER CHECK (running_jobs >= 0),
  PRIMARY KEY (account_id, user_id)
);
)sql"};
}

QuotaStore::QuotaStore(db::Database& database, QuotaDefaults defaults) : db_(database), defaults_(std::move(defaults)) {}

Result<QuotaSetting> QuotaStore::SettingOf(const std::string& account) {
  auto rows = db::TenantScope(db_, account).Query("SELECT resource, amount FROM account_quotas WHERE account_id = :account");
  if (!rows) return Err(rows.error());
  QuotaSetting setting;
  for (std::size_t i = 0; i < rows->size(); ++i) setting[rows->Text(i, "resource")] = OptionalColumn(*rows, i, "amount");
  return setting;
}

Result<AccountQuota> QuotaStore::QuotaOf(const std::string& account) {
  auto setting = SettingOf(account);
  if (!setting) return Err(setting.error());
  AccountQuota quota = defaults_.quota;
  for (const auto& [name, amount] : *setting) {
    if (name == "storage") quota.storage_bytes = amount;
    else if (const QuotaResource* r = FindResource(name)) quota.jobs.*r->limit = amount;
  }
  return quota;
}

Status QuotaStore::SetQuota(const std::string& account, const QuotaSetting& setting) {
  for (const auto& [name, amount] : setting) {
    if (name != "storage" && !FindResource(name)) return Status::InvalidArgument("no quota named '" + name + "'", name);
    if (amount && *amount < 0) return Status::InvalidArgument(name + " must not be negative", name);
  }
  return db_.Transaction([&](db::Session& tx) -> Status {
    for (const auto& [name, amount] : setting)
      PC_RETURN_IF_ERROR(StatusOf(db::TenantScope(tx, account).Execute(
          "INSERT INTO account_quotas (account_id, resource, amount) VALUES (:account, ?, ?) "
          "ON CONFLICT (account_id, resource) DO UPDATE SET amount = excluded.amount",
          {name, OptionalValue(amount)})));
    return Status::Ok();
  });
}

Result<Limits> QuotaStore::LimitsOf(const std::string& account, std::int64_t user_id) {
  auto rows = db::TenantScope(db_, account).Query(
      "SELECT cpu_milli, memory_bytes, gpus, running_jobs FROM member_limits WHERE account_id = :account AND user_id = ?",
      {user_id});
  if (!rows) return Err(rows.error());
  return rows->empty() ? Limits{} : LimitsFrom(*rows, 0);
}

Result<std::map<std::int64_t, Limits>> QuotaStore::MemberLimits(const std::string& account) {
  auto rows = db::TenantScope(db_, account).Query(
      "SELECT user_id, cpu_milli, memory_bytes, gpus, running_jobs FROM member_limits WHERE account_id = :account");
  if (!rows) return Err(rows.error());
  std::map<std::int64_t, Limits> out;
  for (std::size_t i = 0; i < rows->size(); ++i) out[rows->Int(i, "user_id")] = LimitsFrom(*rows, i);
  return out;
}

Status QuotaStore::SetLimits(const std::string& account, std::int64_t user_id, const Limits& limits) {
  return StatusOf(db::TenantScope(db_, account).Execute(
      "INSERT INTO member_limits (account_id, user_id, cpu_milli, memory_bytes, gpus, running_jobs) "
      "VALUES (:account, ?, ?, ?, ?, ?) ON CONFLICT (account_id, user_id) DO UPDATE SET cpu_milli = excluded.cpu_milli, "
      "memory_bytes = excluded.memory_bytes, gpus = excluded.gpus, running_jobs = excluded.running_jobs",
      {user_id, OptionalValue(limits.cpu_milli), OptionalValue(limits.memory_bytes), OptionalValue(limits.gpus),
       OptionalValue(limits.running_jobs)}));
}

}  // namespace paddlecloud::jobs
