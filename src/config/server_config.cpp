#include "config/server_config.h"

#include <charconv>
#include <vector>
#include <map>
#include <functional>
#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/units.h"

namespace paddlecloud::config {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

Result<std::int64_t> ParseInt(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return Err(Status::InvalidArgument("not an integer"));
  return value;
}

Result<bool> ParseBool(std::string_view text) {
  if (text == "true" || text == "1" || text == "yes" || text == "on") return true;
  if (text == "false" || text == "0" || text == "no" || text == "off") return false;
  return Err(Status::InvalidArgument("not a boolean (true/false)"));
}

// "a, b,c" -> {"a", "b", "c"}; empty items are dropped.
std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = Trim(text.substr(0, comma));
    if (!item.empty()) items.emplace_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

// How a setting's text becomes a value of the config; the error message says what was expected.
using Setter = std::function<Status(ServerConfig&, const std::string&)>;

Setter Text(std::string ServerConfig::*field) {
  return [field](ServerConfig& c, const std::string& v) {
    c.*field = v;
    return Status::Ok();
  };
}

Setter OneOf(std::string ServerConfig::*field, std::vector<std::string> allowed) {
  return [field, allowed = std::move(allowed)](ServerConfig& c, const std::string& v) {
    if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
      std::string list;
      for (std::size_t i = 0; i < allowed.size(); ++i)
        list += (i == 0 ? "" : i + 1 == allowed.size() ? " or " : ", ") + allowed[i];
      return Status::InvalidArgument("must be " + list);
    }
    c.*field = v;
    return Status::Ok();
  };
}

