#include "testing/test_database.h"

#include <libpq-fe.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

#include "postgres/postgres_database.h"
#include "sqlite/sqlite_database.h"

#ifndef PADDLECLOUD_SOURCE_DIR
#define PADDLECLOUD_SOURCE_DIR "."
#endif

namespace paddlecloud::testing {
namespace {

std::string Trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

// A cluster and the databases this process made on it (dropped at exit). The shared one is the
// ctest run's when there is one; an own one always starts its own.
class TestCluster {
 public:
  static TestCluster& Shared() {
    static TestCluster cluster(/*own=*/false);
    return cluster;
  }
  explicit TestCluster(bool own) : owner_(::getpid()), own_(own) {}

  Result<std::string> NewDatabase() {
    std::lock_guard lock(mu_);
    if (socket_dir_.empty()) PC_RETURN_IF_ERROR(StartLocked());
    static std::atomic<int> counter{0};
    std::string name = "t" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    PC_RETURN_IF_ERROR(Admin("CREATE DATABASE " + name));
    databases_.push_back(name);
    return "postgresql://paddlecloud@/" + name + "?host=" + socket_dir_;
  }

  ~TestCluster() {
    if (::getpid() != owner_) return;  // a forked child exiting
    for (const std::string& name : databases_) (void)Admin("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    if (!state_file_.empty()) Script("stop");
  }

  Status Start() {
    std::lock_guard lock(mu_);
    return socket_dir_.empty() ? StartLocked() : Status::Ok();
  }
  bool Halt() { return Script("halt", nullptr); }
  bool Resume() { return Script("resume", nullptr); }

 private:
  Status StartLocked() {
    const char* shared = std::getenv("PADDLECLOUD_TEST_POSTGRES");
    if (!own_ && shared && *shared) {
      std::ifstream state(shared);
      if (std::getline(state, socket_dir_) && !socket_dir_.empty()) return Status::Ok();
    }
    char path[] = "/tmp/paddlecloud-pg-state.XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) return Status::Unavailable("cannot create a state file for test-postgres");
    ::close(fd);
    state_file_ = path;
    std::string out = Script("start");
    std::ifstream state(state_file_);
    std::getline(state, socket_dir_);
    if (socket_dir_.empty()) return Status::Unavailable("scripts/test-postgres start failed: " + out);
    return Status::Ok();
  }

  // Runs scripts/test-postgres `command`; its output, and whether it succeeded in `ok`.
  std::string Script(const std::string& command, bool* ok = nullptr) {
    std::string line = std::string(PADDLECLOUD_SOURCE_DIR) + "/scripts/test-postgres " + command + " " + state_file_ + " 2>&1";
    std::string out;
    int status = -1;
    if (FILE* pipe = ::popen(line.c_str(), "r")) {
      char buf[4096];
      while (std::size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
      status = ::pclose(pipe);
    }
    if (ok) *ok = status == 0;
    if (status != 0) std::fprintf(stderr, "test-postgres %s failed: %s\n", command.c_str(), out.c_str());
    return out;
  }
  bool Script(const std::string& command, std::nullptr_t) {
    bool ok = false;
    Script(command, &ok);
    return ok;
  }

  Status Admin(const std::string& sql) {
    const std::string url = "postgresql://paddlecloud@/postgres?host=" + socket_dir_;
    PGconn* conn = PQconnectdb(url.c_str());
    Status s;
    if (PQstatus(conn) != CONNECTION_OK) {
      s = Status::Unavailable("test PostgreSQL at " + socket_dir_ + ": " + Trimmed(PQerrorMessage(conn)));
    } else {
      PGresult* r = PQexec(conn, sql.c_str());
      if (PQresultStatus(r) != PGRES_COMMAND_OK) s = Status::Internal(sql + ": " + Trimmed(PQresultErrorMessage(r)));
      PQclear(r);
    }
    PQfinish(conn);
    return s;
  }

  const pid_t owner_;
  const bool own_;
  std::mutex mu_;
  std::string socket_dir_;
  std::string state_file_;  // set when this process started the cluster
  std::vector<std::string> databases_;
};

OwnPostgres::OwnPostgres() : cluster_(std::make_unique<TestCluster>(/*own=*/true)) {}
OwnPostgres::~OwnPostgres() = default;
Status OwnPostgres::Start() { return cluster_->Start(); }
Result<std::string> OwnPostgres::NewDatabase() { return cluster_->NewDatabase(); }
bool OwnPostgres::Halt() { return cluster_->Halt(); }
bool OwnPostgres::Resume() { return cluster_->Resume(); }

bool TestsUsePostgres() {
  const char* state = std::getenv("PADDLECLOUD_TEST_POSTGRES");
  return state && *state;
}

Result<std::string> NewPostgresDatabase() { return TestCluster::Shared().NewDatabase(); }

std::string ServerDatabaseUrl(const std::string& data_dir) {
  if (!TestsUsePostgres()) return "";
  static std::mutex mu;
  static std::map<std::string, std::string> urls;
  std::lock_guard lock(mu);
  auto [it, added] = urls.try_emplace(data_dir);
  if (added) {
    auto url = NewPostgresDatabase();
    if (!url) {
      std::fprintf(stderr, "test database: %s\n", url.error().message().c_str());
      std::abort();
    }
    it->second = *url;
  }
  return it->second;
}

Result<std::unique_ptr<db::Database>> OpenTestDatabase(const std::string& sqlite_path,
                                                       std::vector<db::Migration> migrations) {
  Result<std::unique_ptr<db::Database>> database = Err(Status::Internal("unset"));
  if (TestsUsePostgres()) {
    auto url = NewPostgresDatabase();
    if (!url) return Err(url.error());
    database = db::OpenPostgresDatabase({.url = *url, .pool_size = 4});
  } else {
    database = db::OpenSqliteDatabase({.path = sqlite_path, .busy_timeout_ms = 5000, .pool_size = 2});
  }
  if (!database) return database;
  std::sort(migrations.begin(), migrations.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  PC_RETURN_IF_ERROR((*database)->Migrate(migrations));
  return database;
}

}  // namespace paddlecloud::testing
