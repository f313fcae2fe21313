#include "cluster/local/cgroups.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "cluster/local/pod_files.h"
#include "common/units.h"

namespace paddlecloud::cluster::local {

namespace {

namespace fs = std::filesystem;

constexpr char kRoot[] = "/sys/fs/cgroup";

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

bool WriteValue(const std::string& path, const std::string& value, std::string& why) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    why = "open " + path + ": " + std::strerror(errno);
    return false;
  }
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    why = "write " + path + ": " + std::strerror(err);
    return false;
  }
  return true;
}

// Sends `signal` to every process listed in the groups' cgroup.procs but `except`.
// Every process in the group(s), once each (v1: a process is in every hierarchy's group).
std::set<pid_t> ProcessesIn(const std::vector<std::string>& dirs) {
  std::set<pid_t> pids;
  for (const auto& dir : dirs) {
    auto text = ReadWholeFile(dir + "/cgroup.procs");
    if (!text) continue;
    std::istringstream in(*text);
    for (pid_t pid; in >> pid;)
      if (pid > 0) pids.insert(pid);
  }
  return pids;
}

void SignalCgroupDirs(const std::vector<std::string>& dirs, int signal, pid_t except) {
  for (pid_t pid : ProcessesIn(dirs))
    if (pid != except) ::kill(pid, signal);
}

bool MakeDir(const std::string& path, std::string& why) {
  if (::mkdir(path.c_str(), 0755) == 0 || errno == EEXIST) return true;
  why = "mkdir " + path + ": " + std::strerror(errno);
  return false;
}

// The values of a file of "key value" lines, read once (memory.stat is costly for the kernel to make).
std::map<std::string, std::uint64_t, std::less<>> KeyedValues(const std::string& path) {
  std::map<std::string, std::uint64_t, std::less<>> values;
  auto text = ReadWholeFile(path);
  if (!text) return values;
  std::istringstream in(*text);
  std::string name;
  std::uint64_t value;
  while (in >> name >> value) values.emplace(name, value);
  return values;
}

std::optional<std::uint64_t> ValueOf(const std::map<std::string, std::uint64_t, std::less<>>& values,
                                     std::string_view key) {
  auto it = values.find(key);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

std::optional<std::uint64_t> KeyIn(const std::string& path, std::string_view key) {
  return ValueOf(KeyedValues(path), key);
}

std::string CpuText(std::int64_t milli) {
  return milli > 0 ? units::CpuQuantity(milli) : "unlimited";
}

// Character devices every pod may use (what a minimal /dev holds), "type major:minor access" for
// cgroup v1 devices.allow; GPUs are added per pod.
constexpr const char* kStandardDevices[] = {"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
                                             "c 5:0 rwm", "c 5:2 rwm", "c 136:* rwm"};
constexpr int kNvidiaMajor = 195;

// Only the standard devices and the pod's own GPUs (v1 devices controller).
bool RestrictDevices(const std::string& dir, const std::vector<int>& gpus, std::string& why) {
  if (!WriteValue(dir + "/devices.deny", "a", why)) return false;
  std::vector<std::string> allowed(std::begin(kStandardDevices), std::end(kStandardDevices));
  for (int gpu : gpus) allowed.push_back("c " + std::to_string(kNvidiaMajor) + ":" + std::to_string(gpu) + " rwm");
  if (!gpus.empty()) allowed.push_back("c " + std::to_string(kNvidiaMajor) + ":255 rwm");  // nvidiactl
  for (const auto& rule : allowed)
    if (!WriteValue(dir + "/devices.allow", rule, why)) return false;
  return true;
}

}  // namespace

std::unique_ptr<PodCgroup> PodCgroup::Create(const std::string& name, const CgroupLimits& limits, std::string& why) {
  std::unique_ptr<PodCgroup> group(new PodCgroup());
  std::string base = kRoot;
  std::string desc = "cpu=" + CpuText(limits.resources.cpu_milli) + " memory=" +
                     (limits.resources.memory_bytes > 0 ? std::to_string(limits.resources.memory_bytes) : "unlimited") +
                     " pids=" + (limits.pids > 0 ? std::to_string(limits.pids) : "unlimited");
  if (Exists(base + "/cgroup.controllers")) return group->SetUpV2(name, limits, desc, why) ? std::move(group) : nullptr;
  if (Exists(base + "/memory/memory.limit_in_bytes") || Exists(base + "/cpu/cpu.cfs_quota_us"))
    return group->SetUpV1(name, limits, desc, why) ? std::move(group) : nullptr;
  why = "cgroups not available: nothing mounted at /sys/fs/cgroup";
  return nullptr;
}

