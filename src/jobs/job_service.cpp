#include "jobs/job_service.h"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <set>

#include "common/units.h"
#include "db/tenant_scope.h"
#include "jobs/packages.h"
#include "jobs/python_sdk.h"
#include "jobs/reconcile.h"

namespace paddlecloud::jobs {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using db::Rows;

constexpr const char* kJobColumns =
    "j.id, j.account_id, j.user_id, j.spec, j.state, j.reason, "
    "j.stop_requested, j.submitted_at, j.admitted_at, j.started_at, j.finished_at, j.succeeded, j.failed";

std::optional<std::int64_t> OptionalInt(const Rows& rows, std::size_t i, const char* column) {
  if (rows.IsNull(i, column)) return std::nullopt;
  return rows.Int(i, column);
}

Job JobFrom(const Rows& rows, std::size_t i) {
  Job job;
  job.id = rows.Int(i, "id");
  job.account_id = rows.Text(i, "account_id");
  job.user_id = rows.Int(i, "user_id");
  boost::system::error_code ec;
  json::value spec = json::parse(rows.Text(i, "spec"), ec);
  if (!ec && spec.is_object()) {
    if (auto parsed = ParseJobSpec(spec.as_object())) job.spec = std::move(*parsed);
  }
  std::string state = rows.Text(i, "state");
  if (auto parsed = ParseJobState(state)) job.state = *parsed;
  else spdlog::error("job {}: unknown state '{}' in the database", job.id, state);
  job.reason = rows.Text(i, "reason");
  job.stop_requested = rows.Int(i, "stop_requested") != 0;
  job.submitted_at = rows.Int(i, "submitted_at");
  job.admitted_at = OptionalInt(rows, i, "admitted_at");
  job.started_at = OptionalInt(rows, i, "started_at");
  job.finished_at = OptionalInt(rows, i, "finished_at");
  job.succeeded = static_cast<int>(rows.Int(i, "succeeded"));
  job.failed = static_cast<int>(rows.Int(i, "failed"));
  return job;
}

db::Value OptionalValue(const std::optional<std::int64_t>& v) { return v ? db::Value(*v) : db::Value(); }

Amounts RequestOf(const JobSpec& spec) { return JobRequest(spec.num_trainer, spec.trainer, spec.num_ps, spec.pserver); }

Status CheckFits(const JobSpec& spec, const cluster::Capacity& capacity) {
  auto need = [&](auto member) {
    return spec.num_trainer * (spec.trainer.*member) + spec.num_ps * (spec.pserver.*member);
  };
  if (need(&cluster::Resources::cpu_milli) > capacity.total.cpu_milli)
    return Status::InvalidArgument("this job needs " + units::DescribeCpu(need(&cluster::Resources::cpu_milli)) +
                                           " but the cluster has " + units::DescribeCpu(capacity.total.cpu_milli) +
                                           "; ask for fewer pods or less CPU per pod",
                                       "cpu_per_trainer");
  if (need(&cluster::Resources::memory_bytes) > capacity.total.memory_bytes)
    return Status::InvalidArgument("this job needs " + units::DescribeBytes(need(&cluster::Resources::memory_bytes)) +
                                           " of memory but the cluster has " +
                                           units::DescribeBytes(capacity.total.memory_bytes / (1 << 20) * (1 << 20)),
                                       "mem_per_trainer");
  if (need(&cluster::Resources::gpus) > capacity.total.gpus)
    return Status::InvalidArgument("this job needs " + std::to_string(need(&cluster::Resources::gpus)) +
                                           " GPUs but the cluster has " + std::to_string(capacity.total.gpus),
                                       "gpu_per_trainer");

  return Status::Ok();
}

}  // namespace

