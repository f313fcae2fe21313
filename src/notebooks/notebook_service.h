// NotebookService: a private Jupyter Notebook per user (docs/notebooks.md), run as a service
// workload of the cluster backend (one replica: a Deployment + Service on Kubernetes).
//
// Desired state lives in the database (`notebooks`: whether the user's notebook should run, its
// resources, Jupyter's token); observed state is the backend's replica. Reconcile() stops notebooks
// idle past `idle_timeout` or older than `max_age`, forgets those whose replica was lost, and charges
// what running ones use. The replica outlives the control plane, and a new service over the same
// database and backend finds it. Notebooks belong to their user: nobody else (not the account's
// master) starts, stops or reaches one.
//
// Blocking (database, backend): call on the blocking pool, except the in-memory CachedUpstream and
// NoteProxied, which the proxy calls on I/O threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "accounts/account_service.h"
#include "cluster/cluster_backend.h"
#include "common/keyed_mutex.h"
#include "common/principal.h"
#include "db/database.h"
#include "jobs/job_service.h"
#include "jobs/quota.h"
#include "monitoring/accounting.h"

namespace paddlecloud::notebooks {

std::vector<db::Migration> NotebookMigrations();

struct Notebook {
  std::string state = "stopped";  // "stopped", "starting", "running", "failed"
  std::string reason;             // see docs/notebooks.md
  std::string message;            // in words
  cluster::Resources resources;   // requested by the current or last start (the defaults before any)
  std::optional<std::int64_t> started_at, ready_at, last_activity_at;  // unix seconds
  std::string url;                // "/user/<id>/tree"
  int restarts = 0;
  std::string log_tail;           // when failed: the end of Jupyter's log
};

struct UserNotebook {
  std::int64_t user_id = 0;
  std::string email;
  Notebook notebook;
};

// Where the proxy reaches a user's running Jupyter.
struct JupyterUpstream {
  std::string host;
  std::uint16_t port = 0;
  std::string token;
};

struct NotebookOptions {
  std::string files_dir;       // <data_dir>/files: <account>/workspace/<user> is the notebook's root
  std::string notebooks_dir;   // <data_dir>/notebooks: <account>/<user>/{home,logs}
  std::function<std::string()> pod_api_url;  // PADDLE_CLOUD_URL
  std::function<std::string()> web_url;      // PADDLE_CLOUD_WEB_URL: the platform's public URL
  std::string python_sdk_dir;  // mounted at jobs::kPodSdkDir; "" for none
  std::function<std::vector<cluster::Mount>(const std::string& account)> read_only_mounts;
  cluster::Resources defaults{500, 2LL << 30, 0};
  std::chrono::seconds idle_timeout{3600};  // 0: never culled for idleness
  std::chrono::seconds max_age{0};          // 0: no limit
  std::chrono::milliseconds stop_grace{5'000};
  // Placed once in a user's workspace when their first notebook starts: {file name, content}.
  std::string template_name;
  std::string template_content;
  std::function<std::int64_t()> now;  // unix seconds; the system clock when empty
};

class NotebookService {
 public:
  NotebookService(db::Database& database, cluster::ClusterBackend& backend, accounts::AccountService& accounts,
                  jobs::QuotaStore& quotas, jobs::JobService& jobs, monitoring::Accounting& accounting,
                  NotebookOptions options);

  // The principal's notebook now.
  Result<Notebook> Get(const Principal& principal);
  // Starts it with `resources` (nullopt: those of the last start, else the defaults). `changed` is
  // set when it was not running. InvalidArgument (naming the field) for resources that can never
  // fit; QuotaExceeded past the account's quota or the member's limit beside what the account's jobs
  // and notebooks use; Conflict when it runs with other resources.
  Result<Notebook> Start(const Principal& principal, const std::optional<cluster::Resources>& resources,
                         bool* changed = nullptr);
  // Stops it (its files stay); stopping a stopped notebook changes nothing.
  Result<Notebook> Stop(const Principal& principal);
  // Stop, then Start.
  Result<Notebook> Restart(const Principal& principal, const std::optional<cluster::Resources>& resources);
  // Every member's notebook for the master user, the principal's alone otherwise.
  Result<std::vector<UserNotebook>> List(const Principal& principal);

  // The proxy's view: the user's running Jupyter, from memory (filled by Get, Start and Reconcile).
  std::optional<JupyterUpstream> CachedUpstream(std::int64_t user_id);
  // The same, asking the backend when memory has nothing: NotFound when it does not run.
  Result<JupyterUpstream> Upstream(std::int64_t user_id, const std::string& account_id);
  // Records a proxied request of the user (activity, as far as idleness is concerned).
  void NoteProxied(std::int64_t user_id);

  // What the account's running notebooks request, by user (they count in the job quota).
  Result<std::map<std::int64_t, jobs::Amounts>> InUseByUser(const std::string& account_id);

  // One pass over every running notebook: cull the idle and the old, forget the lost, charge usage.
  void Reconcile();

  const NotebookOptions& options() const { return options_; }
  static std::string ServiceName(std::int64_t user_id);  // "notebook-<user id>"
  static std::string BaseUrl(std::int64_t user_id);      // "/user/<user id>/"

 private:
  struct Row;
  std::int64_t Now() const;
  Result<std::optional<Row>> Load(const std::string& account_id, std::int64_t user_id);
  static Row RowFrom(const db::Rows& rows, std::size_t i);
  Notebook Observe(const Row& row);
  Result<cluster::ServiceRun> BuildService(const Principal& principal, const cluster::Resources& resources,
                                           const std::string& jupyter_token);
  void PlaceTemplate(const std::string& workspace, const std::string& marker_dir);
  Status StopRow(const Row& row, const std::string& reason);
  void CullOrCharge(const std::string& account_id, std::int64_t user_id);
  void Charge(const Row& row, std::int64_t now);

  db::Database& db_;
  cluster::ClusterBackend& backend_;
  accounts::AccountService& accounts_;
  jobs::QuotaStore& quotas_;
  jobs::JobService& jobs_;
  monitoring::Accounting& accounting_;
  NotebookOptions options_;
  KeyedMutex user_locks_;  // by user: one start or stop at a time

  std::mutex mutex_;  // guards the maps below
  std::map<std::int64_t, JupyterUpstream> upstreams_;
  std::map<std::int64_t, std::int64_t> last_proxied_;  // unix seconds
};

}  // namespace paddlecloud::notebooks