bool PodCgroup::SetUpV2(const std::string& name, const CgroupLimits& limits, const std::string& desc, std::string& why) {
  std::string base = kRoot;
  version_ = 2;
  std::string parent = base + "/paddlecloud";
  if (!WriteValue(base + "/cgroup.subtree_control", "+memory +cpu +pids", why) || !MakeDir(parent, why) ||
      !WriteValue(parent + "/cgroup.subtree_control", "+memory +cpu +pids", why)) {
    why = "cgroups not writable: " + why;
    return false;
  }
  std::string dir = parent + "/" + name;
  if (!MakeDir(dir, why)) {
    why = "cgroups not writable: " + why;
    return false;
  }
  dirs_.push_back(dir);
  memory_dir_ = dir;
  procs_files_.push_back(dir + "/cgroup.procs");
  const Resources& r = limits.resources;
  if (r.memory_bytes > 0) {
    if (!WriteValue(dir + "/memory.max", std::to_string(r.memory_bytes), why)) return false;
    std::string ignored;
    WriteValue(dir + "/memory.swap.max", "0", ignored);  // absent without swap accounting
  }
  if (r.cpu_milli > 0 && !WriteValue(dir + "/cpu.max", std::to_string(r.cpu_milli * 100) + " 100000", why))
    return false;
  if (limits.pids > 0 && !WriteValue(dir + "/pids.max", std::to_string(limits.pids), why)) return false;
  has_pids_ = limits.pids > 0;
  // Devices: v2 filters them with eBPF only; the sandbox's /dev holds no other device nodes and a
  // pod has no capability to make one.
  description_ = desc + " (cgroup v2)";
  return true;
}

bool PodCgroup::SetUpV1(const std::string& name, const CgroupLimits& limits, const std::string& desc, std::string& why) {
  std::string base = kRoot;
  version_ = 1;
  std::set<std::string> hierarchies;  // "cpu" and "cpuacct" are often one hierarchy under two names
  for (std::string controller : {"memory", "cpu", "cpuacct", "pids", "devices"}) {
    std::string root = base + "/" + controller;
    std::error_code ec;
    if (!Exists(root + "/cgroup.procs") || !hierarchies.insert(fs::canonical(root, ec).string()).second) continue;
    std::string dir = root + "/paddlecloud/" + name;
    if (!MakeDir(root + "/paddlecloud", why) || !MakeDir(dir, why)) {
      why = "cgroups not writable: " + why;
      return false;
    }
    dirs_.push_back(dir);
    procs_files_.push_back(dir + "/cgroup.procs");
    const Resources& r = limits.resources;
    if (controller == "memory") {
      memory_dir_ = dir;
      if (r.memory_bytes > 0) {
        if (!WriteValue(dir + "/memory.limit_in_bytes", std::to_string(r.memory_bytes), why)) return false;
        std::string ignored;  // also cap swap when swap accounting exists
        WriteValue(dir + "/memory.memsw.limit_in_bytes", std::to_string(r.memory_bytes), ignored);
      }
    } else if (controller == "cpu") {
      if (r.cpu_milli > 0 && (!WriteValue(dir + "/cpu.cfs_period_us", "100000", why) ||
                              !WriteValue(dir + "/cpu.cfs_quota_us", std::to_string(r.cpu_milli * 100), why)))
        return false;
    } else if (controller == "cpuacct") {
      // accounting only
    } else if (controller == "pids") {
      if (limits.pids > 0 && !WriteValue(dir + "/pids.max", std::to_string(limits.pids), why)) return false;
      has_pids_ = limits.pids > 0;
    } else if (!RestrictDevices(dir, limits.gpus, why)) {
      return false;
    } else {
      has_devices_ = true;
    }
  }
  if (dirs_.empty()) {
    why = "cgroups not available: no memory or cpu controller mounted";
    return false;
  }
  description_ = desc + " (cgroup v1)";
  return true;
}

PodCgroup::~PodCgroup() { RemoveCgroupDirs(dirs_); }