std::vector<db::Migration> JobMigrations() {
  return {{3, "training jobs, their pods and events",
           R"sql(
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  name TEXT NOT NULL,
  spec TEXT NOT NULL,
  state TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  stop_requested INTEGER NOT NULL DEFAULT 0,
  stop_sent INTEGER NOT NULL DEFAULT 0,
  token_id INTEGER,
  submitted_at INTEGER NOT NULL,
  started_at INTEGER,
  finished_at INTEGER,
  succeeded INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX jobs_one_active_name ON jobs(account_id, name) WHERE state IN ('Pending', 'Running');
CREATE INDEX jobs_by_account ON jobs(account_id, id);
CREATE INDEX jobs_by_user ON jobs(account_id, user_id, id);
CREATE INDEX jobs_by_user_state ON jobs(account_id, user_id, state, id);
CREATE INDEX jobs_by_state ON jobs(account_id, state, id);
CREATE INDEX jobs_unfinished ON jobs(state) WHERE state IN ('Pending', 'Running');
CREATE TABLE pods (
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  role TEXT NOT NULL,
  idx INTEGER NOT NULL,
  phase TEXT NOT NULL,
  reason TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  restarts INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER,
  finished_at INTEGER,
  endpoint TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (job_id, name)
);
CREATE TABLE job_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  pod TEXT NOT NULL DEFAULT '',
  type TEXT NOT NULL,
  message TEXT NOT NULL DEFAULT ''
);
CREATE INDEX job_events_by_job ON job_events(job_id, id);
)sql"},
          // The name in the listing indexes lets a name search read index entries only, not whole
          // rows with their specs (35 -> 14 ms over 100,000 jobs).
          {5, "jobs: listing indexes cover the name",
           R"sql(
DROP INDEX jobs_by_account;
CREATE INDEX jobs_by_account ON jobs(account_id, id, name);
DROP INDEX jobs_by_user;
CREATE INDEX jobs_by_user ON jobs(account_id, user_id, id, name);
)sql"},
          // A name search is a substring search (what users type is often the middle of a name:
          // "resnet" in "cifar-resnet-3"), so a prefix index would not serve it; trigrams do, in
          // well under a millisecond over 100,000 jobs instead of a scan. Names never change.
          {40, "jobs: trigram index of names",
           R"sql(
CREATE VIRTUAL TABLE jobs_name USING fts5(name, content='jobs', content_rowid='id',
                                          tokenize='trigram case_sensitive 1');
INSERT INTO jobs_name(jobs_name) VALUES ('rebuild');
CREATE TRIGGER jobs_name_insert AFTER INSERT ON jobs BEGIN
  INSERT INTO jobs_name(rowid, name) VALUES (new.id, new.name);
END;
CREATE TRIGGER jobs_name_delete AFTER DELETE ON jobs BEGIN
  INSERT INTO jobs_name(jobs_name, rowid, name) VALUES ('delete', old.id, old.name);
END;
)sql",
           R"sql(
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX jobs_name_trigrams ON jobs USING gin (name gin_trgm_ops);
)sql"},
          QuotaMigration(),
          // Jobs handed to the backend have admitted_at; a job waiting for quota has none yet.
          {52, "jobs: admission after quota",
           R"sql(
ALTER TABLE jobs ADD COLUMN admitted_at INTEGER;
UPDATE jobs SET admitted_at = submitted_at;
CREATE INDEX jobs_queued ON jobs(account_id, id) WHERE state = 'Pending' AND admitted_at IS NULL;
)sql"}};
}

JobService::JobService(db::Database& database, cluster::ClusterBackend& backend, accounts::AccountService& accounts,
                       QuotaStore& quotas, JobsOptions options)
    : db_(database), backend_(backend), accounts_(accounts), quotas_(quotas), options_(std::move(options)) {}

std::int64_t JobService::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string JobService::JobDir(const std::string& account_id, std::int64_t job_id) const {
  return (fs::path(options_.jobs_dir) / account_id / std::to_string(job_id)).string();
}

// What a job's pods see: its code and board outputs, the account's datasets and models, the
// submitting user's own workspace (not the other members'), public data, shares and the platform's
// Python SDK read-only.
std::vector<cluster::Mount> JobService::PodMounts(const Principal& principal, const std::string& job_dir) const {
  fs::path space = fs::path(options_.files_dir) / principal.account_id;
  fs::path workspace = space / "workspace" / std::to_string(principal.user_id);
  std::error_code ec;
  for (const fs::path& folder : {space / "datasets", space / "models", workspace})
    fs::create_directories(folder, ec);
  std::vector<cluster::Mount> mounts;
  for (const char* part : {"code", "board", "model"}) {
    fs::create_directories(fs::path(job_dir) / part, ec);
    mounts.push_back({(fs::path(job_dir) / part).string(), std::string(kPodJobDir) + "/" + part, false});
  }
  mounts.insert(mounts.end(), {
      {(space / "datasets").string(), std::string(kPodDataDir) + "/datasets", false},
      {(space / "models").string(), std::string(kPodDataDir) + "/models", false},
      {workspace.string(), std::string(kPodDataDir) + "/workspace", false}});
  if (options_.read_only_mounts)
    for (auto& m : options_.read_only_mounts(principal.account_id)) mounts.push_back(std::move(m));
  if (!options_.python_sdk_dir.empty()) mounts.push_back({options_.python_sdk_dir, kPodSdkDir, true});
  return mounts;
}

// A workdir is a cloud path of a folder (datasets/..., models/..., workspace/... for the user's
// own workspace); pods see it at the same path under /data.
Result<std::string> JobService::PodPathOfWorkdir(const Principal& principal, const std::string& workdir) const {
  auto refuse = [&] {
    return Err(Status::InvalidArgument(
        "workdir '" + workdir + "' is not a folder of your datasets/, models/ or workspace/", "workdir"));
  };
  std::string top = workdir.substr(0, workdir.find('/'));
  if (workdir.find("..") != std::string::npos || (top != "datasets" && top != "models" && top != "workspace"))
    return refuse();
  // Looked up through the account's files, which follow no link on the way.
  if (!options_.is_folder || !options_.is_folder(principal, workdir)) return refuse();
  return std::string(kPodDataDir) + "/" + workdir;
}

std::string JobService::BackendName(const Job& job) { return job.spec.name + "-" + std::to_string(job.id); }

void JobService::RecordEvent(std::int64_t job_id, const std::string& pod, const std::string& type,
                             const std::string& message) {
  auto r = db_.Execute("INSERT INTO job_events (job_id, at, pod, type, message) VALUES (?, ?, ?, ?, ?)",
                       {job_id, Now(), pod, type, message});
  if (!r) spdlog::error("job {}: event {} not recorded: {}", job_id, type, r.error().message());
}

