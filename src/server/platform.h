// The PaddleCloud control plane assembled: data dir lock, database with migrations applied, the
// blocking pool, metrics, and the router with every module's routes and the web app.
//
// RunServer() serves a Platform over HTTP until SIGTERM/SIGINT and returns the exit code.
#pragma once

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "accounts/account_service.h"
#include "blocking/work_pool.h"
#include "common/status.h"
#include "config/server_config.h"
#include "db/database.h"
#include "cluster/cluster_backend.h"
#include "files/file_service.h"
#include "files/file_store.h"
#include "http/router.h"
#include "jobs/job_service.h"
#include "jobs/packages.h"
#include "jobs/quota_service.h"
#include "mail/mailer.h"
#include "metrics/metrics.h"
#include "monitoring/accounting.h"
#include "monitoring/usage_sampler.h"
#include "board/board_hub.h"
#include "board/board_ingester.h"
#include "board/board_sources.h"
#include "http/server.h"
#include "notebooks/notebook_service.h"
#include "serving/inference_gateway.h"
#include "serving/serving_service.h"
#include "reverse_proxy/user_content_gateway.h"
#include "pki/certificate_authority.h"
#include "ops/ops_routes.h"

namespace paddlecloud::server {

class Wakeup;  // platform.cpp: wakes a periodic loop before its interval has passed

// Every schema step of the platform, in version order.
std::vector<db::Migration> PlatformMigrations();

// The control plane's database: PostgreSQL at `database_url`, or (empty URL) SQLite in data_dir.
// Not migrated.
Result<std::unique_ptr<db::Database>> OpenPlatformDatabase(const std::string& data_dir, const std::string& database_url,
                                                           int pool_size);

// Holds an exclusive lock on a data dir for its lifetime (a second server on the same dir must
// not open the database).
class DataDirLock {
 public:
  // Creates the directory when missing. kUnavailable naming the holder's pid when locked.
  static Result<std::unique_ptr<DataDirLock>> Acquire(const std::string& data_dir);
  ~DataDirLock();

 private:
  explicit DataDirLock(int fd) : fd_(fd) {}
  int fd_;
};

class Platform {
 public:
  // Locks the data dir, opens and migrates the database, builds the router.
  static Result<std::unique_ptr<Platform>> Create(const config::ServerConfig& config);
  ~Platform();

  const http::Router& router() const { return router_; }
  metrics::Registry& metrics() { return metrics_; }
  const ops::OpsContext& ops() const { return *ops_; }
  db::Database& database() { return *database_; }
  // Servers sharing a database: how this one holds the leadership lease, for /readyz and /metrics.
  void SetLeadership(std::function<std::string()> describe, std::function<std::int64_t()> epoch);
  blocking::WorkPool& pool() { return *pool_; }
  accounts::AccountService& accounts() { return *accounts_; }
  pki::CertificateAuthority& certificate_authority() { return *ca_; }
  jobs::JobService& jobs() { return *jobs_; }
  files::FileService& files() { return *files_; }
  // Starts the reconciler that drives jobs toward their desired state and expires abandoned
  // uploads, and the usage sampler (both stopped by the destructor).
  void StartReconciler();
  monitoring::UsageSampler& sampler() { return *sampler_; }
  // Once the server listens: where users reach it (mailed links, unless public_url is set) and
  // where pods reach the API (PADDLE_CLOUD_URL, relayed into each job's network).
  void SetListenAddress(const std::string& scheme, const std::string& bound_address);
  // After SetListenAddress: serves the notebook origin (docs/notebooks.md) on its own listener and
  // I/O thread, with `options` as the platform server's except the address. Stopped by the destructor.
  Status StartNotebookOrigin(const config::ServerConfig& config, http::HttpServerOptions options);
  notebooks::NotebookService& notebooks() { return *notebooks_; }
  // After the platform's server has stopped: ends serving and closes the gateway's connections to
  // replicas (they belong to that server's I/O contexts).
  void StopServing();