template <typename Int>
Setter IntIn(Int ServerConfig::*field, std::int64_t lo, std::int64_t hi) {
  return [field, lo, hi](ServerConfig& c, const std::string& v) {
    auto n = ParseInt(v);
    if (!n || *n < lo || *n > hi)
      return Status::InvalidArgument("must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
    c.*field = static_cast<Int>(*n);
    return Status::Ok();
  };
}

Setter Duration(std::chrono::milliseconds ServerConfig::*field, bool zero_allowed = false) {
  return [field, zero_allowed](ServerConfig& c, const std::string& v) {
    if (zero_allowed && Trim(v) == "0") {
      c.*field = std::chrono::milliseconds(0);
      return Status::Ok();
    }
    auto d = units::ParseDuration(Trim(v));
    if (!d) return d.error();
    if (d->count() <= 0) return Status::InvalidArgument(zero_allowed ? "must be positive, or 0" : "must be positive");
    c.*field = *d;
    return Status::Ok();
  };
}

Setter Bytes(std::uint64_t ServerConfig::*field, bool positive = false) {
  return [field, positive](ServerConfig& c, const std::string& v) {
    auto n = units::ParseByteSize(Trim(v));
    if (!n) return n.error();
    if (positive && *n == 0) return Status::InvalidArgument("must be positive");
    c.*field = static_cast<std::uint64_t>(*n);
    return Status::Ok();
  };
}

// A quota: a quantity read by `parse`; empty or 0 is no quota.
Setter Quota(std::int64_t ServerConfig::*field, Result<std::int64_t> (*parse)(std::string_view)) {
  return [field, parse](ServerConfig& c, const std::string& v) {
    std::string_view text = Trim(v);
    if (text.empty()) {
      c.*field = 0;
      return Status::Ok();
    }
    auto n = parse(text);
    if (!n) return n.error();
    if (*n < 0) return Status::InvalidArgument("must not be negative");
    c.*field = *n;
    return Status::Ok();
  };
}

Setter List(std::vector<std::string> ServerConfig::*field) {
  return [field](ServerConfig& c, const std::string& v) {
    c.*field = SplitList(v);
    return Status::Ok();
  };
}

Status SetListen(ServerConfig& c, const std::string& value) {
  auto colon = value.rfind(':');
  if (colon == std::string::npos || colon == 0) return Status::InvalidArgument("must be HOST:PORT");
  auto port = ParseInt(std::string_view(value).substr(colon + 1));
  if (!port || *port < 0 || *port > 65535) return Status::InvalidArgument("port must be 0..65535");
  c.listen = value;
  return Status::Ok();
}

Status SetNotebookListen(ServerConfig& c, const std::string& value) {
  if (value.empty()) {
    c.notebook_listen.clear();
    return Status::Ok();
  }
  ServerConfig check;
  PC_RETURN_IF_ERROR(SetListen(check, value));
  c.notebook_listen = value;
  return Status::Ok();
}

Status SetPodUidRange(ServerConfig& c, const std::string& value) {
  auto dash = value.find('-');
  auto first = ParseInt(value.substr(0, dash));
  auto last = dash == std::string::npos ? first : ParseInt(value.substr(dash + 1));
  if (dash == std::string::npos || !first || !last || *first < 1000 || *last < *first || *last > 0x7fffffff)
    return Status::InvalidArgument("must be FIRST-LAST, unprivileged uids (from 1000)");
  c.pod_first_uid = static_cast<int>(*first);
  c.pod_uid_count = static_cast<int>(*last - *first + 1);
  return Status::Ok();
}

const std::map<std::string_view, Setter>& Setters() {
  static const std::map<std::string_view, Setter> kSetters = {
      {"config", Text(&ServerConfig::config_file)},
      {"data_dir",
       [](ServerConfig& c, const std::string& v) {
         if (v.empty()) return Status::InvalidArgument("must not be empty");
         c.data_dir = v;
         return Status::Ok();
       }},
      {"database_url",
       [](ServerConfig& c, const std::string& v) {
         if (!v.empty() && !v.starts_with("postgresql://") && !v.starts_with("postgres://"))
           return Status::InvalidArgument("must start with postgresql:// (or be empty for SQLite in data_dir)");
         c.database_url = v;
         return Status::Ok();
       }},
      {"listen", SetListen},
      {"web_dir", Text(&ServerConfig::web_dir)},
      {"tls_cert", Text(&ServerConfig::tls_cert)},
      {"tls_key", Text(&ServerConfig::tls_key)},
      {"log_level", OneOf(&ServerConfig::log_level, {"trace", "debug", "info", "warn", "error", "off"})},
      {"access_log",
       [](ServerConfig& c, const std::string& v) {
         auto b = ParseBool(v);
         if (!b) return b.error();
         c.access_log = *b;
         return Status::Ok();
       }},
      {"io_threads", IntIn(&ServerConfig::io_threads, 0, 256)},
      {"blocking_threads", IntIn(&ServerConfig::blocking_threads, 0, 1024)},
      {"max_body_bytes", Bytes(&ServerConfig::max_body_bytes, /*positive=*/true)},
      {"header_timeout", Duration(&ServerConfig::header_timeout)},
      {"idle_timeout", Duration(&ServerConfig::idle_timeout)},
      {"body_timeout", Duration(&ServerConfig::body_timeout)},
      {"shutdown_timeout", Duration(&ServerConfig::shutdown_timeout)},
      {"leader_lease", Duration(&ServerConfig::leader_lease)},
      {"public_url",
       [](ServerConfig& c, const std::string& v) {
         if (!v.empty() && v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
           return Status::InvalidArgument("must start with http:// or https://");
         c.public_url = v;
         while (!c.public_url.empty() && c.public_url.back() == '/') c.public_url.pop_back();
         return Status::Ok();
       }},
      {"smtp_host", Text(&ServerConfig::smtp_host)},
      {"smtp_port", IntIn(&ServerConfig::smtp_port, 1, 65535)},
      {"smtp_security", OneOf(&ServerConfig::smtp_security, {"none", "starttls", "tls"})},
      {"smtp_user", Text(&ServerConfig::smtp_user)},
      {"smtp_password", Text(&ServerConfig::smtp_password)},
      {"mail_from",
       [](ServerConfig& c, const std::string& v) {
         if (v.find('@') == std::string::npos) return Status::InvalidArgument("must contain an email address");
         c.mail_from = v;
         return Status::Ok();
       }},
      {"ca_cert", Text(&ServerConfig::ca_cert)},
      {"ca_key", Text(&ServerConfig::ca_key)},
      {"storage_quota", Bytes(&ServerConfig::storage_quota)},
      {"upload_ttl", Duration(&ServerConfig::upload_ttl)},
      {"local_isolation", OneOf(&ServerConfig::local_isolation, {"strict", "relaxed"})},
      {"pod_uid_range", SetPodUidRange},
      {"pod_pids_limit", IntIn(&ServerConfig::pod_pids_limit, 0, 4194304)},
      {"pod_log_limit", Bytes(&ServerConfig::pod_log_limit)},
      {"max_connections", IntIn(&ServerConfig::max_connections, 1, 10'000'000)},
      {"max_connections_per_client", IntIn(&ServerConfig::max_connections_per_client, 0, 10'000'000)},
      {"min_body_rate", Bytes(&ServerConfig::min_body_rate)},
      {"min_body_rate_window", Duration(&ServerConfig::min_body_rate_window)},
      {"allowed_hosts", List(&ServerConfig::allowed_hosts)},
      {"trusted_proxies", List(&ServerConfig::trusted_proxies)},
      {"metrics_access", OneOf(&ServerConfig::metrics_access, {"public", "loopback", "token"})},
      {"metrics_token", Text(&ServerConfig::metrics_token)},
      {"usage_interval", Duration(&ServerConfig::usage_interval)},
      {"usage_sample_retention", Duration(&ServerConfig::usage_sample_retention)},
      {"usage_rollup_retention", Duration(&ServerConfig::usage_rollup_retention)},
      {"quota_cpu", Quota(&ServerConfig::quota_cpu_milli, units::ParseCpuMilli)},
      {"quota_memory", Quota(&ServerConfig::quota_memory_bytes, units::ParseByteSize)},
      {"quota_gpus", Quota(&ServerConfig::quota_gpus, units::ParseCount)},
      {"quota_running_jobs", Quota(&ServerConfig::quota_running_jobs, units::ParseCount)},
      {"board_points_per_pod", IntIn(&ServerConfig::board_points_per_pod, 1, 1'000'000'000'000)},
      {"notebook_listen", SetNotebookListen},
      {"notebook_url",
       [](ServerConfig& c, const std::string& v) {
         if (!v.empty() && v.rfind("http://", 0) != 0 && v.rfind("https://", 0) != 0)
           return Status::InvalidArgument("must start with http:// or https://");
         c.notebook_url = v;
         while (!c.notebook_url.empty() && c.notebook_url.back() == '/') c.notebook_url.pop_back();
         return Status::Ok();
       }},
      {"notebook_idle_timeout", Duration(&ServerConfig::notebook_idle_timeout, /*zero_allowed=*/true)},
      {"notebook_max_age", Duration(&ServerConfig::notebook_max_age, /*zero_allowed=*/true)},
      {"notebook_cull_interval", Duration(&ServerConfig::notebook_cull_interval)},
      {"notebook_cpu", Quota(&ServerConfig::notebook_cpu_milli, units::ParseCpuMilli)},
      {"notebook_memory", Quota(&ServerConfig::notebook_memory_bytes, units::ParseByteSize)},
      {"notebook_gpus", Quota(&ServerConfig::notebook_gpus, units::ParseCount)},
      {"cluster_backend", OneOf(&ServerConfig::cluster_backend, {"local", "kubernetes"})},
      {"kubeconfig", Text(&ServerConfig::kubeconfig)},
      {"kubernetes_job_kind", OneOf(&ServerConfig::kubernetes_job_kind, {"native", "paddlejob"})},
      {"kubernetes_default_image", Text(&ServerConfig::kubernetes_default_image)},
      {"kubernetes_storage_class", Text(&ServerConfig::kubernetes_storage_class)},
      {"kubernetes_nfs_server", Text(&ServerConfig::kubernetes_nfs_server)},
      {"kubernetes_nfs_path", Text(&ServerConfig::kubernetes_nfs_path)},
      {"kubernetes_platform_namespace", Text(&ServerConfig::kubernetes_platform_namespace)},
      {"kubernetes_platform_url", Text(&ServerConfig::kubernetes_platform_url)},
  };
  return kSetters;
}

// Applies one value to the config; the error message says what was expected.
Status Apply(ServerConfig& c, const std::string& key, const std::string& value) {
  auto setter = Setters().find(key);
  if (setter == Setters().end()) return Status::InvalidArgument("unknown setting");
  return setter->second(c, value);
}

const SettingInfo* FindByKey(std::string_view key) {
  for (const auto& s : ServerSettings())
    if (s.key == key) return &s;
  return nullptr;
}

}  // namespace

const std::vector<SettingInfo>& ServerSettings() {
  static const std::vector<SettingInfo> settings = [] {
    std::vector<SettingInfo> v;
    auto add = [&](std::string key, std::string help, std::string def) {
      std::string flag = "--" + key;
      std::string env = "PADDLECLOUD_" + key;
      for (auto& ch : flag)
        if (ch == '_') ch = '-';
      for (auto& ch : env) ch = ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      v.push_back({std::move(key), std::move(flag), std::move(env), std::move(help), std::move(def)});
    };
    add("config", "config file of `key = value` lines", "");
    add("data_dir", "where the database, files, job logs and keys live", "./paddlecloud-data");
    add("database_url",
        "postgresql://USER:PASSWORD@HOST:PORT/DB to keep the control plane in PostgreSQL (several servers may "
        "share it); empty: SQLite in <data_dir>/paddlecloud.db",
        "");
    add("listen", "HOST:PORT to serve on; port 0 picks a free port (written to <data_dir>/server.addr)",
        "127.0.0.1:8080");
    add("web_dir", "serve the web UI from this directory instead of the embedded copy", "");
    add("tls_cert", "PEM certificate chain; with tls_key, serve HTTPS", "");
    add("tls_key", "PEM private key for tls_cert", "");
    add("log_level", "trace, debug, info, warn, error or off", "info");
    add("access_log", "log one line per request (true/false)", "true");
    add("io_threads", "threads running network I/O; 0 = one per core", "0");
    add("blocking_threads", "threads for database and disk work; 0 = four per core", "0");
    add("max_body_bytes", "largest request body read whole (uploads stream and are not limited by this)", "1MiB");
    add("header_timeout", "time a client has to send a complete request header", "10s");
    add("idle_timeout", "how long an idle keep-alive connection stays open", "60s");
    add("body_timeout", "time a client has to send a request body read whole", "60s");
    add("leader_lease",
        "servers sharing PostgreSQL: how long the leader's lease lasts; a standby takes over this long after "
        "the leader died, and a leader that cannot reach the database for as long exits",
        "3s");
    add("shutdown_timeout", "on SIGTERM, how long in-flight requests may take before connections close", "30s");
    add("public_url", "the URL users reach this server at, used in mailed links; default: from --listen", "");
    add("smtp_host", "SMTP server for mail; without it, mail is written to <data_dir>/outbox/ and its links logged", "");
    add("smtp_port", "SMTP port", "587");
    add("smtp_security", "none, starttls or tls (SMTPS)", "starttls");
    add("smtp_user", "SMTP login user (optional)", "");
    add("smtp_password", "SMTP login password (never logged)", "");
    add("mail_from", "sender of the platform's mail", "PaddleCloud <noreply@localhost>");
    add("ca_cert", "PEM certificate of the CA that issues users' client certificates; default: <data_dir>/ca/", "");
    add("ca_key", "PEM private key of ca_cert", "");
    add("storage_quota", "bytes of datasets, models and workspaces each account may store", "10GiB");
    add("upload_ttl",
        "an upload session untouched this long expires and its partial data is removed; so does an unused job package",
        "24h");
    add("local_isolation", "strict: a pod whose sandbox lacks a guarantee does not start; relaxed: it starts and its log says what is missing",
        "strict as root, else relaxed");
    add("pod_uid_range", "uids (and gids) of the accounts' pods when the server runs as root, one per account", "200000-265535");
    add("pod_pids_limit", "processes and threads one pod may have (0: unlimited)", "4096");
    add("pod_log_limit", "bytes one pod's log may grow to; the rest of its output is dropped and the log says so (0: unlimited)", "1GiB");
    add("max_connections", "most connections open at once (also bounded by the process's descriptor limit); "
        "more are answered 503 and closed", "10000");
    add("max_connections_per_client", "most connections open at once from one client address; 0 = no cap", "256");
    add("min_body_rate", "an upload arriving slower than this many bytes per second (over min_body_rate_window) "
        "is cut; what arrived is kept; 0 = off", "1KiB");
    add("min_body_rate_window", "the time over which min_body_rate is averaged", "10s");
    add("allowed_hosts", "comma-separated Host values served (name or name:port; * = any); others get 400 "
        "host_not_allowed. Default: public_url's host, plus localhost, 127.0.0.1 and [::1] when listening on "
        "loopback", "");
    add("trusted_proxies", "comma-separated IPs/CIDRs of reverse proxies whose X-Forwarded-For names the client", "");
    add("metrics_access", "who may read /metrics: public, loopback (this machine only) or token (metrics_token)",
        "public");
    add("metrics_token", "bearer token /metrics requires when metrics_access = token (never logged; give it by "
        "environment or config file rather than on the command line)", "");
    add("usage_interval", "how often the CPU, memory, GPU, disk and network usage of running pods is sampled", "5s");
    add("usage_sample_retention", "how long usage samples are kept at full resolution", "7d");
    add("usage_rollup_retention", "how long usage rollups (1 min to 6 h buckets of min/max/mean) are kept", "365d");
    add("quota_cpu", "CPU the jobs of a new account may request together (\"64\", \"500m\"); empty or 0: no quota "
        "beyond the cluster's capacity. `paddlecloud admin quota set` sets an account's own", "");
    add("quota_memory", "memory the jobs of a new account may request together (\"256Gi\"); empty or 0: no quota", "");
    add("quota_gpus", "GPUs the jobs of a new account may request together; empty or 0: no quota", "");
    add("quota_running_jobs", "jobs of a new account admitted at once (the rest wait); empty or 0: no quota", "");
    add("board_points_per_pod", "Paddle Board points kept per pod of a job; past it the pod's further points are "
        "dropped, counted and logged once", "10000000");
    add("notebook_listen", "HOST:PORT of the notebook origin, a second listener that serves only users' notebooks; "
        "empty: the listen host and the port after the listen port (any free port when that is 0)", "");
    add("notebook_url", "the URL browsers reach notebooks at; it must be another origin than the platform's. Empty: "
        "the other loopback name (localhost / 127.0.0.1) of the one the browser used, at notebook_listen's port", "");
    add("notebook_idle_timeout", "a notebook without kernel activity or requests this long is stopped (its files "
        "stay); 0 = never", "1h");
    add("notebook_max_age", "a notebook running this long is stopped; 0 = no limit", "0");
    add("notebook_cull_interval", "how often running notebooks are checked for idleness and age", "30s");
    add("notebook_cpu", "CPU a notebook requests unless its user asks otherwise", "500m");
    add("notebook_memory", "memory a notebook requests unless its user asks otherwise", "2Gi");
    add("notebook_gpus", "GPUs a notebook requests unless its user asks otherwise", "0");
    add("cluster_backend", "where pods run: local (this machine) or kubernetes (docs/kubernetes.md)", "local");
    add("kubeconfig", "kubernetes: the kubeconfig whose current context is used; empty: the in-cluster service "
        "account", "");
    add("kubernetes_job_kind", "kubernetes: native (indexed Jobs + a headless Service) or paddlejob (the training "
        "operator's kubeflow.org/v1 PaddleJob)", "native");
    add("kubernetes_default_image", "kubernetes: the image of pods whose job names none", "paddlecloud/training:<version>");
    add("kubernetes_storage_class", "kubernetes: the storage class of the accounts' data claims", "");
    add("kubernetes_nfs_server", "kubernetes: the NFS server exporting data_dir to the pods", "");
    add("kubernetes_nfs_path", "kubernetes: the exported path of data_dir on kubernetes_nfs_server", "");
    add("kubernetes_platform_namespace", "kubernetes: the namespace the server runs in; pods may reach it", "paddlecloud");
    add("kubernetes_platform_url", "kubernetes: the URL pods reach the platform's API at "
        "(http://paddlecloud.paddlecloud.svc:8080); empty: the listen address", "");
    return v;
  }();
  return settings;
}

Result<std::map<std::string, std::string>> ParseConfigText(std::string_view text) {
  std::map<std::string, std::string> out;
  int line_no = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    line = Trim(line);
    if (line.empty() || line.front() == '#' || line.front() == '[') continue;
    auto eq = line.find('=');
    if (eq == std::string_view::npos)
      return Err(Status::InvalidArgument("line " + std::to_string(line_no) + ": expected `key = value`"));
    std::string key(Trim(line.substr(0, eq)));
    std::string_view value = Trim(line.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    } else if (auto hash = value.find(" #"); hash != std::string_view::npos) {
      value = Trim(value.substr(0, hash));
    }
    for (auto& ch : key)
      if (ch == '-') ch = '_';
    out[key] = std::string(value);
  }
  return out;
}