Result<Job> JobService::Submit(const Principal& principal, const JobSpec& spec) {
  // A job that can never fit is refused now rather than pending forever.
  PC_RETURN_IF_ERROR(CheckFits(spec, backend_.GetCapacity()));
  if (!spec.workdir.empty()) {
    auto pod_path = PodPathOfWorkdir(principal, spec.workdir);
    if (!pod_path) return Err(pod_path.error());
  }
  PC_RETURN_IF_ERROR(CheckCodeSource(principal, spec));
  PC_RETURN_IF_ERROR(CheckQuota(principal, spec));

  std::int64_t now = Now();
  auto inserted = db::TenantScope(db_, principal.account_id).Query(
      "INSERT INTO jobs (account_id, user_id, name, spec, state, reason, submitted_at) "
      "VALUES (:account, ?, ?, ?, 'Pending', 'submitted', ?) RETURNING id",
      {principal.user_id, spec.name, json::serialize(JobSpecToJson(spec)), now});
  if (!inserted) {
    if (inserted.error().code() == Code::kConflict)
      return Err(Status::Of(Code::kConflict, "a job named '" + spec.name + "' is already pending or running", "name"));
    return Err(inserted.error());
  }
  std::int64_t job_id = inserted->Int(0, "id");

  std::string dir = JobDir(principal.account_id, job_id);
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "logs", ec);
  fs::create_directories(fs::path(dir) / "board", ec);
  if (!spec.package.empty() || spec.code_from_job > 0) {
    if (Status placed = PlaceCode(principal, spec, dir); !placed.ok()) {
      MarkFailed(job_id, placed.message(), now);
      return Err(placed);
    }
  }
  RecordEvent(job_id, "", "Submitted", std::to_string(spec.num_trainer) + " trainer(s), " +
                                           std::to_string(spec.num_ps) + " parameter server(s)");
  // Queued, then admitted at once unless the quota (or an earlier queued job) holds it up. The job
  // is recorded: from here on the database going away does not make the answer an error (the client
  // would submit again and get a second job); the reconciler admits what this call could not.
  if (Status admitted = AdmitQueued(principal.account_id, job_id); !admitted.ok()) {
    if (admitted.code() != Code::kUnavailable) return Err(admitted);
    spdlog::warn("job {}: admission left to the reconciler: {}", job_id, admitted.message());
  }
  auto job = Get(principal, job_id);
  if (job || job.error().code() != Code::kUnavailable) return job;
  return Job{.id = job_id, .account_id = principal.account_id, .user_id = principal.user_id,
             .user_email = principal.email, .spec = spec, .state = JobState::kPending, .reason = "submitted",
             .submitted_at = now};
}

Status JobService::CheckQuota(const Principal& principal, const JobSpec& spec) {
  auto quota = quotas_.QuotaOf(principal.account_id);
  if (!quota) return quota.error();
  auto limit = quotas_.LimitsOf(principal.account_id, principal.user_id);
  if (!limit) return limit.error();
  return CheckJobWithin(RequestOf(spec), quota->jobs, *limit);
}

Result<std::map<std::int64_t, Amounts>> JobService::InUseByUser(const std::string& account_id) {
  auto rows = db::TenantScope(db_, account_id)
                  .Query(std::string("SELECT ") + kJobColumns +
                         " FROM jobs j WHERE j.account_id = :account AND j.state IN ('Pending', 'Running') "
                         "AND j.admitted_at IS NOT NULL");
  if (!rows) return Err(rows.error());
  std::map<std::int64_t, Amounts> in_use;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    Job job = JobFrom(*rows, i);
    in_use[job.user_id] += RequestOf(job.spec);
  }
  if (options_.other_workloads_in_use) {
    auto others = options_.other_workloads_in_use(account_id);
    if (!others) return Err(others.error());
    for (const auto& [user, amounts] : *others) in_use[user] += amounts;
  }
  return in_use;
}

Status JobService::CheckWorkloadFits(const Principal& principal, const Amounts& request, const std::string& what) {
  auto quota = quotas_.QuotaOf(principal.account_id);
  if (!quota) return quota.error();
  auto limit = quotas_.LimitsOf(principal.account_id, principal.user_id);
  if (!limit) return limit.error();
  PC_RETURN_IF_ERROR(CheckJobWithin(request, quota->jobs, *limit));
  auto in_use = InUseByUser(principal.account_id);
  if (!in_use) return in_use.error();
  Amounts account_in_use, member_in_use = (*in_use)[principal.user_id];
  for (const auto& [user, amounts] : *in_use) account_in_use += amounts;
  if (auto wait = WaitFor(request, account_in_use, quota->jobs, member_in_use, *limit))
    return Status::QuotaExceeded(what + " does not fit beside the running jobs, notebooks and serving instances (" +
                                 wait->reason + "): stop some or ask for less");
  return Status::Ok();
}

Status JobService::CheckPodFitsCluster(const cluster::Resources& request, const std::string& one_pod) {
  cluster::Capacity capacity = backend_.GetCapacity();
  for (auto [field, asked, total] : {std::tuple{"cpu", request.cpu_milli, capacity.total.cpu_milli},
                                     std::tuple{"memory", request.memory_bytes, capacity.total.memory_bytes},
                                     std::tuple{"gpus", request.gpus, capacity.total.gpus}})
    if (asked > total)
      return Status::InvalidArgument(std::string(field) + ": the cluster has " +
                                         (std::string(field) == "cpu"      ? units::CpuQuantity(total)
                                          : std::string(field) == "memory" ? units::ByteQuantity(total)
                                                                           : std::to_string(total)) +
                                         " in all; " + one_pod + " can never get more",
                                     field);
  return Status::Ok();
}

