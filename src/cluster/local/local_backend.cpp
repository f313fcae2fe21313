#include "cluster/local/local_backend.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <spawn.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "cluster/local/cgroups.h"
#include "cluster/local/job_network.h"
#include "common/units.h"
#include "cluster/local/pod_files.h"
#include "common/fs.h"
#include "common/names.h"
#include "cluster/local/sandbox.h"
#include "cluster/local/service_files.h"

namespace paddlecloud::cluster::local {

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr char kRunFile[] = "run.json";
constexpr char kAdmittedFile[] = "admitted.json";
constexpr char kJobStoppedFile[] = "stopped.json";
constexpr char kLostCleanedFile[] = "lost-cleaned";  // in a pod dir: a lost supervisor's leftovers were killed
constexpr char kUidsFile[] = "pod-uids.json";       // in the state dir: each namespace's pod uid
// The whole environment of a pod besides the job's own: nothing of the server's.
const std::map<std::string, std::string> kPodBaseEnv = {
    {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, {"HOME", "/tmp"}, {"LANG", "C.UTF-8"}};

// Locally credentials are variables like the others: the backend's files are the server's alone.
template <typename Run>
Run CredentialsInEnv(Run run) {
  for (auto& [name, value] : run.secret_env) run.env[name] = std::move(value);
  run.secret_env.clear();
  return run;
}

struct PodSlot {
  std::string name;
  PodRole role = PodRole::kTrainer;
  int index = 0;
  std::string endpoint;
  std::vector<int> gpus;
};

struct JobEntry {
  JobRun run;
  std::int64_t seq = 0;
  std::int64_t submitted_at = 0;
  std::string dir;
  std::optional<std::vector<PodSlot>> admitted;  // nullopt: waiting in the queue
  std::optional<std::int64_t> stopped_at;        // stopped while waiting
  int uid = -1;                                  // the namespace's pod uid (root servers)
  JobNetwork network;                            // keeper_pid 0: none (or released)
};

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

// ---- formatting ----------------------------------------------------------------------------

std::string FormatGpus(std::int64_t gpus) { return std::to_string(gpus) + (gpus == 1 ? " GPU" : " GPUs"); }

Resources Sub(Resources a, const Resources& b) {
  a.cpu_milli -= b.cpu_milli;
  a.memory_bytes -= b.memory_bytes;
  a.gpus -= b.gpus;
  return a;
}

void Add(Resources& a, const Resources& b) {
  a.cpu_milli += b.cpu_milli;
  a.memory_bytes += b.memory_bytes;
  a.gpus += b.gpus;
}

bool Fits(const Resources& need, const Resources& free) {
  return need.cpu_milli <= free.cpu_milli && need.memory_bytes <= free.memory_bytes && need.gpus <= free.gpus;
}

// What `need` lacks in `have`: "2 CPUs and 1Gi of memory"; empty when it fits.
std::string Shortage(const Resources& need, const Resources& have) {
  std::vector<std::string> parts;
  if (need.cpu_milli > have.cpu_milli) parts.push_back(units::DescribeCpu(need.cpu_milli - have.cpu_milli));
  if (need.memory_bytes > have.memory_bytes) parts.push_back(units::DescribeBytes(need.memory_bytes - have.memory_bytes) + " of memory");
  if (need.gpus > have.gpus) parts.push_back(FormatGpus(need.gpus - have.gpus));
  std::string out;
  for (std::size_t i = 0; i < parts.size(); ++i) out += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return out;
}

const Resources& RequestsOf(const JobRun& run, PodRole role) {
  return role == PodRole::kTrainer ? run.trainer_requests : run.pserver_requests;
}

Resources JobRequests(const JobRun& run) {
  Resources total;
  for (int i = 0; i < run.trainers; ++i) Add(total, run.trainer_requests);
  for (int i = 0; i < run.pservers; ++i) Add(total, run.pserver_requests);
  return total;
}

// ---- validation ----------------------------------------------------------------------------

bool IsPathComponent(const std::string& s) {
  if (s.empty() || s.size() > 128 || s.front() == '.') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) return false;
  return true;
}

Status Validate(const JobRun& run, const Resources& total) {
  if (!IsPathComponent(run.namespace_name))
    return Status::InvalidArgument("namespace must be letters, digits, '-', '_' or '.'", "namespace");
  if (!names::IsDnsLabel(run.job))
    return Status::InvalidArgument("job name must be a DNS label: lowercase letters, digits and '-', at most 63", "job");
  if (run.entry.empty()) return Status::InvalidArgument("entry command is empty", "entry");
  constexpr int kMaxPods = 1000;
  if (run.trainers < 0 || run.trainers > kMaxPods)
    return Status::InvalidArgument("trainers must be between 0 and 1000", "trainers");
  if (run.pservers < 0 || run.pservers > kMaxPods)
    return Status::InvalidArgument("pservers must be between 0 and 1000", "pservers");
  if (run.trainers + run.pservers == 0) return Status::InvalidArgument("a job needs at least one pod", "trainers");
  if (run.max_restarts < 0) return Status::InvalidArgument("max_restarts must not be negative", "max_restarts");
  for (auto role : {PodRole::kTrainer, PodRole::kPserver}) {
    const Resources& r = RequestsOf(run, role);
    std::string field = std::string(RoleName(role)) + "_requests";
    if (r.cpu_milli < 0 || r.memory_bytes < 0 || r.gpus < 0)
      return Status::InvalidArgument(field + " must not be negative", field);
  }
  __int128 cpu = static_cast<__int128>(run.trainers) * run.trainer_requests.cpu_milli +
                 static_cast<__int128>(run.pservers) * run.pserver_requests.cpu_milli;
  __int128 mem = static_cast<__int128>(run.trainers) * run.trainer_requests.memory_bytes +
                 static_cast<__int128>(run.pservers) * run.pserver_requests.memory_bytes;
  __int128 gpu = static_cast<__int128>(run.trainers) * run.trainer_requests.gpus +
                 static_cast<__int128>(run.pservers) * run.pserver_requests.gpus;
  std::vector<std::string> too_big;
  if (cpu > total.cpu_milli)
    too_big.push_back((cpu > INT64_MAX ? std::string("more CPUs than exist") : units::DescribeCpu(static_cast<std::int64_t>(cpu))) +
                      " but this machine has " + units::DescribeCpu(total.cpu_milli));
  if (mem > total.memory_bytes)
    too_big.push_back((mem > INT64_MAX ? std::string("more memory than exists") : units::DescribeBytes(static_cast<std::int64_t>(mem)) + " of memory") +
                      " but this machine has " + units::DescribeBytes(total.memory_bytes));
  if (gpu > total.gpus)
    too_big.push_back((gpu > INT64_MAX ? std::string("more GPUs than exist") : FormatGpus(static_cast<std::int64_t>(gpu))) +
                      " but this machine has " + std::to_string(total.gpus));
  if (!too_big.empty()) {
    std::string message = "job \"" + run.job + "\" can never run here: it needs ";
    for (std::size_t i = 0; i < too_big.size(); ++i) message += (i ? "; it needs " : "") + too_big[i];
    return Status::InvalidArgument(message, "resources");
  }
  return Status::Ok();
}

// ---- persistence ---------------------------------------------------------------------------

json::object ResourcesJson(const Resources& r) {
  return {{"cpu_milli", r.cpu_milli}, {"memory_bytes", r.memory_bytes}, {"gpus", r.gpus}};
}

std::int64_t GetInt(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (v && v->is_int64()) return v->as_int64();
  if (v && v->is_uint64()) return static_cast<std::int64_t>(v->as_uint64());
  return 0;
}

std::string GetStr(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

Resources ResourcesFrom(const json::object& o, std::string_view key) {
  Resources r;
  if (auto* v = o.if_contains(key); v && v->is_object()) {
    r.cpu_milli = GetInt(v->as_object(), "cpu_milli");
    r.memory_bytes = GetInt(v->as_object(), "memory_bytes");
    r.gpus = GetInt(v->as_object(), "gpus");
  }
  return r;
}

std::string RunJson(const JobEntry& e) {
  const JobRun& r = e.run;
  json::object env;
  for (const auto& [k, v] : r.env) env[k] = v;
  json::array mounts;
  for (const auto& m : r.mounts) mounts.push_back(json::object{{"source", m.source}, {"target", m.target}});
  json::object o{{"seq", e.seq},
                 {"submitted_at", e.submitted_at},
                 {"namespace", r.namespace_name},
                 {"job", r.job},
                 {"entry", r.entry},
                 {"image", r.image},
                 {"working_dir", r.working_dir},
                 {"env", std::move(env)},
                 {"mounts", std::move(mounts)},
                 {"trainers", r.trainers},
                 {"trainer_requests", ResourcesJson(r.trainer_requests)},
                 {"pservers", r.pservers},
                 {"pserver_requests", ResourcesJson(r.pserver_requests)},
                 {"max_restarts", r.max_restarts},
                 {"logs_dir", r.logs_dir}};
  return json::serialize(o);
}

std::optional<JobEntry> LoadJob(const std::string& dir) {
  auto text = ReadWholeFile(dir + "/" + kRunFile);
  if (!text) return std::nullopt;
  boost::system::error_code ec;
  json::value v = json::parse(*text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.as_object();
  JobEntry e;
  e.dir = dir;
  e.seq = GetInt(o, "seq");
  e.submitted_at = GetInt(o, "submitted_at");
  JobRun& r = e.run;
  r.namespace_name = GetStr(o, "namespace");
  r.job = GetStr(o, "job");
  r.entry = GetStr(o, "entry");
  r.image = GetStr(o, "image");
  r.working_dir = GetStr(o, "working_dir");
  if (auto* env = o.if_contains("env"); env && env->is_object())
    for (const auto& [k, val] : env->as_object())
      if (val.is_string()) r.env[std::string(k)] = std::string(val.as_string());
  if (auto* mounts = o.if_contains("mounts"); mounts && mounts->is_array())
    for (const auto& m : mounts->as_array())
      if (m.is_object()) r.mounts.push_back({GetStr(m.as_object(), "source"), GetStr(m.as_object(), "target")});
  r.trainers = static_cast<int>(GetInt(o, "trainers"));
  r.trainer_requests = ResourcesFrom(o, "trainer_requests");
  r.pservers = static_cast<int>(GetInt(o, "pservers"));
  r.pserver_requests = ResourcesFrom(o, "pserver_requests");
  r.max_restarts = static_cast<int>(GetInt(o, "max_restarts"));
  r.logs_dir = GetStr(o, "logs_dir");
  if (r.job.empty() || r.namespace_name.empty()) return std::nullopt;

  if (auto admitted = ReadWholeFile(dir + "/" + kAdmittedFile)) {
    json::value a = json::parse(*admitted, ec);
    if (!ec && a.is_object()) {
      std::vector<PodSlot> slots;
      if (auto* pods = a.as_object().if_contains("pods"); pods && pods->is_array()) {
        for (const auto& p : pods->as_array()) {
          if (!p.is_object()) continue;
          const auto& po = p.as_object();
          PodSlot slot;
          slot.name = GetStr(po, "name");
          slot.role = GetStr(po, "role") == "pserver" ? PodRole::kPserver : PodRole::kTrainer;
          slot.index = static_cast<int>(GetInt(po, "index"));
          slot.endpoint = GetStr(po, "endpoint");
          if (auto* g = po.if_contains("gpus"); g && g->is_array())
            for (const auto& gi : g->as_array())
              if (gi.is_int64()) slot.gpus.push_back(static_cast<int>(gi.as_int64()));
          slots.push_back(std::move(slot));
        }
      }
      e.admitted = std::move(slots);
      e.network = JobNetworkFromJson(a.as_object().if_contains("network"));
    }
  }
  if (auto stopped = ReadWholeFile(dir + "/" + kJobStoppedFile)) {
    json::value s = json::parse(*stopped, ec);
    e.stopped_at = !ec && s.is_object() ? GetInt(s.as_object(), "stopped_at") : 0;
  }
  return e;
}

// Free TCP ports on the loopback interface, all distinct (the sockets stay open until all are found).
Result<std::vector<int>> FreePorts(int count) {
  std::vector<int> fds, ports;
  Status error;
  for (int i = 0; i < count; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      error = Status::Internal(std::string("socket: ") + std::strerror(errno));
      break;
    }
    fds.push_back(fd);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      error = Status::Internal(std::string("bind 127.0.0.1:0: ") + std::strerror(errno));
      break;
    }
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int fd : fds) ::close(fd);
  if (!error.ok()) return Err(error);
  return ports;
}

// SIGKILLs every process of session `sid` (a dead supervisor's session: its pod's processes). A
// session id stays allocated while any member lives, so this cannot hit an unrelated process.
void KillSession(pid_t sid) {
  // A live leader means `sid` is not the session of a supervisor that died: the pid did not come
  // from it (or was reused), so nothing of that session is ours to kill.
  if (sid <= 1 || sid == ::getsid(0) || ::kill(sid, 0) == 0) return;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    auto stat = ReadWholeFile(entry.path().string() + "/stat");
    if (!stat) continue;
    auto close = stat->rfind(')');
    if (close == std::string::npos) continue;
    std::istringstream in(stat->substr(close + 1));
    std::string state;
    long ppid = 0, pgrp = 0, session = 0;
    if (in >> state >> ppid >> pgrp >> session && session == sid) ::kill(std::atoi(name.c_str()), SIGKILL);
  }
}

