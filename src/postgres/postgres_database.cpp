#include "postgres/postgres_database.h"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <cassert>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "postgres/postgres_sql.h"

namespace paddlecloud::db {
namespace {

// Keys of pg_advisory_lock: the one lock every Transaction takes, and the migrations' lock.
constexpr std::int64_t kTransactionLock = 0x70636c6f7564;  // "pcloud"
constexpr std::int64_t kMigrationLock = 0x70636d696772;    // "pcmigr"
constexpr int kTransactionAttempts = 3;
constexpr std::size_t kMaxPreparedStatements = 256;

// Type oids (pg_type.dat) of the results read as numbers.
constexpr Oid kBool = 16, kBytea = 17, kInt8 = 20, kInt2 = 21, kInt4 = 23, kOid = 26, kFloat4 = 700,
              kFloat8 = 701, kNumeric = 1700, kText = 25;

std::string Abbreviate(std::string_view sql) {
  constexpr std::size_t kMax = 200;
  return sql.size() <= kMax ? std::string(sql) : std::string(sql.substr(0, kMax)) + "...";
}

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

bool IsRetryable(std::string_view state) { return state == "40001" || state == "40P01"; }

Status StatusFromResult(PGconn* conn, const PGresult* result, std::string_view sql) {
  const char* state_field = result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  const std::string state = state_field ? state_field : "";
  std::string message = result ? PQresultErrorMessage(result) : PQerrorMessage(conn);
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  if (state.starts_with("23")) return Status::Conflict(message);
  if (state.empty() || state.starts_with("08") || state.starts_with("53") || state.starts_with("57") ||
      IsRetryable(state) || PQstatus(conn) != CONNECTION_OK) {
    Status s = Status::Unavailable("database unavailable: " + message);
    if (!state.empty()) s.WithDetail("sqlstate", state);
    return s;
  }
  return Status::Internal("postgres: " + message + " [" + state + "] (in: " + Abbreviate(sql) + ")");
}

std::string SqlState(const Status& s) {
  auto it = s.details().find("sqlstate");
  return it == s.details().end() ? "" : it->second;
}

std::string DecodeBytea(std::string_view text) {
  // Text output of bytea is "\x" and two hex digits per byte (bytea_output = hex, the default).
  if (!text.starts_with("\\x")) return std::string(text);
  std::string out;
  out.reserve((text.size() - 2) / 2);
  for (std::size_t i = 2; i + 1 < text.size(); i += 2) {
    unsigned byte = 0;
    std::from_chars(text.data() + i, text.data() + i + 2, byte, 16);
    out += static_cast<char>(byte);
  }
  return out;
}

Value ReadField(const PGresult* r, int row, int column) {
  if (PQgetisnull(r, row, column)) return std::monostate{};
  const std::string_view text(PQgetvalue(r, row, column), static_cast<std::size_t>(PQgetlength(r, row, column)));
  switch (PQftype(r, column)) {
    case kBool:
      return std::int64_t{text == "t" ? 1 : 0};
    case kInt2:
    case kInt4:
    case kInt8:
    case kOid: {
      std::int64_t n = 0;
      std::from_chars(text.data(), text.data() + text.size(), n);
      return n;
    }
    case kNumeric: {  // SUM over integers: whole numbers stay integers, as in SQLite
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec == std::errc() && end == text.data() + text.size()) return n;
      [[fallthrough]];
    }
    case kFloat4:
    case kFloat8: {
      double d = 0;
      std::from_chars(text.data(), text.data() + text.size(), d);
      return d;
    }
    case kBytea:
      return DecodeBytea(text);
    default:
      return std::string(text);
  }
}

std::string ParamText(const Value& v) {
  if (const auto* n = std::get_if<std::int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, *d);
    return std::string(buf, end);
  }
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return {};
}

Oid ParamType(const Value& v) {
  if (std::holds_alternative<std::int64_t>(v)) return kInt8;
  if (std::holds_alternative<double>(v)) return kFloat8;
  return kText;
}