Result<std::vector<Job>> JobService::QueuedJobs(const std::string& account_id) {
  auto rows = db::TenantScope(db_, account_id)
                  .Query(std::string("SELECT ") + kJobColumns +
                         " FROM jobs j WHERE j.account_id = :account AND j.state = 'Pending' AND j.admitted_at IS NULL "
                         "ORDER BY j.id");
  if (!rows) return Err(rows.error());
  std::vector<Job> jobs;
  for (std::size_t i = 0; i < rows->size(); ++i) jobs.push_back(JobFrom(*rows, i));
  return jobs;
}

Status JobService::AdmitQueued(const std::string& account_id, std::int64_t reported_job) {
  auto lock = admission_locks_.Lock(account_id);
  auto queued = QueuedJobs(account_id);
  auto quota = quotas_.QuotaOf(account_id);
  auto limits = quotas_.MemberLimits(account_id);
  auto in_use = InUseByUser(account_id);
  for (const Status& s : {StatusOf(queued), StatusOf(quota), StatusOf(limits), StatusOf(in_use)})
    if (!s.ok()) {
      // The queued jobs stay queued: the next pass admits them.
      spdlog::warn("account {}: quota admission (again at the next pass): {}", account_id, s.message());
      return Status::Ok();
    }
  QuotaQueue queue(quota->jobs, std::move(*limits), std::move(*in_use));
  Status reported = Status::Ok();
  for (const Job& job : *queued) {
    if (job.stop_requested) {
      EndQueuedStop(job);
      continue;
    }
    Amounts request = RequestOf(job.spec);
    if (auto reason = queue.Consider(job.user_id, request)) {
      NoteWaiting(job, *reason);
      continue;
    }
    Status admitted = Admit(job);
    if (admitted.ok()) queue.Started(job.user_id, request);
    if (job.id == reported_job) reported = admitted;
  }
  return reported;
}

// The reason shown while the job waits; the event once, when it starts waiting.
void JobService::NoteWaiting(const Job& job, const std::string& reason) {
  if (job.reason == reason) return;
  auto saved = db_.Execute("UPDATE jobs SET reason = ? WHERE id = ? AND admitted_at IS NULL", {reason, job.id});
  if (!saved) spdlog::warn("job {}: reason not saved: {}", job.id, saved.error().message());
  if (job.reason == "submitted") RecordEvent(job.id, "", "Queued", reason);
}

// A queued job asked to stop ends without ever reaching the backend.
void JobService::EndQueuedStop(const Job& job) {
  auto ended = db_.Execute(
      "UPDATE jobs SET state = 'Stopped', reason = 'stopped by a user', finished_at = ? "
      "WHERE id = ? AND state = 'Pending' AND admitted_at IS NULL",
      {Now(), job.id});
  if (!ended) {
    spdlog::warn("job {}: its stop was not saved (again at the next pass): {}", job.id, ended.error().message());
    return;
  }
  RecordEvent(job.id, "", "Stopped", "stopped by a user before it started");
}

Status JobService::Admit(const Job& job) {
  // An unreachable cluster is no fault of the job: it waits, saying why.
  if (Status cluster = backend_.Health(); !cluster.ok()) {
    NoteWaiting(job, "waiting for the cluster: " + cluster.message());
    return Status::Ok();
  }
  auto run = BuildRun(job);
  Status submitted = run ? backend_.Submit(*run) : run.error();
  if (!submitted.ok()) {
    MarkFailed(job.id, submitted.message(), Now());
    RecordEvent(job.id, "", "Failed", submitted.message());
    return submitted;
  }
  auto noted = db_.Execute("UPDATE jobs SET admitted_at = ?, reason = 'submitted' WHERE id = ?", {Now(), job.id});
  // Not noted: the next pass submits it again, which the backend ignores (Submit is idempotent).
  if (!noted) spdlog::warn("job {}: its admission was not saved: {}", job.id, noted.error().message());
  return Status::Ok();
}

