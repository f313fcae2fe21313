#include "sqlite/sqlite_database.h"

#include <sqlite3.h>

#include <algorithm>
#include <cassert>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace paddlecloud::db {
namespace {

// Beyond this many distinct SQL texts per connection, statements are prepared for one use only:
// a caller formatting values into SQL must not grow the cache without bound.
constexpr std::size_t kMaxCachedStatements = 256;

std::string Abbreviate(std::string_view sql) {
  constexpr std::size_t kMax = 200;
  if (sql.size() <= kMax) return std::string(sql);
  return std::string(sql.substr(0, kMax)) + "...";
}

// Maps an SQLite result code to a Status. `what` is sqlite's message; `sql` (when given) is appended
// to internal errors only, since conflict messages may reach a client.
Status StatusFromSqlite(int rc, std::string_view what, std::string_view sql = {}) {
  std::string message(what);
  switch (rc & 0xff) {
    case SQLITE_CONSTRAINT:
      return Status::Conflict(std::move(message));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Unavailable("database is busy: " + message);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
      return Status::Unavailable("database unavailable: " + message);
    default:
      if (!sql.empty()) message += " (in: " + Abbreviate(sql) + ")";
      return Status::Internal("sqlite: " + message);
  }
}

Value ReadColumn(sqlite3_stmt* stmt, int i) {
  switch (sqlite3_column_type(stmt, i)) {
    case SQLITE_INTEGER:
      return static_cast<std::int64_t>(sqlite3_column_int64(stmt, i));
    case SQLITE_FLOAT:
      return sqlite3_column_double(stmt, i);
    case SQLITE_TEXT: {
      const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))) : std::string();
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const char*>(sqlite3_column_blob(stmt, i));
      return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt, i))) : std::string();
    }
    default:
      return std::monostate{};
  }
}

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// One sqlite3 handle with its statement cache. Used by one thread at a time (the pool guarantees it).
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const SqliteOptions& options);

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    sqlite3_close_v2(db_);
  }

  Result<Rows> Query(std::string_view sql, const Params& params) {
    std::vector<std::string> columns;
    std::vector<std::vector<Value>> rows;
    bool have_columns = false;
    // Column names are read after the first step: a cached statement is re-prepared there when the
    // schema changed (say, a migration added a column), so its column list may differ.
    auto read_columns = [&](sqlite3_stmt* stmt) {
      if (have_columns) return;
      have_columns = true;
      const int n = sqlite3_column_count(stmt);
      columns.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) {
        const char* name = sqlite3_column_name(stmt, i);
        columns.emplace_back(name ? name : "");
      }
    };
    Status s = Run(sql, params, [&](sqlite3_stmt* stmt, bool is_row) {
      read_columns(stmt);
      if (!is_row) return;
      std::vector<Value> row;
      row.reserve(columns.size());
      for (int i = 0; i < static_cast<int>(columns.size()); ++i) row.push_back(ReadColumn(stmt, i));
      rows.push_back(std::move(row));
    });
    if (!s.ok()) return Err(std::move(s));
    return Rows(std::move(columns), std::move(rows));
  }

  Result<ExecResult> Execute(std::string_view sql, const Params& params) {
    // sqlite3_changes() keeps the count of the last INSERT/UPDATE/DELETE, so a statement that changed
    // nothing (DDL, SELECT) is recognised by total_changes not moving.
    const sqlite3_int64 total_before = sqlite3_total_changes64(db_);
    Status s = Run(sql, params, [](sqlite3_stmt*, bool) {});
    if (!s.ok()) return Err(std::move(s));
    ExecResult result;
    if (sqlite3_total_changes64(db_) != total_before) result.rows_affected = sqlite3_changes64(db_);
    return result;
  }

  // Runs a script of several statements (migration bodies) without caching.
  Status ExecScript(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    if (rc == SQLITE_OK) return Status::Ok();
    std::string message = error ? error : sqlite3_errstr(rc);
    sqlite3_free(error);
    return StatusFromSqlite(rc, message);
  }

  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

  // Some errors (SQLITE_FULL, SQLITE_IOERR, ...) roll back on their own; ROLLBACK is then skipped.
  void RollbackIfActive() {
    if (!InTransaction()) return;
    const int rc = sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    assert(rc == SQLITE_OK && "ROLLBACK failed");
    (void)rc;
  }

 private:
  explicit Connection(sqlite3* db) : db_(db) {}

  struct Prepared {
    sqlite3_stmt* stmt;
    bool cached;
  };

  // Resets a cached statement (and drops its bindings, which point into the caller's Params) or
  // finalizes a one-off one.
  struct StatementGuard {
    Prepared p;
    ~StatementGuard() {
      if (p.cached) {
        sqlite3_reset(p.stmt);
        sqlite3_clear_bindings(p.stmt);
      } else {
        sqlite3_finalize(p.stmt);
      }
    }
  };

  Status Error(int rc, std::string_view sql) const { return StatusFromSqlite(rc, sqlite3_errmsg(db_), sql); }

  Result<Prepared> Prepare(std::string_view sql) {
    if (auto it = cache_.find(sql); it != cache_.end()) return Prepared{it->second, true};
    const bool cache = cache_.size() < kMaxCachedStatements;
    sqlite3_stmt* stmt = nullptr;
    const char* tail = nullptr;
    const int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                      cache ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, &tail);
    if (rc != SQLITE_OK) return Err(Error(rc, sql));
    if (stmt == nullptr) return Err(Status::Internal("sqlite: empty SQL statement"));
    const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos) {
      sqlite3_finalize(stmt);
      return Err(Status::Internal("sqlite: several statements in one call (in: " + Abbreviate(sql) + ")"));
    }
    if (cache) cache_.emplace(std::string(sql), stmt);
    return Prepared{stmt, cache};
  }

  Status Bind(sqlite3_stmt* stmt, const Params& params, std::string_view sql) {
    const int expected = sqlite3_bind_parameter_count(stmt);
    if (expected != static_cast<int>(params.size())) {
      return Status::Internal("sqlite: statement takes " + std::to_string(expected) + " parameters, got " +
                              std::to_string(params.size()) + " (in: " + Abbreviate(sql) + ")");
    }
    for (int i = 0; i < expected; ++i) {
      const Value& v = params[static_cast<std::size_t>(i)];
      int rc = SQLITE_OK;
      if (const auto* n = std::get_if<std::int64_t>(&v)) {
        rc = sqlite3_bind_int64(stmt, i + 1, *n);
      } else if (const auto* d = std::get_if<double>(&v)) {
        rc = sqlite3_bind_double(stmt, i + 1, *d);
      } else if (const auto* s = std::get_if<std::string>(&v)) {
        // SQLITE_STATIC: params outlive the statement's use; the guard clears the bindings.
        rc = sqlite3_bind_text64(stmt, i + 1, s->data(), s->size(), SQLITE_STATIC, SQLITE_UTF8);
      } else {
        rc = sqlite3_bind_null(stmt, i + 1);
      }
      if (rc != SQLITE_OK) return Error(rc, sql);
    }
    return Status::Ok();
  }

  // Prepares (or reuses), binds and steps `sql` to completion; on_step(stmt, is_row) sees every row
  // and, once, the final step.
  template <typename OnStep>
  Status Run(std::string_view sql, const Params& params, OnStep&& on_step) {
    auto prepared = Prepare(sql);
    if (!prepared) return prepared.error();
    StatementGuard guard{*prepared};
    PC_RETURN_IF_ERROR(Bind(guard.p.stmt, params, sql));
    for (;;) {
      const int rc = sqlite3_step(guard.p.stmt);
      if (rc == SQLITE_ROW) {
        on_step(guard.p.stmt, true);
      } else if (rc == SQLITE_DONE) {
        on_step(guard.p.stmt, false);
        return Status::Ok();
      } else {
        return Error(rc, sql);
      }
    }
  }

  sqlite3* db_;
  std::unordered_map<std::string, sqlite3_stmt*, StringHash, std::equal_to<>> cache_;
};

