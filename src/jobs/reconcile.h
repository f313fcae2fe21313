// Decide: one reconciliation step of a job, as a pure function of what is known about it now.
//
// The job service observes (the job's row, its pods as last recorded, the pods the backend
// reports), calls Decide, and acts on the decision: it records the events, saves the pods and the
// job's state, sends the stop, and ends what belonged to a job that has just ended. Decide reads
// and writes nothing, so every transition is testable without a backend or a database.
//
// The job's new state, the first rule that applies:
// 1. A user asked it to stop: stop every pod; Stopped ("stopped by a user") once every pod has
//    ended, else unchanged with reason "stopping".
// 2. More trainers failed for good (Failed, not "Stopped") than `fault_tolerant` allows: Failed
//    once every pod has ended, else unchanged and every pod is stopped.
// 3. Every trainer has ended and at least one succeeded: Succeeded once every pod has ended, else
//    the parameter servers are stopped. Parameter servers stopped then did their part: they are
//    shown Succeeded ("Completed"), not Failed with SIGTERM's exit code.
// 4. A pod runs: Running.
// 5. A pod waits: Pending with its reason (Running if the job had started: a restart waiting).
// 6. Otherwise unchanged.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_backend.h"
#include "jobs/job.h"

namespace paddlecloud::jobs {

// A pod as the job service last saved it (no entry: never seen).
struct RecordedPod {
  std::string phase;
  int restarts = 0;
};

struct PodEvent {
  std::string pod;
  std::string type;     // Scheduled, Restarted, Started, Exited, Completed, OOMKilled, Stopped
  std::string message;
};

enum class StopScope { kNone, kPservers, kAll };

struct ReconcileDecision {
  std::vector<Pod> pods;         // every observed pod, as shown and saved
  std::vector<PodEvent> events;  // what changed since the recorded pods, in order
  JobState state = JobState::kPending;
  std::string reason;
  std::optional<std::int64_t> started_at;
  std::optional<std::int64_t> finished_at;  // `now` when the state is terminal
  int succeeded = 0;             // trainers that exited 0
  int failed = 0;                // trainer runs that failed (restarts included)
  StopScope stop = StopScope::kNone;
  bool just_ended = false;       // the job was unfinished and now is terminal
};

ReconcileDecision Decide(const Job& job, const std::vector<cluster::PodStatus>& observed,
                         const std::map<std::string, RecordedPod>& recorded, std::int64_t now);

// A pod as the backend reports it, in the job service's terms.
Pod PodOf(const cluster::PodStatus& status);

// When the job's first pod started, as the backend saw it: a pod that ran and exited between two
// reconcile passes was never seen Running, but it did start.
std::optional<std::int64_t> FirstStart(const std::vector<cluster::PodStatus>& pods);

}  // namespace paddlecloud::jobs
