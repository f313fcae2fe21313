// The local ClusterBackend: pods are supervised processes on this machine.
//
// Capacity is this machine's (online cores, MemTotal, GPUs listed by `nvidia-smi -L`). Jobs wait
// in a FIFO queue until the whole job fits in what admitted, unfinished pods leave free; then every
// pod gets a real free loopback port ("127.0.0.1:<port>"), GPUs by index (CUDA_VISIBLE_DEVICES,
// empty when none) and its own detached supervisor (pod_supervisor.h), which outlives this object.
//
// State, all under options.state_dir/<namespace>/<job>/ (files written atomically):
//   run.json       the JobRun, its submission sequence number and time (Submit). Mode 0600.
//   admitted.json  written once at admission: every pod's endpoint and GPUs.
//   stopped.json   the job was stopped while waiting: it left the queue.
//   pods/<pod>/    the supervisor's files (pod_files.h).
// The files are the truth; this object only caches the job list. A new backend over the same
// state_dir (a restarted server) rebuilds the queue from run.json in submission order, reads the
// pods' status files, never starts a pod twice, and reports a pod whose supervisor died without a
// final status as Failed/"SupervisorLost". One backend (one server) per state_dir at a time.
//
// Isolation: each job gets a network namespace of its own (job_network.h), held by a keeper
// process named in <job dir>/admitted.json, with the API relayed into it. A root server runs
// each account's pods as the account's own uid (recorded in <state_dir>/pod-uids.json), handing
// the writable mounts to that uid at admission. The server's environment never reaches a supervisor or a pod. The files a
// supervisor writes are checked before the backend acts on them (cgroup directories must be pod
// groups of this job's namespace).
//
// Services (cluster_backend.h; files in service_files.h) run each replica as a pod: the same
// supervisor, sandbox, cgroup limits and pod uid as job pods, restart policy Always, capacity
// counted as job pods', no gang admission. Replicas use this machine's network (no job network),
// each on its own free loopback port given as $PORT; the endpoint is "127.0.0.1:<port>". A prober
// thread runs the readiness probes (in memory: a new backend probes afresh, so an adopted replica
// is Starting until its first probe). No GPUs for replicas yet.
//
// A background thread admits waiting jobs every options.poll_interval and right after a Submit
// (which so returns without waiting for pods to launch); every other call also does.
// Stop of a job still waiting removes the whole job from the queue (a job is admitted whole), all
// its pods ending Failed/"Stopped".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_backend.h"
#include "common/status.h"

namespace paddlecloud::cluster::local {

// How pods are confined (sandbox.h, job_network.h, cgroups.h). Every pod runs in a sandbox; these
// say what else it gets and whether a missing guarantee stops it.
struct IsolationOptions {
  bool strict = false;           // refuse to start pods when a guarantee is missing
  int first_uid = 200000;        // a root server runs each account's pods as its own uid/gid
  int uid_count = 65536;         //   from [first_uid, first_uid + uid_count)
  std::int64_t pids_limit = 4096;          // per pod; 0 = unlimited
  std::int64_t log_limit_bytes = 1LL << 30;  // per pod log; 0 = unlimited
};

struct LocalBackendOptions {
  std::string state_dir;
  std::string supervisor_binary;  // path of paddlecloud-pod-supervisor
  std::optional<Resources> capacity_override;  // tests: instead of this machine's
  std::function<std::int64_t()> now;  // unix seconds; default: the system clock
  std::chrono::milliseconds poll_interval{500};  // admission loop; 0: only on calls
  std::chrono::milliseconds default_grace{10000};  // a pod's grace when SIGTERMed without Stop
  IsolationOptions isolation;
  // "host:port" of the platform's API on this machine; each job's network relays
  // 127.0.0.1:<port> to it. Empty: pods cannot reach the API.
  std::function<std::string()> api_endpoint;
};

// InvalidArgument when state_dir or supervisor_binary is missing; Internal when state_dir cannot
// be created.
Result<std::unique_ptr<ClusterBackend>> MakeLocalBackend(const LocalBackendOptions& options);

// This machine's cores, memory and GPUs.
Resources MachineCapacity();

// The GPUs of `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total
// --format=csv,noheader,nounits` output, by index; "[N/A]" fields stay absent.
std::map<int, GpuUsage> ParseGpuQuery(const std::vector<std::string>& lines);

// What the sandbox of a pod started by this process would lack: each field empty when that
// guarantee holds, else why not. A backend probes once
// at start and logs Missing() ("no network namespace: ...").
struct IsolationProbe {
  std::string sandbox;  // bubblewrap runs (as the pods' uid when root)
  std::string cgroups;  // pod cgroups can be made
  std::string network;  // a network namespace per job
  std::vector<std::string> Missing() const;
};
IsolationProbe ProbeIsolation(const IsolationOptions& isolation);

}  // namespace paddlecloud::cluster::local
