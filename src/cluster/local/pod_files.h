// The files through which the local backend (the server side) and a pod supervisor (a separate,
// detached process) talk. Every pod has a directory, <state_dir>/<namespace>/<job>/pods/<pod>/:
//
//   pod.json        written by the backend before launch: what to run (PodSpec). Mode 0600: the
//                   environment holds the job's token.
//   launched        written by the backend just before it spawns the supervisor: a supervisor is
//                   started at most once per pod, even across server restarts.
//   supervisor.lock flock()ed by the supervisor for its whole life (the backend takes the lock
//                   before spawning and the supervisor inherits it): "lock held" == "supervisor
//                   alive", with no pid-reuse ambiguity.
//   supervisor.pid  the supervisor's pid, written once its signal handling is set up: only then
//                   does the backend signal it.
//   supervisor.log  the supervisor's own stderr (the pod's output goes to the pod's log file).
//   status.json     written (atomically) by the supervisor at every transition from its first
//                   run or start error on (PodRecord); none yet: the pod is starting.
//   stop.json       written by the backend on Stop ({"grace_ms": N}) before it sends SIGTERM to the
//                   supervisor; the supervisor reads the grace period from it, and checks for it
//                   before starting every attempt (so a Stop racing the launch is never lost).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "cluster/cluster_backend.h"
#include "cluster/local/job_network.h"
#include "common/status.h"

namespace paddlecloud::cluster::local {

inline constexpr char kPodSpecFile[] = "pod.json";
inline constexpr char kLaunchedFile[] = "launched";
inline constexpr char kLockFile[] = "supervisor.lock";
inline constexpr char kPidFile[] = "supervisor.pid";
inline constexpr char kSupervisorLogFile[] = "supervisor.log";
inline constexpr char kStatusFile[] = "status.json";
inline constexpr char kStopFile[] = "stop.json";

// pod.json: everything the supervisor needs, self-contained.
struct PodSpec {
  std::string namespace_name;
  std::string job;
  std::string pod;
  PodRole role = PodRole::kTrainer;
  int index = 0;
  std::string entry;        // run as /bin/sh -c <entry> inside the sandbox (sandbox.h)
  std::string working_dir;  // inside the sandbox; empty: /tmp
  std::map<std::string, std::string> env;  // the entry's whole environment
  std::vector<Mount> mounts;                // what the sandbox shows of this machine's data
  std::string log_path;     // stdout+stderr, appended by the supervisor (never opened by the pod)
  std::int64_t log_limit_bytes = 0;         // 0 = unlimited; past it the log says so and drops output
  Resources limits;         // 0 = unlimited
  std::int64_t pids_limit = 0;              // 0 = unlimited
  std::vector<int> gpus;    // the machine's GPUs this pod may use (their device nodes only)
  int uid = -1;             // run as this uid/gid (a supervisor running as root); -1: the supervisor's
  int gid = -1;
  JobNetwork network;       // the job's network (job_network.h); keeper_pid 0: none
  bool strict = false;      // refuse to start when a guarantee of the sandbox is missing
  int max_restarts = 0;
  bool restart_always = false;            // a service replica: every exit restarts, without limit
  std::int64_t max_backoff_ms = 10000;    // cap of the exponential restart backoff
  std::int64_t default_grace_ms = 10000;  // when SIGTERMed without a stop.json
};

// status.json
struct PodRecord {
  PodPhase phase = PodPhase::kPending;
  std::string reason;       // as PodStatus::reason
  std::string message;      // human detail ("exited with code 3", "chdir /x: No such file")
  std::optional<int> exit_code;
  int restarts = 0;
  int attempt = 0;          // 1-based number of the current/last run; 0 before the first
  std::optional<std::int64_t> started_at;
  std::optional<std::int64_t> finished_at;
  std::int64_t supervisor_pid = 0;
  std::int64_t entry_pid = 0;  // also the entry's process group id
  std::string limits;       // "cpu=500m memory=52428800 (cgroup v1)" or "none (...)"
  std::vector<std::string> cgroup_dirs;  // the pod's cgroup directories, when it has any
  // The cgroup's cumulative counters when the last run ended (read before the group is removed),
  // so the pod's usage ends with a last sample: unix ms, CPU ns, OOM kills.
  std::optional<std::int64_t> ended_at_ms;
  std::optional<std::uint64_t> end_cpu_ns;
  std::optional<std::int64_t> end_oom_kills;
};

std::string ToJson(const PodSpec& spec);
Result<PodSpec> PodSpecFromJson(const std::string& text);
std::string ToJson(const PodRecord& record);
// {"keeper_pid": N, "net_inode": N, "user_inode": N}: in pod.json and the backend's admitted.json.
boost::json::object ToJsonObject(const JobNetwork& network);
JobNetwork JobNetworkFromJson(const boost::json::value* v);  // null or not an object: none
Result<PodRecord> PodRecordFromJson(const std::string& text);
std::optional<PodPhase> PhaseFromName(std::string_view name);
bool IsTerminal(PodPhase phase);

// The whole file; NotFound when it does not exist.
Result<std::string> ReadWholeFile(const std::string& path);
// Whether a live process holds the flock of `lock_path` (false when the file does not exist).
bool LockHeld(const std::string& lock_path);

// "2024-05-01T12:00:00Z"
std::string IsoTime(std::int64_t unix_seconds);

}  // namespace paddlecloud::cluster::local
