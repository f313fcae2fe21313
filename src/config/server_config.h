// Configuration of `paddlecloud server`, resolved from four layers:
// command-line flags > PADDLECLOUD_* environment > config file > built-in defaults.
//
// Every setting has one key used in all layers: `data_dir` is `--data-dir`, `PADDLECLOUD_DATA_DIR`
// and `data_dir = ...` in the file. The file is `key = value` lines (`#` comments, optional quotes).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/status.h"

namespace paddlecloud::config {

struct ServerConfig {
  std::string data_dir = "./paddlecloud-data";
  std::string database_url;                // postgresql://...; empty: SQLite in <data_dir>/paddlecloud.db
  std::chrono::milliseconds leader_lease{3'000};  // servers sharing PostgreSQL: how long a leader's lease lasts
  std::string listen = "127.0.0.1:8080";  // HOST:PORT; port 0 picks a free one
  std::string config_file;                 // empty: none
  std::string web_dir;                     // empty: the UI embedded in the binary
  std::string tls_cert;                    // PEM; TLS is on when both cert and key are set
  std::string tls_key;
  std::string log_level = "info";          // trace|debug|info|warn|error|off
  bool access_log = true;
  int io_threads = 0;                      // 0: one per core
  int blocking_threads = 0;                // 0: four per core
  std::uint64_t max_body_bytes = 1 << 20;  // for requests read whole (JSON); uploads stream
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds shutdown_timeout{30'000};
  std::string public_url;                  // base URL in mailed links; empty: from the listen address
  std::string smtp_host;                   // empty: mail goes to <data_dir>/outbox/ and the log
  int smtp_port = 587;
  std::string smtp_security = "starttls";  // none|starttls|tls
  std::string smtp_user;
  std::string smtp_password;
  std::string mail_from = "PaddleCloud <noreply@localhost>";
  std::string ca_cert;                     // the platform CA; empty: created under <data_dir>/ca/
  std::string ca_key;
  std::uint64_t storage_quota = 10ull << 30;  // bytes of files per account
  std::chrono::milliseconds upload_ttl{24 * 3600 * 1000};  // an untouched upload session expires
  std::string local_isolation;             // strict|relaxed; empty: strict as root, else relaxed
  int pod_first_uid = 200000;              // pods of a root server run as one uid per account
  int pod_uid_count = 65536;
  std::int64_t pod_pids_limit = 4096;      // per pod; 0 = unlimited
  std::uint64_t pod_log_limit = 1ull << 30;  // per pod log; 0 = unlimited
  int max_connections = 10'000;            // also bounded by the descriptor limit
  int max_connections_per_client = 256;    // 0: no per-client cap
  std::uint64_t min_body_rate = 1024;      // bytes/s an upload must keep up; 0: off
  std::chrono::milliseconds min_body_rate_window{10'000};
  std::vector<std::string> allowed_hosts;  // empty: public_url's host, plus localhost names on loopback
  std::vector<std::string> trusted_proxies;  // IPs/CIDRs whose X-Forwarded-For is believed
  std::string metrics_access = "public";   // public|loopback|token
  std::string metrics_token;               // for metrics_access = token (never logged)
  std::chrono::milliseconds usage_interval{5'000};  // running pods' usage is sampled this often
  std::chrono::milliseconds usage_sample_retention{7LL * 24 * 3600 * 1000};  // full-resolution samples kept
  std::chrono::milliseconds usage_rollup_retention{365LL * 24 * 3600 * 1000};  // 1 min .. 6 h rollups kept
  // Quotas of new accounts' jobs (and of accounts the operator set none for); 0: no quota, only the
  // cluster's capacity bounds them.
  std::int64_t quota_cpu_milli = 0;
  std::int64_t quota_memory_bytes = 0;
  std::int64_t quota_gpus = 0;
  std::int64_t quota_running_jobs = 0;
  std::int64_t board_points_per_pod = 10'000'000;  // Paddle Board points kept per pod of a job
  std::string notebook_listen;             // the notebook origin's HOST:PORT; empty: listen's host, any port
  std::string notebook_url;                // the notebook origin browsers use; empty: see docs/notebooks.md
  std::chrono::milliseconds notebook_idle_timeout{3600 * 1000};  // 0: never culled for idleness
  std::chrono::milliseconds notebook_max_age{0};                 // 0: no limit
  std::chrono::milliseconds notebook_cull_interval{30'000};
  std::int64_t notebook_cpu_milli = 500;   // a notebook's default requests
  std::int64_t notebook_memory_bytes = 2LL << 30;
  std::int64_t notebook_gpus = 0;

  std::string cluster_backend = "local";   // local|kubernetes
  std::string kubeconfig;                  // kubernetes: a kubeconfig file; empty: the in-cluster service account
  std::string kubernetes_job_kind = "native";  // native|paddlejob
  std::string kubernetes_default_image;    // empty: paddlecloud/training:<the server's version>
  std::string kubernetes_storage_class;    // of the accounts' data claims
  std::string kubernetes_nfs_server;       // the NFS export holding data_dir, as pods mount it
  std::string kubernetes_nfs_path;
  std::string kubernetes_platform_namespace = "paddlecloud";
  std::string kubernetes_platform_url;     // how pods reach the platform; empty: the listen address

  bool tls_enabled() const { return !tls_cert.empty() && !tls_key.empty(); }
};

// One setting's description, for --help, the README and validation messages.
struct SettingInfo {
  std::string key;       // data_dir
  std::string flag;      // --data-dir
  std::string env;       // PADDLECLOUD_DATA_DIR
  std::string help;
  std::string default_value;
};
const std::vector<SettingInfo>& ServerSettings();

// Resolves the layers. `flags` holds the values given on the command line, by key; `environ` is
// the process environment (only PADDLECLOUD_* entries are looked at). The config file is named by
// the `config` key in flags or environment. Errors name the setting and the layer it came from.
Result<ServerConfig> ResolveServerConfig(const std::map<std::string, std::string>& flags,
                                         const std::map<std::string, std::string>& environ);

// Parses `key = value` text; errors carry the line number.
Result<std::map<std::string, std::string>> ParseConfigText(std::string_view text);

}  // namespace paddlecloud::config