Result<cluster::JobRun> JobService::BuildRun(const Job& job) {
  Principal principal{.user_id = job.user_id, .account_id = job.account_id, .email = job.user_email};
  const JobSpec& spec = job.spec;
  std::string working_dir = std::string(kPodJobDir) + "/code";  // where uploaded or copied code is placed
  if (!spec.workdir.empty() && spec.package.empty() && spec.code_from_job == 0) {
    auto pod_path = PodPathOfWorkdir(principal, spec.workdir);
    if (!pod_path) return Err(pod_path.error());
    working_dir = *pod_path;
  }
  // A job-scoped token lets the training code call the API (draw_board, files) as its user.
  auto token = accounts_.tokens().CreateJobToken(principal, job.id);
  if (!token) return Err(token.error());

  std::string dir = JobDir(job.account_id, job.id);
  cluster::JobRun run{.namespace_name = job.account_id, .job = BackendName(job), .entry = spec.entry,
                      .image = spec.image, .working_dir = working_dir, .env = spec.env,
                      .trainers = spec.num_trainer, .trainer_requests = spec.trainer, .pservers = spec.num_ps,
                      .pserver_requests = spec.pserver, .max_restarts = spec.max_restarts,
                      .fault_tolerant = spec.fault_tolerant, .logs_dir = (fs::path(dir) / "logs").string()};
  run.env["PADDLE_CLOUD_URL"] = options_.pod_api_url ? options_.pod_api_url() : "";
  run.secret_env["PADDLE_CLOUD_TOKEN"] = *token;
  run.env["PADDLE_CLOUD_JOB_DIR"] = kPodJobDir;
  run.env["PADDLE_CLOUD_DATA"] = kPodDataDir;
  run.env["PADDLE_CLOUD_PUBLIC"] = kPodPublicDir;
  run.env["PADDLE_CLOUD_SHARED"] = kPodSharedDir;
  if (!options_.python_sdk_dir.empty()) {
    std::string& path = run.env["PYTHONPATH"];  // `import paddlecloud` finds the platform's SDK first
    path = path.empty() ? kPodSdkDir : std::string(kPodSdkDir) + ":" + path;
  }
  run.mounts = PodMounts(principal, dir);
  return run;
}

Result<std::vector<Job>> JobService::List(const Principal& principal, const JobFilter& filter,
                                          std::int64_t* next_cursor) {
  if (filter.limit < 1 || filter.limit > 500) return Err(Status::InvalidArgument("limit must be from 1 to 500", "limit"));
  if (filter.all_users && !principal.master)
    return Err(Status::PermissionDenied("only the account's master user can list every user's jobs"));
  db::Condition contains{.sql = "", .param = {}, .join = "", .id = "j.id"};
  if (!filter.name_contains.empty()) contains = db_.ContainsText("j.name", "j.id", "jobs_name", filter.name_contains);
  std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs j " + contains.join + " WHERE j.account_id = :account";
  db::Params params;
  if (!filter.all_users) {
    sql += " AND j.user_id = ?";
    params.emplace_back(principal.user_id);
  }
  if (filter.status == "running") sql += " AND j.state IN ('Pending', 'Running')";
  else if (filter.status == "succeeded") sql += " AND j.state = 'Succeeded'";
  else if (filter.status == "failed") sql += " AND j.state = 'Failed'";
  else if (filter.status == "stopped") sql += " AND j.state = 'Stopped'";
  else if (!filter.status.empty())
    return Err(Status::InvalidArgument("status must be running, succeeded, failed or stopped", "status"));
  if (!contains.sql.empty()) {
    sql += " AND " + contains.sql;
    params.push_back(std::move(contains.param));
  }
  if (filter.started_after) {
    sql += " AND j.submitted_at >= ?";
    params.emplace_back(*filter.started_after);
  }
  if (filter.started_before) {
    sql += " AND j.submitted_at < ?";
    params.emplace_back(*filter.started_before);
  }
  if (filter.cursor > 0) {
    sql += " AND " + contains.id + " < ?";
    params.emplace_back(filter.cursor);
  }
  sql += " ORDER BY " + contains.id + " DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(filter.limit) + 1);
  auto rows = db::TenantScope(db_, principal.account_id).Query(sql, params);
  if (!rows) return Err(rows.error());
  std::vector<Job> out;
  for (std::size_t i = 0; i < rows->size() && static_cast<int>(i) < filter.limit; ++i) out.push_back(JobFrom(*rows, i));
  if (next_cursor) *next_cursor = static_cast<int>(rows->size()) > filter.limit ? out.back().id : 0;
  PC_RETURN_IF_ERROR(AddUserEmails(out));
  for (Job& job : out)
    if (job.state == JobState::kPending) ShowLiveStart(job);  // the list says what the job's page says
  return out;
}

Result<JobService::Totals> JobService::PlatformTotals() {
  Totals totals;
  for (JobState state : {JobState::kPending, JobState::kRunning, JobState::kSucceeded, JobState::kFailed,
                         JobState::kStopped})
    totals.jobs_by_state[std::string(StateName(state))] = 0;
  auto jobs = db_.Query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state");
  if (!jobs) return Err(jobs.error());
  for (std::size_t i = 0; i < jobs->size(); ++i) totals.jobs_by_state[jobs->Text(i, "state")] = jobs->Int(i, "n");
  auto pods = db_.Query(
      "SELECT COUNT(*) AS n FROM pods p JOIN jobs j ON j.id = p.job_id "
      "WHERE p.phase = 'Running' AND j.state IN ('Pending', 'Running')");
  if (!pods) return Err(pods.error());
  totals.pods_running = pods->Int(0, "n");
  return totals;
}

void JobService::MarkFailed(std::int64_t job_id, const std::string& reason, std::int64_t now) {
  auto r = db_.Execute("UPDATE jobs SET state = 'Failed', reason = ?, finished_at = ? WHERE id = ?", {reason, now, job_id});
  if (!r) spdlog::error("job {}: could not be marked failed ({}): {}", job_id, reason, r.error().message());
}

