#include "serving/serving_service.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>

#include <spdlog/spdlog.h>

#include "common/fs.h"
#include "common/names.h"
#include "common/units.h"
#include "db/tenant_scope.h"
#include "jobs/log_reader.h"
#include "serving/model_snapshot.h"
#include "timeseries/series_store.h"

namespace paddlecloud::serving {

namespace fs = std::filesystem;
using cluster::ReplicaPhase;

std::vector<db::Migration> ServingMigrations() {
  return {{80, "serving instances",
           "CREATE TABLE serving_instances ("
           "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
           "  account_id TEXT NOT NULL,"
           "  user_id INTEGER NOT NULL,"
           "  name TEXT NOT NULL,"
           "  model TEXT NOT NULL, runtime TEXT NOT NULL, model_file TEXT NOT NULL, command TEXT NOT NULL,"
           "  cpu_milli INTEGER NOT NULL, memory_bytes INTEGER NOT NULL, gpus INTEGER NOT NULL,"
           "  replicas INTEGER NOT NULL,"
           "  active INTEGER NOT NULL,"
           "  public INTEGER NOT NULL,"
           "  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
           "  UNIQUE (account_id, name));"
           // What is charged already, per replica: its CPU counter and when (as notebooks keep it).
           "CREATE TABLE serving_charges ("
           "  account_id TEXT NOT NULL, instance_id INTEGER NOT NULL, replica TEXT NOT NULL,"
           "  cpu_ns INTEGER NOT NULL, at_ms INTEGER NOT NULL,"
           "  PRIMARY KEY (instance_id, replica));"}};
}

struct ServingService::Row {
  std::int64_t id = 0;
  std::string account_id;
  std::int64_t user_id = 0;
  std::string owner;
  std::string name, model, runtime, model_file, command;
  cluster::Resources resources;
  int replicas = 1;
  bool active = true;
  bool is_public = false;
  std::int64_t created_at = 0, updated_at = 0;
};

namespace {

constexpr char kColumns[] =
    "s.id, s.account_id, s.user_id, u.email, s.name, s.model, s.runtime, s.model_file, s.command, s.cpu_milli, "
    "s.memory_bytes, s.gpus, s.replicas, s.active, s.public, s.created_at, s.updated_at";
constexpr char kFrom[] = " FROM serving_instances s JOIN users u ON u.id = s.user_id ";
constexpr char kPodModelDir[] = "/model";
constexpr char kPodModelServer[] = "/paddlecloud/bin/paddlecloud-model-server";
constexpr char kPodPythonWorkerDir[] = "/paddlecloud/serving";
constexpr char kPythonWorker[] = "paddlecloud_python_worker.py";
constexpr std::size_t kMaxCommandBytes = 4096;
constexpr std::size_t kMaxModelPyBytes = 1 << 20;

jobs::Amounts Times(const cluster::Resources& r, int replicas) {
  return {.cpu_milli = r.cpu_milli * replicas, .memory_bytes = r.memory_bytes * replicas, .gpus = r.gpus * replicas,
          .running_jobs = 0};
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The end of a log, at most 20 lines, without trailing blank space.
std::string LogTail(const std::string& path) {
  auto tail = jobs::TailLines(path, 20);
  if (!tail) return "";
  std::string text = std::move(tail->text);
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

int Threads(const cluster::Resources& r) { return static_cast<int>(std::max<std::int64_t>(1, (r.cpu_milli + 999) / 1000)); }

}  // namespace

ServingService::ServingService(db::Database& database, cluster::ClusterBackend& backend, files::FileService& files,
                               jobs::JobService& jobs, monitoring::Accounting& accounting, InferenceGateway* gateway,
                               ServingOptions options)
    : db_(database), backend_(backend), files_(files), jobs_(jobs), accounting_(accounting), gateway_(gateway),
      options_(std::move(options)) {}

std::string ServingService::ServiceName(const std::string& name) { return "serving-" + name; }

std::int64_t ServingService::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string ServingService::InstanceDir(const std::string& account_id, const std::string& name) const {
  return (fs::path(options_.serving_dir) / account_id / name).string();
}

ServingService::Row ServingService::RowFrom(const db::Rows& rows, std::size_t i) {
  return Row{.id = rows.Int(i, "id"),
             .account_id = rows.Text(i, "account_id"),
             .user_id = rows.Int(i, "user_id"),
             .owner = rows.Text(i, "email"),
             .name = rows.Text(i, "name"),
             .model = rows.Text(i, "model"),
             .runtime = rows.Text(i, "runtime"),
             .model_file = rows.Text(i, "model_file"),
             .command = rows.Text(i, "command"),
             .resources = {rows.Int(i, "cpu_milli"), rows.Int(i, "memory_bytes"), rows.Int(i, "gpus")},
             .replicas = static_cast<int>(rows.Int(i, "replicas")),
             .active = rows.Int(i, "active") != 0,
             .is_public = rows.Int(i, "public") != 0,
             .created_at = rows.Int(i, "created_at"),
             .updated_at = rows.Int(i, "updated_at")};
}

Result<std::vector<ServingService::Row>> ServingService::LoadAll(const std::string& account_id,
                                                                 std::optional<std::int64_t> user_id) {
  std::string sql = std::string("SELECT ") + kColumns + kFrom + "WHERE s.account_id = :account";
  db::Params params;
  if (user_id) {
    sql += " AND s.user_id = ?";
    params.push_back(*user_id);
  }
  auto rows = db::TenantScope(db_, account_id).Query(sql + " ORDER BY s.id DESC", params);
  if (!rows) return Err(rows.error());
  std::vector<Row> out;
  for (std::size_t i = 0; i < rows->size(); ++i) out.push_back(RowFrom(*rows, i));
  return out;
}

// The principal's instance `name`: a member's own, any of the account's for the master.
Result<ServingService::Row> ServingService::Load(const Principal& principal, const std::string& name) {
  std::string sql = std::string("SELECT ") + kColumns + kFrom + "WHERE s.account_id = :account AND s.name = ?";
  db::Params params{name};
  if (!principal.master) {
    sql += " AND s.user_id = ?";
    params.push_back(principal.user_id);
  }
  auto rows = db::TenantScope(db_, principal.account_id).Query(sql, params);
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("no serving instance '" + name + "'"));
  return RowFrom(*rows, 0);
}

// Replicas that get no new request: those drained for a scale-down, those the backend is ending,
// and those beyond the desired count until the backend has ended one. Which one ends is the
// backend's choice: it prefers the highest index, but Kubernetes ends a not-ready replica first.
std::set<int> ServingService::LeavingLocked(const Row& row, const std::vector<cluster::ReplicaStatus>& replicas) {
  std::set<int> leaving;
  if (auto d = draining_.find(Key(row.account_id, row.name)); d != draining_.end()) leaving = d->second;
  int staying = 0;
  for (const auto& r : replicas) {  // by index
    if (r.reason == cluster::kReplicaTerminating || (!leaving.contains(r.index) && ++staying > row.replicas))
      leaving.insert(r.index);
  }
  return leaving;
}

std::uint64_t ServingService::RouteEpoch(const Row& row) {
  std::lock_guard lock(mutex_);
  return route_epochs_[Key(row.account_id, row.name)];
}

// The ready replicas that are not leaving, to the gateway, unless a drain began or ended since
// `epoch` (when `replicas` was read): a route from before it would send requests to replicas
// being stopped, and the drain's own route stands.
void ServingService::Route(const Row& row, const std::vector<cluster::ReplicaStatus>& replicas, std::uint64_t epoch) {
  if (!gateway_) return;
  std::lock_guard lock(mutex_);  // held through SetRoute, so that routes reach the gateway in epoch order
  if (route_epochs_[Key(row.account_id, row.name)] != epoch) return;
  InstanceRoute route{.account_id = row.account_id, .name = row.name, .is_public = row.is_public, .active = row.active};
  std::set<int> leaving = LeavingLocked(row, replicas);
  for (const auto& r : replicas) {
    if (!row.active || r.phase != ReplicaPhase::kReady || leaving.contains(r.index)) continue;
    auto colon = r.endpoint.rfind(':');
    if (colon == std::string::npos) continue;
    route.ready.push_back({.index = r.index,
                           .host = r.endpoint.substr(0, colon),
                           .port = static_cast<std::uint16_t>(std::stoi(r.endpoint.substr(colon + 1)))});
  }
  gateway_->SetRoute(std::move(route));
}

Instance ServingService::Observe(const Row& row) {
  Instance in{.name = row.name,
              .account_id = row.account_id,
              .user_id = row.user_id,
              .owner = row.owner,
              .model = row.model,
              .runtime = row.runtime,
              .model_file = row.model_file,
              .command = row.command,
              .resources = row.resources,
              .desired = row.replicas,
              .is_public = row.is_public,
              .active = row.active,
              .created_at = row.created_at,
              .updated_at = row.updated_at};
  if (gateway_) in.stats = gateway_->Stats(row.account_id, row.name);
  std::uint64_t epoch = RouteEpoch(row);
  if (!row.active) {
    in.state = "inactive";
    in.message = "deactivated: no replica runs; activate it to serve again";
    Route(row, {}, epoch);
    return in;
  }
  auto replicas = backend_.GetReplicas(row.account_id, ServiceName(row.name));
  if (!replicas) {
    in.state = "starting";
    in.reason = "Unknown";
    in.message = replicas.error().message();
    Route(row, {}, epoch);
    return in;
  }
  Route(row, *replicas, epoch);
  std::set<int> leaving;
  {
    std::lock_guard lock(mutex_);
    leaving = LeavingLocked(row, *replicas);
  }
  const cluster::ReplicaStatus* crashing = nullptr;
  for (const auto& r : *replicas) {
    bool ready = r.phase == ReplicaPhase::kReady;
    if (ready && !leaving.contains(r.index)) ++in.ready;
    if (!ready && !crashing &&
        (r.phase == ReplicaPhase::kFailed || r.reason == "CrashLoopBackOff" || r.restarts > 0))
      crashing = &r;
    in.replicas.push_back({.index = r.index,
                           .name = row.name + "-" + std::to_string(r.index),
                           .phase = std::string(cluster::ReplicaPhaseName(r.phase)),
                           .reason = r.reason,
                           .message = r.message,
                           .restarts = r.restarts,
                           .started_at = r.started_at,
                           .draining = leaving.contains(r.index),
                           .log_path = r.log_path});
  }
  if (in.ready >= row.replicas) {
    in.state = "ready";
  } else if (in.ready > 0) {
    in.state = "degraded";
    in.message = std::to_string(in.ready) + " of " + std::to_string(row.replicas) + " replicas ready";
  } else if (crashing) {
    in.state = "failed";
    // A replica that crashed and is starting again is still crash-looping, whatever its phase says now.
    in.reason = crashing->phase == ReplicaPhase::kFailed ? crashing->reason : "CrashLoopBackOff";
    std::string tail = LogTail(crashing->log_path);
    in.message = tail.empty() ? crashing->message : tail;
  } else {
    in.state = "starting";
    for (const auto& r : *replicas)
      if (r.phase == ReplicaPhase::kPending) {
        in.reason = "Pending";
        in.message = r.reason;  // "waiting for 2 CPUs"
        break;
      }
  }
  return in;
}

// Validates the spec and takes the model's snapshot into the instance's folder.
Status ServingService::Prepare(const Principal& principal, const LaunchSpec& spec, Row& row) {
  PC_RETURN_IF_ERROR(names::CheckDnsLabel(spec.name, "serving instance name", "name", 1, 40));
  if (spec.runtime != "onnx" && spec.runtime != "python" && spec.runtime != "command")
    return Status::InvalidArgument("runtime: use onnx, python or command", "runtime");
  if (spec.runtime == "onnx" && options_.model_server_path.empty())
    return Status::InvalidArgument("runtime: this server has no ONNX model server installed", "runtime");
  if (spec.runtime == "python" && options_.python_worker_dir.empty())
    return Status::InvalidArgument("runtime: this server has no Python worker installed", "runtime");
  if (spec.runtime == "command" && spec.command.empty())
    return Status::InvalidArgument("command: the command runtime needs the command that serves on $PORT", "command");
  if (spec.runtime != "command" && !spec.command.empty())
    return Status::InvalidArgument("command: only the command runtime runs a command", "command");
  if (spec.command.size() > kMaxCommandBytes || spec.command.find('\0') != std::string::npos)
    return Status::InvalidArgument("command: at most 4096 bytes, no NUL", "command");
  if (spec.model_py && spec.runtime != "python")
    return Status::InvalidArgument("model_py: only the python runtime takes model.py", "model_py");
  if (spec.model_py && spec.model_py->size() > kMaxModelPyBytes)
    return Status::InvalidArgument("model_py: at most 1 MiB", "model_py");
  if (spec.replicas < 1 || spec.replicas > kMaxReplicas)
    return Status::InvalidArgument("replicas: 1 to " + std::to_string(kMaxReplicas), "replicas");
  cluster::Resources r = spec.resources;
  if (r.cpu_milli < 0) r.cpu_milli = options_.defaults.cpu_milli;
  if (r.memory_bytes < 0) r.memory_bytes = options_.defaults.memory_bytes;
  if (r.gpus < 0) r.gpus = options_.defaults.gpus;
  if (r.cpu_milli <= 0) return Status::InvalidArgument("cpu: more than 0", "cpu");
  if (r.memory_bytes <= 0) return Status::InvalidArgument("memory: more than 0", "memory");
  if (r.gpus < 0) return Status::InvalidArgument("gpus: 0 or more", "gpus");
  PC_RETURN_IF_ERROR(jobs_.CheckPodFitsCluster(r, "one replica"));
  PC_RETURN_IF_ERROR(jobs_.CheckWorkloadFits(principal, Times(r, spec.replicas),
                                             "serving '" + spec.name + "' (" + std::to_string(spec.replicas) +
                                                 " replicas)"));

  fs::path dir = InstanceDir(principal.account_id, spec.name);
  std::error_code ec;
  fs::remove_all(dir, ec);  // what a launch that failed half-way, or a delete, left
  auto snapshot = SnapshotModel(files_, principal, spec.model, (dir / "model").string());
  if (!snapshot) return snapshot.error();
  row.model_file = spec.model_file;
  if (spec.runtime == "onnx") {
    if (row.model_file.empty()) {
      if (snapshot->onnx_files.size() != 1)
        return Status::InvalidArgument(snapshot->onnx_files.empty()
                                           ? "model: no .onnx file in '" + spec.model + "'"
                                           : "model_file: '" + spec.model + "' holds several .onnx files: name one",
                                       snapshot->onnx_files.empty() ? "model" : "model_file");
      row.model_file = snapshot->onnx_files.front();
    } else if (std::find(snapshot->onnx_files.begin(), snapshot->onnx_files.end(), row.model_file) ==
               snapshot->onnx_files.end()) {
      return Status::InvalidArgument("model_file: no .onnx file '" + row.model_file + "' in '" + spec.model + "'",
                                     "model_file");
    }
  } else if (!row.model_file.empty()) {
    return Status::InvalidArgument("model_file: only the onnx runtime takes a model file", "model_file");
  }
  if (spec.runtime == "python") {
    fs::path model_py = dir / "model" / "model.py";
    if (spec.model_py) {
      fs::remove(model_py, ec);
      PC_RETURN_IF_ERROR(fsutil::WriteFileAtomic(model_py.string(), *spec.model_py, {.durable = false}));
    } else if (!fs::is_regular_file(fs::symlink_status(model_py, ec))) {
      return Status::InvalidArgument("model_py: '" + spec.model + "' has no model.py: write one or give it", "model_py");
    }
  }
  row.resources = r;
  return Status::Ok();
}

Result<cluster::ServiceRun> ServingService::BuildService(const Row& row) {
  fs::path dir = InstanceDir(row.account_id, row.name);
  std::error_code ec;
  fs::create_directories(dir / "logs", ec);
  if (ec) return Err(Status::Unavailable("cannot create the instance's log folder: " + ec.message()));
  std::string threads = std::to_string(Threads(row.resources));
  cluster::ServiceRun run{.namespace_name = row.account_id,
                          .name = ServiceName(row.name),
                          .working_dir = kPodModelDir,
                          .env = {{"MODEL_NAME", row.name}, {"PADDLE_CLOUD_SERVING", row.name}},
                          .mounts = {{(dir / "model").string(), kPodModelDir, true}},
                          .requests = row.resources,
                          .replicas = row.replicas,
                          .port = 8080,
                          .readiness = cluster::HttpProbe{.path = "/v2/health/ready",
                                                          .period = std::chrono::milliseconds(250),
                                                          .timeout = std::chrono::seconds(1),
                                                          .failure_threshold = 3,
                                                          .startup_grace = std::chrono::seconds(60)},
                          .max_backoff = std::chrono::seconds(30),
                          .logs_dir = (dir / "logs").string()};
  if (row.runtime == "onnx") {
    run.command = std::string("exec ") + kPodModelServer + " --model " +
                  ShellQuote(std::string(kPodModelDir) + "/" + row.model_file) + " --name " + row.name +
                  " --listen \"${POD_IP:-127.0.0.1}\" --threads " + threads;
    run.mounts.push_back({options_.model_server_path, kPodModelServer, true});
  } else if (row.runtime == "python") {
    run.command = std::string("exec /usr/bin/python3 ") + kPodPythonWorkerDir + "/" + kPythonWorker +
                  " --model-dir " + kPodModelDir + " --name " + row.name + " --listen \"${POD_IP:-127.0.0.1}\" --threads " + threads;
    run.mounts.push_back({options_.python_worker_dir, kPodPythonWorkerDir, true});
    run.env["PYTHONDONTWRITEBYTECODE"] = "1";
  } else {
    run.command = row.command;
  }
  return run;
}

// Starts the row's replicas; a service of an earlier instance of that name that was never deleted
// (the platform stopped mid-delete) is replaced.
Status ServingService::Apply(const Row& row) {
  auto service = BuildService(row);
  if (!service) return service.error();
  Status applied = backend_.ApplyService(*service);
  if (applied.code() == Code::kConflict) {
    (void)backend_.DeleteService(row.account_id, ServiceName(row.name), options_.stop_grace);
    applied = backend_.ApplyService(*service);
  }
  return applied;
}

Result<Instance> ServingService::Launch(const Principal& principal, const LaunchSpec& spec) {
  auto lock = locks_.Lock(Key(principal.account_id, spec.name));
  auto taken = db::TenantScope(db_, principal.account_id)
                   .Query("SELECT id FROM serving_instances WHERE account_id = :account AND name = ?", {spec.name});
  if (!taken) return Err(taken.error());
  if (!taken->empty())
    return Err(Status::Of(Code::kConflict, "a serving instance named '" + spec.name + "' exists: pick another name",
                          "name"));
  Row row{.account_id = principal.account_id,
          .user_id = principal.user_id,
          .owner = principal.email,
          .name = spec.name,
          .model = spec.model,
          .runtime = spec.runtime,
          .command = spec.command,
          .replicas = spec.replicas,
          .active = true,
          .is_public = spec.is_public};
  auto discard = [&](Status s) -> Result<Instance> {
    std::error_code ec;
    fs::remove_all(InstanceDir(principal.account_id, spec.name), ec);
    return Err(std::move(s));
  };
  if (Status prepared = Prepare(principal, spec, row); !prepared.ok()) return discard(prepared);
  row.created_at = row.updated_at = Now();
  auto inserted =
      db::TenantScope(db_, principal.account_id)
          .Query("INSERT INTO serving_instances (account_id, user_id, name, model, runtime, model_file, command, "
                   "cpu_milli, memory_bytes, gpus, replicas, active, public, created_at, updated_at) "
                   "VALUES (:account, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id",
                   {row.user_id, row.name, row.model, row.runtime, row.model_file, row.command, row.resources.cpu_milli,
                    row.resources.memory_bytes, row.resources.gpus, row.replicas, row.is_public ? 1 : 0, row.created_at,
                    row.updated_at});
  if (!inserted) return discard(inserted.error());
  row.id = inserted->Int(0, "id");
  if (Status applied = Apply(row); !applied.ok()) {
    (void)db::TenantScope(db_, principal.account_id)
        .Execute("DELETE FROM serving_instances WHERE account_id = :account AND id = ?", {row.id});
    return discard(applied);
  }
  spdlog::info("serving '{}' (account {}) launched: {} runtime, {} x {} CPU", row.name, row.account_id, row.runtime,
               row.replicas, units::CpuQuantity(row.resources.cpu_milli));
  return Observe(row);
}

Result<std::vector<Instance>> ServingService::List(const Principal& principal) {
  auto rows = LoadAll(principal.account_id, principal.master ? std::nullopt : std::optional(principal.user_id));
  if (!rows) return Err(rows.error());
  std::vector<Instance> out;
  for (const Row& row : *rows) out.push_back(Observe(row));
  return out;
}

Result<Instance> ServingService::Get(const Principal& principal, const std::string& name) {
  auto row = Load(principal, name);
  if (!row) return Err(row.error());
  return Observe(*row);
}

Result<Instance> ServingService::SetPublic(const Principal& principal, const std::string& name, bool is_public) {
  auto lock = locks_.Lock(Key(principal.account_id, name));
  auto row = Load(principal, name);
  if (!row) return Err(row.error());
  row->is_public = is_public;
  row->updated_at = Now();
  auto saved = db::TenantScope(db_, principal.account_id)
                   .Execute("UPDATE serving_instances SET public = ?, updated_at = ? WHERE account_id = :account AND id = ?",
                            {is_public ? 1 : 0, row->updated_at, row->id});
  if (!saved) return Err(saved.error());
  return Observe(*row);
}

// Takes replicas [replicas, current) out of the route, waits for their requests, then scales.
Status ServingService::DrainAndScale(const Row& row, int replicas) {
  std::string key = Key(row.account_id, row.name);
  std::vector<int> leaving;
  for (int i = replicas; i < row.replicas; ++i) leaving.push_back(i);
  std::uint64_t epoch;
  {
    std::lock_guard lock(mutex_);
    draining_[key].insert(leaving.begin(), leaving.end());
    epoch = ++route_epochs_[key];
  }
  auto observed = backend_.GetReplicas(row.account_id, ServiceName(row.name));
  Route(row, observed ? *observed : std::vector<cluster::ReplicaStatus>{}, epoch);
  if (gateway_ && !gateway_->WaitIdle(row.account_id, row.name, leaving, options_.drain_timeout))
    spdlog::warn("serving '{}': requests still in flight after {} ms; stopping the replicas anyway", row.name,
                 options_.drain_timeout.count());
  Status scaled = replicas == 0 ? backend_.DeleteService(row.account_id, ServiceName(row.name), options_.stop_grace)
                                : backend_.ScaleService(row.account_id, ServiceName(row.name), replicas);
  if (scaled.code() == Code::kNotFound) scaled = Status::Ok();
  std::lock_guard lock(mutex_);
  auto& set = draining_[key];
  for (int i : leaving) set.erase(i);
  if (set.empty()) draining_.erase(key);
  ++route_epochs_[key];  // routes from replicas read before the scale are stale now
  return scaled;
}

Result<Instance> ServingService::Scale(const Principal& principal, const std::string& name, int replicas) {
  if (replicas < 1 || replicas > kMaxReplicas)
    return Err(Status::InvalidArgument("replicas: 1 to " + std::to_string(kMaxReplicas) +
                                           " (deactivate the instance to stop every replica)",
                                       "replicas"));
  auto lock = locks_.Lock(Key(principal.account_id, name));
  auto row = Load(principal, name);
  if (!row) return Err(row.error());
  if (!row->active) return Err(Status::Conflict("'" + name + "' is inactive: activate it first"));
  if (replicas > row->replicas)
    PC_RETURN_IF_ERROR(jobs_.CheckWorkloadFits(principal, Times(row->resources, replicas - row->replicas),
                                               "scaling '" + name + "' to " + std::to_string(replicas) + " replicas"));
  if (replicas > row->replicas) {
    PC_RETURN_IF_ERROR(backend_.ScaleService(row->account_id, ServiceName(name), replicas));
  } else if (replicas < row->replicas) {
    PC_RETURN_IF_ERROR(DrainAndScale(*row, replicas));
  }
  row->replicas = replicas;
  row->updated_at = Now();
  auto saved = db::TenantScope(db_, principal.account_id)
                   .Execute("UPDATE serving_instances SET replicas = ?, updated_at = ? WHERE account_id = :account AND id = ?",
                            {replicas, row->updated_at, row->id});
  if (!saved) return Err(saved.error());
  spdlog::info("serving '{}' (account {}) scaled to {} replicas", name, row->account_id, replicas);
  return Observe(*row);
}

Status ServingService::StopReplicas(const Row& row) {
  Charge(row, Now());
  PC_RETURN_IF_ERROR(DrainAndScale(row, 0));
  auto cleared = db::TenantScope(db_, row.account_id)
                     .Execute("DELETE FROM serving_charges WHERE account_id = :account AND instance_id = ?", {row.id});
  return cleared ? Status::Ok() : cleared.error();
}

Result<Instance> ServingService::Deactivate(const Principal& principal, const std::string& name) {
  auto lock = locks_.Lock(Key(principal.account_id, name));
  auto row = Load(principal, name);
  if (!row) return Err(row.error());
  if (!row->active) return Observe(*row);
  PC_RETURN_IF_ERROR(StopReplicas(*row));
  row->active = false;
  row->updated_at = Now();
  auto saved = db::TenantScope(db_, principal.account_id)
                   .Execute("UPDATE serving_instances SET active = 0, updated_at = ? WHERE account_id = :account AND id = ?",
                            {row->updated_at, row->id});
  if (!saved) return Err(saved.error());
  spdlog::info("serving '{}' (account {}) deactivated", name, row->account_id);
  return Observe(*row);
}

Result<Instance> ServingService::Activate(const Principal& principal, const std::string& name) {
  auto lock = locks_.Lock(Key(principal.account_id, name));
  auto row = Load(principal, name);
  if (!row) return Err(row.error());
  if (row->active) return Observe(*row);
  PC_RETURN_IF_ERROR(jobs_.CheckWorkloadFits(principal, Times(row->resources, row->replicas),
                                             "serving '" + name + "' (" + std::to_string(row->replicas) + " replicas)"));
  row->active = true;
  PC_RETURN_IF_ERROR(Apply(*row));
  row->updated_at = Now();
  auto saved = db::TenantScope(db_, principal.account_id)
                   .Execute("UPDATE serving_instances SET active = 1, updated_at = ? WHERE account_id = :account AND id = ?",
                            {row->updated_at, row->id});
  if (!saved) return Err(saved.error());
  spdlog::info("serving '{}' (account {}) activated with {} replicas", name, row->account_id, row->replicas);
  return Observe(*row);
}

Status ServingService::Delete(const Principal& principal, const std::string& name) {
  auto lock = locks_.Lock(Key(principal.account_id, name));
  auto row = Load(principal, name);
  if (!row) return row.error();
  if (row->active) PC_RETURN_IF_ERROR(StopReplicas(*row));
  auto deleted = db::TenantScope(db_, principal.account_id)
                     .Execute("DELETE FROM serving_instances WHERE account_id = :account AND id = ?", {row->id});
  if (!deleted) return deleted.error();
  if (gateway_) gateway_->RemoveRoute(row->account_id, name);
  std::error_code ec;
  fs::path dir = InstanceDir(row->account_id, name);
  fs::path doomed = dir.parent_path() / (".deleted-" + std::to_string(row->id));
  fs::rename(dir, doomed, ec);
  fs::remove_all(ec ? dir : doomed, ec);
  spdlog::info("serving '{}' (account {}) deleted", name, row->account_id);
  return Status::Ok();
}

Result<std::string> ServingService::ReplicaLogPath(const Principal& principal, const std::string& name, int index) {
  auto row = Load(principal, name);
  if (!row) return Err(row.error());
  if (index < 0 || index >= kMaxReplicas) return Err(Status::NotFound("no replica " + std::to_string(index)));
  fs::path path = fs::path(InstanceDir(row->account_id, name)) / "logs" /
                  (cluster::ReplicaName(ServiceName(name), index) + ".log");
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(path, ec)))
    return Err(Status::NotFound("replica " + std::to_string(index) + " of '" + name + "' has no log"));
  return path.string();
}

