// Quotas of training jobs: what an account's admitted, unfinished jobs may request together (CPU,
// memory, GPUs, running jobs), what each member's may, and the rules that start, queue or refuse a
// job. The rules are pure functions; QuotaStore keeps the numbers. JobService applies the rules at
// Submit and when it admits queued jobs; QuotaService (quota_service.h) shows and changes them.
//
// Storage: `account_quotas` has a row per (account, resource) the operator set with
// `paddlecloud admin quota set`: a number, or NULL for no quota (only the cluster's capacity, or the
// disk, bounds it). A resource without a row takes the server's default (quota_cpu, quota_memory,
// quota_gpus, quota_running_jobs, storage_quota), so new accounts get the defaults in force.
// `member_limits` has a member's limits (NULL: none beyond the account's quota). The storage quota
// is kept here so the operator sets it with the rest; files::StorageQuota enforces it.
//
// QuotaStore's methods block (database): call them on the blocking pool.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_backend.h"
#include "common/status.h"
#include "db/database.h"

namespace paddlecloud::jobs {

// What jobs request, summed: CPU in millicores, memory in bytes, GPUs, jobs.
struct Amounts {
  std::int64_t cpu_milli = 0;
  std::int64_t memory_bytes = 0;
  std::int64_t gpus = 0;
  std::int64_t running_jobs = 0;
  Amounts& operator+=(const Amounts& other);
};

// A bound per resource; nullopt: none.
struct Limits {
  std::optional<std::int64_t> cpu_milli;
  std::optional<std::int64_t> memory_bytes;
  std::optional<std::int64_t> gpus;
  std::optional<std::int64_t> running_jobs;
  bool operator==(const Limits&) const = default;
};

struct AccountQuota {
  Limits jobs;
  std::optional<std::int64_t> storage_bytes;  // nullopt: no storage quota
};

// One resource of Amounts and Limits, with its names and how people read an amount of it.
struct QuotaResource {
  const char* name;       // "cpu", "memory", "gpus", "running_jobs": the API's input fields and
                          // account_quotas.resource
  const char* json_key;   // "cpu", "memory_bytes", "gpus", "running_jobs": the API's output keys
  std::int64_t Amounts::*amount;
  std::optional<std::int64_t> Limits::*limit;
  std::string (*describe)(std::int64_t amount);  // "12 CPUs", "32Gi of memory", "1 GPU", "2 running jobs"
};
const std::array<QuotaResource, 4>& QuotaResources();

// What a job requests: num_trainer × trainer + num_ps × pserver, and one running job.
Amounts JobRequest(int trainers, const cluster::Resources& trainer, int pservers, const cluster::Resources& pserver);

// QuotaExceeded (details.resource) when the job alone asks more than the account's quota or the
// member's limit: "quota: this job asks 12 CPUs, the account's quota is 8 CPUs".
Status CheckJobWithin(const Amounts& job, const Limits& quota, const Limits& limit);

// Why a job that is within the quota must wait beside what is in use now; nullopt: it may start.
// `account` tells whether the account's quota (which holds up the account's later jobs too) or
// the member's limit (which holds up only that member's) is the reason.
struct QuotaWait {
  std::string reason;  // "waiting for account quota: 6 of 8 CPUs in use", "waiting for your limit: 2 of 2 running jobs in use"
  bool account = false;
};
std::optional<QuotaWait> WaitFor(const Amounts& job, const Amounts& account_in_use, const Limits& quota,
                                 const Amounts& member_in_use, const Limits& limit);

// The admission of an account's queued jobs, first in first out: Consider each job in the order
// of submission, and call Started for each one handed to the backend.
class QuotaQueue {
 public:
  // `in_use`: what the admitted, unfinished jobs request, by member.
  QuotaQueue(Limits quota, std::map<std::int64_t, Limits> limits, std::map<std::int64_t, Amounts> in_use);
  // Why the job of `user_id` waits, or nullopt when it may start now. A job held by the account's
  // quota holds up every later job of the account; one held by its member's limit holds up that
  // member's later jobs. A job over the quota on its own (lowered since it was queued) waits with
  // CheckJobWithin's message and holds up nothing.
  std::optional<std::string> Consider(std::int64_t user_id, const Amounts& job);
  void Started(std::int64_t user_id, const Amounts& job);

 private:
  Limits quota_;
  std::map<std::int64_t, Limits> limits_;
  std::map<std::int64_t, Amounts> in_use_;
  Amounts account_in_use_;
  std::optional<std::string> account_held_;            // the reason of the job that holds up the account
  std::map<std::int64_t, std::string> member_held_;  // by member
};

// InvalidArgument naming the field when a member's limit is above the account's quota.
Status CheckLimitsWithin(const Limits& limits, const Limits& quota);

// account_quotas and member_limits (migration 51).
db::Migration QuotaMigration();

struct QuotaDefaults {
  AccountQuota quota;  // what a resource without a row of the account gets
};

// A change of an account's quota by resource name ("cpu", "memory", "gpus", "running_jobs",
// "storage"): a value, or nullopt for no quota. Resources not named keep what they have.
using QuotaSetting = std::map<std::string, std::optional<std::int64_t>>;

class QuotaStore {
 public:
  QuotaStore(db::Database& database, QuotaDefaults defaults);

  // The quota in force: what the operator set, else the defaults.
  Result<AccountQuota> QuotaOf(const std::string& account);
  // Only what the operator set (resources without a row are absent).
  Result<QuotaSetting> SettingOf(const std::string& account);
  // InvalidArgument naming an unknown resource or a negative value.
  Status SetQuota(const std::string& account, const QuotaSetting& setting);

  Result<Limits> LimitsOf(const std::string& account, std::int64_t user_id);
  Result<std::map<std::int64_t, Limits>> MemberLimits(const std::string& account);
  Status SetLimits(const std::string& account, std::int64_t user_id, const Limits& limits);

 private:
  db::Database& db_;
  QuotaDefaults defaults_;
};

}  // namespace paddlecloud::jobs
