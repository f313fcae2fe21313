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
// A background thread admits waiting jobs every options.poll_interval; every call also does.
// Stop of a job still waiting removes the whole job from the queue (a job is admitted whole), all
// its pods ending Failed/"Stopped".
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "cluster/cluster_backend.h"
#include "common/status.h"

namespace paddlecloud::cluster::local {

struct LocalBackendOptions {
  std::string state_dir;
  std::string supervisor_binary;  // path of the paddlecloud binary (runs `pod-supervisor`)
  std::optional<Resources> capacity_override;  // tests: instead of this machine's
  std::function<std::int64_t()> now;  // unix seconds; default: the system clock
  std::chrono::milliseconds poll_interval{500};  // admission loop; 0: only on calls
  std::chrono::milliseconds default_grace{10000};  // a pod's grace when SIGTERMed without Stop
};

// InvalidArgument when state_dir or supervisor_binary is missing; Internal when state_dir cannot
// be created.
Result<std::unique_ptr<ClusterBackend>> MakeLocalBackend(const LocalBackendOptions& options);

// This machine's cores, memory and GPUs.
Resources MachineCapacity();

}  // namespace paddlecloud::cluster::local
