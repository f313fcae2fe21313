// CPU, memory, process-count and device limits for one pod through Linux cgroups (v2, else v1), when this machine lets
// us create groups. Groups live at the top of the hierarchy, beside (never inside) whatever group
// the server runs in: v2 /sys/fs/cgroup/paddlecloud/<name> (memory.max, cpu.max); v1
// /sys/fs/cgroup/{memory,cpu,pids,devices}/paddlecloud/<name> (memory.limit_in_bytes,
// cpu.cfs_quota_us, pids.max, devices.deny/allow). A pod cannot leave its group: the sandbox
// shows it no cgroup filesystem, and it runs as another uid without capabilities.
// Tested here on v1 (hybrid hierarchy, root); the v2 path follows the kernel documentation.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster/cluster_backend.h"

namespace paddlecloud::cluster::local {

struct CgroupLimits {
  Resources resources;      // cpu and memory; 0 = unlimited
  std::int64_t pids = 0;    // processes and threads; 0 = unlimited
  std::vector<int> gpus;    // v1 devices: the standard character devices and these GPUs only
};

class PodCgroup {
 public:
  // Creates the group(s) and applies `limits`. On failure, returns nullptr and sets `why`
  // ("cgroups not writable: mkdir /sys/fs/cgroup/...: Permission denied").
  static std::unique_ptr<PodCgroup> Create(const std::string& name, const CgroupLimits& limits, std::string& why);
  ~PodCgroup();  // kills what is left inside and removes the group(s)

  // "cpu=500m memory=52428800 (cgroup v1)"
  const std::string& Description() const { return description_; }
  // The files to write a pid into to join the group; written from a forked child with
  // JoinFromChild (async-signal-safe).
  const std::vector<std::string>& ProcsFiles() const { return procs_files_; }
  // Number of OOM kills so far (cgroup v2 memory.events / v1 memory.oom_control "oom_kill"); -1
  // when the kernel does not report it.
  std::int64_t OomKills() const;
  // Whether memory usage ever hit the limit (v1 memory.failcnt, v2 memory.events "max").
  bool HitMemoryLimit() const;
  // SIGKILLs every process still in the group.
  void KillAll() const;
  // Sends `signal` to every process in the group but `except`.
  void Signal(int signal, pid_t except = 0) const;
  // The processes in the group now.
  std::set<pid_t> Processes() const;
  // The group's directories (one per v1 controller).
  const std::vector<std::string>& Dirs() const { return dirs_; }
  bool LimitsPids() const { return has_pids_; }
  bool LimitsDevices() const { return has_devices_; }

 private:
  PodCgroup() = default;
  // Make the group(s) under one cgroup version and apply the limits; false with `why` on failure.
  bool SetUpV2(const std::string& name, const CgroupLimits& limits, const std::string& desc, std::string& why);
  bool SetUpV1(const std::string& name, const CgroupLimits& limits, const std::string& desc, std::string& why);
  int version_ = 0;
  bool has_pids_ = false;
  bool has_devices_ = false;
  std::vector<std::string> dirs_;  // created directories, removed in the destructor
  std::string memory_dir_;
  std::vector<std::string> procs_files_;
  std::string description_;
};

// Async-signal-safe: writes the calling process's pid into each of `procs_files` (prepared as C
// strings before fork). Returns false if one write fails.
bool JoinFromChild(const std::vector<const char*>& procs_files);

// Cleans up after a supervisor that died: SIGKILLs what is left in `dirs` and removes them.
void RemoveCgroupDirs(const std::vector<std::string>& dirs);

// Reads the counters of a pod's groups `dirs` (PodCgroup::Dirs(), as recorded in status.json) into
// `usage`: CPU from cpuacct/cpu.stat, memory from memory.stat, disk from the task I/O accounting of
// the processes in the group (/proc/<pid>/io: a process's figures include its reaped children's,
// so the sum can drop when one exits unreaped). Only pod groups (under .../paddlecloud/) are read;
// a counter that cannot be read stays absent.
void ReadCgroupUsage(const std::vector<std::string>& dirs, PodUsage& usage);

// Empty when pod cgroups can be created here; otherwise why not. For tests and diagnostics.
std::string ProbeCgroups();

}  // namespace paddlecloud::cluster::local