// Who submitted each job, as the accounts service knows its users (this module reads no table of theirs).
Status JobService::AddUserEmails(std::vector<Job>& jobs) {
  std::vector<std::int64_t> ids;
  for (const Job& job : jobs) ids.push_back(job.user_id);
  auto emails = accounts_.directory().EmailsOf(ids);
  if (!emails) return emails.error();
  for (Job& job : jobs)
    if (auto it = emails->find(job.user_id); it != emails->end()) job.user_email = it->second;
  return Status::Ok();
}

Result<Job> JobService::Get(const Principal& principal, std::int64_t job_id) {
  auto rows = db::TenantScope(db_, principal.account_id)
                  .Query(std::string("SELECT ") + kJobColumns +
                             " FROM jobs j WHERE j.account_id = :account AND j.id = ?",
                         {job_id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("no job with id " + std::to_string(job_id)));
  std::vector<Job> found{JobFrom(*rows, 0)};
  Job& job = found.front();
  if (job.user_id != principal.user_id && !principal.master)
    return Err(Status::NotFound("no job with id " + std::to_string(job_id)));
  PC_RETURN_IF_ERROR(AddUserEmails(found));
  if (job.state == JobState::kPending) ShowLiveStart(job);
  return job;
}

// A pending job as its pods are now (Pods() reads them live too), not as of the last reconcile
// pass: it has started once any pod has. The next pass records the same.
void JobService::ShowLiveStart(Job& job) {
  if (!job.admitted_at) return;  // queued for quota: the backend has none of it
  auto live = backend_.GetPods(job.account_id, BackendName(job));
  if (!live) return;
  bool started = std::any_of(live->begin(), live->end(), [](const cluster::PodStatus& p) {
    return p.phase != cluster::PodPhase::kPending || p.started_at.has_value();
  });
  if (!started) return;
  job.state = JobState::kRunning;
  job.reason = "";
  if (!job.started_at) job.started_at = FirstStart(*live);
  if (!job.started_at) job.started_at = Now();
}

Result<Job> JobService::FindByName(const Principal& principal, const std::string& name) {
  auto rows = db::TenantScope(db_, principal.account_id)
                  .Query("SELECT id FROM jobs WHERE account_id = :account AND name = ? AND (user_id = ? OR ?) "
                         "ORDER BY id DESC LIMIT 1",
                         {name, principal.user_id, static_cast<std::int64_t>(principal.master)});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("no job named '" + name + "'"));
  return Get(principal, rows->Int(0, "id"));
}

Result<Job> JobService::Stop(const Principal& principal, std::int64_t job_id) {
  auto job = Get(principal, job_id);
  if (!job) return job;
  if (job->terminal())
    return Err(Status::Conflict("job " + std::to_string(job_id) + " has already ended (" + std::string(StateName(job->state)) + ")"));
  auto r = db_.Execute("UPDATE jobs SET stop_requested = 1 WHERE id = ?", {job_id});
  if (!r) return Err(r.error());
  RecordEvent(job_id, "", "StopRequested", "by " + principal.email);
  job->stop_requested = true;
  // Act now rather than at the next pass.
  if (job->admitted_at) ReconcileJob(*job);
  else PC_RETURN_IF_ERROR(AdmitQueued(job->account_id));
  return Get(principal, job_id);
}

Result<std::vector<Pod>> JobService::Pods(const Principal& principal, std::int64_t job_id) {
  auto job = Get(principal, job_id);
  if (!job) return Err(job.error());
  if (!job->terminal()) {
    // While a job runs its pods are read live from the backend, not as of the last reconcile, and
    // shown as the reconciler records them (a parameter server stopped after training: Completed),
    // so a job read just after it ended agrees with them.
    if (auto live = backend_.GetPods(job->account_id, BackendName(*job))) return Decide(*job, *live, {}, Now()).pods;
  }
  auto rows = db_.Query(
      "SELECT name, role, idx, phase, reason, exit_code, restarts, started_at, finished_at, endpoint FROM pods "
      "WHERE job_id = ? ORDER BY role DESC, idx",
      {job_id});
  if (!rows) return Err(rows.error());
  std::vector<Pod> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    Pod p{.name = rows->Text(i, "name"), .role = rows->Text(i, "role"), .index = static_cast<int>(rows->Int(i, "idx")),
          .phase = rows->Text(i, "phase"), .reason = rows->Text(i, "reason"), .exit_code = std::nullopt,
          .restarts = static_cast<int>(rows->Int(i, "restarts")), .started_at = OptionalInt(*rows, i, "started_at"),
          .finished_at = OptionalInt(*rows, i, "finished_at"), .endpoint = rows->Text(i, "endpoint")};
    if (!rows->IsNull(i, "exit_code")) p.exit_code = static_cast<int>(rows->Int(i, "exit_code"));
    out.push_back(std::move(p));
  }
  if (out.empty()) {
    // Not observed yet: list the pods the spec asks for, all pending.
    for (int i = 0; i < job->spec.num_trainer; ++i)
      out.push_back({.name = cluster::PodName(BackendName(*job), cluster::PodRole::kTrainer, i), .role = "trainer",
                     .index = i, .phase = "Pending", .reason = job->reason});
    for (int i = 0; i < job->spec.num_ps; ++i)
      out.push_back({.name = cluster::PodName(BackendName(*job), cluster::PodRole::kPserver, i), .role = "pserver",
                     .index = i, .phase = "Pending", .reason = job->reason});
  }
  return out;
}