// One libpq connection with its prepared statements. Used by one thread at a time.
class Connection {
 public:
  static Result<std::unique_ptr<Connection>> Open(const PostgresOptions& options) {
    const std::string timeout = std::to_string(options.connect_timeout_s);
    const std::string server_options = "-c statement_timeout=" + std::to_string(options.statement_timeout_ms);
    const char* keys[] = {"dbname", "connect_timeout", "options", "application_name", nullptr};
    const char* values[] = {options.url.c_str(), timeout.c_str(), server_options.c_str(), "paddlecloud", nullptr};
    std::unique_ptr<Connection> c(new Connection(PQconnectdbParams(keys, values, /*expand_dbname=*/1)));
    if (c->conn_ == nullptr) return Err(Status::Unavailable("database unavailable: out of memory"));
    if (PQstatus(c->conn_) != CONNECTION_OK) {
      std::string message = PQerrorMessage(c->conn_);
      while (!message.empty() && message.back() == '\n') message.pop_back();
      return Err(Status::Unavailable("cannot connect to database " + RedactDatabaseUrl(options.url) + ": " + message));
    }
    PQsetNoticeProcessor(c->conn_, [](void*, const char*) {}, nullptr);  // NOTICEs of IF NOT EXISTS
    return c;
  }

  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { PQfinish(conn_); }

  // Reconnects when the server closed the connection while it was idle. Pool connections listen to
  // nothing, so an idle one that became readable holds the server's goodbye (FATAL, then EOF).
  Status EnsureConnected() {
    if (PQstatus(conn_) == CONNECTION_OK) {
      pollfd fd{.fd = PQsocket(conn_), .events = POLLIN, .revents = 0};
      if (fd.fd >= 0 && poll(&fd, 1, 0) == 0) return Status::Ok();
    }
    prepared_.clear();
    PQreset(conn_);
    if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
    std::string message = PQerrorMessage(conn_);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Status::Unavailable("database unavailable: " + message);
  }

  Result<ResultPtr> Run(std::string_view sql, const Params& params) {
    auto prepared = Prepare(sql, params);
    if (!prepared) return Err(prepared.error());
    std::vector<std::string> texts;
    texts.reserve(params.size());
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const Value& v : params) {
      texts.push_back(ParamText(v));
      values.push_back(std::holds_alternative<std::monostate>(v) ? nullptr : texts.back().c_str());
    }
    ResultPtr result(PQexecPrepared(conn_, prepared->c_str(), static_cast<int>(values.size()), values.data(),
                                    nullptr, nullptr, 0));
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) return result;
    Status s = StatusFromResult(conn_, result.get(), sql);
    const char* state = result ? PQresultErrorField(result.get(), PG_DIAG_SQLSTATE) : nullptr;
    // A migration changed what a prepared SELECT * returns: prepare again, once.
    if (state && std::string_view(state) == "0A000" && Forget(sql)) return Run(sql, params);
    return Err(std::move(s));
  }

  // Runs statements without parameters (several allowed), unprepared.
  Status Exec(std::string_view sql) {
    ResultPtr result(PQexec(conn_, std::string(sql).c_str()));
    const auto status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK || status == PGRES_EMPTY_QUERY) return Status::Ok();
    return StatusFromResult(conn_, result.get(), sql);
  }

  bool InTransaction() const {
    const auto t = PQtransactionStatus(conn_);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
  }
  void RollbackIfActive() {
    if (InTransaction()) (void)Exec("ROLLBACK");
  }

 private:
  explicit Connection(PGconn* conn) : conn_(conn) {}

  bool Forget(std::string_view sql) {
    auto it = prepared_.find(std::string(sql));
    if (it == prepared_.end()) return false;
    (void)Exec("DEALLOCATE " + it->second);
    prepared_.erase(it);
    return true;
  }

  // The name of the statement prepared for `sql` ("" when it is prepared for this call only).
  Result<std::string> Prepare(std::string_view sql, const Params& params) {
    if (auto it = prepared_.find(std::string(sql)); it != prepared_.end()) return it->second;
    int expected = 0;
    const std::string translated = postgres::TranslateStatement(sql, &expected);
    if (expected != static_cast<int>(params.size())) {
      return Err(Status::Internal("postgres: statement takes " + std::to_string(expected) + " parameters, got " +
                                  std::to_string(params.size()) + " (in: " + Abbreviate(sql) + ")"));
    }
    // Untyped first: PostgreSQL gives each parameter the type its context wants (an int4 argument of
    // substr, a text column). Where the context says nothing, the values' own types decide.
    std::vector<Oid> types(params.size(), 0);
    const bool keep = prepared_.size() < kMaxPreparedStatements;
    std::string name = keep ? "s" + std::to_string(++statements_) : "";
    ResultPtr result(PQprepare(conn_, name.c_str(), translated.c_str(), static_cast<int>(types.size()),
                               types.data()));
    if (result && PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      const char* state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
      if (state && std::string_view(state) == "42P18") {  // a parameter nothing gives a type
        for (std::size_t i = 0; i < params.size(); ++i) types[i] = ParamType(params[i]);
        result.reset(PQprepare(conn_, name.c_str(), translated.c_str(), static_cast<int>(types.size()),
                               types.data()));
      }
    }
    if (!result || PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      return Err(StatusFromResult(conn_, result.get(), sql));
    }
    if (keep) prepared_.emplace(std::string(sql), name);
    return name;
  }

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // the port's SQL -> statement name
  std::uint64_t statements_ = 0;
};

