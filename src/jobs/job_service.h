// JobService: training jobs from submission to their end, and their history.
//
// Desired state lives in the database (a job should run, or should stop); observed state comes from
// the ClusterBackend; Reconcile() moves one toward the other and records pod events. It survives
// restarts of the control plane and of the backend: every step is derived from the database and
// what the backend reports now, never from memory. All methods block: call them on the blocking
// pool. Jobs belong to an account; a job of another account is NotFound.
//
// Lifecycle: Pending (with the reason, "waiting for 2 CPUs") -> Running -> Succeeded | Failed |
// Stopped. Quotas (quota.h): a job larger than the account's quota or its member's limit is
// refused; one that fits them but not beside what the account's admitted, unfinished jobs request
// now stays Pending ("waiting for account quota: 6 of 8 CPUs in use") without reaching the backend,
// until Reconcile admits it, first in first out per account. Stopping such a job ends it Stopped. Succeeded = every trainer exited 0 (the pservers are then stopped); Failed = more
// trainers failed for good than `fault_tolerant` allows (the rest is stopped); Stopped = a user
// stopped it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "accounts/account_service.h"
#include "cluster/cluster_backend.h"
#include "common/keyed_mutex.h"
#include "common/principal.h"
#include "db/database.h"
#include "jobs/job.h"
#include "jobs/job_spec.h"
#include "jobs/packages.h"
#include "jobs/quota.h"
#include "jobs/reconcile.h"

namespace paddlecloud::jobs {

std::vector<db::Migration> JobMigrations();

struct JobFilter {
  std::string status;                 // "", "running" (Pending+Running), "succeeded", "failed", "stopped"
  std::string name_contains;
  std::optional<std::int64_t> started_after;   // submitted_at >= (unix seconds)
  std::optional<std::int64_t> started_before;  // submitted_at <  (unix seconds)
  bool all_users = false;             // the master user may list every job of the account
  int limit = 50;
  std::int64_t cursor = 0;            // from the previous page's next_cursor; 0 = newest
};

// Where pods see the platform's data: short paths that are the same on every backend.
inline constexpr char kPodJobDir[] = "/job";        // PADDLE_CLOUD_JOB_DIR: code/ (working dir), board/
inline constexpr char kPodDataDir[] = "/data";      // PADDLE_CLOUD_DATA: datasets/, models/, workspace/
inline constexpr char kPodPublicDir[] = "/public";  // PADDLE_CLOUD_PUBLIC: published data, read-only
inline constexpr char kPodSharedDir[] = "/shared";  // PADDLE_CLOUD_SHARED: <owner>/<path> shared with us

struct JobsOptions {
  std::string jobs_dir;      // <data_dir>/jobs: <account>/<job id>/{logs,code,board}
  std::string files_dir;     // <data_dir>/files: <account>/{datasets,models,workspace/<user>}
  std::function<std::string()> pod_api_url;   // PADDLE_CLOUD_URL: where pods reach the API
  std::string python_sdk_dir;  // InstallPythonSdk's folder: pods mount it at kPodSdkDir; "" for none
  // Read-only data a job of `account` sees: public data at kPodPublicDir and shares at
  // kPodSharedDir/<owner>/<path>.
  std::function<std::vector<cluster::Mount>(const std::string& account)> read_only_mounts;
  // Whether the cloud path names a folder of the principal's files (a job's workdir).
  std::function<bool(const Principal&, const std::string& cloud_path)> is_folder;
  // Bytes of storage quota `account` has left: an uploaded package may not extract past it.
  std::function<std::uint64_t(const std::string& account)> storage_left;
  std::chrono::milliseconds stop_grace{10'000};
  std::function<std::int64_t()> now;          // unix seconds; the system clock when empty
  // Called once when a job has become terminal and its pods have ended (started_at set when it
  // ran), before the backend forgets them: e.g. to record which files it wrote and its last usage.
  // Runs on the reconciler's thread.
  std::function<void(const Job& job)> job_finished;
  // What the account's other workloads (notebooks) request now, by user: they count in the quota.
  std::function<Result<std::map<std::int64_t, Amounts>>(const std::string& account)> other_workloads_in_use;
};

class JobService {
 public:
  JobService(db::Database& database, cluster::ClusterBackend& backend, accounts::AccountService& accounts,
             QuotaStore& quotas, JobsOptions options);

  // Records the job and hands it to the backend, or queues it for quota. InvalidArgument when it
  // can never fit on the cluster (the reason names the resource); QuotaExceeded when it asks more
  // than the account's quota or the member's limit; Conflict when an active job has the same name.
  Result<Job> Submit(const Principal& principal, const JobSpec& spec);
  // Newest first. Members see their own jobs; the master may ask for all of the account's.
  Result<std::vector<Job>> List(const Principal& principal, const JobFilter& filter, std::int64_t* next_cursor);
  Result<Job> Get(const Principal& principal, std::int64_t job_id);
  // The newest job of this name (for the CLI, which names jobs).
  Result<Job> FindByName(const Principal& principal, const std::string& name);
  // Asks the job to stop (SIGTERM, then SIGKILL after the grace period). Conflict when it has ended.
  Result<Job> Stop(const Principal& principal, std::int64_t job_id);
  Result<std::vector<Pod>> Pods(const Principal& principal, std::int64_t job_id);
  Result<std::vector<JobEvent>> Events(const Principal& principal, std::int64_t job_id, std::int64_t after_id);
  // The log file of a pod ("" when the pod never started and so has no log yet); NotFound for a
  // pod that is not part of the job.
  Result<std::string> LogPath(const Principal& principal, std::int64_t job_id, const std::string& pod);

