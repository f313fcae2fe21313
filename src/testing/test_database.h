// A fresh SQLite database for unit tests of a service: the real engine, in the test's directory,
// with the given modules' migrations applied (in version order, whatever order they come in).
// The test links pc_sqlite.
#pragma once

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "db/database.h"
#include "sqlite/sqlite_database.h"

namespace paddlecloud::testing {

inline Result<std::unique_ptr<db::Database>> OpenTestDatabase(const std::string& path,
                                                               std::vector<db::Migration> migrations) {
  auto database = db::OpenSqliteDatabase({.path = path, .busy_timeout_ms = 5000, .pool_size = 2});
  if (!database) return database;
  std::sort(migrations.begin(), migrations.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  PC_RETURN_IF_ERROR((*database)->Migrate(migrations));
  return database;
}

}  // namespace paddlecloud::testing