Result<std::string> ServingService::MetricsDir(const Principal& principal, const std::string& name) {
  auto row = Load(principal, name);
  if (!row) return Err(row.error());
  return (fs::path(InstanceDir(row->account_id, name)) / "metrics").string();
}

Result<std::map<std::int64_t, jobs::Amounts>> ServingService::InUseByUser(const std::string& account_id) {
  auto rows = db::TenantScope(db_, account_id)
                  .Query("SELECT user_id, cpu_milli, memory_bytes, gpus, replicas FROM serving_instances "
                         "WHERE account_id = :account AND active = 1");
  if (!rows) return Err(rows.error());
  std::map<std::int64_t, jobs::Amounts> in_use;
  for (std::size_t i = 0; i < rows->size(); ++i)
    in_use[rows->Int(i, "user_id")] +=
        Times({rows->Int(i, "cpu_milli"), rows->Int(i, "memory_bytes"), rows->Int(i, "gpus")},
              static_cast<int>(rows->Int(i, "replicas")));
  return in_use;
}

void ServingService::Reconcile() {
  auto rows = db_.Query(std::string("SELECT ") + kColumns + kFrom);
  if (!rows) {
    spdlog::warn("serving: {}", rows.error().message());
    return;
  }
  std::int64_t now = Now();
  bool charge = now - last_charge_ >= 30;
  if (charge) last_charge_ = now;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    Row listed = RowFrom(*rows, i);
    // An instance being changed (a drain may take seconds) routes itself; the others must not wait.
    auto lock = locks_.TryLock(Key(listed.account_id, listed.name));
    if (!lock.owns_lock()) continue;
    // Read again under the lock: a change may have ended since the list was read.
    auto current = Load(Principal{.account_id = listed.account_id, .master = true}, listed.name);
    if (!current) continue;
    const Row& row = *current;
    std::uint64_t epoch = RouteEpoch(row);
    if (!row.active) {
      Route(row, {}, epoch);
      continue;
    }
    auto replicas = backend_.GetReplicas(row.account_id, ServiceName(row.name));
    if (!replicas && replicas.error().code() == Code::kNotFound) {
      // Its replicas were lost (the backend was reset): start them again.
      if (Status applied = Apply(row); !applied.ok())
        spdlog::warn("serving '{}': replicas not restored: {}", row.name, applied.message());
      continue;
    }
    Route(row, replicas ? *replicas : std::vector<cluster::ReplicaStatus>{}, epoch);
    if (charge) Charge(row, now);
  }
}

