// `paddlecloud admin migrate-db --data-dir D --to postgresql://...`: moves an installation's control
// plane from SQLite (D/paddlecloud.db) into PostgreSQL, for running several servers on one database.
//
// The server must be stopped (the data dir's lock is taken) and the SQLite database at this binary's
// schema version. The target gets the same schema, then every table's rows, parents before children,
// each table in one transaction, and identity counters continue after the copied ids. A target that
// already holds data is refused unless `replace` is set, which empties it first: so running the
// command again gives the same result. Files stay where they are (the data dir).
#pragma once

#include <ostream>
#include <string>

namespace paddlecloud::server {

struct MigrateDbRequest {
  std::string data_dir;
  std::string to;        // postgresql://...
  bool replace = false;  // empty a target that holds data
};

// Progress and the result go to `out`, errors to `err`. Returns the exit code: 0, 1 (refused or
// failed; the target may hold part of the copy, which a run with `replace` redoes).
int RunMigrateDb(const MigrateDbRequest& request, std::ostream& out, std::ostream& err);

}  // namespace paddlecloud::server