Result<ServerConfig> ResolveServerConfig(const std::map<std::string, std::string>& flags,
                                         const std::map<std::string, std::string>& environ) {
  ServerConfig config;
  auto apply_layer = [&](const std::map<std::string, std::string>& values, const std::string& layer) -> Status {
    for (const auto& [key, value] : values) {
      const SettingInfo* info = FindByKey(key);
      if (!info) return Status::InvalidArgument("unknown setting '" + key + "' in " + layer, key);
      Status s = Apply(config, key, value);
      if (!s.ok()) {
        std::string name = layer == "command line" ? info->flag : layer == "environment" ? info->env : key;
        std::string shown = key == "smtp_password" || key == "metrics_token" || key == "database_url" ? "(hidden)" : "'" + value + "'";
        return Status::InvalidArgument(name + " (" + layer + "): " + s.message() + ", got " + shown, key);
      }
    }
    return Status::Ok();
  };

  std::map<std::string, std::string> from_env;
  for (const auto& info : ServerSettings()) {
    auto it = environ.find(info.env);
    if (it != environ.end()) from_env[info.key] = it->second;
  }

  std::string config_path;
  if (auto it = flags.find("config"); it != flags.end()) config_path = it->second;
  else if (auto it = from_env.find("config"); it != from_env.end()) config_path = it->second;
  if (!config_path.empty()) {
    std::ifstream in(config_path);
    if (!in) return Err(Status::InvalidArgument("cannot read config file '" + config_path + "'", "config"));
    std::stringstream buffer;
    buffer << in.rdbuf();
    auto file_values = ParseConfigText(buffer.str());
    if (!file_values)
      return Err(Status::InvalidArgument("config file '" + config_path + "': " + file_values.error().message(),
                                         "config"));
    file_values->erase("config");
    PC_RETURN_IF_ERROR(apply_layer(*file_values, "config file " + config_path));
  }
  PC_RETURN_IF_ERROR(apply_layer(from_env, "environment"));
  PC_RETURN_IF_ERROR(apply_layer(flags, "command line"));
  if (config.tls_cert.empty() != config.tls_key.empty())
    return Err(Status::InvalidArgument("tls_cert and tls_key must be set together", "tls_key"));
  if (config.metrics_access == "token" && config.metrics_token.size() < 16)
    return Err(Status::InvalidArgument("metrics_access = token needs a metrics_token of at least 16 characters",
                                       "metrics_token"));
  if (config.ca_cert.empty() != config.ca_key.empty())
    return Err(Status::InvalidArgument("ca_cert and ca_key must be set together", "ca_key"));
  return config;
}

}  // namespace paddlecloud::config
