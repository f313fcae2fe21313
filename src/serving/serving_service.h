// ServingService: serving instances (docs/serving.md): a model served by `replicas` identical
// replicas, run as a service workload of the cluster backend (a Deployment + Service on
// Kubernetes) and reached through the InferenceGateway.
//
// Desired state lives in the database (`serving_instances`); observed state is the backend's
// replicas. Reconcile() pushes each instance's ready replicas to the gateway (a replica gets
// traffic only once its readiness probe passed) and charges what replicas use. Scaling down,
// deactivating and deleting first take the leaving replicas out of the gateway's route and wait
// for their requests in flight, then stop them: no request is dropped.
//
// Instances belong to their account: a member sees and manages those they launched, the master
// all of the account's; anything else is NotFound. Blocking: call on the blocking pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cluster/cluster_backend.h"
#include "common/keyed_mutex.h"
#include "common/principal.h"
#include "db/database.h"
#include "files/file_service.h"
#include "jobs/job_service.h"
#include "jobs/quota.h"
#include "monitoring/accounting.h"
#include "serving/inference_gateway.h"

namespace paddlecloud::serving {

std::vector<db::Migration> ServingMigrations();

inline constexpr int kMaxReplicas = 64;

struct LaunchSpec {
  std::string name;
  std::string model;       // cloud path: a folder, an .onnx file or a .tar.gz
  std::string runtime;     // "onnx" | "python" | "command"
  std::string model_file;  // onnx: the .onnx in the model ("" : the only one)
  std::optional<std::string> model_py;  // python: saved as model.py in the snapshot
  std::string command;     // command runtime
  int replicas = 1;
  cluster::Resources resources{-1, -1, -1};  // per replica; an amount below 0: the default
  bool is_public = false;
};

struct Replica {
  int index = 0;
  std::string name;   // "<instance>-<index>"
  std::string phase;  // the backend's: Pending, Starting, Ready, NotReady, Failed
  std::string reason, message;
  int restarts = 0;
  std::optional<std::int64_t> started_at;
  bool draining = false;
  std::string log_path;  // not shown to users
};

struct Instance {
  std::string name;
  std::string account_id;
  std::int64_t user_id = 0;
  std::string owner;  // email
  std::string model, runtime, model_file, command;
  cluster::Resources resources;
  int desired = 1, ready = 0;
  bool is_public = false;
  bool active = true;
  std::string state;  // inactive | starting | ready | degraded | failed
  std::string reason, message;
  std::int64_t created_at = 0, updated_at = 0;
  std::vector<Replica> replicas;
  InstanceStats stats;
};

struct ServingOptions {
  std::string serving_dir;        // <data>/serving: <account>/<name>/{model,logs,metrics}
  std::string model_server_path;  // the paddlecloud-model-server binary; "" : no ONNX runtime
  std::string python_worker_dir;  // a folder holding paddlecloud_python_worker.py; "" : no Python runtime
  cluster::Resources defaults{1000, 1LL << 30, 0};
  std::chrono::milliseconds drain_timeout{30'000};
  // How long the gateway's per-second samples and their rollups are kept (as jobs' usage).
  std::chrono::milliseconds sample_retention{7LL * 24 * 3600 * 1000};
  std::chrono::milliseconds rollup_retention{365LL * 24 * 3600 * 1000};
  std::chrono::milliseconds stop_grace{10'000};
  std::function<std::int64_t()> now;  // unix seconds; the system clock when empty
};

class ServingService {
 public:
  ServingService(db::Database& database, cluster::ClusterBackend& backend, files::FileService& files,
                 jobs::JobService& jobs, monitoring::Accounting& accounting, InferenceGateway* gateway,
                 ServingOptions options);

  // InvalidArgument naming the field; NotFound naming `model`; Conflict naming `name`; QuotaExceeded.
  Result<Instance> Launch(const Principal& principal, const LaunchSpec& spec);
  Result<std::vector<Instance>> List(const Principal& principal);
  Result<Instance> Get(const Principal& principal, const std::string& name);
  Result<Instance> SetPublic(const Principal& principal, const std::string& name, bool is_public);
  // 1..kMaxReplicas (InvalidArgument naming `replicas`); QuotaExceeded for more than fits; Conflict when inactive.
  Result<Instance> Scale(const Principal& principal, const std::string& name, int replicas);
  Result<Instance> Deactivate(const Principal& principal, const std::string& name);
  Result<Instance> Activate(const Principal& principal, const std::string& name);
  Status Delete(const Principal& principal, const std::string& name);
  // The log file of replica `index` (NotFound for an instance or replica the principal cannot see).
  Result<std::string> ReplicaLogPath(const Principal& principal, const std::string& name, int index);
  // Where the gateway keeps the instance's series ("instance" or "replica-<i>" below it).
  Result<std::string> MetricsDir(const Principal& principal, const std::string& name);

  // What the account's active instances request, by user (they count in the job quota).
  Result<std::map<std::int64_t, jobs::Amounts>> InUseByUser(const std::string& account_id);

  // One pass over every instance: route the ready replicas, charge usage (every 30 s).
  void Reconcile();
  // Drops the instances' metric samples and rollups older than their retention.
  void PruneMetrics();

  static std::string ServiceName(const std::string& name);  // "serving-<name>"

 private:
  struct Row;
  std::int64_t Now() const;
  std::string InstanceDir(const std::string& account_id, const std::string& name) const;
  static Row RowFrom(const db::Rows& rows, std::size_t i);
  Result<Row> Load(const Principal& principal, const std::string& name);
  Result<std::vector<Row>> LoadAll(const std::string& account_id, std::optional<std::int64_t> user_id);
  Instance Observe(const Row& row);
  std::set<int> LeavingLocked(const Row& row, const std::vector<cluster::ReplicaStatus>& replicas);
  std::uint64_t RouteEpoch(const Row& row);
  void Route(const Row& row, const std::vector<cluster::ReplicaStatus>& replicas, std::uint64_t epoch);
  Result<cluster::ServiceRun> BuildService(const Row& row);
  Status Apply(const Row& row);
  Status Prepare(const Principal& principal, const LaunchSpec& spec, Row& row);
  Status DrainAndScale(const Row& row, int replicas);
  Status StopReplicas(const Row& row);
  void Charge(const Row& row, std::int64_t now);
  std::string Key(const std::string& account_id, const std::string& name) const { return account_id + "/" + name; }

  db::Database& db_;
  cluster::ClusterBackend& backend_;
  files::FileService& files_;
  jobs::JobService& jobs_;
  monitoring::Accounting& accounting_;
  InferenceGateway* gateway_;
  ServingOptions options_;
  KeyedMutex locks_;  // by instance: one change at a time

  std::mutex mutex_;  // guards draining_ and route_epochs_
  std::map<std::string, std::set<int>> draining_;  // by Key(): replicas leaving, never routed
  std::map<std::string, std::uint64_t> route_epochs_;  // by Key(): drains begun and ended
  std::int64_t last_charge_ = 0;
};

}  // namespace paddlecloud::serving
