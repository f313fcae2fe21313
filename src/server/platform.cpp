#include "server/platform.h"

#include <fcntl.h>
#include <csignal>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <spdlog/spdlog.h>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "api/account_routes.h"
#include "common/fs.h"
#include "api/auth_middleware.h"
#include "api/certificate_routes.h"
#include "api/file_routes.h"
#include "api/job_routes.h"
#include "api/usage_routes.h"
#include "api/quota_routes.h"
#include "api/board_routes.h"
#include "api/notebook_routes.h"
#include "api/serving_routes.h"
#include "serving/python_worker.h"
#include "notebooks/notebook_template.h"
#include "files/local/local_file_store.h"
#include "cluster/local/local_backend.h"
#include "cluster/kubernetes/kube_config.h"
#include "cluster/kubernetes/kubernetes_backend.h"
#include "http/middleware.h"
#include "http/server.h"
#include "http/static_files.h"
#include "jobs/python_sdk.h"
#include "security/security_headers.h"
#include "leader/leader_lease.h"
#include "postgres/postgres_database.h"
#include "sqlite/sqlite_database.h"
#include "webassets/web_assets.h"

namespace paddlecloud::server {

namespace fs = std::filesystem;

std::vector<db::Migration> PlatformMigrations() {
  std::vector<db::Migration> all = {
      {1, "platform settings",
       "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
       "INSERT INTO settings (key, value) VALUES ('created_at', strftime('%Y-%m-%dT%H:%M:%SZ', 'now'));",
       "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
       "INSERT INTO settings (key, value) "
       "VALUES ('created_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'));"},
  };
  for (auto& m : accounts::AccountMigrations()) all.push_back(std::move(m));
  for (auto& m : jobs::JobMigrations()) all.push_back(std::move(m));
  for (auto& m : files::FileMigrations()) all.push_back(std::move(m));
  for (auto& m : monitoring::AccountingMigrations()) all.push_back(std::move(m));
  for (auto& m : board::BoardMigrations()) all.push_back(std::move(m));
  for (auto& m : notebooks::NotebookMigrations()) all.push_back(std::move(m));
  for (auto& m : serving::ServingMigrations()) all.push_back(std::move(m));
  for (auto& m : leader::LeaderMigrations()) all.push_back(std::move(m));
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.version < b.version; });
  return all;
}

Result<std::unique_ptr<db::Database>> OpenPlatformDatabase(const std::string& data_dir, const std::string& database_url,
                                                           int pool_size) {
  if (!database_url.empty()) return db::OpenPostgresDatabase({.url = database_url, .pool_size = pool_size});
  return db::OpenSqliteDatabase(
      {.path = (fs::path(data_dir) / "paddlecloud.db").string(), .busy_timeout_ms = 5000, .pool_size = pool_size});
}

Result<std::unique_ptr<DataDirLock>> DataDirLock::Acquire(const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(data_dir, ec);
  if (ec) return Err(Status::Unavailable("cannot create data dir '" + data_dir + "': " + ec.message()));
  std::string path = (fs::path(data_dir) / "paddlecloud.lock").string();
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Err(Status::Unavailable("cannot open lock file '" + path + "': " + std::strerror(errno)));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char pid[32] = {};
    ssize_t n = ::pread(fd, pid, sizeof pid - 1, 0);
    ::close(fd);
    std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : "unknown";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    return Err(Status::Unavailable("data dir '" + data_dir + "' is in use by another paddlecloud server (pid " + holder +
                                   "); stop it first or choose another --data-dir"));
  }
  std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
    spdlog::warn("could not record pid in {}", path);
  }
  return std::unique_ptr<DataDirLock>(new DataDirLock(fd));
}

DataDirLock::~DataDirLock() { ::close(fd_); }

namespace {

bool IsLoopbackListen(const std::string& host) {
  return host == "localhost" || host == "[::1]" || host == "::1" || host.starts_with("127.");
}

// Platform-wide figures for the operator: every account's jobs, the cluster's capacity and use.
void CollectJobMetrics(jobs::JobService& jobs, metrics::Registry& r) {
  if (auto totals = jobs.PlatformTotals()) {
    for (const auto& [state, count] : totals->jobs_by_state)
      r.GetGauge("paddlecloud_jobs", "Jobs of every account, by state.", {{"state", state}})
          .Set(static_cast<double>(count));
    r.GetGauge("paddlecloud_pods_running", "Running pods of unfinished jobs.").Set(static_cast<double>(totals->pods_running));
  }
  cluster::Capacity capacity = jobs.Capacity();
  for (const auto& [kind, resources] : {std::pair{"capacity", capacity.total}, std::pair{"requested", capacity.in_use}}) {
    metrics::Labels labels{{"kind", kind}};
    r.GetGauge("paddlecloud_cluster_cpu_cores", "CPU cores: the cluster's capacity and what admitted pods request.", labels)
        .Set(static_cast<double>(resources.cpu_milli) / 1000);
    r.GetGauge("paddlecloud_cluster_memory_bytes", "Memory: the cluster's capacity and what admitted pods request.",
               labels)
        .Set(static_cast<double>(resources.memory_bytes));
    r.GetGauge("paddlecloud_cluster_gpus", "GPUs: the cluster's capacity and what admitted pods request.", labels)
        .Set(static_cast<double>(resources.gpus));
  }
}

// The sampler's health: how old its newest pass is (grows when it falls behind) and what one costs.
void CollectSamplerMetrics(const monitoring::UsageSampler& sampler, metrics::Registry& r) {
  monitoring::UsageSampler::Stats stats = sampler.stats();
  double age = 0;
  if (stats.last_pass_ms > 0) {
    auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    age = static_cast<double>(now - stats.last_pass_ms) / 1000;
  }
  r.GetGauge("paddlecloud_usage_sampler_lag_seconds",
             "Seconds since the usage sampler's last pass started (about usage_interval when it keeps up).")
      .Set(age);
  r.GetGauge("paddlecloud_usage_sampler_pass_seconds", "How long the usage sampler's last pass over running pods took.")
      .Set(stats.last_pass_seconds);
}

}  // namespace

