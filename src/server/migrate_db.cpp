#include "server/migrate_db.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "postgres/postgres_database.h"
#include "server/platform.h"
#include "sqlite/sqlite_database.h"

namespace paddlecloud::server {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kRowsPerStatement = 200;

struct Table {
  std::string name;
  std::vector<std::string> columns;
  std::set<std::string> parents;  // tables its foreign keys point to
};

std::string Quoted(const std::string& identifier) { return "\"" + identifier + "\""; }

// The platform's tables in the SQLite file, parents first. Virtual tables (the fts5 name index) and
// their shadow tables are the engine's own and are rebuilt by PostgreSQL's index instead.
Result<std::vector<Table>> TablesOf(db::Database& sqlite) {
  auto rows = sqlite.Query(
      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
      "AND name <> 'schema_migrations' AND sql NOT LIKE 'CREATE VIRTUAL TABLE%' ORDER BY name");
  if (!rows) return Err(rows.error());
  std::set<std::string> virtual_shadows;
  auto virtuals = sqlite.Query("SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%'");
  if (!virtuals) return Err(virtuals.error());
  std::map<std::string, Table> tables;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    std::string name = rows->Text(i, "name");
    bool shadow = false;
    for (std::size_t v = 0; v < virtuals->size(); ++v) shadow |= name.starts_with(virtuals->Text(v, "name") + "_");
    if (shadow) continue;
    Table table{.name = name, .columns = {}, .parents = {}};
    auto columns = sqlite.Query("SELECT name FROM pragma_table_info(?) ORDER BY cid", {name});
    if (!columns) return Err(columns.error());
    for (std::size_t c = 0; c < columns->size(); ++c) table.columns.push_back(columns->Text(c, "name"));
    auto keys = sqlite.Query("SELECT \"table\" AS parent FROM pragma_foreign_key_list(?)", {name});
    if (!keys) return Err(keys.error());
    for (std::size_t k = 0; k < keys->size(); ++k)
      if (keys->Text(k, "parent") != name) table.parents.insert(keys->Text(k, "parent"));
    tables.emplace(name, std::move(table));
  }
  std::vector<Table> ordered;
  std::set<std::string> placed;
  while (ordered.size() < tables.size()) {
    const std::size_t before = ordered.size();
    for (auto& [name, table] : tables) {
      if (placed.contains(name)) continue;
      if (std::all_of(table.parents.begin(), table.parents.end(),
                      [&](const std::string& p) { return placed.contains(p) || !tables.contains(p); })) {
        ordered.push_back(table);
        placed.insert(name);
      }
    }
    if (ordered.size() == before) return Err(Status::Internal("the tables' foreign keys form a cycle"));
  }
  return ordered;
}

Result<std::int64_t> CountRows(db::Session& database, const std::string& table) {
  auto rows = database.Query("SELECT COUNT(*) AS n FROM " + Quoted(table));
  if (!rows) return Err(rows.error());
  return rows->Int(0, "n");
}

Status CopyTable(db::Database& from, db::Database& to, const Table& table, std::int64_t* copied) {
  auto rows = from.Query("SELECT * FROM " + Quoted(table.name));
  if (!rows) return rows.error();
  std::string columns;
  for (const std::string& c : table.columns) columns += (columns.empty() ? "" : ", ") + Quoted(c);
  const std::string row_placeholders = "(" + [&] {
    std::string p;
    for (std::size_t i = 0; i < table.columns.size(); ++i) p += i ? ", ?" : "?";
    return p;
  }() + ")";
  return to.Transaction([&](db::Session& session) -> Status {
    for (std::size_t start = 0; start < rows->size(); start += kRowsPerStatement) {
      const std::size_t end = std::min(rows->size(), start + kRowsPerStatement);
      std::string sql = "INSERT INTO " + Quoted(table.name) + " (" + columns + ") VALUES ";
      db::Params params;
      for (std::size_t r = start; r < end; ++r) {
        sql += (r == start ? "" : ", ") + row_placeholders;
        for (const db::Value& v : rows->row(r)) params.push_back(v);
      }
      // Identity columns take the copied ids as given.
      auto inserted = session.Execute(sql, params);
      if (!inserted) return inserted.error();
      *copied += inserted->rows_affected;
    }
    return Status::Ok();
  });
}

