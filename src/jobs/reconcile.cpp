#include "jobs/reconcile.h"

namespace paddlecloud::jobs {
namespace {

using cluster::PodPhase;
using cluster::PodRole;

bool FailedForGood(const cluster::PodStatus& p) { return p.phase == PodPhase::kFailed && p.reason != "Stopped"; }

// Every trainer has ended and enough of them succeeded: what the pservers served is done.
bool TrainingDone(const std::vector<cluster::PodStatus>& pods, const JobSpec& spec) {
  int succeeded = 0, failed = 0;
  for (const auto& p : pods) {
    if (p.role != PodRole::kTrainer) continue;
    if (p.phase == PodPhase::kSucceeded) ++succeeded;
    else if (FailedForGood(p)) ++failed;
  }
  return succeeded > 0 && succeeded + failed == spec.num_trainer && failed <= spec.fault_tolerant;
}

// The events of one pod since it was recorded as `before`.
void AddPodEvents(const Pod& pod, const RecordedPod& before, bool completed_pserver, std::vector<PodEvent>& events) {
  if (before.phase.empty()) events.push_back({pod.name, "Scheduled", pod.phase == "Pending" ? pod.reason : ""});
  for (int r = before.restarts; r < pod.restarts; ++r)
    events.push_back({pod.name, "Restarted", "restart " + std::to_string(r + 1)});
  if (pod.phase == before.phase) return;
  if (pod.phase == "Running") events.push_back({pod.name, "Started", pod.endpoint});
  if (pod.phase == "Succeeded")
    events.push_back({pod.name, completed_pserver ? "Completed" : "Exited",
                      completed_pserver ? "stopped once the trainers had finished" : "exit code 0"});
  if (pod.phase == "Failed") {
    std::string type = pod.reason == "OOMKilled" ? "OOMKilled" : pod.reason == "Stopped" ? "Stopped" : "Exited";
    events.push_back({pod.name, type,
                      pod.exit_code ? "exit code " + std::to_string(*pod.exit_code) + " (" + pod.reason + ")"
                                    : pod.reason});
  }
}

// What the observed pods add up to.
struct Tally {
  int trainers_succeeded = 0;
  int trainers_failed_for_good = 0;
  int trainer_failures = 0;  // failed runs, restarts included
  int running = 0;
  bool all_ended = true;
  std::string pending_reason;  // of the first waiting pod
};

Tally Count(const std::vector<cluster::PodStatus>& observed) {
  Tally t;
  for (const auto& status : observed) {
    if (status.phase == PodPhase::kRunning) ++t.running;
    if (status.phase != PodPhase::kSucceeded && status.phase != PodPhase::kFailed) t.all_ended = false;
    if (status.phase == PodPhase::kPending && t.pending_reason.empty()) t.pending_reason = status.reason;
    if (status.role != PodRole::kTrainer) continue;
    t.trainer_failures += status.restarts;
    if (status.phase == PodPhase::kSucceeded) ++t.trainers_succeeded;
    if (FailedForGood(status)) {
      ++t.trainers_failed_for_good;
      ++t.trainer_failures;
    }
  }
  return t;
}

// Rules 1-6 of the header: the state, the reason and what to stop.
void DecideState(const Job& job, const Tally& t, ReconcileDecision& d) {
  d.state = job.state;
  d.reason = job.reason;
  if (job.stop_requested) {
    d.stop = StopScope::kAll;
    if (t.all_ended) d.state = JobState::kStopped;
    d.reason = t.all_ended ? "stopped by a user" : "stopping";
  } else if (t.trainers_failed_for_good > job.spec.fault_tolerant) {
    d.reason = std::to_string(t.trainers_failed_for_good) + " trainer(s) failed; the job tolerates " +
               std::to_string(job.spec.fault_tolerant);
    if (t.all_ended) d.state = JobState::kFailed;
    else d.stop = StopScope::kAll;
  } else if (t.trainers_succeeded + t.trainers_failed_for_good == job.spec.num_trainer && t.trainers_succeeded > 0) {
    if (t.all_ended) {
      d.state = JobState::kSucceeded;
      d.reason = "every trainer finished";
    } else {
      d.stop = StopScope::kPservers;
      d.reason = "trainers finished; stopping parameter servers";
    }
  } else if (t.running > 0) {
    d.state = JobState::kRunning;
    d.reason = "";
  } else if (!t.pending_reason.empty()) {
    d.state = job.started_at ? JobState::kRunning : JobState::kPending;
    d.reason = t.pending_reason;
  }
}

}  // namespace

Pod PodOf(const cluster::PodStatus& s) {
  return Pod{.name = s.name, .role = std::string(cluster::RoleName(s.role)), .index = s.index,
             .phase = std::string(cluster::PhaseName(s.phase)), .reason = s.reason, .exit_code = s.exit_code,
             .restarts = s.restarts, .started_at = s.started_at, .finished_at = s.finished_at,
             .endpoint = s.endpoint};
}

std::optional<std::int64_t> FirstStart(const std::vector<cluster::PodStatus>& pods) {
  std::optional<std::int64_t> first;
  for (const auto& p : pods)
    if (p.started_at && (!first || *p.started_at < *first)) first = p.started_at;
  return first;
}

ReconcileDecision Decide(const Job& job, const std::vector<cluster::PodStatus>& observed,
                         const std::map<std::string, RecordedPod>& recorded, std::int64_t now) {
  ReconcileDecision d;
  bool training_done = !job.stop_requested && TrainingDone(observed, job.spec);
  for (const auto& status : observed) {
    Pod pod = PodOf(status);
    bool completed_pserver = training_done && status.role == PodRole::kPserver &&
                             status.phase == PodPhase::kFailed && status.reason == "Stopped";
    if (completed_pserver) {
      pod.phase = "Succeeded";
      pod.reason = "Completed";
    }
    auto before = recorded.find(pod.name);
    AddPodEvents(pod, before == recorded.end() ? RecordedPod{} : before->second, completed_pserver, d.events);
    d.pods.push_back(std::move(pod));
  }
  Tally tally = Count(observed);
  DecideState(job, tally, d);
  d.succeeded = tally.trainers_succeeded;
  d.failed = tally.trainer_failures;
  d.started_at = job.started_at ? job.started_at : FirstStart(observed);
  if (!d.started_at && tally.running > 0) d.started_at = now;
  if (IsTerminal(d.state)) d.finished_at = now;
  d.just_ended = IsTerminal(d.state) && !job.terminal();
  return d;
}

}  // namespace paddlecloud::jobs