Rows RowsOf(const PGresult* r) {
  std::vector<std::string> columns;
  const int n = PQnfields(r);
  for (int c = 0; c < n; ++c) columns.emplace_back(PQfname(r, c));
  std::vector<std::vector<Value>> rows;
  const int count = PQntuples(r);
  rows.reserve(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) {
    std::vector<Value> row;
    row.reserve(static_cast<std::size_t>(n));
    for (int c = 0; c < n; ++c) row.push_back(ReadField(r, i, c));
    rows.push_back(std::move(row));
  }
  return Rows(std::move(columns), std::move(rows));
}

ExecResult ExecResultOf(PGresult* r) {
  ExecResult out;
  std::string_view tuples = PQcmdTuples(r);
  std::from_chars(tuples.data(), tuples.data() + tuples.size(), out.rows_affected);
  return out;
}

class ConnectionSession final : public Session {
 public:
  explicit ConnectionSession(Connection& conn) : conn_(conn) {}
  Result<Rows> Query(std::string_view sql, const Params& params) override {
    auto r = conn_.Run(sql, params);
    if (!r) return Err(r.error());
    return RowsOf(r->get());
  }
  Result<ExecResult> Execute(std::string_view sql, const Params& params) override {
    auto r = conn_.Run(sql, params);
    if (!r) return Err(r.error());
    return ExecResultOf(r->get());
  }

 private:
  Connection& conn_;
};

thread_local std::vector<const void*> t_open_bodies;

class PostgresDatabase final : public Database {
 public:
  PostgresDatabase(PostgresOptions options, std::unique_ptr<Connection> first) : options_(std::move(options)) {
    idle_.push_back(first.get());
    connections_.push_back(std::move(first));
  }
  ~PostgresDatabase() override { assert(idle_.size() == connections_.size() && "PostgresDatabase destroyed while in use"); }

  Result<Rows> Query(std::string_view sql, const Params& params) override {
    return WithConnection([&](Connection& c) -> Result<Rows> { return ConnectionSession(c).Query(sql, params); });
  }

  Result<ExecResult> Execute(std::string_view sql, const Params& params) override {
    return WithConnection([&](Connection& c) -> Result<ExecResult> { return ConnectionSession(c).Execute(sql, params); });
  }

  Status Transaction(const std::function<Status(Session&)>& body) override {
    auto done = WithConnection([&](Connection& c) -> Result<bool> {
      Status s;
      for (int attempt = 1; attempt <= kTransactionAttempts; ++attempt) {
        s = RunTransaction(c, body);
        if (s.ok() || !IsRetryable(SqlState(s))) break;
      }
      if (!s.ok()) return Err(std::move(s));
      return true;
    });
    return done ? Status::Ok() : done.error();
  }

