// The Database port: what every service sees of the control plane's relational store.
//
// Services never include sqlite3.h or libpq: they get a Database& and speak a small, portable SQL
// subset with `?` placeholders (the PostgreSQL adapter rewrites them to $1..$n). All calls block:
// run them on the blocking pool (blocking/work_pool.h), never on an I/O thread. Implementations are
// safe to call from many threads at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/status.h"

namespace paddlecloud::db {

// One SQL value. monostate is NULL.
using Value = std::variant<std::monostate, std::int64_t, double, std::string>;
using Params = std::vector<Value>;

// The rows a query produced, with column names. Accessors by name assert the column exists
// (a typo in a service's SQL is a programming error, not bad input; a release build reads NULL).
// They convert like SQL's CAST: Int truncates a REAL and parses the numeric prefix of a TEXT,
// Real parses TEXT, Text renders numbers (REAL in shortest round-trip form); unparsable -> 0.
class Rows {
 public:
  Rows() = default;
  Rows(std::vector<std::string> columns, std::vector<std::vector<Value>> rows)
      : columns_(std::move(columns)), rows_(std::move(rows)) {}

  std::size_t size() const { return rows_.size(); }
  bool empty() const { return rows_.empty(); }
  const std::vector<std::string>& columns() const { return columns_; }
  const std::vector<Value>& row(std::size_t i) const { return rows_.at(i); }

  bool IsNull(std::size_t row, std::string_view column) const;
  std::int64_t Int(std::size_t row, std::string_view column) const;     // NULL -> 0
  double Real(std::size_t row, std::string_view column) const;          // NULL -> 0.0
  std::string Text(std::size_t row, std::string_view column) const;     // NULL -> ""

 private:
  const Value& At(std::size_t row, std::string_view column) const;
  std::vector<std::string> columns_;
  std::vector<std::vector<Value>> rows_;
};

// An INSERT that needs the new row's id says `RETURNING id` and is run with Query.
struct ExecResult {
  std::int64_t rows_affected = 0;
};

// A connection held for a sequence of statements (inside Database::Transaction).
class Session {
 public:
  virtual ~Session() = default;
  virtual Result<Rows> Query(std::string_view sql, const Params& params = {}) = 0;
  virtual Result<ExecResult> Execute(std::string_view sql, const Params& params = {}) = 0;
};

// A forward-only schema step. Versions are unique and increasing; a migration's SQL may hold
// several statements and runs in one transaction together with its bookkeeping row.
// `sql` is written for SQLite; PostgreSQL runs it with its types translated (postgres_sql.h), or
// runs `postgres_sql` instead where the engines need different statements (virtual tables, triggers).
struct Migration {
  int version;
  std::string name;
  std::string sql;
  std::string postgres_sql = {};
};

// A WHERE condition with its one parameter, and what the engine's index needs of the rest of the
// query: `join` to add to its FROM clause, and the column equal to the row's id to order and page by
// (the index yields rows in its order, so a LIMIT stops early).
struct Condition {
  std::string sql;
  Value param;
  std::string join = {};
  std::string id = {};
};

class Database : public Session {
 public:
  // Single statements run in autocommit mode (Query/Execute from Session).

  // Runs `body` inside one transaction on one connection: commits when it returns OK, rolls back
  // otherwise (and when it throws; the exception is rethrown). A constraint violation surfaces as
  // Code::kConflict. Inside `body` use only the Session given: calling this Database from the body
  // (a nested Transaction included) is a programming error (asserts; kInternal in release builds).
  virtual Status Transaction(const std::function<Status(Session&)>& body) = 0;

  // Applies, in version order, the migrations whose version is above the stored schema version.
  // Refuses (Code::kUnavailable, message naming both versions) when the stored version is newer
  // than the newest migration given: an older binary must not run on a newer database.
  virtual Status Migrate(std::span<const Migration> migrations) = 0;

  // The highest applied migration version; 0 for a fresh database.
  virtual Result<int> SchemaVersion() = 0;

  // Cheap round trip proving the database answers (for /readyz).
  virtual Status Ping() = 0;

  // Short adapter name for logs and /readyz ("sqlite", "postgres").
  virtual std::string_view Engine() const = 0;

  // The connection pool now, for /metrics.
  struct PoolStats {
    int size = 0;    // connections it may hold
    int open = 0;    // connections open
    int in_use = 0;  // connections leased to a caller
  };
  virtual PoolStats Pool() const = 0;

  // "`column` contains `needle`" (case-sensitive), served by the column's trigram index: on SQLite
  // an fts5 table `fts_table` (tokenize 'trigram case_sensitive 1') whose rowid is `id_column`,
  // joined for needles of 3 characters or more; on PostgreSQL a pg_trgm index on the column itself.
  virtual Condition ContainsText(std::string_view column, std::string_view id_column, std::string_view fts_table,
                                 std::string_view needle) const = 0;

  // A check run inside every Transaction before its body, after the engine's write lock is taken:
  // when it fails, the body does not run and the transaction rolls back with its Status. Servers
  // sharing a database fence their writes with their leadership lease this way. Set before use.
  void SetFence(std::function<Status(Session&)> fence) { fence_ = std::move(fence); }

 protected:
  Status CheckFence(Session& session) const { return fence_ ? fence_(session) : Status::Ok(); }

 private:
  std::function<Status(Session&)> fence_;
};

}  // namespace paddlecloud::db
