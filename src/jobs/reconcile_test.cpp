#include "jobs/reconcile.h"

#include <gtest/gtest.h>

namespace paddlecloud::jobs {
namespace {

using cluster::PodPhase;
using cluster::PodRole;
using cluster::PodStatus;

constexpr std::int64_t kNow = 1'000;

Job MakeJob(int trainers, int pservers, int fault_tolerant = 0) {
  Job job;
  job.id = 7;
  job.spec.name = "fit";
  job.spec.num_trainer = trainers;
  job.spec.num_ps = pservers;
  job.spec.fault_tolerant = fault_tolerant;
  job.state = JobState::kPending;
  job.reason = "submitted";
  return job;
}

Job RunningJob(int trainers, int pservers, int fault_tolerant = 0) {
  Job job = MakeJob(trainers, pservers, fault_tolerant);
  job.state = JobState::kRunning;
  job.reason = "";
  return job;
}

PodStatus MakePod(PodRole role, int index, PodPhase phase, std::string reason = "", std::optional<int> exit_code = {}) {
  PodStatus p{.name = cluster::PodName("fit-7", role, index), .role = role, .index = index, .phase = phase,
              .reason = std::move(reason), .exit_code = exit_code, .restarts = 0, .started_at = std::nullopt,
              .finished_at = std::nullopt, .endpoint = ""};
  if (phase != PodPhase::kPending) p.started_at = 900;
  return p;
}
PodStatus Trainer(int i, PodPhase phase, std::string reason = "", std::optional<int> code = {}) {
  return MakePod(PodRole::kTrainer, i, phase, std::move(reason), code);
}
PodStatus Pserver(int i, PodPhase phase, std::string reason = "", std::optional<int> code = {}) {
  return MakePod(PodRole::kPserver, i, phase, std::move(reason), code);
}

// Every pod recorded as it is now: only changes after this produce events.
std::map<std::string, RecordedPod> Recorded(const std::vector<PodStatus>& pods) {
  std::map<std::string, RecordedPod> out;
  for (const auto& p : pods) out[p.name] = {std::string(cluster::PhaseName(p.phase)), p.restarts};
  return out;
}

std::vector<std::string> EventTypes(const ReconcileDecision& d) {
  std::vector<std::string> types;
  for (const auto& e : d.events) types.push_back(e.pod + " " + e.type + ": " + e.message);
  return types;
}

TEST(DecideTest, WaitingPodsKeepTheJobPendingWithTheirReason) {
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kPending, "waiting for 2 CPUs")};
  auto d = Decide(MakeJob(1, 0), pods, {}, kNow);
  EXPECT_EQ(d.state, JobState::kPending);
  EXPECT_EQ(d.reason, "waiting for 2 CPUs");
  EXPECT_EQ(d.stop, StopScope::kNone);
  EXPECT_FALSE(d.started_at);
  EXPECT_FALSE(d.finished_at);
  EXPECT_FALSE(d.just_ended);
  EXPECT_EQ(EventTypes(d), std::vector<std::string>{"fit-7-trainer-0 Scheduled: waiting for 2 CPUs"});
}

TEST(DecideTest, ARunningPodMakesThePendingJobRunning) {
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kRunning), Pserver(0, PodPhase::kRunning)};
  pods[1].endpoint = "127.0.0.1:4000";
  pods[0].started_at = 950;
  pods[1].started_at = 940;
  auto d = Decide(MakeJob(1, 1), pods, {{pods[0].name, {"Pending", 0}}, {pods[1].name, {"Pending", 0}}}, kNow);
  EXPECT_EQ(d.state, JobState::kRunning);
  EXPECT_EQ(d.reason, "");
  EXPECT_EQ(d.started_at, 940);  // the first pod's start, not now
  EXPECT_EQ(EventTypes(d),
            (std::vector<std::string>{"fit-7-trainer-0 Started: ", "fit-7-pserver-0 Started: 127.0.0.1:4000"}));
  ASSERT_EQ(d.pods.size(), 2u);
  EXPECT_EQ(d.pods[1].role, "pserver");
  EXPECT_EQ(d.pods[1].phase, "Running");
}

TEST(DecideTest, ARunningPodWithoutAStartTimeStartsTheJobNow) {
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kRunning)};
  pods[0].started_at.reset();
  EXPECT_EQ(Decide(MakeJob(1, 0), pods, {}, kNow).started_at, kNow);
}