void RemoveCgroupDirs(const std::vector<std::string>& dirs) {
  SignalCgroupDirs(dirs, SIGKILL, 0);
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    // Only directories of pod groups; a killed process leaves its group asynchronously: retry briefly.
    if (it->find("/paddlecloud/") == std::string::npos) continue;
    for (int i = 0; i < 100 && ::rmdir(it->c_str()) != 0 && errno == EBUSY; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

std::int64_t PodCgroup::OomKills() const {
  if (memory_dir_.empty()) return -1;
  auto kills = KeyIn(memory_dir_ + (version_ == 2 ? "/memory.events" : "/memory.oom_control"), "oom_kill");
  return kills ? static_cast<std::int64_t>(*kills) : -1;
}

bool PodCgroup::HitMemoryLimit() const {
  if (memory_dir_.empty()) return false;
  if (version_ == 2) return KeyIn(memory_dir_ + "/memory.events", "max").value_or(0) > 0;
  auto text = ReadWholeFile(memory_dir_ + "/memory.failcnt");
  return text && std::atoll(text->c_str()) > 0;
}

void PodCgroup::KillAll() const { Signal(SIGKILL); }

void PodCgroup::Signal(int signal, pid_t except) const { SignalCgroupDirs(dirs_, signal, except); }

std::set<pid_t> PodCgroup::Processes() const { return ProcessesIn(dirs_); }

bool JoinFromChild(const std::vector<const char*>& procs_files) {
  char buf[24];
  int len = 0;
  char digits[24];
  int n = 0;
  for (pid_t pid = ::getpid(); pid > 0; pid /= 10) digits[n++] = static_cast<char>('0' + pid % 10);
  while (n > 0) buf[len++] = digits[--n];
  for (const char* file : procs_files) {
    int fd = ::open(file, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ::write(fd, buf, static_cast<std::size_t>(len)) == len;
    ::close(fd);
    if (!ok) return false;
  }
  return true;
}

namespace {

std::optional<std::uint64_t> NumberIn(const std::string& path) {
  auto text = ReadWholeFile(path);
  if (!text || text->empty() || !std::isdigit(static_cast<unsigned char>((*text)[0]))) return std::nullopt;
  return std::strtoull(text->c_str(), nullptr, 10);
}

// What the processes read from and caused to be written to storage (task I/O accounting; each
// process's figures include its children's once it has reaped them). Block-layer cgroup
// statistics are not used: kernels without blkio throttling report nothing there.
void AddDiskBytes(const std::set<pid_t>& processes, PodUsage& usage) {
  std::uint64_t read = 0, written = 0, cancelled = 0;
  for (pid_t pid : processes) {
    auto text = ReadWholeFile("/proc/" + std::to_string(pid) + "/io");
    if (!text) continue;
    std::istringstream in(*text);
    std::string name;
    std::uint64_t value;
    while (in >> name >> value) {
      if (name == "read_bytes:") read += value;
      if (name == "write_bytes:") written += value;
      if (name == "cancelled_write_bytes:") cancelled += value;
    }
  }
  usage.disk_read_bytes = read;
  usage.disk_write_bytes = written - std::min(written, cancelled);
}

void ReadMemory(const std::string& dir, bool v2, PodUsage& usage) {
  auto used = NumberIn(dir + (v2 ? "/memory.current" : "/memory.usage_in_bytes"));
  auto stat = KeyedValues(dir + "/memory.stat");
  auto inactive_file = ValueOf(stat, v2 ? "inactive_file" : "total_inactive_file");
  if (used) usage.memory_working_set_bytes = *used - std::min(*used, inactive_file.value_or(0));
  usage.memory_rss_bytes = ValueOf(stat, v2 ? "anon" : "total_rss");
  auto limit = NumberIn(dir + (v2 ? "/memory.max" : "/memory.limit_in_bytes"));  // v2 "max": none
  if (limit && *limit < (1ull << 62)) usage.memory_limit_bytes = limit;
  auto kills = KeyIn(dir + (v2 ? "/memory.events" : "/memory.oom_control"), "oom_kill");
  if (kills) usage.oom_kills = static_cast<std::int64_t>(*kills);
}

}  // namespace

void ReadCgroupUsage(const std::vector<std::string>& dirs, PodUsage& usage) {
  std::vector<std::string> pod_dirs;
  for (const std::string& dir : dirs)
    if (dir.starts_with(std::string(kRoot) + "/") && dir.find("/paddlecloud/") != std::string::npos)
      pod_dirs.push_back(dir);
  for (const std::string& dir : pod_dirs) {
    if (Exists(dir + "/cgroup.controllers")) {  // v2: one directory holds every controller
      auto cpu = KeyedValues(dir + "/cpu.stat");
      if (auto usec = ValueOf(cpu, "usage_usec")) usage.cpu_ns = *usec * 1000;
      if (auto usec = ValueOf(cpu, "throttled_usec")) usage.cpu_throttled_ns = *usec * 1000;
      ReadMemory(dir, true, usage);
      continue;
    }
    if (auto ns = NumberIn(dir + "/cpuacct.usage")) usage.cpu_ns = ns;
    if (auto ns = KeyIn(dir + "/cpu.stat", "throttled_time")) usage.cpu_throttled_ns = ns;
    if (Exists(dir + "/memory.usage_in_bytes")) ReadMemory(dir, false, usage);
  }
  // Every process of the pod is in each of its groups: one list is enough.
  if (!pod_dirs.empty()) AddDiskBytes(ProcessesIn({pod_dirs.front()}), usage);
}

std::string ProbeCgroups() {
  std::string why;
  auto group = PodCgroup::Create("probe-" + std::to_string(::getpid()), {.resources = {100, 64 << 20, 0}, .pids = 64}, why);
  return group ? std::string() : why;
}

}  // namespace paddlecloud::cluster::local
