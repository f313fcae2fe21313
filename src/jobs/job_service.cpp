#include "jobs/job_service.h"

#include <spdlog/spdlog.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>

#include "common/units.h"
#include "db/tenant_scope.h"
#include "jobs/packages.h"

namespace paddlecloud::jobs {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using db::Rows;

constexpr const char* kJobColumns =
    "j.id, j.account_id, j.user_id, j.spec, j.state, j.reason, "
    "j.stop_requested, j.submitted_at, j.started_at, j.finished_at, j.succeeded, j.failed";

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
  job.state = rows.Text(i, "state");
  job.reason = rows.Text(i, "reason");
  job.stop_requested = rows.Int(i, "stop_requested") != 0;
  job.submitted_at = rows.Int(i, "submitted_at");
  job.started_at = OptionalInt(rows, i, "started_at");
  job.finished_at = OptionalInt(rows, i, "finished_at");
  job.succeeded = static_cast<int>(rows.Int(i, "succeeded"));
  job.failed = static_cast<int>(rows.Int(i, "failed"));
  return job;
}

Pod PodFrom(const cluster::PodStatus& s) {
  return Pod{.name = s.name, .role = std::string(cluster::RoleName(s.role)), .index = s.index,
             .phase = std::string(cluster::PhaseName(s.phase)), .reason = s.reason, .exit_code = s.exit_code,
             .restarts = s.restarts, .started_at = s.started_at, .finished_at = s.finished_at,
             .endpoint = s.endpoint};
}

// Every trainer has ended and enough of them succeeded: what the pservers served is done.
bool TrainingDone(const std::vector<cluster::PodStatus>& pods, const JobSpec& spec) {
  int succeeded = 0, failed = 0;
  for (const auto& p : pods) {
    if (p.role != cluster::PodRole::kTrainer) continue;
    if (p.phase == cluster::PodPhase::kSucceeded) ++succeeded;
    else if (p.phase == cluster::PodPhase::kFailed && p.reason != "Stopped") ++failed;
  }
  return succeeded > 0 && succeeded + failed == spec.num_trainer && failed <= spec.fault_tolerant;
}

// When the job's first pod started, as the backend saw it: a pod that ran and exited between two
// reconcile passes was never seen Running, but it did start.
std::optional<std::int64_t> FirstStart(const std::vector<cluster::PodStatus>& pods) {
  std::optional<std::int64_t> first;
  for (const auto& p : pods)
    if (p.started_at && (!first || *p.started_at < *first)) first = p.started_at;
  return first;
}

db::Value OptionalValue(const std::optional<std::int64_t>& v) { return v ? db::Value(*v) : db::Value(); }

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
)sql"}};
}

JobService::JobService(db::Database& database, cluster::ClusterBackend& backend, accounts::AccountService& accounts,
                       JobsOptions options)
    : db_(database), backend_(backend), accounts_(accounts), options_(std::move(options)) {}

std::int64_t JobService::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string JobService::JobDir(const std::string& account_id, std::int64_t job_id) const {
  return (fs::path(options_.jobs_dir) / account_id / std::to_string(job_id)).string();
}