// Identity counters continue after the highest copied id.
Status ContinueIdentities(db::Database& to) {
  auto identities = to.Query(
      "SELECT table_name, column_name FROM information_schema.columns "
      "WHERE table_schema = current_schema() AND is_identity = 'YES'");
  if (!identities) return identities.error();
  for (std::size_t i = 0; i < identities->size(); ++i) {
    const std::string table = identities->Text(i, "table_name"), column = identities->Text(i, "column_name");
    auto set = to.Query("SELECT setval(pg_get_serial_sequence(?, ?), COALESCE(MAX(" + Quoted(column) + "), 0) + 1, "
                        "false) AS next FROM " + Quoted(table),
                        {table, column});
    if (!set) return set.error();
  }
  return Status::Ok();
}

}  // namespace

int RunMigrateDb(const MigrateDbRequest& request, std::ostream& out, std::ostream& err) {
  auto fail = [&](const std::string& message) {
    err << "paddlecloud admin migrate-db: " << message << "\n";
    return 1;
  };
  const fs::path path = fs::path(request.data_dir) / "paddlecloud.db";
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return fail("no SQLite database at " + path.string());
  auto lock = DataDirLock::Acquire(request.data_dir);
  if (!lock) return fail(lock.error().message() + "; stop it first");

  const std::vector<db::Migration> migrations = PlatformMigrations();
  const int newest = migrations.back().version;
  auto sqlite = db::OpenSqliteDatabase({.path = path.string(), .busy_timeout_ms = 5000, .pool_size = 1});
  if (!sqlite) return fail(sqlite.error().message());
  auto version = (*sqlite)->SchemaVersion();
  if (!version) return fail(version.error().message());
  if (*version != newest) {
    return fail("the SQLite database is at schema version " + std::to_string(*version) + ", this paddlecloud at " +
                std::to_string(newest) +
                (*version < newest ? ": start this version's server on it once, stop it, and migrate again"
                                   : ": use the paddlecloud that wrote it"));
  }

  auto target = db::OpenPostgresDatabase({.url = request.to, .pool_size = 2});
  if (!target) return fail(target.error().message());
  db::Database& to = **target;
  if (Status s = to.Migrate(migrations); !s.ok()) return fail(s.message());

  auto tables = TablesOf(**sqlite);
  if (!tables) return fail(tables.error().message());
  // The settings the schema's first step writes do not count as data; they are replaced by the copy.
  std::int64_t present = 0;
  for (const Table& t : *tables) {
    if (t.name == "settings") continue;
    auto n = CountRows(to, t.name);
    if (!n) return fail(n.error().message());
    present += *n;
  }
  if (present > 0 && !request.replace) {
    return fail(db::RedactDatabaseUrl(request.to) + " already holds " + std::to_string(present) +
                " rows; pass --replace to empty it and copy again");
  }
  std::string names;
  for (const Table& t : *tables) names += (names.empty() ? "" : ", ") + Quoted(t.name);
  if (auto emptied = to.Execute("TRUNCATE " + names + " CASCADE"); !emptied) return fail(emptied.error().message());
  if (present > 0) out << "emptied " << present << " rows in the target\n";

  std::int64_t total = 0;
  for (const Table& t : *tables) {
    std::int64_t copied = 0;
    if (Status s = CopyTable(**sqlite, to, t, &copied); !s.ok()) return fail("copying " + t.name + ": " + s.message());
    total += copied;
    out << "  " << t.name << ": " << copied << " rows\n" << std::flush;
  }
  if (Status s = ContinueIdentities(to); !s.ok()) return fail(s.message());
  out << "copied " << total << " rows of " << tables->size() << " tables at schema version " << newest << " into "
      << db::RedactDatabaseUrl(request.to) << "\n"
      << "start the servers with database_url set to it (files stay in " << request.data_dir << ")\n";
  return 0;
}

}  // namespace paddlecloud::server