// A host:port text as an IPv4 address and port for the API relay ("0.0.0.0" and "localhost" are
// this machine's loopback).
std::optional<std::pair<std::string, int>> RelayTarget(const std::string& endpoint) {
  auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = endpoint.substr(0, colon);
  int port = std::atoi(endpoint.c_str() + colon + 1);
  if (host == "0.0.0.0" || host == "localhost" || host == "[::]" || host == "[::1]" || host.empty()) host = "127.0.0.1";
  if (port <= 0 || port > 65535 || host.find(':') != std::string::npos) return std::nullopt;
  return std::make_pair(host, port);
}

// Hands a writable mount to the pod's uid: every entry below `root`, links themselves included,
// without following any link.
void GiveTo(const std::string& root, int uid, int gid) {
  auto give = [&](const fs::path& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && (st.st_uid != static_cast<uid_t>(uid) || st.st_gid != static_cast<gid_t>(gid)))
      ::lchown(path.c_str(), uid, gid);
  };
  give(root);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec))
    give(it->path());
}

// Whether `dirs` (from a status.json a supervisor wrote) are pod cgroups of namespace `ns`.
bool ArePodCgroups(const std::vector<std::string>& dirs, const std::string& ns) {
  for (const auto& d : dirs) {
    if (!d.starts_with("/sys/fs/cgroup/") || d.find("..") != std::string::npos) return false;
    auto at = d.find("/paddlecloud/" + ns + ".");
    if (at == std::string::npos || d.find('/', at + 13) != std::string::npos) return false;
  }
  return true;
}

// ---- the backend ---------------------------------------------------------------------------