Result<std::unique_ptr<Connection>> Connection::Open(const SqliteOptions& options) {
  const std::string where = "cannot open database '" + options.path + "': ";
  sqlite3* raw = nullptr;
  // NOMUTEX: the pool hands a connection to one thread at a time.
  const int rc = sqlite3_open_v2(options.path.c_str(), &raw,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Connection> conn(new Connection(raw));  // owns the handle even when opening failed
  if (rc != SQLITE_OK) {
    return Err(Status::Unavailable(where + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc))));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);

  // The first statement touches the file: this is where "not a database" shows up.
  auto mode = conn->Query("PRAGMA journal_mode=WAL", {});
  if (!mode) return Err(Status::Unavailable(where + mode.error().message()));
  if (mode->empty() || mode->Text(0, "journal_mode") != "wal") {
    return Err(Status::Unavailable(where + "WAL journal mode is not available"));
  }
  Status s = conn->ExecScript("PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;");
  if (!s.ok()) return Err(Status::Unavailable(where + s.message()));
  return conn;
}

// Databases whose Transaction body is running on this thread (to catch re-entry, which would
// deadlock on the pool or on the write lock).
thread_local std::vector<const void*> t_open_bodies;

class BodyScope {
 public:
  explicit BodyScope(const void* db) { t_open_bodies.push_back(db); }
  ~BodyScope() { t_open_bodies.pop_back(); }
  BodyScope(const BodyScope&) = delete;
  BodyScope& operator=(const BodyScope&) = delete;
};