Result<std::unique_ptr<Platform>> Platform::Create(const config::ServerConfig& config) {
  std::unique_ptr<Platform> p(new Platform());
  PC_RETURN_IF_ERROR(p->OpenStorage(config));
  PC_RETURN_IF_ERROR(p->AddAccounts(config));
  PC_RETURN_IF_ERROR(p->AddFiles(config));
  PC_RETURN_IF_ERROR(p->AddJobs(config));
  PC_RETURN_IF_ERROR(p->AddNotebooks(config));
  PC_RETURN_IF_ERROR(p->AddServing(config));
  PC_RETURN_IF_ERROR(p->AddWebApp(config));
  return p;
}

Status Platform::OpenStorage(const config::ServerConfig& config) {
  // On PostgreSQL, servers sharing the data dir take turns by the leadership lease (RunServer): a
  // file lock would be held on by a paused ex-leader and keep its successor out.
  if (config.database_url.empty()) {
    auto lock = DataDirLock::Acquire(config.data_dir);
    if (!lock) return lock.error();
    lock_ = std::move(*lock);
  }

  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  int blocking_threads = config.blocking_threads > 0 ? config.blocking_threads : 4 * cores;
  pool_ = std::make_unique<blocking::WorkPool>(blocking_threads);

  auto database = OpenPlatformDatabase(config.data_dir, config.database_url, std::min(blocking_threads, 8));
  if (!database) return database.error();
  database_ = std::move(*database);
  auto migrations = PlatformMigrations();
  PC_RETURN_IF_ERROR(database_->Migrate(migrations));

  metrics::RegisterProcessCollector(metrics_);
  metrics_.AddCollector([database = database_.get()](metrics::Registry& r) {
    db::Database::PoolStats pool = database->Pool();
    r.GetGauge("paddlecloud_db_pool_size", "Connections the database pool may hold.").Set(pool.size);
    for (auto [state, n] : {std::pair{"in_use", pool.in_use}, std::pair{"idle", pool.open - pool.in_use}})
      r.GetGauge("paddlecloud_db_connections", "Open database connections, by whether a caller holds them.",
                 {{"state", state}})
          .Set(n);
  });
  ops_ = std::make_unique<ops::OpsContext>(ops::OpsContext{
      .database = *database_,
      .pool = *pool_,
      .metrics = metrics_,
      .expected_schema_version = migrations.back().version,
      .metrics_access = config.metrics_access,
      .metrics_token = config.metrics_token,
  });
  ops::AddOpsRoutes(router_, *ops_);
  security::AddCspReportRoute(router_, metrics_);
  return Status::Ok();
}

void Platform::SetLeadership(std::function<std::string()> describe, std::function<std::int64_t()> epoch) {
  ops_->leadership = std::move(describe);
  metrics_.AddCollector([epoch = std::move(epoch)](metrics::Registry& r) {
    r.GetGauge("paddlecloud_leader_epoch",
               "The epoch of the leadership lease this server holds (0: none); grows with each change of leader.")
        .Set(static_cast<double>(epoch()));
  });
}

Status Platform::AddAccounts(const config::ServerConfig& config) {

  auto mailer = mail::MakeMailer({.smtp_host = config.smtp_host,
                                  .smtp_port = config.smtp_port,
                                  .smtp_security = config.smtp_security,
                                  .smtp_user = config.smtp_user,
                                  .smtp_password = config.smtp_password,
                                  .from = config.mail_from,
                                  .outbox_dir = (fs::path(config.data_dir) / "outbox").string()});
  if (!mailer) return mailer.error();
  mailer_ = std::move(*mailer);
  *public_url_ = config.public_url;
  accounts::AccountsOptions account_options;
  account_options.public_url_source = [url = public_url_] { return *url; };
  accounts_ = std::make_unique<accounts::AccountService>(*database_, *mailer_, account_options);
  api::AddAccountRoutes(router_, *accounts_, *pool_, account_options.session_absolute);

  auto ca = config.ca_cert.empty() ? pki::CertificateAuthority::OpenOrCreate((fs::path(config.data_dir) / "ca").string())
                                   : pki::CertificateAuthority::Open(config.ca_cert, config.ca_key);
  if (!ca) return ca.error();
  ca_ = std::move(*ca);
  api::AddCertificateRoutes(router_, *accounts_, *ca_, *pool_);
  return Status::Ok();
}