// nvidia-smi on PATH, or "" when this machine has none.
std::string FindNvidiaSmi() {
  const char* path = std::getenv("PATH");
  std::istringstream split(path ? path : "/usr/bin:/bin");
  for (std::string d; std::getline(split, d, ':');) {
    std::string candidate = d + "/nvidia-smi";
    if (!d.empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// What `nvidia-smi` prints, line by line; empty when it cannot run.
std::vector<std::string> NvidiaSmi(const std::string& binary, const std::string& arguments) {
  std::vector<std::string> lines;
  std::string command = "'" + binary + "' " + arguments + " 2>/dev/null";
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char line[512];
    while (std::fgets(line, sizeof line, p)) lines.emplace_back(line);
    ::pclose(p);
  }
  return lines;
}

class LocalBackend final : public ClusterBackend {
 public:
  LocalBackend(LocalBackendOptions options, Resources capacity)
      : options_(std::move(options)), capacity_(capacity) {}

  ~LocalBackend() override {
    {
      std::lock_guard lock(mu_);
      quit_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
    if (prober_.joinable()) prober_.join();
    std::lock_guard lock(mu_);
    ReapStarted(/*block=*/true);
  }

  // Supervisor programs just spawned: each exits once it has forked its pods' supervisors, and is
  // reaped here, off the submission's path.
  void ReapStarted(bool block) {
    std::erase_if(starting_, [block](pid_t pid) {
      int status;
      pid_t r;
      while ((r = ::waitpid(pid, &status, block ? 0 : WNOHANG)) < 0 && errno == EINTR) {
      }
      return r != 0;
    });
  }

  // Rebuilds the job list from the state dir and starts the admission loop.
  Status Start() {
    std::error_code ec;
    fs::create_directories(options_.state_dir, ec);
    if (ec) return Status::Internal("cannot create " + options_.state_dir + ": " + ec.message());
    root_ = ::geteuid() == 0;
    IsolationProbe probe = ProbeIsolation(options_.isolation);
    networks_ = probe.network.empty();
    for (const auto& missing : probe.Missing())
      spdlog::warn("isolation: {}{}", missing, options_.isolation.strict ? " (local_isolation = strict: pods will not start)" : "");
    for (const auto& ns : fs::directory_iterator(options_.state_dir, ec)) {
      if (!ns.is_directory() || ns.path().filename() == kServicesDir) continue;
      for (const auto& job : fs::directory_iterator(ns.path(), ec)) {
        if (!job.is_directory()) continue;
        auto entry = LoadJob(job.path().string());
        if (!entry) {
          if (Exists(job.path().string() + "/" + kRunFile))
            spdlog::warn("local cluster: ignoring unreadable {}/{}", job.path().string(), kRunFile);
          continue;
        }
        next_seq_ = std::max(next_seq_, entry->seq + 1);
        if (root_ && entry->admitted) entry->uid = PodUid(entry->run.namespace_name).value_or(-1);
        jobs_[Key(entry->run.namespace_name, entry->run.job)] = std::move(*entry);
      }
    }
    LoadServices();
    {
      std::lock_guard lock(mu_);
      Reconcile();
    }
    if (options_.poll_interval.count() > 0) thread_ = std::thread([this] { Loop(); });
    prober_ = std::thread([this] { ProbeLoop(); });
    return Status::Ok();
  }

  std::string_view Name() const override { return "local"; }

  Capacity GetCapacity() override {
    std::lock_guard lock(mu_);
    return Capacity{capacity_, Reconcile()};
  }

  Status Submit(const JobRun& submitted) override {
    JobRun run = CredentialsInEnv(submitted);
    PC_RETURN_IF_ERROR(Validate(run, capacity_));
    std::lock_guard lock(mu_);
    std::string key = Key(run.namespace_name, run.job);
    if (jobs_.count(key)) return Status::Ok();
    JobEntry entry;
    entry.run = run;
    entry.seq = next_seq_++;
    entry.submitted_at = Now();
    entry.dir = options_.state_dir + "/" + run.namespace_name + "/" + run.job;
    if (entry.run.logs_dir.empty()) entry.run.logs_dir = entry.dir + "/logs";
    std::error_code ec;
    fs::create_directories(entry.dir, ec);
    if (ec) return Status::Internal("cannot create " + entry.dir + ": " + ec.message());
    PC_RETURN_IF_ERROR(fsutil::WriteFileAtomic(entry.dir + "/" + kRunFile, RunJson(entry), {.mode = 0600}));
    jobs_[key] = std::move(entry);
    Kick();  // admission and launching happen on the loop's thread, off the submitter's path
    return Status::Ok();
  }

  Status Stop(const std::string& namespace_name, const std::string& job, std::optional<PodRole> role,
              std::chrono::milliseconds grace) override {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(Key(namespace_name, job));
    if (it == jobs_.end()) return Status::NotFound("job '" + job + "' does not exist");
    JobEntry& e = it->second;
    if (!e.admitted) {
      if (e.stopped_at) return Status::Ok();
      std::int64_t now = Now();
      json::object o{{"stopped_at", now}};
      PC_RETURN_IF_ERROR(fsutil::WriteFileAtomic(e.dir + "/" + kJobStoppedFile, json::serialize(o)));
      e.stopped_at = now;
      return Status::Ok();
    }
    for (const PodSlot& slot : *e.admitted) {
      if (role && slot.role != *role) continue;
      if (IsTerminal(Observe(e, slot).phase)) continue;
      PC_RETURN_IF_ERROR(StopPod(PodDir(e, slot.name), grace));
    }
    return Status::Ok();
  }

  // Asks the supervisor of the pod in `dir` to stop it (pod_files.h: stop.json, then SIGTERM).
  Status StopPod(const std::string& dir, std::chrono::milliseconds grace) {
    json::object o{{"grace_ms", static_cast<std::int64_t>(std::max<std::int64_t>(0, grace.count()))}, {"requested_at", Now()}};
    PC_RETURN_IF_ERROR(fsutil::WriteFileAtomic(dir + "/" + kStopFile, json::serialize(o)));
    // Signal only a live supervisor (it holds the lock), so its pid cannot have been reused.
    // Without supervisor.pid yet, the supervisor finds stop.json before it starts the entry.
    auto pid_text = ReadWholeFile(dir + "/" + kPidFile);
    pid_t pid = pid_text ? static_cast<pid_t>(std::atoll(pid_text->c_str())) : 0;
    if (pid > 0 && LockHeld(dir + "/" + kLockFile)) ::kill(pid, SIGTERM);
    return Status::Ok();
  }

  Result<std::vector<PodStatus>> GetPods(const std::string& namespace_name, const std::string& job) override {
    std::lock_guard lock(mu_);
    // A pass over every job's pods, unless one has just run: the job service asks for each job in
    // turn, and a pass each would cost jobs x pods file reads.
    if (options_.poll_interval.count() == 0 || std::chrono::steady_clock::now() - last_reconcile_ > kReconcileFresh)
      Reconcile();
    auto it = jobs_.find(Key(namespace_name, job));
    if (it == jobs_.end()) return Err(Status::NotFound("job '" + job + "' does not exist"));
    const JobEntry& e = it->second;
    std::vector<PodStatus> pods;
    if (e.admitted) {
      for (const PodSlot& slot : *e.admitted) pods.push_back(Observe(e, slot));
      return pods;
    }
    std::string reason = e.stopped_at ? "Stopped" : WaitingReason(e);
    for (auto role : {PodRole::kTrainer, PodRole::kPserver}) {
      int count = role == PodRole::kTrainer ? e.run.trainers : e.run.pservers;
      for (int i = 0; i < count; ++i) {
        PodStatus st;
        st.name = PodName(e.run.job, role, i);
        st.role = role;
        st.index = i;
        st.phase = e.stopped_at ? PodPhase::kFailed : PodPhase::kPending;
        st.reason = reason;
        if (e.stopped_at) st.finished_at = *e.stopped_at;
        pods.push_back(std::move(st));
      }
    }
    return pods;
  }

  Result<JobUsage> GetUsage(const std::string& namespace_name, const std::string& job) override {
    // Which pods run, under the lock; their counters (files, nvidia-smi) after it, so a slow read
    // never holds up submissions and the admission loop.
    std::vector<Running> running, ended;  // ended: their final counters, when the supervisor kept them
    JobNetwork network;
    {
      std::lock_guard lock(mu_);
      auto it = jobs_.find(Key(namespace_name, job));
      if (it == jobs_.end()) return Err(Status::NotFound("job '" + job + "' does not exist"));
      const JobEntry& e = it->second;
      network = e.network;
      if (e.admitted)
        for (const PodSlot& slot : *e.admitted) {
          PodPhase phase = Observe(e, slot).phase;
          if (phase == PodPhase::kPending) continue;
          (phase == PodPhase::kRunning ? running : ended)
              .push_back({slot.name, PodDir(e, slot.name) + "/" + kStatusFile, slot.gpus});
        }
    }
    return UsageOf(running, ended, network);
  }

  struct Running {  // a pod whose counters to read
    const std::string name;
    const std::string status_file;
    const std::vector<int> gpus;
  };

  // The counters of `running` pods, the final ones of `ended` pods and the traffic of `network`.
  static JobUsage UsageOf(const std::vector<Running>& running, const std::vector<Running>& ended, const JobNetwork& network) {
    std::optional<std::map<int, GpuUsage>> gpus;  // read once, when a running pod has GPUs
    JobUsage usage;
    usage.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    for (const Running& r : running) {
      auto record = PodRecordFromJson(ReadWholeFile(r.status_file).value_or(""));
      PodUsage& pod = usage.pods.emplace_back();
      pod.name = r.name;
      if (record && !record->cgroup_dirs.empty()) ReadCgroupUsage(record->cgroup_dirs, pod);
      else pod.not_measured = "cpu, memory, disk: the pod has no cgroup (" + (record ? record->limits : "") + ")";
      if (!r.gpus.empty()) AddGpuUsage(r.gpus, gpus, pod);
    }
    for (const Running& r : ended) {
      auto record = PodRecordFromJson(ReadWholeFile(r.status_file).value_or(""));
      if (!record || !record->ended_at_ms) continue;
      PodUsage& pod = usage.pods.emplace_back();
      pod.name = r.name;
      pod.ended_at_ms = record->ended_at_ms;
      pod.cpu_ns = record->end_cpu_ns;
      pod.oom_kills = record->end_oom_kills;
    }
    if (!network.keeper_pid) {
      usage.network_not_measured = "the pods use this machine's network, shared with everything on it";
    } else if (auto traffic = ReadNetworkUsage(network)) {
      usage.network = *traffic;
    } else {
      usage.network_not_measured = traffic.error().message();
    }
    return usage;
  }

  // The pod's GPUs as the driver reports them; `known` is read on first need.
  static void AddGpuUsage(const std::vector<int>& mine, std::optional<std::map<int, GpuUsage>>& known, PodUsage& pod) {
    if (!known) {
      std::string smi = FindNvidiaSmi();
      known = smi.empty() ? std::map<int, GpuUsage>{}
                          : ParseGpuQuery(NvidiaSmi(smi, "--query-gpu=index,utilization.gpu,memory.used,memory.total "
                                                         "--format=csv,noheader,nounits"));
    }
    for (int index : mine)
      if (auto it = known->find(index); it != known->end()) pod.gpus.push_back(it->second);
    if (pod.gpus.size() < mine.size())
      pod.not_measured += std::string(pod.not_measured.empty() ? "" : "; ") + "gpu: nvidia-smi did not report every GPU";
  }

  Status Delete(const std::string& namespace_name, const std::string& job) override {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(Key(namespace_name, job));
    if (it == jobs_.end()) return Status::NotFound("job '" + job + "' does not exist");
    JobEntry& e = it->second;
    if (!e.admitted && !e.stopped_at) return Status::Conflict("job '" + job + "' is waiting to run: stop it first");
    if (e.admitted) {
      for (const PodSlot& slot : *e.admitted)
        if (!IsTerminal(Observe(e, slot).phase))
          return Status::Conflict("pod '" + slot.name + "' of job '" + job + "' is still running");
      // Supervisors exit right after their final status: give them a moment to clean up.
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      for (const PodSlot& slot : *e.admitted) {
        std::string lock_path = PodDir(e, slot.name) + "/" + kLockFile;
        while (LockHeld(lock_path)) {
          if (std::chrono::steady_clock::now() > deadline)
            return Status::Conflict("the supervisor of pod '" + slot.name + "' is still shutting down");
          std::this_thread::sleep_for(std::chrono::milliseconds(20));  // bounded wait for a process exit
        }
      }
    }
    ReleaseNetwork(e);
    std::error_code ec;
    fs::remove_all(e.dir, ec);
    if (ec) return Status::Internal("cannot remove " + e.dir + ": " + ec.message());
    fs::remove(fs::path(e.dir).parent_path(), ec);  // the namespace dir, when now empty
    if (e.admitted)
      for (const PodSlot& slot : *e.admitted) ended_.erase(PodDir(e, slot.name));
    jobs_.erase(it);
    return Status::Ok();
  }

  // ---- services (service_files.h) ----------------------------------------------------------

  Status ApplyService(const ServiceRun& applied) override {
    ServiceRun service = CredentialsInEnv(applied);
    PC_RETURN_IF_ERROR(ValidateService(service));
    if (service.requests.gpus > 0)
      return Status::InvalidArgument("the local cluster gives no GPUs to service replicas yet", "requests");
    if (!Fits(service.requests, capacity_))
      return Status::InvalidArgument("a replica of service \"" + service.name + "\" can never run here: it needs " +
                                         Shortage(service.requests, {}) + " but this machine has " + Shortage(capacity_, {}),
                                     "requests");
    std::lock_guard lock(mu_);
    std::string key = Key(service.namespace_name, service.name);
    if (auto it = services_.find(key); it != services_.end()) {
      if (it->second.deleting) return Status::Conflict("service '" + service.name + "' is being deleted");
      ServiceRun same = service;
      same.replicas = it->second.run.replicas;
      if (same.logs_dir.empty()) same.logs_dir = it->second.run.logs_dir;
      if (ToJson(same) != ToJson(it->second.run))
        return Status::Conflict("service '" + service.name + "' exists with another spec: delete it first");
      return service.replicas == it->second.run.replicas ? Status::Ok() : SetReplicas(it->second, service.replicas);
    }
    ServiceEntry entry{service, options_.state_dir + "/" + kServicesDir + "/" + service.namespace_name + "/" + service.name};
    if (entry.run.logs_dir.empty()) entry.run.logs_dir = entry.dir + "/logs";
    std::error_code ec;
    fs::create_directories(entry.dir, ec);
    if (ec) return Status::Internal("cannot create " + entry.dir + ": " + ec.message());
    PC_RETURN_IF_ERROR(fsutil::WriteFileAtomic(entry.dir + "/" + kServiceFile, ToJson(entry.run), {.mode = 0600}));
    services_[key] = std::move(entry);
    Kick();
    return Status::Ok();
  }

  Status ScaleService(const std::string& namespace_name, const std::string& name, int replicas) override {
    if (replicas < 0 || replicas > 100) return Status::InvalidArgument("replicas must be between 0 and 100", "replicas");
    std::lock_guard lock(mu_);
    auto it = services_.find(Key(namespace_name, name));
    if (it == services_.end() || it->second.deleting) return Status::NotFound("service '" + name + "' does not exist");
    return SetReplicas(it->second, replicas);
  }

  Status DeleteService(const std::string& namespace_name, const std::string& name,
                       std::chrono::milliseconds grace) override {
    std::string key = Key(namespace_name, name);
    {
      std::lock_guard lock(mu_);
      auto it = services_.find(key);
      if (it == services_.end()) return Status::NotFound("service '" + name + "' does not exist");
      ServiceEntry& s = it->second;
      if (!s.deleting)
        PC_RETURN_IF_ERROR(fsutil::WriteFileAtomic(s.dir + "/" + kServiceDeletingFile, IsoTime(Now()) + "\n", {.mode = 0644}));
      s.deleting = true;
      s.grace = grace;
      ReconcileService(s, nullptr);  // sends the stops now
    }
    // Each pass stops what is left and forgets the service once every supervisor has exited.
    auto deadline = std::chrono::steady_clock::now() + grace + std::chrono::seconds(5);
    while (true) {
      {
        std::lock_guard lock(mu_);
        auto it = services_.find(key);
        if (it == services_.end()) return Status::Ok();
        if (std::chrono::steady_clock::now() > deadline)
          return Status::Unavailable("the replicas of service '" + name + "' are still stopping");
        ReconcileService(it->second, nullptr);
        if (it->second.forget) {
          services_.erase(it);
          return Status::Ok();
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // bounded wait for process exits
    }
  }

  Result<std::vector<ReplicaStatus>> GetReplicas(const std::string& namespace_name, const std::string& name) override {
    std::lock_guard lock(mu_);
    if (options_.poll_interval.count() == 0 || std::chrono::steady_clock::now() - last_reconcile_ > kReconcileFresh)
      Reconcile();
    auto it = services_.find(Key(namespace_name, name));
    if (it == services_.end() || it->second.deleting) return Err(Status::NotFound("service '" + name + "' does not exist"));
    std::vector<ReplicaStatus> replicas;
    for (int i = 0; i < it->second.run.replicas; ++i) replicas.push_back(ObserveReplica(it->second, i));
    return replicas;
  }

  Result<JobUsage> GetServiceUsage(const std::string& namespace_name, const std::string& name) override {
    std::vector<Running> running, ended;
    {
      std::lock_guard lock(mu_);
      auto it = services_.find(Key(namespace_name, name));
      if (it == services_.end() || it->second.deleting) return Err(Status::NotFound("service '" + name + "' does not exist"));
      for (int i = 0; i < it->second.run.replicas; ++i) {
        std::string dir = ReplicaDir(it->second, i);
        auto known = replicas_.find(dir);
        if (known == replicas_.end() || !known->second.launched) continue;
        PodPhase phase = ObservePodDir(dir).phase;
        if (phase != PodPhase::kPending)
          (phase == PodPhase::kRunning ? running : ended).push_back({ReplicaName(it->second.run.name, i), dir + "/" + kStatusFile, {}});
      }
    }
    return UsageOf(running, ended, JobNetwork{});
  }

 private:
  static std::string Key(const std::string& ns, const std::string& job) { return ns + "/" + job; }
  static std::string PodDir(const JobEntry& e, const std::string& pod) { return e.dir + "/pods/" + pod; }

  std::int64_t Now() const {
    return options_.now ? options_.now() : static_cast<std::int64_t>(std::time(nullptr));
  }

  void Loop() {
    std::unique_lock lock(mu_);
    while (!quit_) {
      cv_.wait_for(lock, options_.poll_interval, [this] { return quit_ || kick_; });
      if (quit_) break;
      kick_ = false;
      Reconcile();
    }
  }

  // The observed state of an admitted pod, from its files.
  PodStatus Observe(const JobEntry& e, const PodSlot& slot) {
    std::string dir = PodDir(e, slot.name);
    if (auto cached = ended_.find(dir); cached != ended_.end()) return cached->second;
    PodStatus st = ObserveFiles(e, slot);
    // An ended pod whose supervisor is gone never changes again.
    if (IsTerminal(st.phase) && !LockHeld(dir + "/" + kLockFile)) ended_[dir] = st;
    return st;
  }

  PodStatus ObserveFiles(const JobEntry& e, const PodSlot& slot) const {
    PodStatus st = ObservePodDir(PodDir(e, slot.name));
    st.name = slot.name;
    st.role = slot.role;
    st.index = slot.index;
    st.endpoint = slot.endpoint;
    return st;
  }

  // A launched pod's phase, reason, exit code, restarts and times, from the files in its `dir`.
  static PodStatus ObservePodDir(const std::string& dir) {
    PodStatus st;
    // The lock first: a supervisor writes its final status before it exits.
    bool alive = LockHeld(dir + "/" + kLockFile);
    if (auto text = ReadWholeFile(dir + "/" + kStatusFile)) {
      if (auto record = PodRecordFromJson(*text)) {
        st.phase = record->phase;
        st.reason = record->reason;
        st.exit_code = record->exit_code;
        st.restarts = record->restarts;
        st.started_at = record->started_at;
        st.finished_at = record->finished_at;
        if (!IsTerminal(st.phase) && !alive) {
          st.phase = PodPhase::kFailed;
          st.reason = "SupervisorLost";
        }
        return st;
      }
    }
    if (alive) {
      st.reason = "Starting";
    } else if (Exists(dir + "/" + kLaunchedFile)) {
      st.phase = PodPhase::kFailed;
      st.reason = "SupervisorLost";
    } else if (Exists(dir + "/" + kStopFile)) {
      st.phase = PodPhase::kFailed;
      st.reason = "Stopped";
    } else {
      st.reason = "Starting";
    }
    return st;
  }

  // Launches admitted pods not launched yet, starts and stops service replicas, admits waiting
  // jobs that fit (FIFO); returns what admitted, unfinished pods and replicas request.
  Resources Reconcile() {
    last_reconcile_ = std::chrono::steady_clock::now();
    ReapStarted(/*block=*/false);
    Resources in_use;
    std::set<int> used_gpus;
    for (auto& [key, e] : jobs_) {
      if (!e.admitted) continue;
      std::vector<const PodSlot*> unfinished;
      for (const PodSlot& slot : *e.admitted) {
        PodStatus st = Observe(e, slot);
        if (st.reason == "SupervisorLost") CleanUpLost(PodDir(e, slot.name), e.run.namespace_name, slot.name);
        if (IsTerminal(st.phase)) continue;
        unfinished.push_back(&slot);
        Add(in_use, RequestsOf(e.run, slot.role));
        used_gpus.insert(slot.gpus.begin(), slot.gpus.end());
      }
      Launch(e, unfinished);
      if (unfinished.empty()) ReleaseNetwork(e);
      else if (e.network.keeper_pid && !relays_.count(e.dir)) StartRelay(e);  // adopted after a restart
    }
    // Service replicas start as they fit, before waiting jobs (which wait for a whole gang).
    for (auto it = services_.begin(); it != services_.end();) {
      ReconcileService(it->second, &in_use);
      it = it->second.forget ? services_.erase(it) : std::next(it);
    }
    for (JobEntry* e : Queue()) {
      Resources need = JobRequests(e->run);
      if (!Fits(need, Sub(capacity_, in_use))) break;  // FIFO: nobody overtakes the head
      Status s = Admit(*e, used_gpus);
      if (!s.ok()) {
        spdlog::error("local cluster: cannot admit job {}/{}: {}", e->run.namespace_name, e->run.job, s.message());
        break;
      }
      Add(in_use, need);
    }
    return in_use;
  }

  // What a dead supervisor left behind (its pod's processes, its cgroups) would hold resources
  // the backend now counts as free: kill and remove it, once.
  void CleanUpLost(const std::string& dir, const std::string& ns, const std::string& pod) {
    if (Exists(dir + "/" + kLostCleanedFile)) return;
    pid_t sid = 0;
    if (auto record = PodRecordFromJson(ReadWholeFile(dir + "/" + kStatusFile).value_or(""))) {
      sid = static_cast<pid_t>(record->supervisor_pid);
      if (ArePodCgroups(record->cgroup_dirs, ns)) RemoveCgroupDirs(record->cgroup_dirs);
      else spdlog::warn("local cluster: pod {}/{}: ignoring cgroup directories that are not its own", ns, pod);
    }
    if (sid <= 0) sid = static_cast<pid_t>(std::atoll(ReadWholeFile(dir + "/" + kPidFile).value_or("0").c_str()));
    KillSession(sid);
    spdlog::warn("local cluster: the supervisor of pod {}/{} died; its processes were killed", ns, pod);
    if (Status s = fsutil::WriteFileAtomic(dir + "/" + kLostCleanedFile, IsoTime(Now()) + "\n"); !s.ok())
      spdlog::warn("local cluster: pod {} will be cleaned up again: {}", pod, s.message());
  }

  std::vector<JobEntry*> Queue() {
    std::vector<JobEntry*> queue;
    for (auto& [key, e] : jobs_)
      if (!e.admitted && !e.stopped_at) queue.push_back(&e);
    std::sort(queue.begin(), queue.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    return queue;
  }

  std::string WaitingReason(const JobEntry& job) {
    Resources in_use;
    for (auto& [key, e] : jobs_) {
      if (!e.admitted) continue;
      for (const PodSlot& slot : *e.admitted)
        if (!IsTerminal(Observe(e, slot).phase)) Add(in_use, RequestsOf(e.run, slot.role));
    }
    int ahead = 0;
    for (JobEntry* e : Queue()) {
      if (e == &job) break;
      ++ahead;
    }
    std::string shortage = Shortage(JobRequests(job.run), Sub(capacity_, in_use));
    if (!shortage.empty()) return "waiting for " + shortage;
    if (ahead > 0) return "waiting for " + std::to_string(ahead) + (ahead == 1 ? " earlier job" : " earlier jobs") + " in the queue";
    return "waiting to be admitted";
  }

  Status Admit(JobEntry& e, std::set<int>& used_gpus) {
    int pods = e.run.trainers + e.run.pservers;
    auto ports = FreePorts(pods);
    if (!ports) return ports.error();
    std::vector<PodSlot> slots;
    std::vector<int> free_gpus;
    for (int g = 0; g < capacity_.gpus; ++g)
      if (!used_gpus.count(g)) free_gpus.push_back(g);
    std::size_t next_gpu = 0;
    json::array pods_json;
    for (auto role : {PodRole::kTrainer, PodRole::kPserver}) {
      int count = role == PodRole::kTrainer ? e.run.trainers : e.run.pservers;
      for (int i = 0; i < count; ++i) {
        PodSlot slot;
        slot.name = PodName(e.run.job, role, i);
        slot.role = role;
        slot.index = i;
        slot.endpoint = "127.0.0.1:" + std::to_string((*ports)[slots.size()]);
        for (std::int64_t g = 0; g < RequestsOf(e.run, role).gpus && next_gpu < free_gpus.size(); ++g) {
          slot.gpus.push_back(free_gpus[next_gpu]);
          used_gpus.insert(free_gpus[next_gpu++]);
        }
        json::array gpus;
        for (int g : slot.gpus) gpus.push_back(g);
        pods_json.push_back(json::object{{"name", slot.name}, {"role", RoleName(role)}, {"index", i},
                                         {"endpoint", slot.endpoint}, {"gpus", std::move(gpus)}});
        slots.push_back(std::move(slot));
      }
    }
    if (root_) {
      auto uid = PodUid(e.run.namespace_name);
      if (!uid) return uid.error();
      e.uid = *uid;
      for (const Mount& m : e.run.mounts)
        if (!m.read_only) GiveTo(m.source, e.uid, e.uid);
    }
    if (networks_) {
      auto network = CreateJobNetwork();
      if (!network) return network.error();
      e.network = *network;
      StartRelay(e);
    }
    json::object admitted{{"admitted_at", Now()}, {"pods", std::move(pods_json)}, {"network", ToJsonObject(e.network)}};
    if (Status s = fsutil::WriteFileAtomic(e.dir + "/" + kAdmittedFile, json::serialize(admitted), {.mode = 0644, .durable = false}); !s.ok()) {
      ReleaseNetwork(e);
      return s;
    }
    e.admitted = std::move(slots);
    std::vector<const PodSlot*> all;
    for (const PodSlot& slot : *e.admitted) all.push_back(&slot);
    Launch(e, all);
    return Status::Ok();
  }

  PodSpec SpecOf(const JobEntry& e, const PodSlot& slot) const {
    std::vector<std::string> trainers, pservers;
    for (const PodSlot& s : *e.admitted) (s.role == PodRole::kTrainer ? trainers : pservers).push_back(s.endpoint);
    PodSpec spec;
    spec.namespace_name = e.run.namespace_name;
    spec.job = e.run.job;
    spec.pod = slot.name;
    spec.role = slot.role;
    spec.index = slot.index;
    spec.entry = e.run.entry;
    spec.working_dir = e.run.working_dir;
    spec.env = kPodBaseEnv;
    for (auto& [k, v] : PaddleEnv(e.run.job, slot.role, slot.index, trainers, pservers)) spec.env[k] = v;
    for (auto& [k, v] : e.run.env) spec.env[k] = v;
    spec.mounts = e.run.mounts;
    std::string gpus;
    for (int g : slot.gpus) gpus += (gpus.empty() ? "" : ",") + std::to_string(g);
    spec.env["CUDA_VISIBLE_DEVICES"] = gpus;
    spec.log_path = e.run.logs_dir + "/" + slot.name + ".log";
    spec.limits = RequestsOf(e.run, slot.role);
    spec.log_limit_bytes = options_.isolation.log_limit_bytes;
    spec.pids_limit = options_.isolation.pids_limit;
    spec.gpus = slot.gpus;
    spec.strict = options_.isolation.strict;
    if (root_) std::tie(spec.uid, spec.gid) = std::pair{e.uid, e.uid};
    spec.network = e.network;
    spec.max_restarts = e.run.max_restarts;
    spec.default_grace_ms = options_.default_grace.count();
    return spec;
  }

  // The pod uid of namespace `ns`: the one recorded, else the first free one of the range (and
  // recorded). The record is read once, at the first call.
  Result<int> PodUid(const std::string& ns) {
    std::string path = options_.state_dir + "/" + kUidsFile;
    if (!uids_) {
      uids_.emplace();
      boost::system::error_code ec;
      json::value v = json::parse(ReadWholeFile(path).value_or("{}"), ec);
      if (!ec && v.is_object())
        for (const auto& [k, uid] : v.as_object())
          if (uid.is_int64()) (*uids_)[std::string(k)] = static_cast<int>(uid.as_int64());
    }
    if (auto known = uids_->find(ns); known != uids_->end()) return known->second;
    std::set<int> taken;
    for (const auto& [k, uid] : *uids_) taken.insert(uid);
    const IsolationOptions& iso = options_.isolation;
    for (std::int64_t uid = iso.first_uid; uid < static_cast<std::int64_t>(iso.first_uid) + iso.uid_count; ++uid) {
      if (taken.count(static_cast<int>(uid)) || uid == 0 || uid == static_cast<std::int64_t>(::geteuid())) continue;
      json::object record;
      for (const auto& [k, known] : *uids_) record[k] = known;
      record[ns] = uid;
      PC_RETURN_IF_ERROR(fsutil::WriteFileAtomic(path, json::serialize(record), {.mode = 0644}));
      (*uids_)[ns] = static_cast<int>(uid);
      return static_cast<int>(uid);
    }
    return Err(Status::ResourceExhausted("no free pod uid left in the configured range"));
  }

  void StartRelay(const JobEntry& e) {
    auto target = options_.api_endpoint ? RelayTarget(options_.api_endpoint()) : std::nullopt;
    if (!target) return;
    auto relay = ApiRelay::Start(e.network, target->second, target->first, target->second);
    if (!relay) {
      spdlog::error("local cluster: job {}/{}: no API in its network: {}", e.run.namespace_name, e.run.job,
                    relay.error().message());
      return;
    }
    relays_[e.dir] = std::move(*relay);
  }

  // The job's pods have ended: its API relay and network go.
  void ReleaseNetwork(JobEntry& e) {
    if (!e.network.keeper_pid) return;
    relays_.erase(e.dir);
    ReleaseJobNetwork(e.network);
    e.network = {};
  }

  // Whether the pod in `dir` never had a supervisor started (nor was stopped first).
  static bool Launchable(const std::string& dir) {
    return !Exists(dir + "/" + kLaunchedFile) && !Exists(dir + "/" + kStatusFile) && !Exists(dir + "/" + kStopFile);
  }

  // Starts the supervisors of those of `slots` whose supervisor was never started (nor stopped
  // first), all through one run of the supervisor program.
  void Launch(const JobEntry& e, const std::vector<const PodSlot*>& slots) {
    std::vector<std::pair<std::string, PodSpec>> pods;
    for (const PodSlot* slot : slots)
      if (std::string dir = PodDir(e, slot->name); Launchable(dir)) pods.emplace_back(dir, SpecOf(e, *slot));
    SpawnSupervisors(pods, "job " + e.run.namespace_name + "/" + e.run.job);
  }

  // Writes each pod's pod.json (in its directory, the first of each pair) and starts the
  // supervisors of all through one run of the supervisor program. `what` names them in errors.
  void SpawnSupervisors(const std::vector<std::pair<std::string, PodSpec>>& pods, const std::string& what) {
    std::vector<std::string> args = {options_.supervisor_binary};
    std::vector<int> lock_fds;
    std::vector<std::string> dirs;
    for (const auto& [dir, spec] : pods) {
      std::error_code ec;
      fs::create_directories(dir, ec);
      fs::create_directories(fs::path(spec.log_path).parent_path(), ec);
      Status s = fsutil::WriteFileAtomic(dir + "/" + kPodSpecFile, ToJson(spec), {.mode = 0600, .durable = false});
      if (!s.ok()) {
        spdlog::error("local cluster: pod {}: {}", spec.pod, s.message());
        continue;
      }
      int lock_fd = ::open((dir + "/" + kLockFile).c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (lock_fd < 0) continue;
      if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0 ||  // a supervisor is already there
          !fsutil::WriteFileAtomic(dir + "/" + kLaunchedFile, IsoTime(Now()) + "\n", {.mode = 0644, .durable = false}).ok()) {
        ::close(lock_fd);
        continue;
      }
      args.insert(args.end(), {"--pod-dir", dir, "--lock-fd", std::to_string(3 + lock_fds.size())});
      lock_fds.push_back(lock_fd);
      dirs.push_back(dir);
    }
    if (lock_fds.empty()) return;
    // posix_spawn (a vfork-style clone) instead of fork: copying this multi-threaded server's page
    // tables per pod was the cost of starting big jobs. The program forks one supervisor per pod
    // and exits, so the server only reaps that short-lived process.
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::string log_path = dirs.front() + "/" + kSupervisorLogFile;  // the program's own errors
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    for (std::size_t i = 0; i < lock_fds.size(); ++i)
      posix_spawn_file_actions_adddup2(&actions, lock_fds[i], static_cast<int>(3 + i));
    posix_spawn_file_actions_addclosefrom_np(&actions, static_cast<int>(3 + lock_fds.size()));
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &all);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    pid_t child = -1;
    char path_env[] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
    char* supervisor_env[] = {path_env, nullptr};  // nothing of the server's environment
    int spawned = ::posix_spawn(&child, argv[0], &actions, &attributes, argv.data(), supervisor_env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawned == 0) {
      starting_.push_back(child);
    } else {
      spdlog::error("local cluster: cannot run the pod supervisor {} for {}: {}", options_.supervisor_binary, what,
                    std::strerror(spawned));
      PodRecord failed;
      failed.phase = PodPhase::kFailed;
      failed.reason = "StartError";
      failed.message = "cannot run the pod supervisor " + options_.supervisor_binary;
      failed.exit_code = 127;
      failed.finished_at = Now();
      for (const std::string& dir : dirs)
        if (Status s = fsutil::WriteFileAtomic(dir + "/" + kStatusFile, ToJson(failed)); !s.ok())
          spdlog::error("local cluster: {} cannot say why it did not start: {}", dir, s.message());
    }
    for (int fd : lock_fds) ::close(fd);  // the supervisors hold the locks through their inherited copies
  }

  // ---- services: state, reconciliation, probes ---------------------------------------------

  struct ServiceEntry {
    ServiceRun run;
    std::string dir;
    bool deleting = false;
    std::chrono::milliseconds grace{0};  // of the deletion
    bool forget = false;                 // deleting and no replica left: the entry goes
  };

  // What reconciliation last saw of a replica, by its directory.
  struct ReplicaRuntime {
    bool launched = false;
    std::string endpoint;  // "127.0.0.1:<$PORT>", or of its inward relay when it has its own network
    std::string waiting;   // not launched: why
    int run = 0;           // running (not backing off): 1 + its restarts, which identifies the run; else 0
    // With its own network: the platform reaches the replica, and the replica the API, through these.
    std::unique_ptr<ApiRelay> inward, api;
  };

  // Readiness of one run of a replica.
  struct ProbeState {
    int run = 0;
    std::chrono::steady_clock::time_point since, next;
    bool ready = false;
    int failures = 0;     // in a row
    std::string detail;   // of the last failure
  };

  static constexpr std::chrono::milliseconds kProbeTick{50};

  static std::string ReplicaDir(const ServiceEntry& s, int index) {
    return s.dir + "/replicas/" + ReplicaName(s.run.name, index);
  }

  void Kick() {
    if (thread_.joinable()) {
      kick_ = true;
      cv_.notify_all();
    } else {
      Reconcile();
    }
  }

  Status SetReplicas(ServiceEntry& s, int replicas) {
    ServiceRun changed = s.run;
    changed.replicas = replicas;
    PC_RETURN_IF_ERROR(fsutil::WriteFileAtomic(s.dir + "/" + kServiceFile, ToJson(changed), {.mode = 0600}));
    s.run = std::move(changed);
    Kick();
    return Status::Ok();
  }

  void LoadServices() {
    std::error_code ec;
    for (const auto& ns : fs::directory_iterator(options_.state_dir + "/" + kServicesDir, ec)) {
      for (const auto& dir : fs::directory_iterator(ns.path(), ec)) {
        auto run = ServiceRunFromJson(ReadWholeFile(dir.path().string() + "/" + kServiceFile).value_or(""));
        if (!run) {
          spdlog::warn("local cluster: ignoring service {}: {}", dir.path().string(), run.error().message());
          continue;
        }
        ServiceEntry entry{*run, dir.path().string()};
        entry.deleting = Exists(entry.dir + "/" + kServiceDeletingFile);
        entry.grace = options_.default_grace;
        services_[Key(run->namespace_name, run->name)] = std::move(entry);
      }
    }
  }

  // The replica indexes that have a directory.
  static std::set<int> ReplicaDirs(const ServiceEntry& s) {
    std::set<int> indexes;
    std::string prefix = s.run.name + "-";
    std::error_code ec;
    for (const auto& d : fs::directory_iterator(s.dir + "/replicas", ec)) {
      std::string n = d.path().filename().string();
      std::string digits = n.substr(std::min(prefix.size(), n.size()));
      if (n.starts_with(prefix) && !digits.empty() && digits.size() < 4 && std::all_of(digits.begin(), digits.end(), ::isdigit))
        indexes.insert(std::atoi(digits.c_str()));
    }
    return indexes;
  }

  void ForgetReplica(const std::string& dir) {
    replicas_.erase(dir);  // its relays first: they hold connections into the network
    if (auto spec = PodSpecFromJson(ReadWholeFile(dir + "/" + kPodSpecFile).value_or("")))
      ReleaseJobNetwork(spec->network);
    std::error_code ec;
    fs::remove_all(dir, ec);
    replicas_.erase(dir);
    probes_.erase(dir);
  }

  // Starts the missing replicas that fit in what `in_use` leaves free (none when null), counts the
  // unfinished ones in it, stops those past the replica count and removes the directories of
  // stopped ones (a wanted one is so started again). A deleting service wants no replica and is
  // marked `forget` once none is left.
  void ReconcileService(ServiceEntry& s, Resources* in_use) {
    int wanted = s.deleting ? 0 : s.run.replicas;
    std::set<int> indexes = ReplicaDirs(s);
    for (int i = 0; i < wanted; ++i) indexes.insert(i);
    std::vector<std::pair<std::string, PodSpec>> launch;
    bool left = false;
    for (int i : indexes) {
      std::string dir = ReplicaDir(s, i);
      ReplicaRuntime& r = replicas_[dir];
      if (Launchable(dir)) {
        if (i >= wanted) {
          ForgetReplica(dir);
          continue;
        }
        if (!in_use) continue;
        if (std::string shortage = Shortage(s.run.requests, Sub(capacity_, *in_use)); !shortage.empty()) {
          r = {.waiting = "waiting for " + shortage};
          continue;
        }
        auto port = FreePorts(1);
        if (!port) {
          r = {.waiting = port.error().message()};
          continue;
        }
        r = {.launched = true, .endpoint = "127.0.0.1:" + std::to_string(port->front())};
        auto spec = ReplicaSpec(s, i, port->front());
        if (spec && networks_) {
          auto network = CreateJobNetwork();
          if (!network) spec = Err(network.error());
          else spec->network = *network;
        }
        if (spec && spec->network.keeper_pid) {
          if (Status wired = WireReplica(r, spec->network, port->front()); !wired.ok()) {
            ReleaseJobNetwork(spec->network);
            spec = Err(wired);
          }
        }
        if (!spec) {
          r = {.waiting = spec.error().message()};
          continue;
        }
        launch.emplace_back(dir, std::move(*spec));
        Add(*in_use, s.run.requests);
        continue;
      }
      PodStatus st = ObservePodDir(dir);
      bool ended = IsTerminal(st.phase) && !LockHeld(dir + "/" + kLockFile);
      if (!ended && i >= wanted && !Exists(dir + "/" + kStopFile))
        if (Status stop = StopPod(dir, s.deleting ? s.grace : options_.default_grace); !stop.ok())
          spdlog::error("local cluster: cannot stop replica {}: {}", dir, stop.message());
      if (st.reason == "SupervisorLost") CleanUpLost(dir, s.run.namespace_name, ReplicaName(s.run.name, i));
      if (ended && (i >= wanted || st.reason == "Stopped" || st.reason == "SupervisorLost")) {  // a lost one starts anew
        ForgetReplica(dir);
        continue;
      }
      left = true;
      if (!r.launched) Adopt(r, dir);  // after a restart
      r.run = st.phase == PodPhase::kRunning && st.reason != "Restarting" ? st.restarts + 1 : 0;
      if (!IsTerminal(st.phase) && in_use) Add(*in_use, s.run.requests);
    }
    SpawnSupervisors(launch, "service " + s.run.namespace_name + "/" + s.run.name);
    if (s.deleting && !left) {
      std::error_code ec;
      fs::remove_all(s.dir, ec);
      fs::remove(fs::path(s.dir).parent_path(), ec);  // the namespace's folder, when now empty
      s.forget = true;
    }
  }

  // A replica found running after a restart, from its pod.json: reached at 127.0.0.1:<PORT>, or
  // through new relays when it has its own network.
  void Adopt(ReplicaRuntime& r, const std::string& dir) {
    r = {.launched = true};
    auto spec = PodSpecFromJson(ReadWholeFile(dir + "/" + kPodSpecFile).value_or(""));
    auto port = spec ? spec->env.find("PORT") : std::map<std::string, std::string>::const_iterator{};
    if (!spec || port == spec->env.end()) return;
    r.endpoint = "127.0.0.1:" + port->second;
    if (spec->network.keeper_pid)
      if (Status wired = WireReplica(r, spec->network, std::atoi(port->second.c_str())); !wired.ok())
        spdlog::error("local cluster: replica {} cannot be reached: {}", dir, wired.message());
  }

  // The relays of a replica in its own network: the platform reaches its $PORT through `inward`
  // (which becomes its endpoint), and it reaches the API at the server's port through `api`.
  Status WireReplica(ReplicaRuntime& r, const JobNetwork& network, int port) {
    auto inward = ApiRelay::StartInward(network, port);
    if (!inward) return inward.error();
    r.endpoint = "127.0.0.1:" + std::to_string((*inward)->listen_port());
    r.inward = std::move(*inward);
    if (auto target = options_.api_endpoint ? RelayTarget(options_.api_endpoint()) : std::nullopt) {
      auto api = ApiRelay::Start(network, target->second, target->first, target->second);
      if (!api) return api.error();
      r.api = std::move(*api);
    }
    return Status::Ok();
  }

  Result<PodSpec> ReplicaSpec(const ServiceEntry& s, int index, int port) {
    PodSpec spec;
    spec.namespace_name = s.run.namespace_name;
    spec.job = s.run.name;
    spec.pod = ReplicaName(s.run.name, index);
    spec.index = index;
    spec.entry = s.run.command;
    spec.working_dir = s.run.working_dir;
    spec.env = kPodBaseEnv;
    for (const auto& [k, v] : s.run.env) spec.env[k] = v;
    spec.env["PORT"] = std::to_string(port);
    spec.env["CUDA_VISIBLE_DEVICES"] = "";
    spec.mounts = s.run.mounts;
    spec.log_path = s.run.logs_dir + "/" + spec.pod + ".log";
    spec.limits = s.run.requests;
    spec.log_limit_bytes = options_.isolation.log_limit_bytes;
    spec.pids_limit = options_.isolation.pids_limit;
    spec.strict = options_.isolation.strict;
    if (root_) {
      auto uid = PodUid(s.run.namespace_name);
      if (!uid) return Err(uid.error());
      std::tie(spec.uid, spec.gid) = std::pair{*uid, *uid};
      for (const Mount& m : s.run.mounts)
        if (!m.read_only) GiveTo(m.source, *uid, *uid);
    }
    spec.restart_always = true;
    spec.max_backoff_ms = s.run.max_backoff.count();
    spec.default_grace_ms = options_.default_grace.count();
    return spec;
  }

  ReplicaStatus ObserveReplica(const ServiceEntry& s, int index) {
    ReplicaStatus st;
    st.name = ReplicaName(s.run.name, index);
    st.index = index;
    st.log_path = s.run.logs_dir + "/" + st.name + ".log";
    std::string dir = ReplicaDir(s, index);
    auto r = replicas_.find(dir);
    if (r == replicas_.end() || !r->second.launched) {
      st.reason = r != replicas_.end() && !r->second.waiting.empty() ? r->second.waiting : "waiting to be scheduled";
      return st;
    }
    st.endpoint = r->second.endpoint;
    PodStatus pod = ObservePodDir(dir);
    st.restarts = pod.restarts;
    st.last_exit_code = pod.exit_code;
    st.started_at = pod.started_at;
    auto record = PodRecordFromJson(ReadWholeFile(dir + "/" + kStatusFile).value_or(""));
    if (IsTerminal(pod.phase) || pod.reason == "Restarting") {
      st.phase = IsTerminal(pod.phase) ? ReplicaPhase::kFailed : ReplicaPhase::kNotReady;
      st.reason = IsTerminal(pod.phase) ? pod.reason : "CrashLoopBackOff";
      st.message = record ? record->message : "";
      return st;
    }
    st.phase = ReplicaPhase::kStarting;
    st.reason = "Starting";
    if (pod.phase == PodPhase::kPending) return st;
    if (!s.run.readiness) {
      st.phase = ReplicaPhase::kReady;
      st.reason.clear();
      return st;
    }
    auto probe = probes_.find(dir);
    if (probe == probes_.end() || probe->second.run != pod.restarts + 1) return st;
    const ProbeState& p = probe->second;
    st.message = p.detail;
    if (p.ready) {
      st.phase = ReplicaPhase::kReady;
      st.reason.clear();
    } else if (p.failures >= s.run.readiness->failure_threshold &&
               std::chrono::steady_clock::now() - p.since >= s.run.readiness->startup_grace) {
      st.phase = ReplicaPhase::kNotReady;
      st.reason = "readiness probe failed";
    }
    return st;
  }

  // Every kProbeTick: the readiness probes that are due, run without the lock (each waits up to its
  // timeout), their outcomes recorded for the run they probed.
  void ProbeLoop() {
    struct Due {
      std::string dir;
      int run;
      std::string endpoint;
      HttpProbe probe;
      std::string outcome;
    };
    std::unique_lock lock(mu_);
    while (!quit_) {
      cv_.wait_for(lock, kProbeTick, [this] { return quit_; });
      if (quit_) break;
      std::vector<Due> due;
      auto now = std::chrono::steady_clock::now();
      for (auto& [key, s] : services_) {
        if (s.deleting || !s.run.readiness) continue;
        for (int i = 0; i < s.run.replicas; ++i) {
          std::string dir = ReplicaDir(s, i);
          auto r = replicas_.find(dir);
          if (r == replicas_.end() || r->second.run == 0) continue;
          ProbeState& p = probes_[dir];
          if (p.run != r->second.run) p = {.run = r->second.run, .since = now, .next = now};
          if (now < p.next) continue;
          p.next = now + s.run.readiness->period;
          due.push_back({dir, p.run, r->second.endpoint, *s.run.readiness, ""});
        }
      }
      if (due.empty()) continue;
      lock.unlock();
      for (Due& d : due) {
        auto colon = d.endpoint.rfind(':');
        d.outcome = colon == std::string::npos ? "no endpoint"
                                               : ProbeHttp(d.endpoint.substr(0, colon), std::atoi(d.endpoint.c_str() + colon + 1), d.probe);
      }
      lock.lock();
      for (const Due& d : due) {
        auto p = probes_.find(d.dir);
        if (p == probes_.end() || p->second.run != d.run) continue;  // restarted or gone meanwhile
        ProbeState& state = p->second;
        state.failures = d.outcome.empty() ? 0 : state.failures + 1;
        state.detail = d.outcome;
        if (d.outcome.empty()) state.ready = true;
        else if (state.failures >= d.probe.failure_threshold) state.ready = false;
      }
    }
  }

  LocalBackendOptions options_;
  Resources capacity_;
  std::mutex mu_;  // guards everything below: the job list, caches, relays and the loop's flags
  std::condition_variable cv_;
  bool quit_ = false;
  bool kick_ = false;  // a job was submitted: reconcile now
  std::thread thread_;
  std::map<std::string, JobEntry> jobs_;
  std::map<std::string, PodStatus> ended_;  // by pod dir: final observations
  static constexpr std::chrono::milliseconds kReconcileFresh{100};
  std::chrono::steady_clock::time_point last_reconcile_;  // when the last pass over every job started
  std::vector<pid_t> starting_;             // spawned supervisors not reaped yet
  std::map<std::string, std::unique_ptr<ApiRelay>> relays_;  // by job dir: running jobs' API relays
  std::optional<std::map<std::string, int>> uids_;  // pod uid by namespace, as in kUidsFile
  bool root_ = false;      // pods run as their namespace's uid
  bool networks_ = false;  // each job gets a network namespace
  std::int64_t next_seq_ = 1;
  std::map<std::string, ServiceEntry> services_;   // by namespace/name
  std::map<std::string, ReplicaRuntime> replicas_;  // by replica dir
  std::map<std::string, ProbeState> probes_;        // by replica dir
  std::thread prober_;
};

}  // namespace


// Memory comes in MiB.
std::map<int, GpuUsage> ParseGpuQuery(const std::vector<std::string>& lines) {
  std::map<int, GpuUsage> gpus;
  for (const std::string& line : lines) {
    std::vector<std::string> fields;
    std::istringstream in(line);
    for (std::string field; std::getline(in, field, ',');) {
      field.erase(0, field.find_first_not_of(" \t"));
      field.erase(field.find_last_not_of(" \t\r\n") + 1);
      fields.push_back(field);
    }
    auto number = [&](std::size_t i) -> std::optional<double> {
      if (i >= fields.size() || fields[i].empty() || !std::isdigit(static_cast<unsigned char>(fields[i][0])))
        return std::nullopt;
      return std::strtod(fields[i].c_str(), nullptr);
    };
    auto index = number(0);
    if (!index) continue;
    GpuUsage gpu{.index = static_cast<int>(*index), .utilization_percent = number(1)};
    if (auto used = number(2)) gpu.memory_used_bytes = static_cast<std::uint64_t>(*used) << 20;
    if (auto total = number(3)) gpu.memory_total_bytes = static_cast<std::uint64_t>(*total) << 20;
    gpus[gpu.index] = gpu;
  }
  return gpus;
}

Resources MachineCapacity() {
  Resources r;
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  r.cpu_milli = (cores > 0 ? cores : 1) * 1000;
  if (auto meminfo = ReadWholeFile("/proc/meminfo")) {
    std::istringstream in(*meminfo);
    std::string key;
    std::int64_t kb;
    std::string unit;
    while (in >> key >> kb >> unit)
      if (key == "MemTotal:") {
        r.memory_bytes = kb * 1024;
        break;
      }
  }
  if (std::string smi = FindNvidiaSmi(); !smi.empty())
    for (const std::string& line : NvidiaSmi(smi, "-L"))
      if (line.starts_with("GPU ")) ++r.gpus;
  return r;
}

IsolationProbe ProbeIsolation(const IsolationOptions& isolation) {
  bool root = ::geteuid() == 0;
  IsolationProbe probe;
  probe.sandbox = ProbeSandbox(FindBwrap(), root ? isolation.first_uid : -1, root ? isolation.first_uid : -1);
  probe.cgroups = ProbeCgroups();
  probe.network = ProbeJobNetworks();
  return probe;
}

std::vector<std::string> IsolationProbe::Missing() const {
  std::vector<std::string> missing;
  if (!sandbox.empty()) missing.push_back("no sandbox: " + sandbox + " (pods cannot start)");
  if (!cgroups.empty()) missing.push_back("no cgroup limits: " + cgroups);
  if (!network.empty()) missing.push_back("no network namespace: " + network);
  return missing;
}

Result<std::unique_ptr<ClusterBackend>> MakeLocalBackend(const LocalBackendOptions& options) {
  if (options.state_dir.empty()) return Err(Status::InvalidArgument("the local cluster needs a state directory"));
  if (options.supervisor_binary.empty())
    return Err(Status::InvalidArgument("the local cluster needs the path of the paddlecloud binary"));
  auto backend = std::make_unique<LocalBackend>(options, options.capacity_override.value_or(MachineCapacity()));
  PC_RETURN_IF_ERROR(backend->Start());
  return std::unique_ptr<ClusterBackend>(std::move(backend));
}

}  // namespace paddlecloud::cluster::local