  Status Migrate(std::span<const Migration> migrations) override {
    for (std::size_t i = 0; i < migrations.size(); ++i) {
      if (migrations[i].version <= (i == 0 ? 0 : migrations[i - 1].version)) {
        return Status::Internal("migrations must have positive, unique, increasing versions: " +
                                std::to_string(migrations[i].version) + " (" + migrations[i].name +
                                ") is out of order");
      }
    }
    auto done = WithConnection([&](Connection& c) -> Result<bool> {
      // Held for the whole run: a second server migrating at the same time waits here, then finds
      // the work done.
      PC_RETURN_IF_ERROR(c.Exec("SELECT pg_advisory_lock(" + std::to_string(kMigrationLock) + ")"));
      Status s = MigrateLocked(c, migrations);
      (void)c.Exec("SELECT pg_advisory_unlock(" + std::to_string(kMigrationLock) + ")");
      if (!s.ok()) return Err(std::move(s));
      return true;
    });
    return done ? Status::Ok() : done.error();
  }

  Result<int> SchemaVersion() override {
    return WithConnection([&](Connection& c) -> Result<int> {
      ConnectionSession session(c);
      auto exists = session.Query("SELECT to_regclass('schema_migrations') IS NOT NULL AS present", {});
      if (!exists) return Err(exists.error());
      if (exists->Int(0, "present") == 0) return 0;
      return StoredVersion(session);
    });
  }

  Status Ping() override {
    auto r = Query("SELECT 1 AS one", {});
    return r ? Status::Ok() : r.error();
  }

  std::string_view Engine() const override { return "postgres"; }

  PoolStats Pool() const override {
    std::lock_guard lock(mu_);
    const int open = static_cast<int>(connections_.size());
    return {.size = options_.pool_size, .open = open, .in_use = open - static_cast<int>(idle_.size())};
  }