Status Platform::AddFiles(const config::ServerConfig& config) {

  auto store = files::MakeLocalFileStore((fs::path(config.data_dir) / "files").string());
  if (!store) return store.error();
  file_store_ = std::move(*store);
  for (const char* space : {"public/datasets", "public/models"}) PC_RETURN_IF_ERROR(file_store_->MakeFolder(space));
  db::Database& platform_db = *database_;
  packages_ = std::make_unique<jobs::PackageStore>(
      fs::absolute(fs::path(config.data_dir) / "jobs").lexically_normal().string());
  package_ttl_ = std::chrono::duration_cast<std::chrono::seconds>(config.upload_ttl);
  auto quota_or_none = [](std::int64_t amount) { return amount > 0 ? std::optional(amount) : std::nullopt; };
  quotas_ = std::make_unique<jobs::QuotaStore>(
      platform_db, jobs::QuotaDefaults{.quota = {.jobs = {.cpu_milli = quota_or_none(config.quota_cpu_milli),
                                                          .memory_bytes = quota_or_none(config.quota_memory_bytes),
                                                          .gpus = quota_or_none(config.quota_gpus),
                                                          .running_jobs = quota_or_none(config.quota_running_jobs)},
                                                 .storage_bytes = static_cast<std::int64_t>(config.storage_quota)}});
  files_ = std::make_unique<files::FileService>(
      platform_db, *file_store_,
      files::FilesOptions{.quota_bytes = config.storage_quota,
                          .upload_ttl = std::chrono::duration_cast<std::chrono::seconds>(config.upload_ttl),
                          .account_exists = [accounts = accounts_.get()](const std::string& account) {
                            return accounts->directory().AccountExists(account);
                          },
                          .package_bytes = [packages = packages_.get()](const std::string& account) {
                            return packages->Usage(account);
                          },
                          .quota_bytes_of = [quotas = quotas_.get(), fallback = config.storage_quota](
                                                const std::string& account) -> std::uint64_t {
                            auto quota = quotas->QuotaOf(account);
                            if (!quota) return fallback;
                            return quota->storage_bytes ? static_cast<std::uint64_t>(*quota->storage_bytes) : UINT64_MAX;
                          }});
  api::AddFileRoutes(router_, *files_, *pool_,
                     [accounts = accounts_.get()](const Principal& principal, const std::string& event,
                                                     const accounts::RequestMeta& meta, const boost::json::object& details) {
                       accounts->audit().RecordAudit(principal, event, meta, details);
                     });
  return Status::Ok();
}

class Wakeup {
 public:
  void Notify() {
    {
      std::lock_guard lock(mutex_);
      pending_ = true;
    }
    wake_.notify_all();
  }
  // Sleeps until `deadline`, a Notify or a stop; consumes the notification.
  void WaitUntil(std::stop_token stop, std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    wake_.wait_until(lock, stop, deadline, [this] { return pending_; });
    pending_ = false;
  }

 private:
  std::mutex mutex_;
  std::condition_variable_any wake_;
  bool pending_ = false;
};

Result<std::unique_ptr<cluster::ClusterBackend>> Platform::MakeKubernetesBackend(const config::ServerConfig& config) {
  namespace k8s = cluster::kubernetes;
  auto connection = config.kubeconfig.empty() ? k8s::LoadInCluster() : k8s::LoadKubeconfig(config.kubeconfig);
  if (!connection) return Err(connection.error());
  k8s::KubernetesBackendOptions options{
      .mapping = {.data_dir = fs::weakly_canonical(fs::absolute(config.data_dir)).string(),
                  .platform_namespace = config.kubernetes_platform_namespace,
                  .default_image = config.kubernetes_default_image.empty()
                                       ? "paddlecloud/training:" + std::string(ops::Version())
                                       : config.kubernetes_default_image,
                  .storage_class = config.kubernetes_storage_class,
                  .nfs_server = config.kubernetes_nfs_server,
                  .nfs_path = config.kubernetes_nfs_path,
                  .job_kind = config.kubernetes_job_kind == "paddlejob" ? k8s::JobKind::kPaddleJob : k8s::JobKind::kNative},
      .state_dir = (fs::path(config.data_dir) / "cluster" / "kubernetes").string(),
      .quota_of = [quotas = quotas_.get()](const std::string& account) {
        k8s::NamespaceQuota quota;
        if (auto of = quotas->QuotaOf(account)) {
          quota.cpu_milli = of->jobs.cpu_milli;
          quota.memory_bytes = of->jobs.memory_bytes;
          quota.gpus = of->jobs.gpus;
        }
        return quota;
      }};
  return k8s::MakeKubernetesBackend(std::make_shared<k8s::KubeClient>(std::move(*connection), k8s::KubeClient::Options{}),
                                    std::move(options));
}