 private:
  Platform() = default;
  // The steps of Create, in order: each builds one section and registers its routes.
  Status OpenStorage(const config::ServerConfig& config);
  Status AddAccounts(const config::ServerConfig& config);
  Status AddFiles(const config::ServerConfig& config);
  Status AddJobs(const config::ServerConfig& config);
  Status AddNotebooks(const config::ServerConfig& config);
  Status AddServing(const config::ServerConfig& config);
  Result<std::unique_ptr<cluster::ClusterBackend>> MakeKubernetesBackend(const config::ServerConfig& config);
  Status AddWebApp(const config::ServerConfig& config);
  // The notebook origin for a browser that reached the platform at `platform_host` (a Host header).
  std::string NotebookOrigin(std::string_view platform_host) const;
  std::unique_ptr<DataDirLock> lock_;
  std::unique_ptr<db::Database> database_;
  std::unique_ptr<blocking::WorkPool> pool_;
  metrics::Registry metrics_;
  std::unique_ptr<ops::OpsContext> ops_;
  std::unique_ptr<mail::Mailer> mailer_;
  std::shared_ptr<std::string> public_url_ = std::make_shared<std::string>();
  std::shared_ptr<std::string> api_endpoint_ = std::make_shared<std::string>();  // host:port the server listens on
  std::shared_ptr<std::string> pod_api_url_ = std::make_shared<std::string>();   // PADDLE_CLOUD_URL
  std::unique_ptr<accounts::AccountService> accounts_;
  std::unique_ptr<pki::CertificateAuthority> ca_;
  std::unique_ptr<cluster::ClusterBackend> backend_;
  std::unique_ptr<jobs::QuotaStore> quotas_;  // before files_: the storage quota is kept there too
  std::unique_ptr<jobs::JobService> jobs_;
  std::unique_ptr<monitoring::Accounting> accounting_;
  std::unique_ptr<monitoring::UsageSampler> sampler_;
  std::string jobs_dir_;
  std::unique_ptr<board::BoardSources> board_sources_;
  std::unique_ptr<board::BoardHub> board_hub_;
  std::unique_ptr<board::BoardIngester> board_ingester_;
  std::unique_ptr<jobs::QuotaService> quota_service_;
  std::unique_ptr<files::FileStore> file_store_;
  std::unique_ptr<files::FileService> files_;
  std::unique_ptr<jobs::PackageStore> packages_;  // unused job packages: counted in usage, expired
  std::chrono::seconds package_ttl_{0};
  // Set when the cluster backend observed a change: the job and serving loops run at once.
  std::shared_ptr<Wakeup> cluster_changed_;
  std::jthread reconciler_;
  std::jthread usage_sampler_;
  std::jthread board_ingester_thread_;
  std::string python_sdk_dir_;
  std::string files_root_;
  std::function<std::vector<cluster::Mount>(const std::string& account)> read_only_mounts_;  // public data, shares
  std::unique_ptr<serving::InferenceGateway> inference_gateway_;
  std::unique_ptr<serving::ServingService> serving_;
  std::jthread serving_loop_;
  std::unique_ptr<notebooks::NotebookService> notebooks_;
  std::jthread notebook_culler_;
  std::chrono::milliseconds notebook_cull_interval_{30'000};
  std::string notebook_url_;   // configured, or empty
  std::string scheme_ = "http";
  std::string notebook_port_;  // the notebook origin's bound port
  // Destroyed in this order by ~Platform: the server stops, then the gateway goes, then the server.
  http::Router notebook_router_;
  std::unique_ptr<http::HttpServer> notebook_server_;
  std::unique_ptr<reverse_proxy::UserContentGateway> gateway_;
  std::jthread notebook_server_thread_;
  http::Router router_;
};

int RunServer(const config::ServerConfig& config);

}  // namespace paddlecloud::server