Result<std::vector<JobEvent>> JobService::Events(const Principal& principal, std::int64_t job_id, std::int64_t after_id) {
  auto job = Get(principal, job_id);
  if (!job) return Err(job.error());
  auto rows = db_.Query("SELECT id, at, pod, type, message FROM job_events WHERE job_id = ? AND id > ? ORDER BY id",
                        {job_id, after_id});
  if (!rows) return Err(rows.error());
  std::vector<JobEvent> out;
  for (std::size_t i = 0; i < rows->size(); ++i)
    out.push_back({.id = rows->Int(i, "id"), .at = rows->Int(i, "at"), .pod = rows->Text(i, "pod"),
                   .type = rows->Text(i, "type"), .message = rows->Text(i, "message")});
  return out;
}

Result<std::string> JobService::LogPath(const Principal& principal, std::int64_t job_id, const std::string& pod) {
  auto pods = Pods(principal, job_id);
  if (!pods) return Err(pods.error());
  bool known = std::any_of(pods->begin(), pods->end(), [&](const Pod& p) { return p.name == pod; });
  if (!known) return Err(Status::NotFound("job " + std::to_string(job_id) + " has no pod '" + pod + "'"));
  fs::path path = fs::path(JobDir(principal.account_id, job_id)) / "logs" / (pod + ".log");
  std::error_code ec;
  return fs::exists(path, ec) ? path.string() : std::string();
}

// A package that is there and unused, or an earlier job the principal may read that ran uploaded
// code (its code/ folder); not with a workdir.
Status JobService::CheckCodeSource(const Principal& principal, const JobSpec& spec) {
  if (!spec.package.empty() && !PackageStore(options_.jobs_dir).Exists(principal.account_id, spec.package))
    return Status::Of(Code::kNotFound,
                      "no unused package '" + spec.package + "': upload it first (each package serves one job)",
                      "package");
  if (!spec.package.empty() && !spec.workdir.empty())
    return Status::InvalidArgument("give either a package or a workdir, not both", "workdir");
  if (spec.code_from_job == 0) return Status::Ok();
  auto earlier = Get(principal, spec.code_from_job);
  if (!earlier) return Status::Of(Code::kNotFound, "no job with id " + std::to_string(spec.code_from_job), "code_from_job");
  if (earlier->spec.package.empty() && earlier->spec.code_from_job == 0)
    return Status::InvalidArgument("job " + std::to_string(spec.code_from_job) + " ran no uploaded code", "code_from_job");
  return Status::Ok();
}

// The job's code/ folder: its uploaded package, or a copy of an earlier job's code.
Status JobService::PlaceCode(const Principal& principal, const JobSpec& spec, const std::string& job_dir) const {
  std::string code = (fs::path(job_dir) / "code").string();
  if (!spec.package.empty()) return PackageStore(options_.jobs_dir).Claim(principal.account_id, spec.package, code);
  auto copied = PackageStore::CopyCode((fs::path(JobDir(principal.account_id, spec.code_from_job)) / "code").string(),
                                       code,
                                       options_.storage_left ? options_.storage_left(principal.account_id) : UINT64_MAX);
  return copied ? Status::Ok() : copied.error();
}

std::string JobService::PackageUploadPath(const Principal& principal) const {
  return PackageStore(options_.jobs_dir).UploadPath(principal.account_id);
}

Result<PackageInfo> JobService::AddPackage(const Principal& principal, const std::string& archive_path) {
  return PackageStore(options_.jobs_dir)
      .Extract(principal.account_id, archive_path,
               options_.storage_left ? options_.storage_left(principal.account_id) : UINT64_MAX);
}

void JobService::Reconcile() {
  auto rows = db_.Query(std::string("SELECT ") + kJobColumns +
                        " FROM jobs j WHERE j.state IN ('Pending', 'Running')");
  if (!rows) {
    spdlog::error("reconcile: {}", rows.error().message());
    return;
  }
  std::set<std::string> queueing_accounts;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    Job job = JobFrom(*rows, i);
    if (job.admitted_at) ReconcileJob(job);
    else queueing_accounts.insert(job.account_id);
  }
  // After the admitted jobs: those that just ended make room.
  for (const std::string& account : queueing_accounts) (void)AdmitQueued(account);
}

Result<std::vector<Job>> JobService::RunningJobs() {
  auto rows = db_.Query(std::string("SELECT ") + kJobColumns + " FROM jobs j WHERE j.state IN ('Pending', 'Running') AND j.state = 'Running'");  // the partial index
  if (!rows) return Err(rows.error());
  std::vector<Job> jobs;
  for (std::size_t i = 0; i < rows->size(); ++i) jobs.push_back(JobFrom(*rows, i));
  return jobs;
}

std::string JobService::UsageDir(const Job& job) const {
  return (fs::path(JobDir(job.account_id, job.id)) / "usage").string();
}

std::string JobService::BoardDir(const Job& job) const {
  return (fs::path(JobDir(job.account_id, job.id)) / "board").string();
}

std::string JobService::BoardStoreDir(const Job& job) const {
  return (fs::path(JobDir(job.account_id, job.id)) / "board-store").string();
}