Status Platform::AddJobs(const config::ServerConfig& config) {

  std::error_code ec;
  // The small supervisor binary beside this one when it is there (it starts faster), else this binary.
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  fs::path supervisor = self.parent_path() / "paddlecloud-pod-supervisor";
  if (!fs::is_regular_file(supervisor, ec)) supervisor = self;
  cluster::local::IsolationOptions isolation{
      .strict = config.local_isolation.empty() ? ::geteuid() == 0 : config.local_isolation == "strict",
      .first_uid = config.pod_first_uid,
      .uid_count = config.pod_uid_count,
      .pids_limit = config.pod_pids_limit,
      .log_limit_bytes = static_cast<std::int64_t>(config.pod_log_limit)};
  std::string state_dir = (fs::path(config.data_dir) / "cluster").string();
  auto backend = config.cluster_backend == "kubernetes"
                     ? MakeKubernetesBackend(config)
                     : cluster::local::MakeLocalBackend({.state_dir = state_dir,
                                                         .supervisor_binary = supervisor.string(),
                                                         .isolation = isolation,
                                                         .api_endpoint = [endpoint = api_endpoint_] { return *endpoint; }});
  if (!backend) return backend.error();
  backend_ = std::move(*backend);
  cluster_changed_ = std::make_shared<Wakeup>();
  backend_->SetObserver([wakeup = cluster_changed_] { wakeup->Notify(); });
  ops_->cluster_health = [backend = backend_.get()] { return backend->Health(); };
  if (!config.kubernetes_platform_url.empty()) *pod_api_url_ = config.kubernetes_platform_url;
  // Without links in the path: pods' mounts are opened refusing any symbolic link on the way.
  std::string files_root = fs::weakly_canonical(fs::absolute(fs::path(config.data_dir) / "files")).string();
  jobs_dir_ = fs::weakly_canonical(fs::absolute(fs::path(config.data_dir) / "jobs")).string();
  auto python_sdk = jobs::InstallPythonSdk(
      fs::weakly_canonical(fs::absolute(fs::path(config.data_dir) / "sdk" / "python")).string());
  if (!python_sdk) return python_sdk.error();
  python_sdk_dir_ = *python_sdk;
  files_root_ = files_root;
  read_only_mounts_ = [files_root, files = files_.get()](const std::string& account) {
    std::vector<cluster::Mount> mounts{{files_root + "/public", jobs::kPodPublicDir, true}};
    if (auto shared = files->shares().SharedMountsFor(account))
      for (const auto& m : *shared)
        mounts.push_back({files_root + "/" + m.key, std::string(jobs::kPodSharedDir) + "/" + m.mount, true});
    return mounts;
  };
  jobs_ = std::make_unique<jobs::JobService>(
      *database_, *backend_, *accounts_, *quotas_,
      jobs::JobsOptions{
          .jobs_dir = jobs_dir_,
          .files_dir = files_root,
          .pod_api_url = [url = pod_api_url_] { return *url; },
          .python_sdk_dir = *python_sdk,
          .read_only_mounts = read_only_mounts_,
          .is_folder =
              [files = files_.get()](const Principal& principal, const std::string& path) {
                auto entry = files->browser().Stat(principal, path);
                return entry && entry->folder;
              },
          .storage_left = [files = files_.get()](const std::string& account) {
            return files->quota().StorageLeft(account).value_or(0);
          },
          .job_finished = [files = files_.get(), this](const jobs::Job& job) {
            sampler_->JobEnded(job);
            board_ingester_->JobEnded(job);
            auto recorded = files->job_outputs().Record(job.account_id, job.user_id, job.id,
                                                        job.started_at.value_or(job.submitted_at));
            if (!recorded) spdlog::warn("job {}: its files were not attributed to it: {}", job.id, recorded.error().message());
          },
          .other_workloads_in_use = [this](const std::string& account) -> Result<std::map<std::int64_t, jobs::Amounts>> {
            std::map<std::int64_t, jobs::Amounts> in_use;
            auto add = [&](const Result<std::map<std::int64_t, jobs::Amounts>>& of) {
              if (of)
                for (const auto& [user, amounts] : *of) in_use[user] += amounts;
              return StatusOf(of);
            };
            if (notebooks_) PC_RETURN_IF_ERROR(add(notebooks_->InUseByUser(account)));
            if (serving_) PC_RETURN_IF_ERROR(add(serving_->InUseByUser(account)));
            return in_use;
          }});
  api::AddJobRoutes(router_, *jobs_, *pool_);
  quota_service_ = std::make_unique<jobs::QuotaService>(
      *quotas_, *jobs_, *accounts_, [files = files_.get()](const std::string& account) -> Result<std::uint64_t> {
        auto usage = files->quota().Usage(account);
        if (!usage) return Err(usage.error());
        return usage->used_bytes;
      });
  api::AddQuotaRoutes(router_, *quota_service_, *pool_);
  metrics_.AddCollector([jobs = jobs_.get()](metrics::Registry& r) { CollectJobMetrics(*jobs, r); });

  accounting_ = std::make_unique<monitoring::Accounting>(*database_);
  sampler_ = std::make_unique<monitoring::UsageSampler>(
      *jobs_, *backend_, *accounting_,
      monitoring::SamplerOptions{.interval = config.usage_interval,
                                 .sample_retention = config.usage_sample_retention,
                                 .rollup_retention = config.usage_rollup_retention,
                                 .now_ms = {}});
  api::AddUsageRoutes(router_, *jobs_, *accounting_, *sampler_, *pool_);
  metrics_.AddCollector([sampler = sampler_.get()](metrics::Registry& r) { CollectSamplerMetrics(*sampler, r); });

  board_sources_ = std::make_unique<board::BoardSources>(
      *database_, *jobs_, (fs::path(config.data_dir) / "board-runs").string());
  board_hub_ = std::make_unique<board::BoardHub>();
  board_ingester_ = std::make_unique<board::BoardIngester>(
      *jobs_, *board_sources_, *board_hub_,
      board::IngesterOptions{.points_per_pod = static_cast<std::uint64_t>(config.board_points_per_pod)});
  api::AddBoardRoutes(router_, *board_sources_, *board_hub_, *pool_);
  return Status::Ok();
}

Status Platform::AddServing(const config::ServerConfig& config) {
  fs::path serving_dir = fs::weakly_canonical(fs::absolute(fs::path(config.data_dir) / "serving"));
  // The runtimes replicas mount: the model server beside this binary, the embedded Python worker.
  std::error_code ec;
  fs::path model_server = fs::read_symlink("/proc/self/exe", ec).parent_path() / "paddlecloud-model-server";
  std::vector<http::EmbeddedFile> worker;
  for (const auto& file : serving::EmbeddedPythonWorker())
    if (file.path.find('/') == std::string_view::npos) worker.push_back(file);
  auto worker_dir = jobs::InstallPythonSdk(
      fs::weakly_canonical(fs::absolute(fs::path(config.data_dir) / "sdk" / "serving")).string(), worker);
  if (!worker_dir) return worker_dir.error();
  inference_gateway_ = std::make_unique<serving::InferenceGateway>(
      serving::InferenceGatewayOptions{.metrics_dir = serving_dir.string(),
                                       .private_cookies = {std::string(api::kSessionCookie), "pc_user_content"}},
      metrics_);
  serving_ = std::make_unique<serving::ServingService>(
      *database_, *backend_, *files_, *jobs_, *accounting_, inference_gateway_.get(),
      serving::ServingOptions{
          .serving_dir = serving_dir.string(),
          .model_server_path = fs::is_regular_file(model_server, ec) ? model_server.string() : "",
          .python_worker_dir = worker_dir->empty() ? "" : *worker_dir + "/paddlecloud",
          .sample_retention = config.usage_sample_retention,
          .rollup_retention = config.usage_rollup_retention});
  api::AddServingRoutes(router_, *serving_, *pool_);
  inference_gateway_->AddRoutes(router_);
  return Status::Ok();
}

