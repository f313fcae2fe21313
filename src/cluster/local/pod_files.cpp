#include "cluster/local/pod_files.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>

namespace paddlecloud::cluster::local {

namespace json = boost::json;

namespace {

std::string Str(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

std::int64_t Int(const json::object& o, std::string_view key, std::int64_t fallback = 0) {
  auto* v = o.if_contains(key);
  if (!v) return fallback;
  if (v->is_int64()) return v->as_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return fallback;
}

std::optional<std::int64_t> OptInt(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v || v->is_null()) return std::nullopt;
  return Int(o, key);
}

json::value OptValue(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

Result<json::object> ParseObject(const std::string& text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return Err(Status::Internal(std::string(what) + " is not a JSON object"));
  return std::move(v.as_object());
}

}  // namespace

bool IsTerminal(PodPhase phase) { return phase == PodPhase::kSucceeded || phase == PodPhase::kFailed; }

std::optional<PodPhase> PhaseFromName(std::string_view name) {
  for (auto phase : {PodPhase::kPending, PodPhase::kRunning, PodPhase::kSucceeded, PodPhase::kFailed})
    if (PhaseName(phase) == name) return phase;
  return std::nullopt;
}

std::string ToJson(const PodSpec& spec) {
  json::object env;
  for (const auto& [k, v] : spec.env) env[k] = v;
  json::array mounts;
  for (const auto& m : spec.mounts)
    mounts.push_back(json::object{{"source", m.source}, {"target", m.target}, {"read_only", m.read_only}});
  json::array gpus;
  for (int g : spec.gpus) gpus.push_back(g);
  json::object o{
      {"namespace", spec.namespace_name},
      {"job", spec.job},
      {"pod", spec.pod},
      {"role", RoleName(spec.role)},
      {"index", spec.index},
      {"entry", spec.entry},
      {"working_dir", spec.working_dir},
      {"env", std::move(env)},
      {"mounts", std::move(mounts)},
      {"log_path", spec.log_path},
      {"log_limit_bytes", spec.log_limit_bytes},
      {"pids_limit", spec.pids_limit},
      {"gpu_devices", std::move(gpus)},
      {"uid", spec.uid},
      {"gid", spec.gid},
      {"network", ToJsonObject(spec.network)},
      {"strict", spec.strict},
      {"cpu_milli", spec.limits.cpu_milli},
      {"memory_bytes", spec.limits.memory_bytes},
      {"gpus", spec.limits.gpus},
      {"max_restarts", spec.max_restarts},
      {"restart_always", spec.restart_always},
      {"max_backoff_ms", spec.max_backoff_ms},
      {"default_grace_ms", spec.default_grace_ms},
  };
  return json::serialize(o);
}

json::object ToJsonObject(const JobNetwork& network) {
  return {{"keeper_pid", network.keeper_pid},
          {"net_inode", static_cast<std::int64_t>(network.net_inode)},
          {"user_inode", static_cast<std::int64_t>(network.user_inode)}};
}

JobNetwork JobNetworkFromJson(const json::value* v) {
  if (!v || !v->is_object()) return {};
  const json::object& o = v->as_object();
  return {.keeper_pid = static_cast<int>(Int(o, "keeper_pid")),
          .net_inode = static_cast<std::uint64_t>(Int(o, "net_inode")),
          .user_inode = static_cast<std::uint64_t>(Int(o, "user_inode"))};
}

Result<PodSpec> PodSpecFromJson(const std::string& text) {
  auto parsed = ParseObject(text, "pod.json");
  if (!parsed) return Err(parsed.error());
  const json::object& o = *parsed;
  PodSpec spec;
  spec.namespace_name = Str(o, "namespace");
  spec.job = Str(o, "job");
  spec.pod = Str(o, "pod");
  spec.role = Str(o, "role") == "pserver" ? PodRole::kPserver : PodRole::kTrainer;
  spec.index = static_cast<int>(Int(o, "index"));
  spec.entry = Str(o, "entry");
  spec.working_dir = Str(o, "working_dir");
  if (auto* env = o.if_contains("env"); env && env->is_object())
    for (const auto& [k, v] : env->as_object())
      if (v.is_string()) spec.env[std::string(k)] = std::string(v.as_string());
  if (auto* mounts = o.if_contains("mounts"); mounts && mounts->is_array())
    for (const auto& m : mounts->as_array())
      if (m.is_object()) {
        auto* ro = m.as_object().if_contains("read_only");
        spec.mounts.push_back({Str(m.as_object(), "source"), Str(m.as_object(), "target"),
                               !(ro && ro->is_bool() && !ro->as_bool())});
      }
  if (auto* gpus = o.if_contains("gpu_devices"); gpus && gpus->is_array())
    for (const auto& g : gpus->as_array())
      if (g.is_int64()) spec.gpus.push_back(static_cast<int>(g.as_int64()));
  spec.log_path = Str(o, "log_path");
  spec.log_limit_bytes = Int(o, "log_limit_bytes");
  spec.pids_limit = Int(o, "pids_limit");
  spec.uid = static_cast<int>(Int(o, "uid", -1));
  spec.gid = static_cast<int>(Int(o, "gid", -1));
  spec.network = JobNetworkFromJson(o.if_contains("network"));
  auto* strict = o.if_contains("strict");
  spec.strict = strict && strict->is_bool() && strict->as_bool();
  spec.limits.cpu_milli = Int(o, "cpu_milli");
  spec.limits.memory_bytes = Int(o, "memory_bytes");
  spec.limits.gpus = Int(o, "gpus");
  spec.max_restarts = static_cast<int>(Int(o, "max_restarts"));
  auto* always = o.if_contains("restart_always");
  spec.restart_always = always && always->is_bool() && always->as_bool();
  spec.max_backoff_ms = Int(o, "max_backoff_ms", 10000);
  spec.default_grace_ms = Int(o, "default_grace_ms", 10000);
  if (spec.pod.empty() || spec.log_path.empty()) return Err(Status::Internal("pod.json lacks pod or log_path"));
  return spec;
}

std::string ToJson(const PodRecord& r) {
  json::object o{
      {"phase", PhaseName(r.phase)},
      {"reason", r.reason},
      {"message", r.message},
      {"exit_code", r.exit_code ? json::value(*r.exit_code) : json::value(nullptr)},
      {"restarts", r.restarts},
      {"attempt", r.attempt},
      {"started_at", OptValue(r.started_at)},
      {"finished_at", OptValue(r.finished_at)},
      {"supervisor_pid", r.supervisor_pid},
      {"entry_pid", r.entry_pid},
      {"limits", r.limits},
  };
  json::array dirs;
  for (const auto& d : r.cgroup_dirs) dirs.push_back(json::value(d));
  o["cgroup_dirs"] = std::move(dirs);
  if (r.ended_at_ms) {
    o["ended_at_ms"] = *r.ended_at_ms;
    if (r.end_cpu_ns) o["end_cpu_ns"] = *r.end_cpu_ns;
    if (r.end_oom_kills) o["end_oom_kills"] = *r.end_oom_kills;
  }
  return json::serialize(o);
}

Result<PodRecord> PodRecordFromJson(const std::string& text) {
  auto parsed = ParseObject(text, "status.json");
  if (!parsed) return Err(parsed.error());
  const json::object& o = *parsed;
  PodRecord r;
  auto phase = PhaseFromName(Str(o, "phase"));
  if (!phase) return Err(Status::Internal("status.json has an unknown phase"));
  r.phase = *phase;
  r.reason = Str(o, "reason");
  r.message = Str(o, "message");
  if (auto code = OptInt(o, "exit_code")) r.exit_code = static_cast<int>(*code);
  r.restarts = static_cast<int>(Int(o, "restarts"));
  r.attempt = static_cast<int>(Int(o, "attempt"));
  r.started_at = OptInt(o, "started_at");
  r.finished_at = OptInt(o, "finished_at");
  r.supervisor_pid = Int(o, "supervisor_pid");
  r.entry_pid = Int(o, "entry_pid");
  r.limits = Str(o, "limits");
  if (auto* dirs = o.if_contains("cgroup_dirs"); dirs && dirs->is_array())
    for (const auto& d : dirs->as_array())
      if (d.is_string()) r.cgroup_dirs.push_back(std::string(d.as_string()));
  r.ended_at_ms = OptInt(o, "ended_at_ms");
  if (auto cpu = OptInt(o, "end_cpu_ns"); cpu && *cpu >= 0) r.end_cpu_ns = static_cast<std::uint64_t>(*cpu);
  r.end_oom_kills = OptInt(o, "end_oom_kills");
  return r;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return Err(Status::NotFound(path + " does not exist"));
    return Err(Status::Internal("cannot open " + path + ": " + std::strerror(errno)));
  }
  std::string out;
  char buf[8192];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

bool LockHeld(const std::string& lock_path) {
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = false;
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    held = errno == EWOULDBLOCK;
  } else {
    ::flock(fd, LOCK_UN);
  }
  ::close(fd);
  return held;
}

std::string IsoTime(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace paddlecloud::cluster::local
