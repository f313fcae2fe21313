// The database of tests: SQLite by default; PostgreSQL when PADDLECLOUD_TEST_POSTGRES is set, to the
// state file of scripts/test-postgres (ctest registers every database-touching test once per engine
// and starts one cluster for the run; see pc_test(... DATABASE)). A missing state file: this process
// starts a cluster of its own, so `PADDLECLOUD_TEST_POSTGRES=none build/.../x_test` works alone.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "db/database.h"

namespace paddlecloud::testing {

bool TestsUsePostgres();

// The URL of a new, empty PostgreSQL database, dropped when this process exits.
Result<std::string> NewPostgresDatabase();

class TestCluster;

// A PostgreSQL cluster of the test's own (scripts/test-postgres), for faults that must not reach the
// shared one: stopping it under a server and starting it again. Stopped and removed when destroyed.
class OwnPostgres {
 public:
  OwnPostgres();
  ~OwnPostgres();
  Status Start();
  Result<std::string> NewDatabase();  // the URL of a new, empty database on it
  bool Halt();    // the server stops (fast shutdown: sessions are ended), keeping its data
  bool Resume();  // and starts again

 private:
  std::unique_ptr<TestCluster> cluster_;
};

// The database_url of a test server on `data_dir`: "" (SQLite in the data dir), or on PostgreSQL one
// database per data dir, made on first use (so a restarted server finds its data). Aborts the test
// process when PostgreSQL is chosen but cannot be had: a silent fallback would test the wrong engine.
std::string ServerDatabaseUrl(const std::string& data_dir);

// A fresh database for a service's tests, with `migrations` applied in version order (whatever order
// they come in): SQLite at `sqlite_path`, or a new PostgreSQL database.
Result<std::unique_ptr<db::Database>> OpenTestDatabase(const std::string& sqlite_path,
                                                       std::vector<db::Migration> migrations);

}  // namespace paddlecloud::testing