void Platform::StopServing() {
  if (serving_loop_.joinable()) {
    serving_loop_.request_stop();
    serving_loop_.join();
  }
  serving_.reset();
  inference_gateway_.reset();  // its pooled sockets belong to the stopped server's I/O contexts
}

Status Platform::AddNotebooks(const config::ServerConfig& config) {
  notebooks::NotebookOptions options{
      .files_dir = files_root_,
      .notebooks_dir = fs::weakly_canonical(fs::absolute(fs::path(config.data_dir) / "notebooks")).string(),
      .pod_api_url = [url = pod_api_url_] { return *url; },
      .web_url = [url = public_url_] { return *url; },
      .python_sdk_dir = python_sdk_dir_,
      .read_only_mounts = read_only_mounts_,
      .defaults = {config.notebook_cpu_milli, config.notebook_memory_bytes, config.notebook_gpus},
      .idle_timeout = std::chrono::duration_cast<std::chrono::seconds>(config.notebook_idle_timeout),
      .max_age = std::chrono::duration_cast<std::chrono::seconds>(config.notebook_max_age)};
  if (auto templates = notebooks::EmbeddedNotebookTemplates(); !templates.empty()) {
    options.template_name = std::string(templates.front().path);
    options.template_content = std::string(templates.front().data);
  }
  notebooks_ = std::make_unique<notebooks::NotebookService>(*database_, *backend_, *accounts_, *quotas_, *jobs_,
                                                            *accounting_, std::move(options));
  notebook_cull_interval_ = config.notebook_cull_interval;
  notebook_url_ = config.notebook_url;
  api::AddNotebookRoutes(
      router_, {.notebooks = *notebooks_,
                .pool = *pool_,
                .start_handoff = [this](const http::Request& request, std::string_view next) -> Result<std::string> {
                  if (!gateway_) return Err(Status::Unavailable("the notebook origin is not serving yet"));
                  return gateway_->StartHandoff(*request.principal, next,
                                                NotebookOrigin(request.headers.Get("Host").value_or("")));
                }});
  return Status::Ok();
}

// Browsers share cookies between the ports of a host but not between host names, so by default
// notebooks are served under the other loopback name than the one the browser used.
std::string Platform::NotebookOrigin(std::string_view platform_host) const {
  if (!notebook_url_.empty()) return notebook_url_;
  std::string_view host = platform_host.substr(0, platform_host.rfind(':'));
  if (platform_host.starts_with("[")) host = platform_host.substr(0, platform_host.find(']') + 1);
  std::string other = host == "localhost" ? "127.0.0.1" : host == "127.0.0.1" || host == "[::1]" ? "localhost" : std::string(host);
  return scheme_ + "://" + other + ":" + notebook_port_;
}

Status Platform::StartNotebookOrigin(const config::ServerConfig& config, http::HttpServerOptions options) {
  // By default the next port after the platform's (a stable address for bookmarks), any free one
  // when the platform's is chosen freely.
  std::string listen_host = config.listen.substr(0, config.listen.rfind(':'));
  int listen_port = std::atoi(config.listen.c_str() + config.listen.rfind(':') + 1);
  options.listen = !config.notebook_listen.empty() ? config.notebook_listen
                   : listen_port == 0 || listen_port == 65535 ? listen_host + ":0"
                                                              : listen_host + ":" + std::to_string(listen_port + 1);
  options.io_threads = 1;
  gateway_ = std::make_unique<reverse_proxy::UserContentGateway>(
      reverse_proxy::GatewayOptions{
          .handoff_start_url = *public_url_ + "/api/v1/notebook/handoff",
          .not_running_url = *public_url_ + "/notebook",
          .proxy = {.private_cookies = {api::kSessionCookie}}},
      [this](const reverse_proxy::GatewayUser& user,
             std::string_view) -> boost::asio::awaitable<Result<reverse_proxy::Upstream>> {
        notebooks_->NoteProxied(user.user_id);
        auto upstream = notebooks_->CachedUpstream(user.user_id);
        if (!upstream) {
          auto found = co_await pool_->Run([&] { return notebooks_->Upstream(user.user_id, user.account_id); });
          if (!found) co_return Err(found.error());
          upstream = *found;
        }
        co_return reverse_proxy::Upstream{upstream->host, upstream->port, upstream->token};
      });
  gateway_->AddRoutes(notebook_router_);
  notebook_server_ = std::make_unique<http::HttpServer>(options, notebook_router_);
  notebook_server_->Use(http::RequestIdMiddleware());
  if (config.access_log) notebook_server_->Use(http::AccessLogMiddleware());
  auto allowed = std::make_shared<http::AllowedHosts>();
  notebook_server_->Use(http::HostCheckMiddleware(allowed));
  PC_RETURN_IF_ERROR(notebook_server_->Start());
  std::string bound = notebook_server_->bound_address();
  notebook_port_ = bound.substr(bound.rfind(':') + 1);
  std::vector<std::string> hosts;
  if (!notebook_url_.empty()) {
    std::string authority = notebook_url_.substr(notebook_url_.find("://") + 3);
    hosts.push_back(authority.substr(0, authority.find('/')));
  }
  if (IsLoopbackListen(options.listen.substr(0, options.listen.rfind(':'))))
    for (const char* name : {"localhost", "127.0.0.1", "[::1]"}) hosts.push_back(name + (":" + notebook_port_));
  allowed->Set(hosts);
  notebook_server_thread_ = std::jthread([server = notebook_server_.get()] { server->Run(); });
  spdlog::info("notebooks served on {}://{} (browsers reach them at {})", scheme_, bound,
               notebook_url_.empty() ? scheme_ + "://<the other loopback name>:" + notebook_port_ : notebook_url_);
  return Status::Ok();
}