// What a job's pods see: its code and board outputs, the account's datasets and models, the
// submitting user's own workspace (not the other members'), public data and shares read-only.
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
  std::string working_dir;  // inside the pods
  if (!spec.workdir.empty()) {
    auto pod_path = PodPathOfWorkdir(principal, spec.workdir);
    if (!pod_path) return Err(pod_path.error());
    working_dir = *pod_path;
  }
  PC_RETURN_IF_ERROR(CheckCodeSource(principal, spec));

  std::int64_t now = Now();
  Job job{.id = 0, .account_id = principal.account_id, .user_id = principal.user_id, .user_email = principal.email,
          .spec = spec, .state = "Pending", .reason = "submitted", .stop_requested = false, .submitted_at = now,
          .started_at = std::nullopt, .finished_at = std::nullopt, .succeeded = 0, .failed = 0};
  auto inserted = db::TenantScope(db_, principal.account_id).Execute(
      "INSERT INTO jobs (account_id, user_id, name, spec, state, reason, submitted_at) "
      "VALUES (:account, ?, ?, ?, 'Pending', 'submitted', ?)",
      {principal.user_id, spec.name, json::serialize(JobSpecToJson(spec)), now});
  if (!inserted) {
    if (inserted.error().code() == Code::kConflict)
      return Err(Status::Of(Code::kConflict, "a job named '" + spec.name + "' is already pending or running", "name"));
    return Err(inserted.error());
  }
  job.id = inserted->last_insert_id;

  std::string dir = JobDir(principal.account_id, job.id);
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "logs", ec);
  fs::create_directories(fs::path(dir) / "board", ec);
  if (!spec.package.empty() || spec.code_from_job > 0) {
    working_dir = std::string(kPodJobDir) + "/code";
    if (Status placed = PlaceCode(principal, spec, dir); !placed.ok()) {
      MarkFailed(job.id, placed.message(), now);
      return Err(placed);
    }
  }
  if (working_dir.empty()) working_dir = std::string(kPodJobDir) + "/code";

  // A job-scoped token lets the training code call the API (draw_board, files) as its user.
  auto token = accounts_.CreateJobToken(principal, job.id);
  if (!token) return Err(token.error());

  cluster::JobRun run{.namespace_name = principal.account_id, .job = BackendName(job), .entry = spec.entry,
                      .image = spec.image, .working_dir = working_dir, .env = spec.env,
                      .trainers = spec.num_trainer, .trainer_requests = spec.trainer, .pservers = spec.num_ps,
                      .pserver_requests = spec.pserver, .max_restarts = spec.max_restarts,
                      .logs_dir = (fs::path(dir) / "logs").string()};
  run.env["PADDLE_CLOUD_URL"] = options_.pod_api_url ? options_.pod_api_url() : "";
  run.env["PADDLE_CLOUD_TOKEN"] = *token;
  run.env["PADDLE_CLOUD_JOB_DIR"] = kPodJobDir;
  run.env["PADDLE_CLOUD_DATA"] = kPodDataDir;
  run.env["PADDLE_CLOUD_PUBLIC"] = kPodPublicDir;
  run.env["PADDLE_CLOUD_SHARED"] = kPodSharedDir;
  run.mounts = PodMounts(principal, dir);
  Status submitted = backend_.Submit(run);
  RecordEvent(job.id, "", "Submitted", std::to_string(spec.num_trainer) + " trainer(s), " +
                                           std::to_string(spec.num_ps) + " parameter server(s)");
  if (!submitted.ok()) {
    MarkFailed(job.id, submitted.message(), now);
    RecordEvent(job.id, "", "Failed", submitted.message());
    return Err(submitted);
  }
  return job;
}

Result<std::vector<Job>> JobService::List(const Principal& principal, const JobFilter& filter,
                                          std::int64_t* next_cursor) {
  if (filter.limit < 1 || filter.limit > 500) return Err(Status::InvalidArgument("limit must be from 1 to 500", "limit"));
  if (filter.all_users && !principal.master)
    return Err(Status::PermissionDenied("only the account's master user can list every user's jobs"));
  std::string sql = std::string("SELECT ") + kJobColumns +
                    " FROM jobs j WHERE j.account_id = :account";
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
  if (!filter.name_contains.empty()) {
    sql += " AND instr(j.name, ?) > 0";
    params.emplace_back(filter.name_contains);
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
    sql += " AND j.id < ?";
    params.emplace_back(filter.cursor);
  }
  sql += " ORDER BY j.id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(filter.limit) + 1);
  auto rows = db::TenantScope(db_, principal.account_id).Query(sql, params);
  if (!rows) return Err(rows.error());
  std::vector<Job> out;
  for (std::size_t i = 0; i < rows->size() && static_cast<int>(i) < filter.limit; ++i) out.push_back(JobFrom(*rows, i));
  if (next_cursor) *next_cursor = static_cast<int>(rows->size()) > filter.limit ? out.back().id : 0;
  PC_RETURN_IF_ERROR(AddUserEmails(out));
  return out;
}

void JobService::MarkFailed(std::int64_t job_id, const std::string& reason, std::int64_t now) {
  auto r = db_.Execute("UPDATE jobs SET state = 'Failed', reason = ?, finished_at = ? WHERE id = ?", {reason, now, job_id});
  if (!r) spdlog::error("job {}: could not be marked failed ({}): {}", job_id, reason, r.error().message());
}

// Who submitted each job, as the accounts service knows its users (this module reads no table of theirs).
Status JobService::AddUserEmails(std::vector<Job>& jobs) {
  std::vector<std::int64_t> ids;
  for (const Job& job : jobs) ids.push_back(job.user_id);
  auto emails = accounts_.EmailsOf(ids);
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
  if (job.state == "Pending") ShowLiveStart(job);
  return job;
}