void ServingService::PruneMetrics() {
  auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch()).count();
  std::error_code ec;
  // <serving_dir>/<account>/<name>/metrics/<series>: folders the server made; links are not followed.
  for (const auto& account : fs::directory_iterator(options_.serving_dir, ec)) {
    if (!account.is_directory() || account.is_symlink()) continue;
    for (const auto& instance : fs::directory_iterator(account.path(), ec)) {
      fs::path metrics = instance.path() / "metrics";
      if (!fs::is_directory(fs::symlink_status(metrics, ec))) continue;
      for (const auto& series : fs::directory_iterator(metrics, ec)) {
        if (!series.is_directory() || series.is_symlink()) continue;
        Status pruned = timeseries::Prune(series.path().string(), now_ms, options_.sample_retention.count(),
                                          options_.rollup_retention.count());
        if (!pruned.ok()) spdlog::warn("serving series {}: {}", series.path().string(), pruned.message());
      }
    }
  }
}

// Charges each replica's CPU since its last charge (a counter that went down belongs to a
// restarted replica, charged from zero) and the GPUs it held.
void ServingService::Charge(const Row& row, std::int64_t now) {
  auto usage = backend_.GetServiceUsage(row.account_id, ServiceName(row.name));
  if (!usage) return;
  db::TenantScope scope(db_, row.account_id);
  std::vector<monitoring::PodCharge> charges;
  for (const auto& pod : usage->pods) {
    if (!pod.cpu_ns || pod.ended_at_ms) continue;
    auto last = scope.Query("SELECT cpu_ns, at_ms FROM serving_charges WHERE account_id = :account AND "
                            "instance_id = ? AND replica = ?",
                            {row.id, pod.name});
    if (!last) continue;
    auto charged = last->empty() ? 0 : static_cast<std::uint64_t>(last->Int(0, "cpu_ns"));
    std::int64_t since_ms = last->empty() ? usage->at_ms : last->Int(0, "at_ms");
    auto noted = scope.Execute("INSERT INTO serving_charges (account_id, instance_id, replica, cpu_ns, at_ms) "
                               "VALUES (:account, ?, ?, ?, ?) ON CONFLICT (instance_id, replica) DO UPDATE SET "
                               "cpu_ns = excluded.cpu_ns, at_ms = excluded.at_ms",
                               {row.id, pod.name, static_cast<std::int64_t>(*pod.cpu_ns), usage->at_ms});
    if (!noted) continue;
    charges.push_back({.account_id = row.account_id,
                       .user_id = row.user_id,
                       .job_id = 0,
                       .pod = pod.name,
                       .at_s = now,
                       .cpu_seconds = static_cast<double>(*pod.cpu_ns >= charged ? *pod.cpu_ns - charged : *pod.cpu_ns) / 1e9,
                       .gpu_seconds = static_cast<double>(row.resources.gpus) *
                                      static_cast<double>(std::max<std::int64_t>(0, usage->at_ms - since_ms)) / 1000});
  }
  if (charges.empty()) return;
  if (Status charged = accounting_.Charge(charges); !charged.ok())
    spdlog::warn("serving '{}': usage not charged: {}", row.name, charged.message());
}

}  // namespace paddlecloud::serving