Status Platform::AddWebApp(const config::ServerConfig& config) {

  std::shared_ptr<const http::AssetSource> assets;
  if (!config.web_dir.empty()) {
    if (!fs::is_regular_file(fs::path(config.web_dir) / "index.html"))
      return Status::InvalidArgument("--web-dir '" + config.web_dir + "' has no index.html", "web_dir");
    assets = http::MakeDirectoryAssetSource(config.web_dir);
  } else {
    assets = http::MakeEmbeddedAssetSource(webassets::EmbeddedWebAssets());
  }
  router_.SetFallback(http::MakeWebAppHandler(std::move(assets), *pool_));
  return Status::Ok();
}

void Platform::SetListenAddress(const std::string& scheme, const std::string& bound_address) {
  scheme_ = scheme;
  if (public_url_->empty()) *public_url_ = scheme + "://" + bound_address;
  *api_endpoint_ = bound_address;
  std::string host = bound_address.substr(0, bound_address.rfind(':'));
  bool any = host == "0.0.0.0" || host == "[::]" || host == "[::1]" || host == "localhost";
  *pod_api_url_ = scheme + "://" + (any ? "127.0.0.1" + bound_address.substr(host.size()) : bound_address);
}


namespace {

// A thread running `pass` every `interval` until stopped, or at once when `wakeup` is notified.
// Passes keep to the interval's grid (one that ran late is not followed by a burst); one that
// throws is logged as `what`.
std::jthread Periodic(std::string what, std::chrono::milliseconds interval, std::function<void()> pass,
                      std::shared_ptr<Wakeup> wakeup = nullptr) {
  if (!wakeup) wakeup = std::make_shared<Wakeup>();
  return std::jthread([what = std::move(what), interval, pass = std::move(pass), wakeup](std::stop_token stop) {
    auto next = std::chrono::steady_clock::now();
    while (!stop.stop_requested()) {
      try {
        pass();
      } catch (const std::exception& e) {
        spdlog::error("{}: {}", what, e.what());
      }
      next = std::max(next + interval, std::chrono::steady_clock::now());
      wakeup->WaitUntil(stop, next);
    }
  });
}

// Whether `next` has come; if so, moves it `every` on.
bool Due(std::chrono::steady_clock::time_point& next, std::chrono::steady_clock::duration every) {
  auto now = std::chrono::steady_clock::now();
  if (now < next) return false;
  next = now + every;
  return true;
}

}  // namespace

void Platform::StartReconciler() {
  // A scan of every account's packages: at most once a minute.
  auto package_scan = std::min<std::chrono::steady_clock::duration>(std::chrono::minutes(1), package_ttl_);
  reconciler_ = Periodic("reconciler", std::chrono::milliseconds(500),
                         [this, package_scan, next_package_expiry = std::chrono::steady_clock::now()]() mutable {
                           jobs_->Reconcile();
                           files_->uploads().Expire();
                           if (Due(next_package_expiry, package_scan)) packages_->ExpireUnused(package_ttl_);
                         }, cluster_changed_);
  board_ingester_thread_ = Periodic("board ingester", std::chrono::seconds(1), [this] { board_ingester_->IngestOnce(); });
  notebook_culler_ = Periodic("notebooks", notebook_cull_interval_, [this] { notebooks_->Reconcile(); });
  // Serving: each second, route the replicas that became ready and record the gateway's metrics.
  serving_loop_ = Periodic("serving", std::chrono::seconds(1), [this, next_prune = std::chrono::steady_clock::now()]() mutable {
    serving_->Reconcile();
    if (Due(next_prune, std::chrono::hours(1))) serving_->PruneMetrics();
    auto now = std::chrono::system_clock::now().time_since_epoch();
    inference_gateway_->Sample(std::chrono::duration_cast<std::chrono::milliseconds>(now).count());
  });
  usage_sampler_ = Periodic("usage sampler", sampler_->interval(), [this, next_prune = std::chrono::steady_clock::now()]() mutable {
    sampler_->SampleOnce();
    if (Due(next_prune, std::chrono::hours(1))) sampler_->Prune(jobs_dir_);
  });
}

Platform::~Platform() {
  StopServing();
  if (notebook_server_) {
    notebook_server_->Shutdown();
    if (notebook_server_thread_.joinable()) notebook_server_thread_.join();
    gateway_.reset();
    notebook_server_.reset();
  }
  for (std::jthread* thread : {&notebook_culler_, &board_ingester_thread_, &usage_sampler_, &reconciler_}) {
    if (!thread->joinable()) continue;
    thread->request_stop();
    thread->join();
  }
  if (pool_) pool_->Stop();
}