// A pending job as its pods are now (Pods() reads them live too), not as of the last reconcile
// pass: it has started once any pod has. The next pass records the same.
void JobService::ShowLiveStart(Job& job) {
  auto live = backend_.GetPods(job.account_id, BackendName(job));
  if (!live) return;
  bool started = std::any_of(live->begin(), live->end(), [](const cluster::PodStatus& p) {
    return p.phase != cluster::PodPhase::kPending || p.started_at.has_value();
  });
  if (!started) return;
  job.state = "Running";
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
    return Err(Status::Conflict("job " + std::to_string(job_id) + " has already ended (" + job->state + ")"));
  auto r = db_.Execute("UPDATE jobs SET stop_requested = 1 WHERE id = ?", {job_id});
  if (!r) return Err(r.error());
  RecordEvent(job_id, "", "StopRequested", "by " + principal.email);
  ReconcileJob(*job);  // act now rather than at the next pass
  return Get(principal, job_id);
}

Result<std::vector<Pod>> JobService::Pods(const Principal& principal, std::int64_t job_id) {
  auto job = Get(principal, job_id);
  if (!job) return Err(job.error());
  if (!job->terminal()) {
    // While a job runs its pods are read live from the backend, not as of the last reconcile.
    if (auto live = backend_.GetPods(job->account_id, BackendName(*job))) {
      std::vector<Pod> out;
      for (const auto& status : *live) out.push_back(PodFrom(status));
      return out;
    }
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
  for (std::size_t i = 0; i < rows->size(); ++i) ReconcileJob(JobFrom(*rows, i));
}

void JobService::ReconcileJob(Job job) {
  const std::string name = BackendName(job);
  std::int64_t now = Now();
  auto observed = backend_.GetPods(job.account_id, name);
  if (!observed) {
    spdlog::warn("job {}: backend has no pods: {}", job.id, observed.error().message());
    return;
  }

  auto stored = db_.Query("SELECT name, phase, restarts FROM pods WHERE job_id = ?", {job.id});
  std::map<std::string, std::pair<std::string, std::int64_t>> before;
  if (stored)
    for (std::size_t i = 0; i < stored->size(); ++i)
      before[stored->Text(i, "name")] = {stored->Text(i, "phase"), stored->Int(i, "restarts")};

  int trainers_succeeded = 0, trainers_failed_for_good = 0, trainer_failures = 0, running = 0, ended = 0;
  std::string pending_reason;
  bool training_done = !job.stop_requested && TrainingDone(*observed, job.spec);
  for (const auto& status : *observed) {
    Pod pod = PodFrom(status);
    // Parameter servers the platform stopped because training was over did their part: they are
    // shown as completed, not as failed with SIGTERM's 143.
    bool completed_pserver = training_done && status.role == cluster::PodRole::kPserver &&
                             status.phase == cluster::PodPhase::kFailed && status.reason == "Stopped";
    if (completed_pserver) {
      pod.phase = "Succeeded";
      pod.reason = "Completed";
    }
    auto [old_phase, old_restarts] = before.count(pod.name) ? before[pod.name] : std::make_pair(std::string(), 0L);
    if (old_phase.empty()) RecordEvent(job.id, pod.name, "Scheduled", pod.phase == "Pending" ? pod.reason : "");
    for (std::int64_t r = old_restarts; r < pod.restarts; ++r)
      RecordEvent(job.id, pod.name, "Restarted", "restart " + std::to_string(r + 1));
    if (pod.phase != old_phase) {
      if (pod.phase == "Running") RecordEvent(job.id, pod.name, "Started", pod.endpoint);
      if (pod.phase == "Succeeded")
        RecordEvent(job.id, pod.name, completed_pserver ? "Completed" : "Exited",
                    completed_pserver ? "stopped once the trainers had finished" : "exit code 0");
      if (pod.phase == "Failed") {
        std::string type = pod.reason == "OOMKilled" ? "OOMKilled" : pod.reason == "Stopped" ? "Stopped" : "Exited";
        RecordEvent(job.id, pod.name, type,
                    pod.exit_code ? "exit code " + std::to_string(*pod.exit_code) + " (" + pod.reason + ")" : pod.reason);
      }
    }
    auto pod_saved = db_.Execute(
        "INSERT INTO pods (job_id, name, role, idx, phase, reason, exit_code, restarts, started_at, finished_at, endpoint) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(job_id, name) DO UPDATE SET phase = excluded.phase, "
        "reason = excluded.reason, exit_code = excluded.exit_code, restarts = excluded.restarts, "
        "started_at = excluded.started_at, finished_at = excluded.finished_at, endpoint = excluded.endpoint",
        {job.id, pod.name, pod.role, static_cast<std::int64_t>(pod.index), pod.phase, pod.reason,
         pod.exit_code ? db::Value(static_cast<std::int64_t>(*pod.exit_code)) : db::Value(),
         static_cast<std::int64_t>(pod.restarts), OptionalValue(pod.started_at), OptionalValue(pod.finished_at),
         pod.endpoint});
    if (!pod_saved) spdlog::warn("job {}: pod {} not saved (again at the next pass): {}", job.id, pod.name, pod_saved.error().message());

    bool trainer = status.role == cluster::PodRole::kTrainer;
    if (status.phase == cluster::PodPhase::kRunning) ++running;
    if (status.phase == cluster::PodPhase::kSucceeded || status.phase == cluster::PodPhase::kFailed) ++ended;
    if (status.phase == cluster::PodPhase::kPending && pending_reason.empty()) pending_reason = status.reason;
    if (trainer) {
      trainer_failures += status.restarts;
      if (status.phase == cluster::PodPhase::kSucceeded) ++trainers_succeeded;
      if (status.phase == cluster::PodPhase::kFailed && status.reason != "Stopped") {
        ++trainers_failed_for_good;
        ++trainer_failures;
      }
    }
  }
  bool all_ended = ended == static_cast<int>(observed->size());
  int trainers = job.spec.num_trainer;

  std::string state = job.state, reason = job.reason;
  std::optional<cluster::PodRole> stop_role;
  bool stop = false;
  if (job.stop_requested) {
    stop = true;
    if (all_ended) {
      state = "Stopped";
      reason = "stopped by a user";
    } else {
      reason = "stopping";
    }
  } else if (trainers_failed_for_good > job.spec.fault_tolerant) {
    reason = std::to_string(trainers_failed_for_good) + " trainer(s) failed; the job tolerates " +
             std::to_string(job.spec.fault_tolerant);
    if (all_ended) state = "Failed";
    else stop = true;
  } else if (trainers_succeeded + trainers_failed_for_good == trainers && trainers_succeeded > 0) {
    // Every trainer is done and enough succeeded: the pservers are no longer needed.
    bool pservers_running = !all_ended;
    if (pservers_running) {
      stop = true;
      stop_role = cluster::PodRole::kPserver;
      reason = "trainers finished; stopping parameter servers";
    } else {
      state = "Succeeded";
      reason = "every trainer finished";
    }
  } else if (running > 0) {
    state = "Running";
    reason = "";
  } else if (!pending_reason.empty()) {
    state = job.started_at ? "Running" : "Pending";
    reason = pending_reason;
  }

  if (stop) {
    auto sent = db_.Query("SELECT stop_sent FROM jobs WHERE id = ?", {job.id});
    std::int64_t sent_mask = sent && !sent->empty() ? sent->Int(0, "stop_sent") : 0;
    std::int64_t want = stop_role ? 1 : 2;  // 1: pservers stopped, 2: everything stopped
    if (sent_mask < want) {
      Status s = backend_.Stop(job.account_id, name, stop_role, options_.stop_grace);
      if (!s.ok()) spdlog::warn("job {}: stop failed: {}", job.id, s.message());
      if (auto noted = db_.Execute("UPDATE jobs SET stop_sent = ? WHERE id = ?", {want, job.id}); !noted)
        spdlog::warn("job {}: the stop was sent but not noted (sent again at the next pass): {}", job.id, noted.error().message());
    }
  }

  std::optional<std::int64_t> started_at = job.started_at;
  if (!started_at) started_at = FirstStart(*observed);
  if (!started_at && running > 0) started_at = now;
  bool terminal = state == "Succeeded" || state == "Failed" || state == "Stopped";
  auto saved = db_.Execute(
      "UPDATE jobs SET state = ?, reason = ?, started_at = ?, finished_at = ?, succeeded = ?, failed = ? WHERE id = ?",
      {state, reason, OptionalValue(started_at), terminal ? db::Value(now) : db::Value(),
       static_cast<std::int64_t>(trainers_succeeded), static_cast<std::int64_t>(trainer_failures), job.id});
  if (!saved) {
    // Nothing is torn down for a state not saved: the next pass decides again.
    spdlog::warn("job {}: state {} not saved (again at the next pass): {}", job.id, state, saved.error().message());
    return;
  }
  if (terminal && !job.terminal()) {
    RecordEvent(job.id, "", state, reason);
    if (Status revoked = accounts_.RevokeJobTokens(job.account_id, job.id); !revoked.ok())
      spdlog::error("job {}: its token was not revoked: {}", job.id, revoked.message());
    if (Status deleted = backend_.Delete(job.account_id, name); !deleted.ok())
      spdlog::warn("job {}: its pods' state was not removed: {}", job.id, deleted.message());
    job.started_at = started_at;
    if (options_.job_finished) options_.job_finished(job);
  }
}

}  // namespace paddlecloud::jobs