TEST(DecideTest, AStartedJobWhosePodWaitsAgainStaysRunning) {
  Job job = RunningJob(1, 0);
  job.started_at = 800;
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kPending, "waiting for 1 GPU")};
  pods[0].restarts = 1;
  auto d = Decide(job, pods, {{pods[0].name, {"Failed", 0}}}, kNow);
  EXPECT_EQ(d.state, JobState::kRunning);
  EXPECT_EQ(d.reason, "waiting for 1 GPU");
  EXPECT_EQ(d.started_at, 800);
  EXPECT_EQ(d.failed, 1);  // the restart was a failed run
  EXPECT_EQ(EventTypes(d), std::vector<std::string>{"fit-7-trainer-0 Restarted: restart 1"});
}

TEST(DecideTest, EveryTrainerSucceededEndsTheJobSucceeded) {
  Job job = RunningJob(2, 0);
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kSucceeded, "Completed", 0),
                                 Trainer(1, PodPhase::kSucceeded, "Completed", 0)};
  std::map<std::string, RecordedPod> recorded = Recorded(pods);
  recorded[pods[1].name].phase = "Running";
  auto d = Decide(job, pods, recorded, kNow);
  EXPECT_EQ(d.state, JobState::kSucceeded);
  EXPECT_EQ(d.reason, "every trainer finished");
  EXPECT_EQ(d.succeeded, 2);
  EXPECT_EQ(d.failed, 0);
  EXPECT_EQ(d.finished_at, kNow);
  EXPECT_TRUE(d.just_ended);
  EXPECT_EQ(d.stop, StopScope::kNone);
  EXPECT_EQ(EventTypes(d), std::vector<std::string>{"fit-7-trainer-1 Exited: exit code 0"});
}

TEST(DecideTest, FinishedTrainersStopTheParameterServers) {
  Job job = RunningJob(1, 1);
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kSucceeded, "Completed", 0), Pserver(0, PodPhase::kRunning)};
  auto d = Decide(job, pods, Recorded(pods), kNow);
  EXPECT_EQ(d.stop, StopScope::kPservers);
  EXPECT_EQ(d.state, JobState::kRunning);
  EXPECT_EQ(d.reason, "trainers finished; stopping parameter servers");
  EXPECT_FALSE(d.just_ended);
  EXPECT_TRUE(d.events.empty());
}

TEST(DecideTest, ParameterServersStoppedAfterSuccessCountAsCompleted) {
  Job job = RunningJob(1, 1);
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kSucceeded, "Completed", 0),
                                 Pserver(0, PodPhase::kFailed, "Stopped", 143)};
  auto d = Decide(job, pods, {{pods[0].name, {"Succeeded", 0}}, {pods[1].name, {"Running", 0}}}, kNow);
  EXPECT_EQ(d.state, JobState::kSucceeded);
  EXPECT_TRUE(d.just_ended);
  ASSERT_EQ(d.pods.size(), 2u);
  EXPECT_EQ(d.pods[1].phase, "Succeeded");
  EXPECT_EQ(d.pods[1].reason, "Completed");
  EXPECT_EQ(d.pods[1].exit_code, 143);  // what happened stays visible
  EXPECT_EQ(EventTypes(d),
            std::vector<std::string>{"fit-7-pserver-0 Completed: stopped once the trainers had finished"});
}

TEST(DecideTest, AFailedTrainerBeyondToleranceStopsEveryPod) {
  Job job = RunningJob(2, 1);
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kFailed, "Error", 1), Trainer(1, PodPhase::kRunning),
                                 Pserver(0, PodPhase::kRunning)};
  auto d = Decide(job, pods, {{pods[0].name, {"Running", 0}}, {pods[1].name, {"Running", 0}},
                              {pods[2].name, {"Running", 0}}}, kNow);
  EXPECT_EQ(d.stop, StopScope::kAll);
  EXPECT_EQ(d.state, JobState::kRunning);
  EXPECT_EQ(d.reason, "1 trainer(s) failed; the job tolerates 0");
  EXPECT_EQ(d.failed, 1);
  EXPECT_EQ(EventTypes(d), std::vector<std::string>{"fit-7-trainer-0 Exited: exit code 1 (Error)"});
}

TEST(DecideTest, AFailedTrainerEndsTheJobFailedOnceEveryPodEnded) {
  Job job = RunningJob(2, 1);
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kFailed, "OOMKilled", 137),
                                 Trainer(1, PodPhase::kFailed, "Stopped", 143),
                                 Pserver(0, PodPhase::kFailed, "Stopped", 143)};
  auto d = Decide(job, pods, {{pods[0].name, {"Running", 0}}, {pods[1].name, {"Failed", 0}},
                              {pods[2].name, {"Failed", 0}}}, kNow);
  EXPECT_EQ(d.state, JobState::kFailed);
  EXPECT_EQ(d.reason, "1 trainer(s) failed; the job tolerates 0");
  EXPECT_EQ(d.stop, StopScope::kNone);
  EXPECT_TRUE(d.just_ended);
  EXPECT_EQ(d.finished_at, kNow);
  EXPECT_EQ(d.pods[2].phase, "Failed");  // no success: the stopped pserver is not "Completed"
  EXPECT_EQ(EventTypes(d), std::vector<std::string>{"fit-7-trainer-0 OOMKilled: exit code 137 (OOMKilled)"});
}