void JobService::ReconcileJob(const Job& job) {
  auto observed = backend_.GetPods(job.account_id, BackendName(job));
  if (!observed) {
    spdlog::warn("job {}: backend has no pods: {}", job.id, observed.error().message());
    return;
  }
  Act(job, Decide(job, *observed, RecordedPods(job.id), Now()));
}

std::map<std::string, RecordedPod> JobService::RecordedPods(std::int64_t job_id) {
  std::map<std::string, RecordedPod> recorded;
  auto rows = db_.Query("SELECT name, phase, restarts FROM pods WHERE job_id = ?", {job_id});
  if (rows)
    for (std::size_t i = 0; i < rows->size(); ++i)
      recorded[rows->Text(i, "name")] = {rows->Text(i, "phase"), static_cast<int>(rows->Int(i, "restarts"))};
  return recorded;
}

void JobService::Act(const Job& job, const ReconcileDecision& decision) {
  for (const PodEvent& e : decision.events) RecordEvent(job.id, e.pod, e.type, e.message);
  for (const Pod& pod : decision.pods) SavePod(job.id, pod);
  if (decision.stop != StopScope::kNone) StopOnce(job, decision.stop);
  auto saved = db_.Execute(
      "UPDATE jobs SET state = ?, reason = ?, started_at = ?, finished_at = ?, succeeded = ?, failed = ? WHERE id = ?",
      {std::string(StateName(decision.state)), decision.reason, OptionalValue(decision.started_at), OptionalValue(decision.finished_at),
       static_cast<std::int64_t>(decision.succeeded), static_cast<std::int64_t>(decision.failed), job.id});
  if (!saved) {
    // Nothing is torn down for a state not saved: the next pass decides again.
    spdlog::warn("job {}: state {} not saved (again at the next pass): {}", job.id, StateName(decision.state),
                 saved.error().message());
    return;
  }
  if (decision.just_ended) {
    Job ended = job;
    ended.started_at = decision.started_at;
    EndJob(ended, decision.state, decision.reason);
  }
}

void JobService::SavePod(std::int64_t job_id, const Pod& pod) {
  auto saved = db_.Execute(
      "INSERT INTO pods (job_id, name, role, idx, phase, reason, exit_code, restarts, started_at, finished_at, endpoint) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job_id, name) DO UPDATE SET phase = excluded.phase, "
      "reason = excluded.reason, exit_code = excluded.exit_code, restarts = excluded.restarts, "
      "started_at = excluded.started_at, finished_at = excluded.finished_at, endpoint = excluded.endpoint",
      {job_id, pod.name, pod.role, static_cast<std::int64_t>(pod.index), pod.phase, pod.reason,
       pod.exit_code ? db::Value(static_cast<std::int64_t>(*pod.exit_code)) : db::Value(),
       static_cast<std::int64_t>(pod.restarts), OptionalValue(pod.started_at), OptionalValue(pod.finished_at),
       pod.endpoint});
  if (!saved) spdlog::warn("job {}: pod {} not saved (again at the next pass): {}", job_id, pod.name, saved.error().message());
}

// Sends a stop until the backend took it: jobs.stop_sent remembers the widest stop sent (1: the
// pservers, 2: every pod).
void JobService::StopOnce(const Job& job, StopScope scope) {
  auto sent = db_.Query("SELECT stop_sent FROM jobs WHERE id = ?", {job.id});
  std::int64_t sent_mask = sent && !sent->empty() ? sent->Int(0, "stop_sent") : 0;
  std::int64_t want = scope == StopScope::kPservers ? 1 : 2;
  if (sent_mask >= want) return;
  std::optional<cluster::PodRole> role;
  if (scope == StopScope::kPservers) role = cluster::PodRole::kPserver;
  Status s = backend_.Stop(job.account_id, BackendName(job), role, options_.stop_grace);
  if (!s.ok()) {
    spdlog::warn("job {}: stop failed (sent again at the next pass): {}", job.id, s.message());
    return;
  }
  if (auto noted = db_.Execute("UPDATE jobs SET stop_sent = ? WHERE id = ?", {want, job.id}); !noted)
    spdlog::warn("job {}: the stop was sent but not noted (sent again at the next pass): {}", job.id,
                 noted.error().message());
}

// The job has just ended (its state is saved): what belonged to it ends too.
void JobService::EndJob(const Job& job, JobState state, const std::string& reason) {
  RecordEvent(job.id, "", std::string(StateName(state)), reason);
  if (Status revoked = accounts_.tokens().RevokeJobTokens(job.account_id, job.id); !revoked.ok())
    spdlog::error("job {}: its token was not revoked: {}", job.id, revoked.message());
  if (options_.job_finished) options_.job_finished(job);  // the backend still knows the pods' end
  Status deleted = backend_.Delete(job.account_id, BackendName(job));
  if (deleted.code() == Code::kConflict) {
    // A pod runs that the ended job no longer counts: one a controller put in place of a pod
    // deleted under the platform. It is stopped, else it would run on unwatched.
    deleted = backend_.Stop(job.account_id, BackendName(job), std::nullopt, options_.stop_grace);
    if (deleted.ok()) deleted = backend_.Delete(job.account_id, BackendName(job));
  }
  if (!deleted.ok()) spdlog::warn("job {}: its pods' state was not removed: {}", job.id, deleted.message());
}

}  // namespace paddlecloud::jobs
