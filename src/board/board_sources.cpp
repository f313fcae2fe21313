#include "board/board_sources.h"

#include <charconv>
#include <chrono>
#include <filesystem>

#include "common/utf8.h"
#include "db/tenant_scope.h"

namespace paddlecloud::board {
namespace {

namespace fs = std::filesystem;

constexpr char kColumns[] =
    "b.id, b.account_id, b.user_id, b.kind, b.job_id, b.name, b.created_by_job, b.created_at, b.last_point_at, "
    "b.curves, coalesce(j.state, '') AS state";
constexpr std::size_t kListLimit = 500;

}  // namespace

std::vector<db::Migration> BoardMigrations() {
  return {{60, "boards: jobs with board data and standalone runs", R"sql(
CREATE TABLE boards (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('job', 'run')),
  job_id INTEGER,
  name TEXT NOT NULL,
  created_by_job INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  last_point_at INTEGER,
  curves INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX boards_one_per_job ON boards(job_id) WHERE kind = 'job';
CREATE UNIQUE INDEX boards_run_names ON boards(account_id, name) WHERE kind = 'run';
CREATE INDEX boards_by_account ON boards(account_id, id);
)sql"}};
}

Status CheckRunName(std::string_view name) {
  if (name.empty() || name.size() > 128)
    return Status::InvalidArgument("a run's name must be 1 to 128 bytes", "name");
  if (!IsValidUtf8(name)) return Status::InvalidArgument("a run's name must be UTF-8", "name");
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f || c == '/')
      return Status::InvalidArgument("a run's name may not hold control characters or '/'", "name");
  return Status::Ok();
}

BoardSources::BoardSources(db::Database& database, jobs::JobService& jobs, std::string runs_dir,
                           std::function<std::int64_t()> now)
    : db_(database), jobs_(jobs), runs_dir_(std::move(runs_dir)), now_(std::move(now)) {}

std::int64_t BoardSources::Now() const {
  if (now_) return now_();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string BoardSources::RunDir(const std::string& account_id, std::int64_t run_id) const {
  return (fs::path(runs_dir_) / account_id / std::to_string(run_id)).string();
}

namespace {

BoardSource SourceFrom(const db::Rows& rows, std::size_t i) {
  BoardSource s;
  s.kind = rows.Text(i, "kind");
  s.id = s.kind == "job" ? rows.Int(i, "job_id") : rows.Int(i, "id");
  s.source = s.kind + ":" + std::to_string(s.id);
  s.account_id = rows.Text(i, "account_id");
  s.user_id = rows.Int(i, "user_id");
  s.name = rows.Text(i, "name");
  s.state = rows.Text(i, "state");
  s.created_at = rows.Int(i, "created_at");
  if (!rows.IsNull(i, "last_point_at")) s.last_point_at = rows.Int(i, "last_point_at");
  s.curves = rows.Int(i, "curves");
  s.created_by_job = rows.Int(i, "created_by_job");
  return s;
}

std::optional<std::int64_t> IdAfter(std::string_view text, std::string_view prefix) {
  if (!text.starts_with(prefix)) return std::nullopt;
  text.remove_prefix(prefix.size());
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

}  // namespace

Result<BoardSource> BoardSources::Resolve(const Principal& principal, std::string_view source) {
  if (auto job = IdAfter(source, "job:")) return ResolveJob(principal, *job);
  if (auto run = IdAfter(source, "run:")) return ResolveRun(principal, *run);
  return Err(Status::InvalidArgument("a source is job:<job id> or run:<run id>", "source"));
}

Result<BoardSource> BoardSources::ResolveJob(const Principal& principal, std::int64_t job_id) {
  auto job = jobs_.Get(principal, job_id);
  if (!job) return Err(job.error());
  BoardSource s{.source = "job:" + std::to_string(job->id),
                .kind = "job",
                .id = job->id,
                .account_id = job->account_id,
                .user_id = job->user_id,
                .name = job->spec.name,
                .state = std::string(jobs::StateName(job->state)),
                .created_at = job->submitted_at,
                .last_point_at = std::nullopt,
                .curves = 0,
                .created_by_job = 0,
                .dir = jobs_.BoardStoreDir(*job)};
  auto rows = db::TenantScope(db_, principal.account_id)
                  .Query("SELECT last_point_at, curves FROM boards WHERE account_id = :account AND kind = 'job' "
                         "AND job_id = ?",
                         {job_id});
  if (!rows) return Err(rows.error());
  if (!rows->empty()) {
    if (!rows->IsNull(0, "last_point_at")) s.last_point_at = rows->Int(0, "last_point_at");
    s.curves = rows->Int(0, "curves");
  }
  return s;
}

Result<BoardSource> BoardSources::ResolveRun(const Principal& principal, std::int64_t run_id) {
  auto rows = db::TenantScope(db_, principal.account_id)
                  .Query(std::string("SELECT ") + kColumns +
                             " FROM boards b LEFT JOIN jobs j ON b.kind = 'job' AND j.id = b.job_id WHERE b.account_id = :account AND b.kind = 'run' "
                             "AND b.id = ?",
                         {run_id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("no run with id " + std::to_string(run_id)));
  BoardSource s = SourceFrom(*rows, 0);
  s.dir = RunDir(s.account_id, s.id);
  return s;
}

Result<std::vector<BoardSource>> BoardSources::List(const Principal& principal) {
  // A member sees the boards of their own jobs and every run of the account; the master every board.
  auto rows = db::TenantScope(db_, principal.account_id)
                  .Query(std::string("SELECT ") + kColumns +
                             " FROM boards b LEFT JOIN jobs j ON b.kind = 'job' AND j.id = b.job_id "
                             "WHERE b.account_id = :account AND (b.kind = 'run' OR ? OR b.user_id = ?) "
                             "ORDER BY b.id DESC LIMIT ?",
                         {principal.master ? 1 : 0, principal.user_id, static_cast<std::int64_t>(kListLimit)});
  if (!rows) return Err(rows.error());
  std::vector<BoardSource> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    BoardSource s = SourceFrom(*rows, i);
    s.dir = s.kind == "run" ? RunDir(s.account_id, s.id) : "";
    out.push_back(std::move(s));
  }
  return out;
}

Result<BoardSource> BoardSources::CreateRun(const Principal& principal, const std::string& name) {
  PC_RETURN_IF_ERROR(CheckRunName(name));
  auto added = db::TenantScope(db_, principal.account_id)
                   .Query("INSERT INTO boards (account_id, user_id, kind, name, created_by_job, created_at) "
                            "VALUES (:account, ?, 'run', ?, ?, ?) RETURNING id",
                            {principal.user_id, name, principal.job_id, Now()});
  if (!added) {
    if (added.error().code() == Code::kConflict)
      return Err(Status::Of(Code::kConflict, "a run named '" + name + "' exists already", "name"));
    return Err(added.error());
  }
  return ResolveRun(principal, added->Int(0, "id"));
}

Result<std::vector<BoardSource>> BoardSources::Runs(const Principal& principal) {
  auto all = List(principal);
  if (!all) return Err(all.error());
  std::erase_if(*all, [](const BoardSource& s) { return s.kind != "run"; });
  return all;
}

bool BoardSources::MayWrite(const Principal& principal, const BoardSource& run) const {
  if (run.kind != "run") return false;
  if (principal.job_id != 0) return run.created_by_job == principal.job_id;
  return true;
}

Status BoardSources::DeleteRun(const Principal& principal, std::int64_t run_id) {
  auto run = ResolveRun(principal, run_id);
  if (!run) return run.error();
  if (!principal.master && run->user_id != principal.user_id)
    return Status::PermissionDenied("only the run's creator or the account's master may delete it");
  if (principal.job_id != 0 && run->created_by_job != principal.job_id)
    return Status::PermissionDenied("a job may delete only the runs it created");
  auto removed = db::TenantScope(db_, principal.account_id)
                     .Execute("DELETE FROM boards WHERE account_id = :account AND kind = 'run' AND id = ?", {run_id});
  if (!removed) return removed.error();
  std::error_code ec;
  fs::remove_all(run->dir, ec);  // remove_all does not follow links inside the folder
  return Status::Ok();
}

Status BoardSources::NoteJobPoints(const jobs::Job& job, std::int64_t curves, std::int64_t at) {
  auto noted = db::TenantScope(db_, job.account_id)
                   .Execute("INSERT INTO boards (account_id, user_id, kind, job_id, name, created_at, last_point_at, "
                            "curves) VALUES (:account, ?, 'job', ?, ?, ?, ?, ?) "
                            "ON CONFLICT(job_id) WHERE kind = 'job' DO UPDATE SET last_point_at = excluded.last_point_at, "
                            "curves = excluded.curves",
                            {job.user_id, job.id, job.spec.name, job.submitted_at, at, curves});
  if (!noted) return noted.error();
  return Status::Ok();
}

Status BoardSources::NoteRunPoints(const BoardSource& run, std::int64_t curves, std::int64_t at) {
  auto noted = db::TenantScope(db_, run.account_id)
                   .Execute("UPDATE boards SET last_point_at = ?, curves = ? WHERE account_id = :account AND "
                            "kind = 'run' AND id = ?",
                            {at, curves, run.id});
  if (!noted) return noted.error();
  return Status::Ok();
}

}  // namespace paddlecloud::board
