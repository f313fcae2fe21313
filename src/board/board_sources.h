// Board sources: the boards a user can open — jobs that drew on their board, and standalone runs
// recorded through the API by code outside a job (docs/board.md, "Sources"). One row per board in
// the `boards` table; the points themselves are in the board store (board_store.h) in `dir`.
//
// Visibility follows the jobs' rule: a job's board is seen by whoever may see the job (its submitter,
// the account's master); a run by every member of its account. Anything else is NotFound, never
// revealing that it exists. All methods block: call them on the blocking pool.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/principal.h"
#include "common/status.h"
#include "db/database.h"
#include "jobs/job_service.h"

namespace paddlecloud::board {

struct BoardSource {
  std::string source;  // "job:12" or "run:4"
  std::string kind;    // "job" or "run"
  std::int64_t id = 0; // the job's or the run's id
  std::string account_id;
  std::int64_t user_id = 0;
  std::string name;
  std::string state;   // the job's state; "" for a run
  std::int64_t created_at = 0;
  std::optional<std::int64_t> last_point_at;
  std::int64_t curves = 0;
  std::int64_t created_by_job = 0;  // a run created with a job's token: that job (0: none)
  std::string dir;     // the board store's folder
};

std::vector<db::Migration> BoardMigrations();

// A standalone run's name: 1 to 128 bytes of UTF-8, no control characters, no '/'. InvalidArgument
// naming "name" otherwise.
Status CheckRunName(std::string_view name);

class BoardSources {
 public:
  // `runs_dir`: where runs keep their boards (<runs_dir>/<account>/<run id>).
  BoardSources(db::Database& database, jobs::JobService& jobs, std::string runs_dir,
               std::function<std::int64_t()> now = {});

  // "job:<id>" or "run:<id>" as the principal may see it. InvalidArgument naming "source" when
  // malformed; NotFound when absent or not theirs. A job without points yet resolves too.
  Result<BoardSource> Resolve(const Principal& principal, std::string_view source);
  // Jobs that have board data and runs the principal may see, newest first (at most 500).
  Result<std::vector<BoardSource>> List(const Principal& principal);

  // Conflict naming "name" when the account has a run of that name.
  Result<BoardSource> CreateRun(const Principal& principal, const std::string& name);
  Result<std::vector<BoardSource>> Runs(const Principal& principal);
  // Its creator or the account's master; the run's points go with it.
  Status DeleteRun(const Principal& principal, std::int64_t run_id);
  // Whether the principal may append points to the run (a job's token: only runs it created).
  bool MayWrite(const Principal& principal, const BoardSource& run) const;

  // The board of `job` now holds `curves` curves, the last point stored at `at` (unix seconds).
  Status NoteJobPoints(const jobs::Job& job, std::int64_t curves, std::int64_t at);
  Status NoteRunPoints(const BoardSource& run, std::int64_t curves, std::int64_t at);

  std::string RunDir(const std::string& account_id, std::int64_t run_id) const;

 private:
  std::int64_t Now() const;
  Result<BoardSource> ResolveJob(const Principal& principal, std::int64_t job_id);
  Result<BoardSource> ResolveRun(const Principal& principal, std::int64_t run_id);

  db::Database& db_;
  jobs::JobService& jobs_;
  std::string runs_dir_;
  std::function<std::int64_t()> now_;
};

}  // namespace paddlecloud::board
