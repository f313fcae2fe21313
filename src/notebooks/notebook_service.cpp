#include "notebooks/notebook_service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include <spdlog/spdlog.h>

#include "common/fs.h"
#include "common/units.h"
#include "db/tenant_scope.h"
#include "jobs/python_sdk.h"
#include "notebooks/jupyter_client.h"

namespace paddlecloud::notebooks {

namespace fs = std::filesystem;
using cluster::ReplicaPhase;

std::vector<db::Migration> NotebookMigrations() {
  return {{71, "notebooks",
           "CREATE TABLE notebooks ("
           "  user_id INTEGER PRIMARY KEY,"
           "  account_id TEXT NOT NULL,"
           "  running INTEGER NOT NULL,"  // desired: 1 = should run
           "  cpu_milli INTEGER NOT NULL, memory_bytes INTEGER NOT NULL, gpus INTEGER NOT NULL,"
           "  jupyter_token TEXT NOT NULL DEFAULT '',"
           "  started_at INTEGER, ready_at INTEGER, last_activity_at INTEGER,"
           "  stop_reason TEXT NOT NULL DEFAULT '',"
           // What is charged already: the replica's CPU counter and when, so a restarted platform
           // charges neither twice nor less.
           "  charged_cpu_ns INTEGER NOT NULL DEFAULT 0, charged_at_ms INTEGER);"
           "CREATE INDEX notebooks_by_account ON notebooks(account_id);"}};
}

struct NotebookService::Row {
  std::int64_t user_id = 0;
  std::string account_id;
  bool running = false;
  cluster::Resources resources;
  std::string token;
  std::optional<std::int64_t> started_at, ready_at, last_activity_at;
  std::string stop_reason;
  std::int64_t charged_cpu_ns = 0;
  std::optional<std::int64_t> charged_at_ms;
};

namespace {

constexpr char kColumns[] =
    "user_id, account_id, running, cpu_milli, memory_bytes, gpus, jupyter_token, started_at, ready_at, "
    "last_activity_at, stop_reason, charged_cpu_ns, charged_at_ms";
constexpr char kPodWorkspace[] = "/data/workspace";
constexpr char kPodHome[] = "/home/jovyan";

std::optional<std::int64_t> OptionalInt(const db::Rows& rows, std::size_t i, const char* column) {
  if (rows.IsNull(i, column)) return std::nullopt;
  return rows.Int(i, column);
}

std::string RandomHex(int bytes) {
  std::random_device random;
  std::string out;
  for (int i = 0; i < bytes; ++i) {
    unsigned byte = random() & 0xff;
    out += "0123456789abcdef"[byte >> 4];
    out += "0123456789abcdef"[byte & 15];
  }
  return out;
}

std::string LogTail(const std::string& path, std::size_t bytes = 4096) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff from = size > static_cast<std::streamoff>(bytes) ? size - static_cast<std::streamoff>(bytes) : 0;
  in.seekg(from);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (from > 0) {
    auto newline = text.find('\n');
    if (newline != std::string::npos) text.erase(0, newline + 1);
  }
  return text;
}

std::string StoppedMessage(const std::string& reason, std::chrono::seconds idle_timeout,
                           std::chrono::seconds max_age) {
  auto span = [](std::chrono::seconds s) {
    if (s.count() % 3600 == 0) return std::to_string(s.count() / 3600) + " h";
    if (s.count() % 60 == 0) return std::to_string(s.count() / 60) + " min";
    return std::to_string(s.count()) + " s";
  };
  if (reason == "user") return "stopped; its files are kept";
  if (reason == "idle") return "stopped after " + span(idle_timeout) + " without activity; its files are kept";
  if (reason == "max_age") return "stopped after running " + span(max_age) + "; its files are kept";
  if (reason == "server") return "its server was lost; its files are kept";
  return "";
}

jobs::Amounts AmountsOf(const cluster::Resources& r) {
  return {.cpu_milli = r.cpu_milli, .memory_bytes = r.memory_bytes, .gpus = r.gpus, .running_jobs = 0};
}

}  // namespace