// The Session handed to a Transaction body: the transaction's connection.
class ConnectionSession final : public Session {
 public:
  explicit ConnectionSession(Connection& conn) : conn_(conn) {}
  Result<Rows> Query(std::string_view sql, const Params& params) override { return conn_.Query(sql, params); }
  Result<ExecResult> Execute(std::string_view sql, const Params& params) override {
    return conn_.Execute(sql, params);
  }

 private:
  Connection& conn_;
};

class SqliteDatabase final : public Database {
 public:
  explicit SqliteDatabase(std::vector<std::unique_ptr<Connection>> connections)
      : connections_(std::move(connections)) {
    for (auto& c : connections_) idle_.push_back(c.get());
  }

  ~SqliteDatabase() override {
    assert(idle_.size() == connections_.size() && "SqliteDatabase destroyed while in use");
  }

  Result<Rows> Query(std::string_view sql, const Params& params) override {
    if (Status s = CheckNotInBody("Query"); !s.ok()) return Err(std::move(s));
    Lease lease(*this);
    return lease->Query(sql, params);
  }

  Result<ExecResult> Execute(std::string_view sql, const Params& params) override {
    if (Status s = CheckNotInBody("Execute"); !s.ok()) return Err(std::move(s));
    Lease lease(*this);
    return lease->Execute(sql, params);
  }

  Status Transaction(const std::function<Status(Session&)>& body) override {
    PC_RETURN_IF_ERROR(CheckNotInBody("Transaction"));
    Lease lease(*this);
    return RunTransaction(*lease, [&](Connection& conn) -> Status {
      ConnectionSession session(conn);
      PC_RETURN_IF_ERROR(CheckFence(session));
      BodyScope scope(this);
      return body(session);
    });
  }

  Status Migrate(std::span<const Migration> migrations) override {
    PC_RETURN_IF_ERROR(CheckNotInBody("Migrate"));
    for (std::size_t i = 0; i < migrations.size(); ++i) {
      if (migrations[i].version <= (i == 0 ? 0 : migrations[i - 1].version)) {
        return Status::Internal("migrations must have positive, unique, increasing versions: " +
                                std::to_string(migrations[i].version) + " (" + migrations[i].name +
                                ") is out of order");
      }
    }
    Lease lease(*this);
    Connection& conn = *lease;
    PC_RETURN_IF_ERROR(conn.ExecScript(
        "CREATE TABLE IF NOT EXISTS schema_migrations("
        "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"));
    auto current = StoredVersion(conn);
    if (!current) return current.error();
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    if (*current > newest) return NewerSchema(*current, newest);

    for (const Migration& m : migrations) {
      if (m.version <= *current) continue;
      Status s = RunTransaction(conn, [&](Connection& c) -> Status {
        // Another process may have migrated since we looked; the write lock is ours now.
        auto now = StoredVersion(c);
        if (!now) return now.error();
        if (*now >= m.version) return Status::Ok();
        PC_RETURN_IF_ERROR(c.ExecScript(m.sql));
        if (!c.InTransaction()) return Status::Internal("the migration's SQL ended the transaction itself");
        auto inserted = c.Execute(
            "INSERT INTO schema_migrations(version, name, applied_at) "
            "VALUES(?, ?, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))",
            {std::int64_t{m.version}, m.name});
        return inserted ? Status::Ok() : inserted.error();
      });
      if (!s.ok()) {
        return Status::Of(s.code(), "migration " + std::to_string(m.version) + " (" + m.name +
                                        ") failed and was rolled back: " + s.message());
      }
    }
    return Status::Ok();
  }

  Result<int> SchemaVersion() override {
    if (Status s = CheckNotInBody("SchemaVersion"); !s.ok()) return Err(std::move(s));
    Lease lease(*this);
    auto exists = lease->Query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'", {});
    if (!exists) return Err(exists.error());
    if (exists->empty()) return 0;
    return StoredVersion(*lease);
  }

  Status Ping() override {
    PC_RETURN_IF_ERROR(CheckNotInBody("Ping"));
    Lease lease(*this);
    auto r = lease->Query("SELECT 1", {});
    return r ? Status::Ok() : r.error();
  }