  // Packages (the code uploaded with a job, see packages.h): where to write an upload, and its
  // extraction into a package the next Submit can name.
  std::string PackageUploadPath(const Principal& principal) const;
  Result<PackageInfo> AddPackage(const Principal& principal, const std::string& archive_path);

  // The cluster's capacity: what it has, what admitted pods request, what is free. Aggregates of
  // every account's pods, nothing about any one job (any signed-in user may read them).
  cluster::Capacity Capacity() { return backend_.GetCapacity(); }

  // What the platform's operator watches (/metrics): jobs of every account by state, pods running.
  struct Totals {
    std::map<std::string, std::int64_t> jobs_by_state;  // every state, 0 included
    std::int64_t pods_running = 0;
  };
  Result<Totals> PlatformTotals();

  // What the account's admitted, unfinished jobs and its other workloads request, by user.
  Result<std::map<std::int64_t, Amounts>> InUseByUser(const std::string& account_id);
  // Whether a long-running workload (a notebook, serving replicas) requesting `request` may start
  // now for the principal: QuotaExceeded, naming `what`, past the account's quota or the member's
  // limit, alone or beside what the account's jobs and workloads use (it never waits in a queue).
  Status CheckWorkloadFits(const Principal& principal, const Amounts& request, const std::string& what);
  // InvalidArgument naming `cpu`, `memory` or `gpus` when one pod asking `request` could never fit
  // in the cluster ("cpu: the cluster has 2 CPUs in all; <one_pod> can never get more").
  Status CheckPodFitsCluster(const cluster::Resources& request, const std::string& one_pod);

  // One reconciliation pass over every unfinished job (the reconciler loop calls it periodically).
  void Reconcile();

  // Every account's running jobs, for the usage sampler (not for users: no tenant scope).
  Result<std::vector<Job>> RunningJobs();
  // Where the job's resource usage is recorded: beside its logs, out of its pods' sight.
  std::string UsageDir(const Job& job) const;
  // The job's board: the folder its pods write event files into (board/), and the store the
  // server reads them into, out of the pods' sight.
  std::string BoardDir(const Job& job) const;
  std::string BoardStoreDir(const Job& job) const;
  // The job's name in the cluster backend ("<name>-<id>").
  static std::string BackendName(const Job& job);

 private:
  std::int64_t Now() const;
  std::string JobDir(const std::string& account_id, std::int64_t job_id) const;
  std::vector<cluster::Mount> PodMounts(const Principal& principal, const std::string& job_dir) const;
  Result<std::string> PodPathOfWorkdir(const Principal& principal, const std::string& workdir) const;
  Status CheckCodeSource(const Principal& principal, const JobSpec& spec);
  Status PlaceCode(const Principal& principal, const JobSpec& spec, const std::string& job_dir) const;
  Status CheckQuota(const Principal& principal, const JobSpec& spec);
  // Quota admission (one account at a time): hands the account's queued jobs to the backend, first
  // in first out, while they fit; records why the others wait and ends those asked to stop.
  // Returns how `reported_job`'s admission went (OK when it started or waits).
  Status AdmitQueued(const std::string& account_id, std::int64_t reported_job = 0);
  Result<std::vector<Job>> QueuedJobs(const std::string& account_id);
  void NoteWaiting(const Job& job, const std::string& reason);
  void EndQueuedStop(const Job& job);
  // Hands the job to the backend (the one place a JobRun is built and submitted).
  Status Admit(const Job& job);
  Result<cluster::JobRun> BuildRun(const Job& job);
  void ShowLiveStart(Job& job);
  // One reconciliation step (see reconcile.h): observe, Decide, Act.
  void ReconcileJob(const Job& job);
  std::map<std::string, RecordedPod> RecordedPods(std::int64_t job_id);
  void Act(const Job& job, const ReconcileDecision& decision);
  void SavePod(std::int64_t job_id, const Pod& pod);
  void StopOnce(const Job& job, StopScope scope);
  void EndJob(const Job& job, JobState state, const std::string& reason);
  Status AddUserEmails(std::vector<Job>& jobs);
  void MarkFailed(std::int64_t job_id, const std::string& reason, std::int64_t now);
  void RecordEvent(std::int64_t job_id, const std::string& pod, const std::string& type, const std::string& message);

  db::Database& db_;
  cluster::ClusterBackend& backend_;
  accounts::AccountService& accounts_;
  QuotaStore& quotas_;
  JobsOptions options_;
  KeyedMutex admission_locks_;  // by account: one admission pass at a time
};

}  // namespace paddlecloud::jobs
