// The pod supervisor: `paddlecloud pod-supervisor --pod-dir DIR [--lock-fd N]`, one detached
// process (own session) per pod of the local backend, started by LocalBackend and never waited
// for by the server, so pods outlive a server restart or crash.
//
// It holds DIR/supervisor.lock (inherited as --lock-fd, else taken itself; exits 1 if another
// supervisor holds it), writes DIR/supervisor.pid, reads DIR/pod.json, puts the entry into a pod
// cgroup with CPU, memory, pids and device limits when the machine allows it, joins the job's
// network namespace, switches to the pod's uid, and runs `/bin/sh -c <entry>` in a sandbox
// (sandbox.h) in its own process group with exactly the environment of pod.json. The pod's
// stdout+stderr come through a pipe that the supervisor appends to the pod's log (up to its
// limit), with "[paddlecloud] ..." lines at every start and exit and one "isolation: ..." line per
// missing guarantee; with strict isolation a missing guarantee is a StartError. It restarts a failed entry (non-zero
// exit) up to max_restarts times with a short backoff, detects OOM kills through the cgroup, and
// writes DIR/status.json atomically at every transition (see pod_files.h).
//
// Stop protocol: SIGTERM (or SIGINT/SIGHUP, or DIR/stop.json appearing) -> SIGTERM to the pod's
// processes (its cgroup but bwrap itself; the process group where there is no cgroup), SIGKILL
// to the group and the cgroup after the grace period read from
// DIR/stop.json {"grace_ms": N} (pod.json default_grace_ms without it), then the final status
// Failed/"Stopped". When the entry's main process exits, whatever is left of its process group
// (and cgroup) is killed. The supervisor is a child subreaper, so orphaned descendants are reaped.
#pragma once

#include <string>

namespace paddlecloud::cluster::local {

// Runs the supervisor in the calling process until the pod ends. Returns the process exit code
// (0 once a final status is recorded, 1 when it could not start).
// With `detach`, it first forks and lets its parent exit (the starter reaps that parent only).
int RunPodSupervisor(const std::string& pod_dir, int lock_fd = -1, bool detach = false);

}  // namespace paddlecloud::cluster::local
