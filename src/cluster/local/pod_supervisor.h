// The pod supervisor: one detached process (own session) per pod of the local backend, started by
// LocalBackend through `paddlecloud-pod-supervisor` and never waited for by the server, so pods
// outlive a server restart or crash.
//
// It holds DIR/supervisor.lock (inherited as --lock-fd, else taken itself; exits 1 if another
// supervisor holds it), writes DIR/supervisor.pid, reads DIR/pod.json, puts the entry into a pod
// cgroup with CPU, memory, pids and device limits when the machine allows it, joins the job's
// network namespace, switches to the pod's uid, and runs `/bin/sh -c <entry>` in a sandbox
// (sandbox.h) in its own process group with exactly the environment of pod.json. The pod's
// stdout+stderr come through a pipe that the supervisor appends to the pod's log (up to its
// limit), with "[paddlecloud] ..." lines at every start and exit and one "isolation: ..." line per
// missing guarantee; with strict isolation a missing guarantee is a StartError. It restarts a failed entry (non-zero
// exit) up to max_restarts times, and a service replica (restart_always) after every exit, with
// an exponential backoff capped at max_backoff_ms, detects OOM kills through the cgroup, and
// writes DIR/status.json atomically at every transition from the first run on (see pod_files.h).
//
// Stop protocol: SIGTERM (or SIGINT/SIGHUP, or DIR/stop.json appearing) -> SIGTERM to the pod's
// processes (its cgroup but bwrap itself, each once, also those started during the grace period;
// the process group where there is no cgroup), SIGKILL
// to the group and the cgroup after the grace period read from
// DIR/stop.json {"grace_ms": N} (pod.json default_grace_ms without it), then the final status
// Failed/"Stopped". When the entry's main process exits, whatever is left of its process group
// (and cgroup) is killed. The supervisor is a child subreaper, so orphaned descendants are reaped.
#pragma once

#include <string>
#include <vector>

namespace paddlecloud::cluster::local {

struct SupervisedPod {
  std::string dir;
  int lock_fd = -1;  // holding dir/supervisor.lock; -1: the supervisor takes it
};
// Starts a supervisor for each pod, each a forked process in a session of its own writing to its
// pod's supervisor.log and running until its pod ends, and returns 0 without waiting for them:
// the process that started this one reaps only this one. One start for all the pods of a job:
// forking is much cheaper than starting a program.
int RunPodSupervisors(const std::vector<SupervisedPod>& pods);

}  // namespace paddlecloud::cluster::local