namespace {

// Raises the soft descriptor limit to the hard one; returns the limit now in force.
rlim_t RaiseFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return 1024;
  if (limit.rlim_cur < limit.rlim_max) {
    rlimit raised = limit;
    raised.rlim_cur = limit.rlim_max;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  return limit.rlim_cur;
}

// Connections may use the descriptors that files, the database and the pool do not.
std::size_t ConnectionCap(int configured, rlim_t file_limit) {
  constexpr rlim_t kReserved = 256;
  rlim_t for_connections = file_limit > 2 * kReserved ? file_limit - kReserved : file_limit / 2;
  return static_cast<std::size_t>(std::min<rlim_t>(static_cast<rlim_t>(configured), for_connections));
}

// allowed_hosts as configured, else public_url's host[:port] plus, on loopback, the local names
// with the bound port. Empty (no check) when listening on every interface without a public_url.
std::vector<std::string> DefaultAllowedHosts(const config::ServerConfig& config, const std::string& bound) {
  if (!config.allowed_hosts.empty()) return config.allowed_hosts;
  std::vector<std::string> hosts;
  if (!config.public_url.empty()) {
    std::string authority = config.public_url.substr(config.public_url.find("://") + 3);
    hosts.push_back(authority.substr(0, authority.find('/')));
  }
  std::string listen_host = config.listen.substr(0, config.listen.rfind(':'));
  std::string port = bound.substr(bound.rfind(':') + 1);
  if (IsLoopbackListen(listen_host)) {
    for (const char* name : {"localhost", "127.0.0.1", "[::1]"}) hosts.push_back(name + (":" + port));
  } else if (!config.public_url.empty() && listen_host != "0.0.0.0" && listen_host != "*" && listen_host != "[::]" &&
             !listen_host.empty()) {
    hosts.push_back(bound);  // the address itself, as clients on the network may use it
  }
  return hosts;
}

// Pods reach the API as 127.0.0.1:<port> (PADDLE_CLOUD_URL), which is always allowed: no DNS name
// can rebind to a Host header that is an address.
std::vector<std::string> AllowedHostsOf(const config::ServerConfig& config, const std::string& bound) {
  std::vector<std::string> hosts = DefaultAllowedHosts(config, bound);
  std::vector<std::string> pods{"127.0.0.1:" + bound.substr(bound.rfind(':') + 1)};
  // On Kubernetes, pods reach the API by the platform Service's name.
  if (std::string url = config.kubernetes_platform_url; url.find("://") != std::string::npos) {
    std::string authority = url.substr(url.find("://") + 3);
    pods.push_back(authority.substr(0, authority.find('/')));
  }
  if (!hosts.empty() && std::find(hosts.begin(), hosts.end(), "*") == hosts.end())
    for (const auto& pod_host : pods)
      if (std::find(hosts.begin(), hosts.end(), pod_host) == hosts.end()) hosts.push_back(pod_host);
  return hosts;
}

// The HTTP server's settings from the configuration; client certificates are checked by `ca`.
http::HttpServerOptions ServerOptionsOf(const config::ServerConfig& config, rlim_t file_limit,
                                        pki::CertificateAuthority& ca) {
  http::HttpServerOptions options;
  options.listen = config.listen;
  options.tls_cert_file = config.tls_cert;
  options.tls_key_file = config.tls_key;
  int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  options.io_threads = config.io_threads > 0 ? config.io_threads : cores;
  options.max_body_bytes = config.max_body_bytes;
  options.header_timeout = config.header_timeout;
  options.idle_timeout = config.idle_timeout;
  options.body_timeout = config.body_timeout;
  options.shutdown_timeout = config.shutdown_timeout;
  options.rejection_headers = security::SecurityHeaders();
  options.max_connections = ConnectionCap(config.max_connections, file_limit);
  options.max_connections_per_client = static_cast<std::size_t>(config.max_connections_per_client);
  options.min_body_rate = config.min_body_rate;
  options.min_body_rate_window = config.min_body_rate_window;
  options.trusted_proxies = config.trusted_proxies;
  options.configure_tls = [&ca](void* ssl_ctx) { return ca.ConfigureServerContext(ssl_ctx); };
  options.client_certificate_fingerprint = [](void* ssl) {
    auto peer = pki::CertificateAuthority::VerifiedPeerOf(ssl);
    return peer ? peer->fingerprint_sha256 : std::string();
  };
  return options;
}

// Every request passes these, in this order, before its route.
void UseMiddleware(http::HttpServer& server, Platform& platform, const config::ServerConfig& config,
                   std::shared_ptr<http::AllowedHosts> allowed_hosts) {
  server.Use(http::RequestIdMiddleware());
  if (config.access_log) server.Use(http::AccessLogMiddleware());
  server.Use(http::MetricsMiddleware(platform.metrics()));
  server.Use(security::SecurityHeadersMiddleware());
  server.Use(http::HostCheckMiddleware(allowed_hosts));
  server.Use(ops::MetricsAccessMiddleware(platform.ops()));
  server.Use(api::AuthMiddleware(platform.accounts(), platform.pool(), config.public_url.starts_with("https://")));
}

// Standing by: set by SIGTERM/SIGINT while another server leads.
volatile std::sig_atomic_t g_stop_standing_by = 0;

struct Leadership {
  std::unique_ptr<db::Database> database;
  std::unique_ptr<leader::LeaderLease> lease;  // null: stopped while standing by
};

// On PostgreSQL several servers may share the database and data dir; one leads (serves, runs the
// reconcilers and the pods) and the others stand by, not listening, until its lease expires. Null on
// SQLite, where the data dir's lock keeps a second server out.
Result<std::unique_ptr<Leadership>> Lead(const config::ServerConfig& config) {
  if (config.database_url.empty()) return std::unique_ptr<Leadership>();
  auto leadership = std::make_unique<Leadership>();
  auto database = db::OpenPostgresDatabase({.url = config.database_url, .pool_size = 2});
  if (!database) return Err(database.error());
  leadership->database = std::move(*database);
  PC_RETURN_IF_ERROR(leadership->database->Migrate(PlatformMigrations()));
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  auto lease = std::make_unique<leader::LeaderLease>(
      *leadership->database,
      leader::LeaseOptions{.holder = std::string(host) + ":" + std::to_string(::getpid()),
                           .address = config.listen,
                           .ttl = config.leader_lease,
                           .now_ms = nullptr});
  g_stop_standing_by = 0;
  auto on_signal = [](int) { g_stop_standing_by = 1; };
  ::signal(SIGTERM, on_signal);
  ::signal(SIGINT, on_signal);
  std::stop_source stop;
  std::jthread watch_signals([&stop](std::stop_token done) {
    while (!done.stop_requested() && !g_stop_standing_by)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // polls a signal flag
    if (g_stop_standing_by) stop.request_stop();
  });
  bool leading = lease->WaitForLeadership(stop.get_token());
  watch_signals.request_stop();
  watch_signals.join();
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGINT, SIG_DFL);
  if (leading && g_stop_standing_by) {  // told to stop as the lease came: hand it on
    lease->Release();
    leading = false;
  }
  if (!leading) {
    spdlog::info("stopped while standing by");
    return leadership;
  }
  spdlog::info("leading the servers on {} (lease epoch {})", db::RedactDatabaseUrl(config.database_url), lease->epoch());
  leadership->lease = std::move(lease);
  return leadership;
}

}  // namespace