  std::string_view Engine() const override { return "sqlite"; }

  PoolStats Pool() const override {
    std::lock_guard lock(mu_);
    const int size = static_cast<int>(connections_.size());
    return {.size = size, .open = size, .in_use = size - static_cast<int>(idle_.size())};
  }

  Condition ContainsText(std::string_view column, std::string_view id_column, std::string_view fts_table,
                         std::string_view needle) const override {
    if (needle.size() < 3) {  // no trigram in it: each name is looked at
      return {.sql = "instr(" + std::string(column) + ", ?) > 0", .param = std::string(needle), .id = std::string(id_column)};
    }
    // An fts5 phrase: the text in double quotes, inner quotes doubled.
    std::string phrase = "\"";
    for (char c : needle) phrase += c == '"' ? std::string("\"\"") : std::string(1, c);
    phrase += '"';
    const std::string fts(fts_table);
    return {.sql = fts + " MATCH ?",
            .param = phrase,
            .join = "JOIN " + fts + " ON " + fts + ".rowid = " + std::string(id_column),
            .id = fts + ".rowid"};
  }

 private:
  // Holds one pooled connection; blocks until one is free.
  class Lease {
   public:
    explicit Lease(SqliteDatabase& db) : db_(db) {
      std::unique_lock lock(db_.mu_);
      db_.available_.wait(lock, [&] { return !db_.idle_.empty(); });
      conn_ = db_.idle_.front();  // round robin keeps every connection's cache warm
      db_.idle_.pop_front();
    }
    ~Lease() {
      // A caller that ran BEGIN by hand must not hand an open transaction to the next one.
      conn_->RollbackIfActive();
      {
        std::lock_guard lock(db_.mu_);
        db_.idle_.push_back(conn_);
      }
      db_.available_.notify_one();
    }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Connection& operator*() const { return *conn_; }
    Connection* operator->() const { return conn_; }

   private:
    SqliteDatabase& db_;
    Connection* conn_ = nullptr;
  };

  template <typename Body>
  static Status RunTransaction(Connection& conn, Body&& body) {
    if (auto begun = conn.Execute("BEGIN IMMEDIATE", {}); !begun) return begun.error();
    Status s;
    try {
      s = body(conn);
    } catch (...) {
      conn.RollbackIfActive();
      throw;
    }
    if (s.ok()) {
      auto committed = conn.Execute("COMMIT", {});
      if (committed) return Status::Ok();
      s = committed.error();
    }
    conn.RollbackIfActive();
    return s;
  }

  static Result<int> StoredVersion(Connection& conn) {
    auto rows = conn.Query("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations", {});
    if (!rows) return Err(rows.error());
    return static_cast<int>(rows->Int(0, "version"));
  }

  static Status NewerSchema(int stored, int known) {
    return Status::Unavailable("database schema version " + std::to_string(stored) +
                               " is newer than this paddlecloud binary knows (" + std::to_string(known) +
                               "); upgrade paddlecloud or restore a matching backup");
  }

  Status CheckNotInBody(std::string_view call) const {
    if (std::find(t_open_bodies.begin(), t_open_bodies.end(), this) == t_open_bodies.end()) {
      return Status::Ok();
    }
    assert(false && "Database called from inside its own Transaction body: use the body's Session");
    return Status::Internal(std::string(call) +
                            " called on the Database from inside its own Transaction body: use the body's Session");
  }

  std::vector<std::unique_ptr<Connection>> connections_;
  mutable std::mutex mu_;  // guards idle_ (connections_ is fixed after construction)
  std::condition_variable available_;
  std::deque<Connection*> idle_;
};

}  // namespace

Result<std::unique_ptr<Database>> OpenSqliteDatabase(const SqliteOptions& options) {
  if (options.path.empty()) return Err(Status::InvalidArgument("database path is empty", "path"));
  if (options.pool_size < 1) return Err(Status::InvalidArgument("pool_size must be at least 1", "pool_size"));
  if (!sqlite3_threadsafe()) return Err(Status::Internal("sqlite was built without thread support"));

  const std::filesystem::path parent = std::filesystem::path(options.path).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    return Err(Status::Unavailable("cannot open database '" + options.path + "': directory '" +
                                   parent.string() + "' does not exist"));
  }

  std::vector<std::unique_ptr<Connection>> connections;
  for (int i = 0; i < options.pool_size; ++i) {
    auto conn = Connection::Open(options);
    if (!conn) return Err(conn.error());
    connections.push_back(std::move(*conn));
  }
  return std::make_unique<SqliteDatabase>(std::move(connections));
}

}  // namespace paddlecloud::db