TEST(DecideTest, FailuresWithinToleranceStillSucceed) {
  Job job = RunningJob(2, 0, /*fault_tolerant=*/1);
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kFailed, "Error", 2),
                                 Trainer(1, PodPhase::kSucceeded, "Completed", 0)};
  pods[0].restarts = 2;
  auto d = Decide(job, pods, Recorded(pods), kNow);
  EXPECT_EQ(d.state, JobState::kSucceeded);
  EXPECT_EQ(d.succeeded, 1);
  EXPECT_EQ(d.failed, 3);  // two restarts and the last run
}

TEST(DecideTest, AStopRequestStopsEveryPodUntilTheyEnded) {
  Job job = RunningJob(1, 1);
  job.stop_requested = true;
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kRunning), Pserver(0, PodPhase::kRunning)};
  auto running = Decide(job, pods, Recorded(pods), kNow);
  EXPECT_EQ(running.stop, StopScope::kAll);
  EXPECT_EQ(running.state, JobState::kRunning);
  EXPECT_EQ(running.reason, "stopping");
  EXPECT_FALSE(running.just_ended);

  std::vector<PodStatus> ended = {Trainer(0, PodPhase::kFailed, "Stopped", 143),
                                  Pserver(0, PodPhase::kFailed, "Stopped", 143)};
  auto stopped = Decide(job, ended, Recorded(pods), kNow);
  EXPECT_EQ(stopped.state, JobState::kStopped);
  EXPECT_EQ(stopped.reason, "stopped by a user");
  EXPECT_TRUE(stopped.just_ended);
  EXPECT_EQ(stopped.pods[1].phase, "Failed");
  EXPECT_EQ(EventTypes(stopped), (std::vector<std::string>{"fit-7-trainer-0 Stopped: exit code 143 (Stopped)",
                                                           "fit-7-pserver-0 Stopped: exit code 143 (Stopped)"}));
}

TEST(DecideTest, AStopRequestAfterTheTrainersSucceededEndsStopped) {
  Job job = RunningJob(1, 1);
  job.stop_requested = true;
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kSucceeded, "Completed", 0),
                                 Pserver(0, PodPhase::kFailed, "Stopped", 143)};
  auto d = Decide(job, pods, Recorded(pods), kNow);
  EXPECT_EQ(d.state, JobState::kStopped);
  EXPECT_EQ(d.pods[1].phase, "Failed");  // the user stopped it, not the platform after success
}

// The backend answered but reports no pod (its state was lost): nothing to go on, the job stays as
// it was. (A backend that does not know the job answers NotFound: the job service does not decide.)
TEST(DecideTest, VanishedPodsLeaveTheJobAsItWas) {
  Job job = RunningJob(1, 0);
  job.started_at = 800;
  auto d = Decide(job, {}, {{"fit-7-trainer-0", {"Running", 0}}}, kNow);
  EXPECT_EQ(d.state, JobState::kRunning);
  EXPECT_EQ(d.reason, "");
  EXPECT_EQ(d.stop, StopScope::kNone);
  EXPECT_FALSE(d.just_ended);
  EXPECT_TRUE(d.pods.empty());
  EXPECT_TRUE(d.events.empty());
}

TEST(DecideTest, UnchangedPodsProduceNoEvents) {
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kRunning), Pserver(0, PodPhase::kRunning)};
  auto d = Decide(MakeJob(1, 1), pods, Recorded(pods), kNow);
  EXPECT_TRUE(d.events.empty());
  EXPECT_EQ(d.pods.size(), 2u);
}

TEST(DecideTest, APodSeenForTheFirstTimeAfterItRanIsScheduledThenExited) {
  std::vector<PodStatus> pods = {Trainer(0, PodPhase::kSucceeded, "Completed", 0)};
  auto d = Decide(MakeJob(1, 0), pods, {}, kNow);
  EXPECT_EQ(EventTypes(d),
            (std::vector<std::string>{"fit-7-trainer-0 Scheduled: ", "fit-7-trainer-0 Exited: exit code 0"}));
  EXPECT_EQ(d.started_at, 900);
  EXPECT_EQ(d.state, JobState::kSucceeded);
}

}  // namespace
}  // namespace paddlecloud::jobs