int RunServer(const config::ServerConfig& config) {
  // A client that goes away mid-response must not end the process: sendfile() and writes then
  // fail with EPIPE, which the connection handles.
  ::signal(SIGPIPE, SIG_IGN);
  rlim_t file_limit = RaiseFileLimit();
  auto leadership = Lead(config);
  if (!leadership) {
    spdlog::error("cannot start: {}", leadership.error().message());
    return 1;
  }
  if (*leadership && !(*leadership)->lease) return 0;  // stopped while standing by
  auto platform = Platform::Create(config);
  if (!platform) {
    spdlog::error("cannot start: {}", platform.error().message());
    return 1;
  }
  leader::LeaderLease* lease = *leadership ? (*leadership)->lease.get() : nullptr;
  if (lease) {
    (*platform)->database().SetFence([lease](db::Session& session) { return lease->Fence(session); });
    (*platform)->SetLeadership(
        [lease] {
          return lease->IsLeader() ? "this server (epoch " + std::to_string(lease->epoch()) + ")"
                                   : std::string("lost: this server is stopping");
        },
        [lease] { return lease->epoch(); });
    // The lease lost (a pause past it, the database out of reach for as long): another server may
    // lead already, so this one ends now rather than act beside it.
    lease->KeepRenewing([] {
      spdlog::critical("lost the leadership lease: exiting so that one server acts at a time");
      std::_Exit(3);
    });
  }

  http::HttpServerOptions options = ServerOptionsOf(config, file_limit, (*platform)->certificate_authority());
  http::HttpServer server(options, (*platform)->router());
  auto allowed_hosts = std::make_shared<http::AllowedHosts>();
  if (lease) {
    server.Use([lease](http::Request& request, const http::Handler& next) -> boost::asio::awaitable<http::Response> {
      if (lease->IsLeader()) co_return co_await next(request);
      co_return http::ErrorResponse(Status::Unavailable("this server no longer leads; retry"));
    });
  }
  UseMiddleware(server, **platform, config, allowed_hosts);
  Status started = server.Start();
  if (!started.ok()) {
    spdlog::error("cannot start: {}", started.message());
    return 1;
  }

  allowed_hosts->Set(AllowedHostsOf(config, server.bound_address()));
  std::string hosts;
  for (const auto& host : allowed_hosts->entries()) hosts += (hosts.empty() ? "" : ", ") + host;
  spdlog::info("answering Host {}; up to {} connections ({} per client); descriptor limit {}",
               hosts.empty() ? "(any)" : hosts, options.max_connections, options.max_connections_per_client,
               static_cast<std::uint64_t>(file_limit));

  fs::path addr_file = fs::path(config.data_dir) / "server.addr";
  Status written = fsutil::WriteFileAtomic(addr_file.string(), server.bound_address() + "\n", {.durable = false});
  if (!written.ok()) {
    spdlog::error("cannot start: {}", written.message());
    return 1;
  }

  boost::asio::signal_set signals(server.io(), SIGTERM, SIGINT);
  signals.async_wait([&server](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("received {}, shutting down gracefully", signal == SIGTERM ? "SIGTERM" : "SIGINT");
    server.Shutdown();
  });

  std::string scheme = server.tls() ? "https" : "http";
  (*platform)->SetListenAddress(scheme, server.bound_address());
  if (Status notebooks = (*platform)->StartNotebookOrigin(config, options); !notebooks.ok()) {
    spdlog::error("cannot start: the notebook origin: {}", notebooks.message());
    return 1;
  }
  (*platform)->StartReconciler();
  spdlog::info("paddlecloud {} ({}) serving on {}://{} with data dir {}", ops::Version(), ops::Commit(), scheme,
               server.bound_address(), fs::absolute(config.data_dir).string());
  server.Run();
  // Finish blocking work while the I/O context it reports back to still exists.
  (*platform)->pool().Stop();
  (*platform)->StopServing();
  if (lease) lease->Release();  // a standby takes over now rather than when the lease expires

  std::error_code ec;
  fs::remove(addr_file, ec);
  spdlog::info("stopped");
  return 0;
}

}  // namespace paddlecloud::server