NotebookService::NotebookService(db::Database& database, cluster::ClusterBackend& backend,
                                 accounts::AccountService& accounts, jobs::QuotaStore& quotas, jobs::JobService& jobs,
                                 monitoring::Accounting& accounting, NotebookOptions options)
    : db_(database), backend_(backend), accounts_(accounts), quotas_(quotas), jobs_(jobs), accounting_(accounting),
      options_(std::move(options)) {}

std::string NotebookService::ServiceName(std::int64_t user_id) { return "notebook-" + std::to_string(user_id); }
std::string NotebookService::BaseUrl(std::int64_t user_id) { return "/user/" + std::to_string(user_id) + "/"; }

std::int64_t NotebookService::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<std::optional<NotebookService::Row>> NotebookService::Load(const std::string& account_id,
                                                                  std::int64_t user_id) {
  auto rows = db::TenantScope(db_, account_id)
                  .Query(std::string("SELECT ") + kColumns + " FROM notebooks WHERE account_id = :account AND user_id = ?",
                         {user_id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return std::optional<Row>();
  return std::optional<Row>(RowFrom(*rows, 0));
}

NotebookService::Row NotebookService::RowFrom(const db::Rows& rows, std::size_t i) {
  return Row{.user_id = rows.Int(i, "user_id"),
             .account_id = rows.Text(i, "account_id"),
             .running = rows.Int(i, "running") != 0,
             .resources = {rows.Int(i, "cpu_milli"), rows.Int(i, "memory_bytes"), rows.Int(i, "gpus")},
             .token = rows.Text(i, "jupyter_token"),
             .started_at = OptionalInt(rows, i, "started_at"),
             .ready_at = OptionalInt(rows, i, "ready_at"),
             .last_activity_at = OptionalInt(rows, i, "last_activity_at"),
             .stop_reason = rows.Text(i, "stop_reason"),
             .charged_cpu_ns = rows.Int(i, "charged_cpu_ns"),
             .charged_at_ms = OptionalInt(rows, i, "charged_at_ms")};
}

// The notebook as the backend shows it now; notes readiness in the database and the upstream in
// memory.
Notebook NotebookService::Observe(const Row& row) {
  Notebook nb{.resources = row.resources,
              .started_at = row.started_at,
              .ready_at = row.ready_at,
              .last_activity_at = row.last_activity_at,
              .url = BaseUrl(row.user_id) + "tree"};
  auto forget_upstream = [&] {
    std::lock_guard lock(mutex_);
    upstreams_.erase(row.user_id);
  };
  if (!row.running) {
    forget_upstream();
    nb.reason = row.stop_reason;
    nb.message = StoppedMessage(row.stop_reason, options_.idle_timeout, options_.max_age);
    return nb;
  }
  auto replicas = backend_.GetReplicas(row.account_id, ServiceName(row.user_id));
  if (!replicas || replicas->empty()) {
    forget_upstream();
    nb.state = "starting";
    nb.reason = "Unknown";
    nb.message = replicas ? "no replica yet" : replicas.error().message();
    return nb;
  }
  const cluster::ReplicaStatus& replica = replicas->front();
  nb.restarts = replica.restarts;
  switch (replica.phase) {
    case ReplicaPhase::kReady: {
      nb.state = "running";
      if (!nb.ready_at) {
        nb.ready_at = Now();
        auto noted = db::TenantScope(db_, row.account_id)
                         .Execute("UPDATE notebooks SET ready_at = ? WHERE account_id = :account AND user_id = ? AND "
                                  "running = 1 AND ready_at IS NULL",
                                  {*nb.ready_at, row.user_id});
        if (!noted) spdlog::warn("notebook of user {}: readiness not recorded: {}", row.user_id, noted.error().message());
      }
      auto colon = replica.endpoint.rfind(':');
      if (colon != std::string::npos) {
        std::lock_guard lock(mutex_);
        upstreams_[row.user_id] = {replica.endpoint.substr(0, colon),
                                   static_cast<std::uint16_t>(std::stoi(replica.endpoint.substr(colon + 1))), row.token};
      }
      return nb;
    }
    case ReplicaPhase::kPending:
      nb.state = "starting";
      nb.reason = replica.reason;
      nb.message = replica.reason;
      break;
    case ReplicaPhase::kStarting:
      nb.state = "starting";
      nb.reason = "Starting";
      nb.message = "Jupyter is starting";
      break;
    case ReplicaPhase::kNotReady:
    case ReplicaPhase::kFailed:
      // A Jupyter that exited (and keeps exiting) has failed; one not answering yet is starting.
      if (replica.phase == ReplicaPhase::kFailed || replica.restarts > 0 || replica.reason == "CrashLoopBackOff") {
        nb.state = "failed";
        nb.reason = replica.reason;
        nb.message = replica.message.empty() ? replica.reason : replica.message;
        nb.log_tail = LogTail(replica.log_path);
      } else {
        nb.state = "starting";
        nb.reason = replica.reason;
        nb.message = replica.message;
      }
      break;
  }
  forget_upstream();
  return nb;
}

Result<Notebook> NotebookService::Get(const Principal& principal) {
  // Under the user's lock: a start or stop between reading the row and observing the replica
  // would otherwise leave the proxy a stale upstream.
  auto lock = user_locks_.Lock(std::to_string(principal.user_id));
  auto row = Load(principal.account_id, principal.user_id);
  if (!row) return Err(row.error());
  if (!*row) return Notebook{.resources = options_.defaults, .url = BaseUrl(principal.user_id) + "tree"};
  return Observe(**row);
}

Result<cluster::ServiceRun> NotebookService::BuildService(const Principal& principal,
                                                           const cluster::Resources& resources,
                                                           const std::string& jupyter_token) {
  fs::path space = fs::path(options_.files_dir) / principal.account_id;
  fs::path workspace = space / "workspace" / std::to_string(principal.user_id);
  fs::path own = fs::path(options_.notebooks_dir) / principal.account_id / std::to_string(principal.user_id);
  std::error_code ec;
  for (const fs::path& folder : {space / "datasets", space / "models", workspace, own / "home", own / "logs"}) {
    fs::create_directories(folder, ec);
    if (ec) return Err(Status::Unavailable("cannot create the notebook's folder " + folder.filename().string() + ": " + ec.message()));
  }
  PlaceTemplate(workspace.string(), own.string());
  auto api_token = accounts_.tokens().CreateNotebookToken(principal);
  if (!api_token) return Err(api_token.error());

  std::string base_url = BaseUrl(principal.user_id);
  cluster::ServiceRun run{
      .namespace_name = principal.account_id,
      .name = ServiceName(principal.user_id),
      // Jupyter's own settings are flags; its token comes from the environment, never the command line.
      // The user it runs as is the cluster's to choose (a pod uid here, runAsNonRoot on Kubernetes).
      .command = "exec /usr/bin/python3 -m notebook --no-browser --allow-root --ip=\"${POD_IP:-127.0.0.1}\" --port=\"$PORT\" --port-retries=0 "
                 "--NotebookApp.base_url=" + base_url + " --NotebookApp.allow_remote_access=True "
                 "--NotebookApp.notebook_dir=" + kPodWorkspace + " --NotebookApp.quit_button=False",
      .working_dir = kPodWorkspace,
      .env = {{"HOME", kPodHome},
              {"JUPYTER_RUNTIME_DIR", std::string(kPodHome) + "/.local/share/jupyter/runtime"},
              {"PADDLE_CLOUD_URL", options_.pod_api_url ? options_.pod_api_url() : ""},
              {"PADDLE_CLOUD_WEB_URL", options_.web_url ? options_.web_url() : ""},
              {"PADDLE_CLOUD_DATA", jobs::kPodDataDir},
              {"PADDLE_CLOUD_PUBLIC", jobs::kPodPublicDir},
              {"PADDLE_CLOUD_SHARED", jobs::kPodSharedDir},
              {"PADDLE_CLOUD_NOTEBOOK", "1"}},
      .secret_env = {{"JUPYTER_TOKEN", jupyter_token}, {"PADDLE_CLOUD_TOKEN", *api_token}},
      .mounts = {{(space / "datasets").string(), std::string(jobs::kPodDataDir) + "/datasets", false},
                 {(space / "models").string(), std::string(jobs::kPodDataDir) + "/models", false},
                 {workspace.string(), kPodWorkspace, false},
                 {(own / "home").string(), kPodHome, false}},
      .requests = resources,
      .replicas = 1,
      .port = 8888,
      // Jupyter's version, which it answers without the token: the probe, part of the spec, holds no secret.
      .readiness = cluster::HttpProbe{.path = base_url + "api",
                                      .period = std::chrono::milliseconds(250),
                                      .timeout = std::chrono::seconds(2),
                                      .failure_threshold = 3,
                                      .startup_grace = std::chrono::seconds(120)},
      .max_backoff = std::chrono::seconds(30),
      .logs_dir = (own / "logs").string()};
  if (!options_.python_sdk_dir.empty()) {
    run.mounts.push_back({options_.python_sdk_dir, jobs::kPodSdkDir, true});
    run.env["PYTHONPATH"] = jobs::kPodSdkDir;
  }
  if (options_.read_only_mounts)
    for (auto& m : options_.read_only_mounts(principal.account_id)) run.mounts.push_back(std::move(m));
  return run;
}

// The template goes into the workspace once per user (a marker beside the home remembers it), never
// over a file of the user's: created exclusively, refusing a link planted under its name.
void NotebookService::PlaceTemplate(const std::string& workspace, const std::string& marker_dir) {
  if (options_.template_name.empty()) return;
  std::string marker = marker_dir + "/template-placed";
  if (fs::exists(marker)) return;
  int dir = ::open(workspace.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (dir < 0) return;
  int fd = ::openat(dir, options_.template_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  ::close(dir);
  if (fd >= 0) {
    const std::string& content = options_.template_content;
    bool written = ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size());
    ::close(fd);
    if (!written) spdlog::warn("the notebook template in {} was not written whole", workspace);
  }
  Status noted = fsutil::WriteFileAtomic(marker, "", {.durable = false});
  if (!noted.ok()) spdlog::warn("notebook template marker: {}", noted.message());
}

Result<Notebook> NotebookService::Start(const Principal& principal, const std::optional<cluster::Resources>& asked,
                                        bool* changed) {
  auto lock = user_locks_.Lock(std::to_string(principal.user_id));
  if (changed) *changed = false;
  auto row = Load(principal.account_id, principal.user_id);
  if (!row) return Err(row.error());
  cluster::Resources resources = asked ? *asked : *row ? (*row)->resources : options_.defaults;
  if (*row && (*row)->running) {
    if ((*row)->resources.cpu_milli == resources.cpu_milli && (*row)->resources.memory_bytes == resources.memory_bytes &&
        (*row)->resources.gpus == resources.gpus)
      return Observe(**row);
    return Err(Status::Conflict("the notebook runs with other resources: restart it to change them"));
  }
  PC_RETURN_IF_ERROR(jobs_.CheckPodFitsCluster(resources, "a notebook"));
  PC_RETURN_IF_ERROR(jobs_.CheckWorkloadFits(principal, AmountsOf(resources), "the notebook"));

  std::string jupyter_token = RandomHex(24);
  auto service = BuildService(principal, resources, jupyter_token);
  if (!service) return Err(service.error());
  std::int64_t now = Now();
  auto saved = db::TenantScope(db_, principal.account_id)
                   .Execute("INSERT INTO notebooks (user_id, account_id, running, cpu_milli, memory_bytes, gpus, "
                            "jupyter_token, started_at, ready_at, last_activity_at, stop_reason) "
                            "VALUES (?, :account, 1, ?, ?, ?, ?, ?, NULL, ?, '') "
                            "ON CONFLICT (user_id) DO UPDATE SET running = 1, cpu_milli = excluded.cpu_milli, "
                            "memory_bytes = excluded.memory_bytes, gpus = excluded.gpus, "
                            "jupyter_token = excluded.jupyter_token, started_at = excluded.started_at, ready_at = NULL, "
                            "last_activity_at = excluded.last_activity_at, stop_reason = '', charged_cpu_ns = 0, "
                            "charged_at_ms = NULL",
                            {principal.user_id, resources.cpu_milli, resources.memory_bytes, resources.gpus, jupyter_token,
                             now, now});
  if (!saved) return Err(saved.error());
  Status applied = backend_.ApplyService(*service);
  if (applied.code() == Code::kConflict) {
    // A replica of an earlier start that was never deleted (the platform stopped mid-stop): replace it.
    (void)backend_.DeleteService(principal.account_id, ServiceName(principal.user_id), options_.stop_grace);
    applied = backend_.ApplyService(*service);
  }
  if (!applied.ok()) {
    (void)db::TenantScope(db_, principal.account_id)
        .Execute("UPDATE notebooks SET running = 0, stop_reason = '' WHERE account_id = :account AND user_id = ?",
                 {principal.user_id});
    (void)accounts_.tokens().RevokeNotebookTokens(principal.account_id, principal.user_id);
    return Err(applied);
  }
  {
    std::lock_guard guard(mutex_);
    last_proxied_.erase(principal.user_id);
  }
  if (changed) *changed = true;
  spdlog::info("notebook of user {} (account {}) started with {} CPU, {} memory, {} GPUs", principal.user_id,
               principal.account_id, units::CpuQuantity(resources.cpu_milli), units::ByteQuantity(resources.memory_bytes),
               resources.gpus);
  auto started = Load(principal.account_id, principal.user_id);
  if (!started) return Err(started.error());
  return Observe(**started);
}

Status NotebookService::StopRow(const Row& row, const std::string& reason) {
  Charge(row, Now());  // what it used since the last pass
  Status deleted = backend_.DeleteService(row.account_id, ServiceName(row.user_id), options_.stop_grace);
  if (!deleted.ok() && deleted.code() != Code::kNotFound) return deleted;
  {
    std::lock_guard lock(mutex_);
    upstreams_.erase(row.user_id);
    last_proxied_.erase(row.user_id);
  }
  PC_RETURN_IF_ERROR(accounts_.tokens().RevokeNotebookTokens(row.account_id, row.user_id));
  auto saved = db::TenantScope(db_, row.account_id)
                   .Execute("UPDATE notebooks SET running = 0, stop_reason = ?, jupyter_token = '' "
                            "WHERE account_id = :account AND user_id = ?",
                            {reason, row.user_id});
  if (!saved) return saved.error();
  spdlog::info("notebook of user {} (account {}) stopped ({})", row.user_id, row.account_id, reason);
  return Status::Ok();
}

Result<Notebook> NotebookService::Stop(const Principal& principal) {
  auto lock = user_locks_.Lock(std::to_string(principal.user_id));
  auto row = Load(principal.account_id, principal.user_id);
  if (!row) return Err(row.error());
  if (!*row) return Notebook{.resources = options_.defaults, .url = BaseUrl(principal.user_id) + "tree"};
  if ((*row)->running) PC_RETURN_IF_ERROR(StopRow(**row, "user"));
  auto stopped = Load(principal.account_id, principal.user_id);
  if (!stopped) return Err(stopped.error());
  return Observe(**stopped);
}

Result<Notebook> NotebookService::Restart(const Principal& principal,
                                          const std::optional<cluster::Resources>& resources) {
  auto stopped = Stop(principal);
  if (!stopped) return stopped;
  return Start(principal, resources);
}

Result<std::vector<UserNotebook>> NotebookService::List(const Principal& principal) {
  std::vector<std::pair<std::int64_t, std::string>> users;
  if (principal.master) {
    auto members = accounts_.members().ListMembers(principal);
    if (!members) return Err(members.error());
    for (const auto& user : *members) users.emplace_back(user.id, user.email);
  } else {
    users.emplace_back(principal.user_id, principal.email);
  }
  auto rows = db::TenantScope(db_, principal.account_id).Query("SELECT user_id FROM notebooks WHERE account_id = :account");
  if (!rows) return Err(rows.error());
  std::set<std::int64_t> with_row;
  for (std::size_t i = 0; i < rows->size(); ++i) with_row.insert(rows->Int(i, "user_id"));
  std::vector<UserNotebook> out;
  for (const auto& [user_id, email] : users) {
    UserNotebook item{.user_id = user_id, .email = email};
    if (with_row.contains(user_id)) {
      auto notebook = Get(Principal{.user_id = user_id, .account_id = principal.account_id});
      if (!notebook) return Err(notebook.error());
      item.notebook = std::move(*notebook);
    } else {
      item.notebook = Notebook{.resources = options_.defaults, .url = BaseUrl(user_id) + "tree"};
    }
    out.push_back(std::move(item));
  }
  return out;
}

std::optional<JupyterUpstream> NotebookService::CachedUpstream(std::int64_t user_id) {
  std::lock_guard lock(mutex_);
  auto found = upstreams_.find(user_id);
  if (found == upstreams_.end()) return std::nullopt;
  return found->second;
}

Result<JupyterUpstream> NotebookService::Upstream(std::int64_t user_id, const std::string& account_id) {
  if (auto cached = CachedUpstream(user_id)) return *cached;
  auto lock = user_locks_.Lock(std::to_string(user_id));
  auto row = Load(account_id, user_id);
  if (!row) return Err(row.error());
  if (*row && (*row)->running) {
    Notebook nb = Observe(**row);
    if (auto cached = CachedUpstream(user_id)) return *cached;
    if (nb.state == "starting") return Err(Status::Unavailable("your notebook is starting: try again in a moment"));
  }
  return Err(Status::NotFound("your notebook is not running: start it from the Notebook page"));
}

void NotebookService::NoteProxied(std::int64_t user_id) {
  std::int64_t now = Now();
  std::lock_guard lock(mutex_);
  last_proxied_[user_id] = now;
}

Result<std::map<std::int64_t, jobs::Amounts>> NotebookService::InUseByUser(const std::string& account_id) {
  auto rows = db::TenantScope(db_, account_id)
                  .Query("SELECT user_id, cpu_milli, memory_bytes, gpus FROM notebooks "
                         "WHERE account_id = :account AND running = 1");
  if (!rows) return Err(rows.error());
  std::map<std::int64_t, jobs::Amounts> in_use;
  for (std::size_t i = 0; i < rows->size(); ++i)
    in_use[rows->Int(i, "user_id")] +=
        AmountsOf({rows->Int(i, "cpu_milli"), rows->Int(i, "memory_bytes"), rows->Int(i, "gpus")});
  return in_use;
}

void NotebookService::Reconcile() {
  auto rows = db_.Query("SELECT account_id, user_id FROM notebooks WHERE running = 1");
  if (!rows) {
    spdlog::warn("notebooks: {}", rows.error().message());
    return;
  }
  for (std::size_t i = 0; i < rows->size(); ++i) {
    try {
      CullOrCharge(rows->Text(i, "account_id"), rows->Int(i, "user_id"));
    } catch (const std::exception& e) {
      spdlog::error("notebook of user {}: {}", rows->Int(i, "user_id"), e.what());
    }
  }
}

// Stops the notebook when its replica is gone, when it is idle past the timeout or too old;
// otherwise records its activity and charges what it used since the last pass.
void NotebookService::CullOrCharge(const std::string& account_id, std::int64_t user_id) {
  auto lock = user_locks_.Lock(std::to_string(user_id));
  auto loaded = Load(account_id, user_id);  // again under the lock: a start or stop may have come between
  if (!loaded || !*loaded || !(*loaded)->running) return;
  const Row& row = **loaded;
  std::int64_t now = Now();
  auto replicas = backend_.GetReplicas(row.account_id, ServiceName(row.user_id));
  if (!replicas && replicas.error().code() == Code::kNotFound) {
    Status stopped = StopRow(row, "server");
    if (!stopped.ok()) spdlog::warn("notebook of user {}: {}", row.user_id, stopped.message());
    return;
  }
  Notebook nb = Observe(row);
  std::int64_t last = row.last_activity_at.value_or(row.started_at.value_or(now));
  {
    std::lock_guard guard(mutex_);
    if (auto p = last_proxied_.find(row.user_id); p != last_proxied_.end()) last = std::max(last, p->second);
  }
  if (nb.state == "running") {
    if (auto upstream = CachedUpstream(row.user_id)) {
      auto jupyter = JupyterLastActivity(upstream->host + ":" + std::to_string(upstream->port), BaseUrl(row.user_id),
                                         row.token, now);
      if (jupyter) last = std::max(last, std::min(*jupyter, now));
    }
  }
  if (!row.last_activity_at || last > *row.last_activity_at) {
    auto noted = db::TenantScope(db_, row.account_id)
                     .Execute("UPDATE notebooks SET last_activity_at = ? WHERE account_id = :account AND user_id = ?",
                              {last, row.user_id});
    if (!noted) spdlog::warn("notebook of user {}: activity not recorded: {}", row.user_id, noted.error().message());
  }
  std::string cull;
  if (options_.idle_timeout.count() > 0 && now - last >= options_.idle_timeout.count()) cull = "idle";
  else if (options_.max_age.count() > 0 && now - row.started_at.value_or(now) >= options_.max_age.count()) cull = "max_age";

  if (cull.empty()) {
    Charge(row, now);
  } else {
    Status stopped = StopRow(row, cull);
    if (!stopped.ok()) spdlog::warn("notebook of user {}: not stopped ({}): {}", row.user_id, cull, stopped.message());
  }
}

// Charges the CPU the replica used since the last charge (its counter counts from the replica's
// start: one that went down is a restarted replica, charged from zero) and the GPUs it held.
void NotebookService::Charge(const Row& row, std::int64_t now) {
  auto usage = backend_.GetServiceUsage(row.account_id, ServiceName(row.user_id));
  if (!usage || usage->pods.empty() || !usage->pods.front().cpu_ns) return;
  std::uint64_t cpu_ns = *usage->pods.front().cpu_ns;
  auto charged_cpu = static_cast<std::uint64_t>(row.charged_cpu_ns);
  std::int64_t since_ms = row.charged_at_ms.value_or(row.started_at.value_or(now) * 1000);
  monitoring::PodCharge charge{
      .account_id = row.account_id,
      .user_id = row.user_id,
      .job_id = 0,
      .pod = ServiceName(row.user_id),
      .at_s = now,
      .cpu_seconds = static_cast<double>(cpu_ns >= charged_cpu ? cpu_ns - charged_cpu : cpu_ns) / 1e9,
      .gpu_seconds = static_cast<double>(row.resources.gpus) * static_cast<double>(std::max<std::int64_t>(0, usage->at_ms - since_ms)) / 1000};
  // Recorded first: a crash between the two loses a pass's charge rather than charging it twice.
  auto noted = db::TenantScope(db_, row.account_id)
                   .Execute("UPDATE notebooks SET charged_cpu_ns = ?, charged_at_ms = ? "
                            "WHERE account_id = :account AND user_id = ? AND running = 1",
                            {static_cast<std::int64_t>(cpu_ns), usage->at_ms, row.user_id});
  if (!noted || noted->rows_affected == 0) return;
  if (Status charged = accounting_.Charge({charge}); !charged.ok())
    spdlog::warn("notebook of user {}: usage not charged: {}", row.user_id, charged.message());
}

}  // namespace paddlecloud::notebooks