  Condition ContainsText(std::string_view column, std::string_view id_column, std::string_view,
                         std::string_view needle) const override {
    std::string pattern = "%";
    for (char c : needle) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += c;
    }
    return {.sql = std::string(column) + " LIKE ?", .param = pattern + "%", .id = std::string(id_column)};
  }

 private:
  static Result<int> StoredVersion(Session& session) {
    auto rows = session.Query("SELECT COALESCE(MAX(version), 0) AS version FROM schema_migrations", {});
    if (!rows) return Err(rows.error());
    return static_cast<int>(rows->Int(0, "version"));
  }

  Status MigrateLocked(Connection& c, std::span<const Migration> migrations) {
    PC_RETURN_IF_ERROR(c.Exec(
        "CREATE TABLE IF NOT EXISTS schema_migrations("
        "version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"));
    ConnectionSession session(c);
    auto current = StoredVersion(session);
    if (!current) return current.error();
    const int newest = migrations.empty() ? 0 : migrations.back().version;
    if (*current > newest) {
      return Status::Unavailable("database schema version " + std::to_string(*current) +
                                 " is newer than this paddlecloud binary knows (" + std::to_string(newest) +
                                 "); upgrade paddlecloud or restore a matching backup");
    }
    for (const Migration& m : migrations) {
      if (m.version <= *current) continue;
      PC_RETURN_IF_ERROR(c.Exec("BEGIN"));
      Status s = c.Exec(m.postgres_sql.empty() ? postgres::TranslateSchema(m.sql) : m.postgres_sql);
      if (s.ok() && !c.InTransaction()) s = Status::Internal("the migration's SQL ended the transaction itself");
      if (s.ok()) {
        auto inserted = session.Execute(
            "INSERT INTO schema_migrations(version, name, applied_at) "
            "VALUES(?, ?, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))",
            {std::int64_t{m.version}, m.name});
        if (!inserted) s = inserted.error();
      }
      if (s.ok()) s = c.Exec("COMMIT");
      if (!s.ok()) {
        c.RollbackIfActive();
        return Status::Of(s.code(), "migration " + std::to_string(m.version) + " (" + m.name +
                                        ") failed and was rolled back: " + s.message());
      }
    }
    return Status::Ok();
  }

  Status RunTransaction(Connection& c, const std::function<Status(Session&)>& body) {
    PC_RETURN_IF_ERROR(c.Exec("BEGIN; SELECT pg_advisory_xact_lock(" + std::to_string(kTransactionLock) + ")"));
    ConnectionSession session(c);
    Status s = CheckFence(session);
    try {
      t_open_bodies.push_back(this);
      if (s.ok()) s = body(session);
      t_open_bodies.pop_back();
    } catch (...) {
      t_open_bodies.pop_back();
      c.RollbackIfActive();
      throw;
    }
    if (s.ok()) s = c.Exec("COMMIT");
    c.RollbackIfActive();
    return s;
  }

  // Leases a connection (reconnecting it when needed), runs `use` on it and gives it back.
  template <typename Use>
  auto WithConnection(Use&& use) -> decltype(use(std::declval<Connection&>())) {
    if (std::find(t_open_bodies.begin(), t_open_bodies.end(), this) != t_open_bodies.end()) {
      assert(false && "Database called from inside its own Transaction body: use the body's Session");
      return Err(Status::Internal("the Database was called from inside its own Transaction body: use the body's Session"));
    }
    auto leased = Acquire();
    if (!leased) return Err(leased.error());
    Connection& c = **leased;
    struct Release {
      PostgresDatabase& db;
      Connection& c;
      ~Release() {
        c.RollbackIfActive();
        {
          std::lock_guard lock(db.mu_);
          db.idle_.push_back(&c);
        }
        db.available_.notify_one();
      }
    } release{*this, c};
    PC_RETURN_IF_ERROR(c.EnsureConnected());
    return use(c);
  }

  Result<Connection*> Acquire() {
    std::unique_lock lock(mu_);
    available_.wait(lock, [&] {
      return !idle_.empty() || static_cast<int>(connections_.size()) + opening_ < options_.pool_size;
    });
    if (!idle_.empty()) {
      Connection* c = idle_.back();  // the most recently used: its prepared statements are warm
      idle_.pop_back();
      return c;
    }
    ++opening_;
    lock.unlock();
    auto opened = Connection::Open(options_);
    lock.lock();
    --opening_;
    if (!opened) {
      available_.notify_one();
      return Err(opened.error());
    }
    connections_.push_back(std::move(*opened));
    return connections_.back().get();
  }

  const PostgresOptions options_;
  mutable std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> idle_;
  int opening_ = 0;
};

}  // namespace

std::string RedactDatabaseUrl(std::string_view url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return std::string(url);
  const std::size_t authority = scheme + 3;
  const std::size_t at = url.find('@', authority);
  const std::size_t slash = url.find('/', authority);
  if (at == std::string_view::npos || (slash != std::string_view::npos && at > slash)) {
    std::string out(url);
    if (auto p = out.find("password="); p != std::string::npos) {
      const std::size_t end = out.find('&', p);
      out.replace(p + 9, (end == std::string::npos ? out.size() : end) - p - 9, "***");
    }
    return out;
  }
  const std::size_t colon = url.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return std::string(url);
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

Result<std::unique_ptr<Database>> OpenPostgresDatabase(const PostgresOptions& options) {
  if (options.pool_size < 1) return Err(Status::InvalidArgument("pool_size must be at least 1", "pool_size"));
  char* error = nullptr;
  PQconninfoOption* parsed = PQconninfoParse(options.url.c_str(), &error);
  if (parsed == nullptr) {
    std::string message = error ? error : "cannot parse";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return Err(Status::InvalidArgument("database_url: " + message, "database_url"));
  }
  PQconninfoFree(parsed);
  auto first = Connection::Open(options);
  if (!first) return Err(first.error());
  return std::make_unique<PostgresDatabase>(options, std::move(*first));
}

}  // namespace paddlecloud::db
