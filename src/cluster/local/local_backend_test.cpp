// The local backend against real processes: the built paddlecloud binary as the pod supervisor.
#include "cluster/local/local_backend.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cluster/local/cgroups.h"
#include "cluster/local/pod_files.h"
#include "common/fs.h"
#include "testing/server_process.h"

namespace paddlecloud::cluster::local {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;

constexpr std::int64_t kGi = 1LL << 30;
constexpr auto kDeadline = 30s;

std::string ReadText(const std::string& path) {
  auto text = ReadWholeFile(path);
  return text ? *text : "";
}

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

// Host pids of the processes whose command line is `argv` (NUL-separated), e.g. a pod's
// grandchild, whose pid inside the pod's pid namespace means nothing here.
std::vector<pid_t> ProcessesRunning(const std::string& argv) {
  std::vector<pid_t> pids;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline == argv) pids.push_back(std::atoi(name.c_str()));
  }
  return pids;
}

class LocalBackendTest : public ::testing::Test {
 protected:
  void TearDown() override {
    // Supervisors outlive backends by design: end whatever a failed test left running.
    std::error_code ec;
    std::vector<std::string> locks;
    for (auto it = fs::recursive_directory_iterator(State(), ec); it != fs::recursive_directory_iterator(); it.increment(ec))
      if (it->path().filename() == kLockFile) locks.push_back(it->path().string());
    for (const auto& lock : locks) {
      if (!LockHeld(lock)) continue;
      std::string dir = fs::path(lock).parent_path().string();
      auto record = PodRecordFromJson(ReadText(dir + "/" + kStatusFile));
      // A supervisor that recorded its end is cleaning up (its cgroup): let it finish.
      if (record && IsTerminal(record->phase) && testing::WaitFor([&] { return !LockHeld(lock); }, 10s)) continue;
      if (record && record->entry_pid > 0) ::kill(-static_cast<pid_t>(record->entry_pid), SIGKILL);
      pid_t pid = std::atoi(ReadText(dir + "/" + kPidFile).c_str());
      if (pid > 0) ::kill(pid, SIGKILL);
      testing::WaitFor([&] { return !LockHeld(lock); }, 10s);
    }
  }

  void SetUp() override { fs::create_directories(Shared()); }

  std::string State() const { return tmp_.path() + "/state"; }
  std::string Logs() const { return tmp_.path() + "/logs"; }
  // A folder the test and its pods share: mounted read-write at the same path in every pod.
  std::string Shared() const { return tmp_.path() + "/shared"; }
  std::string Path(const std::string& name) const { return Shared() + "/" + name; }

  std::unique_ptr<ClusterBackend> Make(Resources capacity = {4000, 8 * kGi, 0}, IsolationOptions isolation = {}) {
    LocalBackendOptions options;
    options.isolation = isolation;
    options.state_dir = State();
    options.supervisor_binary = (fs::path(testing::PaddlecloudBinary()).parent_path() / "paddlecloud-pod-supervisor").string();
    options.capacity_override = capacity;
    options.poll_interval = 50ms;
    options.default_grace = 2s;
    auto backend = MakeLocalBackend(options);
    EXPECT_TRUE(backend) << backend.error().ToString();
    return backend ? std::move(*backend) : nullptr;
  }

  JobRun Job(const std::string& name, const std::string& entry) {
    JobRun run;
    run.namespace_name = "acct-1";
    run.job = name;
    run.entry = entry;
    run.trainers = 1;
    run.trainer_requests = {100, 0, 0};
    run.pserver_requests = {100, 0, 0};
    run.logs_dir = Logs();
    run.mounts = {{Shared(), Shared(), false}};
    return run;
  }

  std::string Log(const std::string& pod) const { return ReadText(Logs() + "/" + pod + ".log"); }

  // Submits a one-pod job `name` that sleeps; its supervisor's record once the pod runs.
  std::optional<PodRecord> StartSleeper(ClusterBackend& backend, const std::string& name) {
    EXPECT_TRUE(backend.Submit(Job(name, "sleep 300")).ok());
    if (!testing::WaitFor([&] { return AllIn(backend, name, PodPhase::kRunning); }, kDeadline)) return std::nullopt;
    auto record = PodRecordFromJson(ReadText(State() + "/acct-1/" + name + "/pods/" + name + "-trainer-0/" + kStatusFile));
    return record ? std::optional<PodRecord>(*record) : std::nullopt;
  }

  static std::vector<PodStatus> Pods(ClusterBackend& backend, const std::string& job) {
    auto pods = backend.GetPods("acct-1", job);
    EXPECT_TRUE(pods) << pods.error().ToString();
    return pods ? *pods : std::vector<PodStatus>{};
  }

  static bool AllIn(ClusterBackend& backend, const std::string& job, PodPhase phase) {
    auto pods = backend.GetPods("acct-1", job);
    if (!pods || pods->empty()) return false;
    for (const auto& p : *pods)
      if (p.phase != phase) return false;
    return true;
  }

  static bool AllEnded(ClusterBackend& backend, const std::string& job) {
    auto pods = backend.GetPods("acct-1", job);
    if (!pods || pods->empty()) return false;
    for (const auto& p : *pods)
      if (p.phase != PodPhase::kSucceeded && p.phase != PodPhase::kFailed) return false;
    return true;
  }

  // "KEY=value" lines of a log.
  static std::map<std::string, std::string> EnvOf(const std::string& log) {
    std::map<std::string, std::string> env;
    std::istringstream in(log);
    std::string line;
    while (std::getline(in, line))
      if (auto eq = line.find('='); eq != std::string::npos && line.rfind("[paddlecloud]", 0) != 0)
        env[line.substr(0, eq)] = line.substr(eq + 1);
    return env;
  }

  testing::TempDir tmp_;
};

TEST_F(LocalBackendTest, MachineCapacity) {
  Resources r = MachineCapacity();
  EXPECT_GE(r.cpu_milli, 1000);
  EXPECT_EQ(r.cpu_milli % 1000, 0);
  EXPECT_GT(r.memory_bytes, 0);
  EXPECT_GE(r.gpus, 0);
}

TEST_F(LocalBackendTest, EveryPodGetsConsistentPaddleEnvironmentAndAFreePort) {
  auto backend = Make();
  ::setenv("PADDLECLOUD_TEST_SECRET", "hunter2", 1);
  JobRun run = Job("dist", R"(env | grep -E '^(PADDLE_|TRAINING_ROLE|POD_IP|CUDA_VISIBLE_DEVICES|PLATFORM_VAR|PADDLECLOUD_)' | sort
if [ "$TRAINING_ROLE" = PSERVER ]; then
  /usr/bin/python3 -c 'import os, socket; s = socket.socket(); s.bind((os.environ["POD_IP"], int(os.environ["PADDLE_PORT"]))); s.listen(); print("LISTENED=" + os.environ["PADDLE_PORT"])'
fi)");
  run.trainers = 2;
  run.pservers = 1;
  run.env = {{"PLATFORM_VAR", "from-the-platform"}};
  ASSERT_TRUE(backend->Submit(run).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "dist"); }, kDeadline));
  ::unsetenv("PADDLECLOUD_TEST_SECRET");

  auto pods = Pods(*backend, "dist");
  ASSERT_EQ(pods.size(), 3u);
  EXPECT_EQ(pods[0].name, "dist-trainer-0");
  EXPECT_EQ(pods[1].name, "dist-trainer-1");
  EXPECT_EQ(pods[2].name, "dist-pserver-0");
  std::string trainers = pods[0].endpoint + "," + pods[1].endpoint;
  std::set<std::string> distinct;
  for (const auto& pod : pods) {
    SCOPED_TRACE(pod.name);
    EXPECT_EQ(pod.phase, PodPhase::kSucceeded) << Log(pod.name);
    EXPECT_EQ(pod.reason, "Completed");
    EXPECT_EQ(pod.exit_code, 0);
    ASSERT_THAT(pod.endpoint, ::testing::StartsWith("127.0.0.1:"));
    distinct.insert(pod.endpoint);
    auto env = EnvOf(Log(pod.name));
    bool pserver = pod.role == PodRole::kPserver;
    EXPECT_EQ(env["TRAINING_ROLE"], pserver ? "PSERVER" : "TRAINER");
    EXPECT_EQ(env["PADDLE_TRAINING_ROLE"], pserver ? "PSERVER" : "TRAINER");
    EXPECT_EQ(env["PADDLE_TRAINER_ID"], std::to_string(pod.index));
    EXPECT_EQ(env["PADDLE_TRAINERS_NUM"], "2");
    EXPECT_EQ(env["PADDLE_TRAINER_ENDPOINTS"], trainers);
    EXPECT_EQ(env["PADDLE_PSERVERS_IP_PORT_LIST"], pods[2].endpoint);
    EXPECT_EQ(env["POD_IP"] + ":" + env["PADDLE_PORT"], pod.endpoint);
    EXPECT_EQ(env["PADDLE_JOB_ID"], "dist");
    EXPECT_EQ(env["PLATFORM_VAR"], "from-the-platform");
    EXPECT_EQ(env.count("CUDA_VISIBLE_DEVICES"), 1u);
    EXPECT_EQ(env["CUDA_VISIBLE_DEVICES"], "");
    EXPECT_EQ(env.count("PADDLECLOUD_TEST_SECRET"), 0u) << "server settings must not leak into pods";
    if (pserver) {
      EXPECT_EQ(env["LISTENED"], env["PADDLE_PORT"]) << Log(pod.name);
    }
    EXPECT_EQ(Count(Log(pod.name), "[paddlecloud] started attempt 1 at "), 1);
    EXPECT_THAT(Log(pod.name), HasSubstr("[paddlecloud] exited with code 0"));
  }
  EXPECT_EQ(distinct.size(), 3u);
  EXPECT_EQ(backend->GetCapacity().in_use.cpu_milli, 0);
}

TEST_F(LocalBackendTest, FifoAdmissionAndJobsThatNeverFit) {
  auto backend = Make({2000, 1 * kGi, 0});
  JobRun first = Job("first", "while [ ! -f '" + Path("release-first") + "' ]; do sleep 0.05; done");
  first.trainer_requests = {1500, 0, 0};
  JobRun second = Job("second", "true");
  second.trainer_requests = {1000, 0, 0};
  JobRun third = Job("third", "true");  // would fit now, but must not overtake `second`
  third.trainer_requests = {500, 0, 0};
  ASSERT_TRUE(backend->Submit(first).ok());
  ASSERT_TRUE(backend->Submit(second).ok());
  ASSERT_TRUE(backend->Submit(third).ok());
  ASSERT_TRUE(backend->Submit(first).ok());  // idempotent

  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend, "first", PodPhase::kRunning); }, kDeadline));
  auto waiting = Pods(*backend, "second");
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].phase, PodPhase::kPending);
  EXPECT_EQ(waiting[0].reason, "waiting for 0.5 CPUs");
  auto behind = Pods(*backend, "third");
  EXPECT_EQ(behind[0].phase, PodPhase::kPending);
  EXPECT_EQ(behind[0].reason, "waiting for 1 earlier job in the queue");
  Capacity capacity = backend->GetCapacity();
  EXPECT_EQ(capacity.total.cpu_milli, 2000);
  EXPECT_EQ(capacity.in_use.cpu_milli, 1500);

  // A job larger than the machine is rejected with the reason.
  JobRun huge = Job("huge", "true");
  huge.trainers = 2;
  huge.trainer_requests = {32000, 0, 0};
  Status rejected = backend->Submit(huge);
  EXPECT_EQ(rejected.code(), Code::kInvalidArgument);
  EXPECT_THAT(rejected.message(), HasSubstr("needs 64 CPUs but this machine has 2 CPUs"));
  JobRun greedy = Job("greedy", "true");
  greedy.trainer_requests = {100, 2 * kGi, 1};
  rejected = backend->Submit(greedy);
  EXPECT_THAT(rejected.message(), HasSubstr("needs 2Gi of memory but this machine has 1Gi"));
  EXPECT_THAT(rejected.message(), HasSubstr("needs 1 GPU but this machine has 0"));
  EXPECT_EQ(backend->GetPods("acct-1", "huge").error().code(), Code::kNotFound);

  // Stopping a waiting job takes it out of the queue.
  JobRun doomed = Job("doomed", "true");
  doomed.trainer_requests = {2000, 0, 0};
  ASSERT_TRUE(backend->Submit(doomed).ok());
  ASSERT_TRUE(backend->Stop("acct-1", "doomed", std::nullopt, 1s).ok());
  auto stopped = Pods(*backend, "doomed");
  EXPECT_EQ(stopped[0].phase, PodPhase::kFailed);
  EXPECT_EQ(stopped[0].reason, "Stopped");
  EXPECT_TRUE(backend->Delete("acct-1", "doomed").ok());

  std::ofstream(Path("release-first")) << "go";
  // `second` and `third` may then run side by side and end in either order.
  ASSERT_TRUE(testing::WaitFor([&] {
    return AllIn(*backend, "second", PodPhase::kSucceeded) && AllIn(*backend, "third", PodPhase::kSucceeded);
  }, kDeadline));
  EXPECT_TRUE(AllIn(*backend, "first", PodPhase::kSucceeded));
  // FIFO: `third` started only after `second` had been admitted.
  EXPECT_LE(Pods(*backend, "second")[0].started_at.value(), Pods(*backend, "third")[0].started_at.value());
  EXPECT_FALSE(fs::exists(Logs() + "/doomed-trainer-0.log"));
}

TEST_F(LocalBackendTest, CrashingTrainerRestartsUpToTheLimitThenFails) {
  auto backend = Make();
  JobRun run = Job("crashy", "echo crashing; exit 3");
  run.max_restarts = 2;
  ASSERT_TRUE(backend->Submit(run).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "crashy"); }, kDeadline));
  auto pod = Pods(*backend, "crashy")[0];
  EXPECT_EQ(pod.phase, PodPhase::kFailed);
  EXPECT_EQ(pod.reason, "Error");
  EXPECT_EQ(pod.exit_code, 3);
  EXPECT_EQ(pod.restarts, 2);
  std::string log = Log("crashy-trainer-0");
  EXPECT_EQ(Count(log, "[paddlecloud] started attempt"), 3) << log;
  EXPECT_EQ(Count(log, "[paddlecloud] exited with code 3"), 3) << log;
  EXPECT_EQ(Count(log, "crashing"), 3);
}

TEST_F(LocalBackendTest, EntryCommandThatDoesNotExist) {
  auto backend = Make();
  ASSERT_TRUE(backend->Submit(Job("typo", "no-such-command-xyz --epochs 3")).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "typo"); }, kDeadline));
  auto pod = Pods(*backend, "typo")[0];
  EXPECT_EQ(pod.phase, PodPhase::kFailed);
  EXPECT_EQ(pod.reason, "Error");
  EXPECT_EQ(pod.exit_code, 127);
  EXPECT_THAT(Log("typo-trainer-0"), HasSubstr("not found"));
  EXPECT_THAT(Log("typo-trainer-0"), HasSubstr("[paddlecloud] exited with code 127"));
}

TEST_F(LocalBackendTest, MissingWorkingDirIsAStartError) {
  auto backend = Make();
  JobRun run = Job("nowhere", "true");
  run.working_dir = Path("does-not-exist");
  ASSERT_TRUE(backend->Submit(run).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "nowhere"); }, kDeadline));
  auto pod = Pods(*backend, "nowhere")[0];
  EXPECT_EQ(pod.phase, PodPhase::kFailed);
  EXPECT_EQ(pod.reason, "StartError");
  EXPECT_THAT(Log("nowhere-trainer-0"), HasSubstr("working directory " + Path("does-not-exist") + " does not exist"));
}

TEST_F(LocalBackendTest, StopKillsTheWholeProcessGroupAfterTheGracePeriod) {
  auto backend = Make();
  // The entry and its background grandchild ignore SIGTERM: only SIGKILL after the grace ends them.
  ASSERT_TRUE(backend->Submit(Job("stubborn", "trap '' TERM; sleep 300.25 & wait; sleep 300")).ok());
  const std::string grandchild_argv = std::string("sleep") + '\0' + "300.25" + '\0';
  ASSERT_TRUE(testing::WaitFor([&] { return ProcessesRunning(grandchild_argv).size() == 1; }, kDeadline));
  pid_t grandchild = ProcessesRunning(grandchild_argv)[0];

  auto grace = 1000ms;
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(backend->Stop("acct-1", "stubborn", std::nullopt, grace).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "stubborn"); }, grace + 5s));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, grace - 100ms) << "SIGKILL came before the grace period ended";
  auto pod = Pods(*backend, "stubborn")[0];
  EXPECT_EQ(pod.phase, PodPhase::kFailed);
  EXPECT_EQ(pod.reason, "Stopped");
  EXPECT_TRUE(testing::WaitFor([&] { return testing::ProcessGone(grandchild); }, 5s));
  EXPECT_THAT(Log("stubborn-trainer-0"), HasSubstr("[paddlecloud] stopping: SIGTERM to the process group"));
  EXPECT_THAT(Log("stubborn-trainer-0"), HasSubstr("grace period over"));
  EXPECT_EQ(backend->Stop("acct-1", "nope", std::nullopt, grace).code(), Code::kNotFound);
}

TEST_F(LocalBackendTest, AProcessStartedAfterTheStopIsAskedToStopToo) {
  auto backend = Make();
  // The entry ignores SIGTERM and waits for a process that starts a while in (a new process: the
  // `; true` keeps the shell from exec'ing it) and does not ignore it: asked too, it ends, and
  // the pod with it, long before the grace period is over.
  ASSERT_TRUE(backend->Submit(Job("late", "trap '' TERM; (sleep 2.25; env --default-signal=TERM sleep 300.5; true) & wait")).ok());
  const std::string first_argv = std::string("sleep") + '\0' + "2.25" + '\0';
  ASSERT_TRUE(testing::WaitFor([&] { return ProcessesRunning(first_argv).size() == 1; }, kDeadline));
  ASSERT_TRUE(backend->Stop("acct-1", "late", std::nullopt, 120s).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "late"); }, 60s)) << Log("late-trainer-0");
  EXPECT_EQ(Pods(*backend, "late")[0].reason, "Stopped");
  EXPECT_THAT(Log("late-trainer-0"), Not(HasSubstr("grace period over")));
}

TEST_F(LocalBackendTest, StopOfOneRoleLeavesTheOthersRunning) {
  auto backend = Make();
  JobRun run = Job("mixed", "sleep 300");
  run.pservers = 1;
  ASSERT_TRUE(backend->Submit(run).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend, "mixed", PodPhase::kRunning); }, kDeadline));
  ASSERT_TRUE(backend->Stop("acct-1", "mixed", PodRole::kPserver, 2s).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return Pods(*backend, "mixed")[1].phase == PodPhase::kFailed; }, 10s));
  auto pods = Pods(*backend, "mixed");
  EXPECT_EQ(pods[1].reason, "Stopped");
  EXPECT_EQ(pods[0].phase, PodPhase::kRunning);
  EXPECT_EQ(backend->Delete("acct-1", "mixed").code(), Code::kConflict);

  ASSERT_TRUE(backend->Stop("acct-1", "mixed", std::nullopt, 2s).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "mixed"); }, 10s));
  EXPECT_EQ(Pods(*backend, "mixed")[0].reason, "Stopped");
  EXPECT_TRUE(backend->Delete("acct-1", "mixed").ok());
  EXPECT_EQ(backend->GetPods("acct-1", "mixed").error().code(), Code::kNotFound);
  EXPECT_TRUE(fs::exists(Logs() + "/mixed-trainer-0.log")) << "logs stay after Delete";
}

TEST_F(LocalBackendTest, PodsSurviveTheServerAndARestartedBackendAdoptsThem) {
  std::string release = Path("release");
  JobRun first = Job("survivor", "echo waiting; while [ ! -f '" + release + "' ]; do sleep 0.05; done; echo released");
  first.trainer_requests = {1000, 0, 0};
  JobRun queued = Job("queued", "echo second");
  queued.trainer_requests = {1000, 0, 0};
  std::string pod_dir = State() + "/acct-1/survivor/pods/survivor-trainer-0";
  pid_t supervisor = 0;
  {
    auto a = Make({1000, kGi, 0});
    ASSERT_TRUE(a->Submit(first).ok());
    ASSERT_TRUE(a->Submit(queued).ok());
    ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*a, "survivor", PodPhase::kRunning); }, kDeadline));
    EXPECT_TRUE(AllIn(*a, "queued", PodPhase::kPending));
    supervisor = std::atoi(ReadText(pod_dir + "/" + kPidFile).c_str());
  }  // the server dies
  ASSERT_GT(supervisor, 0);
  EXPECT_EQ(::kill(supervisor, 0), 0) << "the supervisor must outlive the backend";

  auto b = Make({1000, kGi, 0});
  auto pod = Pods(*b, "survivor")[0];
  EXPECT_EQ(pod.phase, PodPhase::kRunning) << pod.reason;
  auto waiting = Pods(*b, "queued")[0];
  EXPECT_EQ(waiting.phase, PodPhase::kPending);
  EXPECT_EQ(waiting.reason, "waiting for 1 CPU");
  EXPECT_EQ(b->GetCapacity().in_use.cpu_milli, 1000);

  std::ofstream(release) << "go";
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*b, "queued", PodPhase::kSucceeded); }, kDeadline));
  pod = Pods(*b, "survivor")[0];
  EXPECT_EQ(pod.phase, PodPhase::kSucceeded);
  EXPECT_EQ(pod.restarts, 0);
  std::string log = Log("survivor-trainer-0");
  EXPECT_EQ(Count(log, "[paddlecloud] started attempt"), 1) << log;
  EXPECT_EQ(Count(log, "[paddlecloud] started attempt 1 at"), 1);
  EXPECT_THAT(log, HasSubstr("released"));
  EXPECT_EQ(Count(Log("queued-trainer-0"), "[paddlecloud] started attempt"), 1);
  // A third backend starts nothing either.
  b.reset();
  auto c = Make({1000, kGi, 0});
  EXPECT_TRUE(AllIn(*c, "survivor", PodPhase::kSucceeded));
  EXPECT_EQ(Count(Log("survivor-trainer-0"), "[paddlecloud] started attempt"), 1);
  EXPECT_EQ(Count(Log("queued-trainer-0"), "[paddlecloud] started attempt"), 1);
}

TEST_F(LocalBackendTest, ASupervisorThatDiesIsReportedLost) {
  auto backend = Make();
  auto record = StartSleeper(*backend, "orphan");
  ASSERT_TRUE(record);
  ::kill(static_cast<pid_t>(record->supervisor_pid), SIGKILL);
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "orphan"); }, kDeadline));
  EXPECT_EQ(Pods(*backend, "orphan")[0].reason, "SupervisorLost");
  EXPECT_EQ(backend->GetCapacity().in_use.cpu_milli, 0);
  // Its entry, now counted as gone, is really gone, and so is its cgroup.
  EXPECT_TRUE(testing::WaitFor([&] { return testing::ProcessGone(static_cast<pid_t>(record->entry_pid)); }, 10s));
  for (const auto& dir : record->cgroup_dirs) EXPECT_FALSE(fs::exists(dir)) << dir;
}

TEST_F(LocalBackendTest, ForgedSupervisorFilesAreNotActedOn) {
  auto backend = Make();
  auto record = StartSleeper(*backend, "forged");
  ASSERT_TRUE(record);
  std::string dir = State() + "/acct-1/forged/pods/forged-trainer-0";
  // A bystander in a session of its own, and a folder that is no pod cgroup of this namespace.
  pid_t bystander = ::fork();
  if (bystander == 0) {
    ::setsid();
    ::execl("/bin/sleep", "sleep", "300", nullptr);
    ::_exit(127);
  }
  std::string not_a_pod_group = Path("not-a-pod-cgroup");
  fs::create_directories(not_a_pod_group);
  ::kill(static_cast<pid_t>(record->supervisor_pid), SIGKILL);
  ASSERT_TRUE(testing::WaitFor([&] { return !LockHeld(dir + "/" + kLockFile); }, kDeadline));
  PodRecord forged = *record;
  forged.supervisor_pid = bystander;
  forged.cgroup_dirs = {not_a_pod_group, "/sys/fs/cgroup/memory/paddlecloud/acct-2.forged-trainer-0.1"};
  ASSERT_TRUE(fsutil::WriteFileAtomic(dir + "/" + kStatusFile, ToJson(forged)).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "forged"); }, kDeadline));
  EXPECT_EQ(Pods(*backend, "forged")[0].reason, "SupervisorLost");
  EXPECT_TRUE(fs::exists(not_a_pod_group));
  EXPECT_FALSE(testing::ProcessGone(bystander)) << "the backend killed a session it read from a forged status.json";
  ::kill(bystander, SIGKILL);
  ::waitpid(bystander, nullptr, 0);
  // The real pod's processes were its supervisor's: the cgroup still ends them.
  for (const auto& d : record->cgroup_dirs) RemoveCgroupDirs({d});
}

TEST_F(LocalBackendTest, ALogStopsGrowingAtItsLimitAndSaysSo) {
  auto backend = Make({4000, 8 * kGi, 0}, {.log_limit_bytes = 64 << 10});
  // 4 MiB of output, then a line after it: the pod is neither blocked nor killed by the limit.
  ASSERT_TRUE(backend->Submit(Job("chatty", "head -c 4194304 /dev/zero | tr '\\0' x; echo; echo finished > '" +
                                                Path("finished") + "'"))
                  .ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "chatty"); }, kDeadline));
  EXPECT_EQ(Pods(*backend, "chatty")[0].phase, PodPhase::kSucceeded);
  EXPECT_EQ(ReadText(Path("finished")), "finished\n");
  std::string log = Log("chatty-trainer-0");
  EXPECT_LT(log.size(), (64u << 10) + 1024);
  EXPECT_THAT(log, HasSubstr("[paddlecloud] the log reached its limit of 65536 bytes"));
  EXPECT_THAT(log, HasSubstr("[paddlecloud] exited with code 0"));
}

TEST_F(LocalBackendTest, MissingSupervisorBinaryIsAStartError) {
  LocalBackendOptions options;
  options.state_dir = State();
  options.supervisor_binary = Path("no-such-paddlecloud");
  options.capacity_override = Resources{1000, kGi, 0};
  auto backend = MakeLocalBackend(options);
  ASSERT_TRUE(backend);
  ASSERT_TRUE((*backend)->Submit(Job("nobinary", "true")).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(**backend, "nobinary"); }, kDeadline));
  auto pod = Pods(**backend, "nobinary")[0];
  EXPECT_EQ(pod.reason, "StartError");
  EXPECT_EQ(pod.exit_code, 127);
  // The pod never started: it has no log, and that is fine.
  EXPECT_FALSE(fs::exists(Logs() + "/nobinary-trainer-0.log"));
}

TEST_F(LocalBackendTest, MemoryLimitOomKillIsReported) {
  if (std::string why = ProbeCgroups(); !why.empty()) GTEST_SKIP() << "no pod cgroups on this machine: " << why;
  auto backend = Make();
  JobRun run = Job("hog", "/usr/bin/python3 -c 'x = bytearray(200 * 1024 * 1024); print(len(x))'");
  run.trainer_requests = {1000, 50LL << 20, 0};
  ASSERT_TRUE(backend->Submit(run).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllEnded(*backend, "hog"); }, kDeadline));
  auto pod = Pods(*backend, "hog")[0];
  EXPECT_EQ(pod.phase, PodPhase::kFailed);
  EXPECT_EQ(pod.reason, "OOMKilled") << Log("hog-trainer-0");
  EXPECT_EQ(pod.exit_code, 137);
  EXPECT_THAT(Log("hog-trainer-0"), HasSubstr("[paddlecloud] OOM-killed"));
  auto record = PodRecordFromJson(ReadText(State() + "/acct-1/hog/pods/hog-trainer-0/" + kStatusFile));
  ASSERT_TRUE(record);
  EXPECT_THAT(record->limits, HasSubstr("memory=52428800 pids=4096 (cgroup v"));
}

TEST_F(LocalBackendTest, RejectsBadJobs) {
  auto backend = Make();
  JobRun run = Job("Bad_Name", "true");
  EXPECT_EQ(backend->Submit(run).field(), "job");
  run = Job("ok", "");
  EXPECT_EQ(backend->Submit(run).field(), "entry");
  run = Job("ok", "true");
  run.namespace_name = "../etc";
  EXPECT_EQ(backend->Submit(run).field(), "namespace");
  run = Job("ok", "true");
  run.trainer_requests.cpu_milli = -1;
  EXPECT_EQ(backend->Submit(run).code(), Code::kInvalidArgument);
  run = Job("ok", "true");
  run.trainers = 0;
  EXPECT_EQ(backend->Submit(run).code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace paddlecloud::cluster::local

namespace paddlecloud::cluster::local {
namespace {

// Usage is read as cAdvisor reads it; each figure is checked against what the pod itself did.
class PodUsageTest : public LocalBackendTest {
 protected:
  void SetUp() override {
    LocalBackendTest::SetUp();
    if (std::string why = ProbeCgroups(); !why.empty()) GTEST_SKIP() << "no pod cgroups on this machine: " << why;
    backend_ = Make();
  }
  // Runs `work` in a one-pod job, which then writes `done` and stays running; its usage then.
  PodUsage UsageAfter(const std::string& job, const std::string& work) {
    JobRun run = Job(job, work + " && touch '" + Path(job + ".done") + "' && sleep 300");
    run.trainer_requests = {2000, 1 * kGi, 0};
    EXPECT_TRUE(backend_->Submit(run).ok());
    EXPECT_TRUE(testing::WaitFor([&] { return fs::exists(Path(job + ".done")); }, kDeadline)) << Log(job + "-trainer-0");
    auto usage = backend_->GetUsage("acct-1", job);
    EXPECT_TRUE(usage) << usage.error().ToString();
    EXPECT_TRUE(usage && usage->pods.size() == 1);
    return usage && usage->pods.size() == 1 ? usage->pods[0] : PodUsage{};
  }
  std::unique_ptr<ClusterBackend> backend_;
};

TEST_F(PodUsageTest, CpuTimeIsWhatThePodSpent) {
  // Busy for 1.5 s of its own CPU time, which it reports.
  PodUsage pod = UsageAfter("busy", "/usr/bin/python3 -c \"import time\nwhile time.process_time() < 1.5: pass\n"
                                    "open('" + Path("busy.cpu") + "', 'w').write(str(time.process_time()))\"");
  ASSERT_TRUE(pod.cpu_ns) << pod.not_measured;
  double own = std::stod(ReadText(Path("busy.cpu")));
  double seen = *pod.cpu_ns / 1e9;
  EXPECT_GE(seen, own * 0.95);
  EXPECT_LE(seen, own * 1.1 + 0.1);  // plus the shell and the interpreter's start
  EXPECT_TRUE(pod.cpu_throttled_ns.has_value());
}

TEST_F(PodUsageTest, AnEndedPodKeepsItsFinalCpuTime) {
  // A pod that ends between two samples: its last counters are kept for the sampler.
  JobRun run = Job("brief", "/usr/bin/python3 -c \"import time\nwhile time.process_time() < 0.5: pass\"");
  run.trainer_requests = {2000, 1 * kGi, 0};
  ASSERT_TRUE(backend_->Submit(run).ok());
  ASSERT_TRUE(testing::WaitFor([&] {
    auto pods = backend_->GetPods("acct-1", "brief");
    return pods && pods->size() == 1 && (*pods)[0].phase == PodPhase::kSucceeded;
  }, kDeadline)) << Log("brief-trainer-0");
  auto usage = backend_->GetUsage("acct-1", "brief");
  ASSERT_TRUE(usage) << usage.error().ToString();
  ASSERT_EQ(usage->pods.size(), 1u);
  const PodUsage& pod = usage->pods[0];
  ASSERT_TRUE(pod.ended_at_ms);
  EXPECT_LE(*pod.ended_at_ms, usage->at_ms);
  ASSERT_TRUE(pod.cpu_ns);
  EXPECT_GE(*pod.cpu_ns, 450'000'000u);
  EXPECT_FALSE(pod.memory_working_set_bytes);  // a gauge of a pod that no longer runs: not measured
}

TEST_F(PodUsageTest, WorkingSetCountsMemoryThePodHolds) {
  PodUsage pod = UsageAfter("holder", "/usr/bin/python3 -c \"import os, time\nx = bytearray(b'1') * (200 << 20)\n"
                                      "open('" + Path("holder.done") + "', 'w').close()\ntime.sleep(300)\"");
  ASSERT_TRUE(pod.memory_working_set_bytes) << pod.not_measured;
  EXPECT_GE(*pod.memory_working_set_bytes, 190u << 20);
  EXPECT_LE(*pod.memory_working_set_bytes, 230u << 20);
  EXPECT_EQ(pod.memory_limit_bytes, std::optional<std::uint64_t>(1 * kGi));
  EXPECT_EQ(pod.oom_kills, std::optional<std::int64_t>(0));
}

TEST_F(PodUsageTest, SyncedWritesAreCountedAsDiskWrites) {
  PodUsage pod = UsageAfter("writer", "dd if=/dev/zero of='" + Path("blob") + "' bs=1M count=100 conv=fsync status=none");
  ASSERT_TRUE(pod.disk_write_bytes) << pod.not_measured;
  EXPECT_GE(*pod.disk_write_bytes, 100u << 20);
}

TEST_F(PodUsageTest, TrafficBetweenTwoPodsShowsOnTheJobsNetwork) {
  // Trainer 0 receives 50 MB on its port; trainer 1 sends them.
  std::string script =
      "import os, socket, sys, time\n"
      "me = int(os.environ['PADDLE_TRAINER_ID'])\n"
      "host, port = os.environ['PADDLE_TRAINER_ENDPOINTS'].split(',')[0].split(':')\n"
      "if me == 0:\n"
      "    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
      "    s.bind((host, int(port))); s.listen(1); c, _ = s.accept(); got = 0\n"
      "    while got < 50000000:\n"
      "        data = c.recv(1 << 20)\n"
      "        if not data: break\n"
      "        got += len(data)\n"
      "    open('" + Path("received") + "', 'w').write(str(got))\n"
      "else:\n"
      "    deadline = time.time() + 20\n"
      "    while True:\n"
      "        try: c = socket.create_connection((host, int(port))); break\n"
      "        except OSError:\n"
      "            if time.time() > deadline: raise\n"
      "            time.sleep(0.05)\n"
      "    c.sendall(b'x' * 50000000); c.close()\n"
      "time.sleep(300)\n";
  std::ofstream(Path("exchange.py")) << script;
  JobRun run = Job("exchange", "/usr/bin/python3 '" + Path("exchange.py") + "'");
  run.trainers = 2;
  ASSERT_TRUE(backend_->Submit(run).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return ReadText(Path("received")) == "50000000"; }, kDeadline))
      << Log("exchange-trainer-0") << Log("exchange-trainer-1");
  auto usage = backend_->GetUsage("acct-1", "exchange");
  ASSERT_TRUE(usage);
  EXPECT_EQ(usage->pods.size(), 2u);
  ASSERT_TRUE(usage->network) << usage->network_not_measured;
  EXPECT_GE(usage->network->rx_bytes, 50'000'000u);
  EXPECT_GE(usage->network->tx_bytes, 50'000'000u);
}

TEST_F(PodUsageTest, OnlyPodGroupsAreReadAndAReusedPidIsNotTakenForAKeeper) {
  PodUsage outside;
  ReadCgroupUsage({"/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpuacct", "/tmp/paddlecloud/x"}, outside);
  EXPECT_FALSE(outside.cpu_ns || outside.memory_working_set_bytes || outside.disk_write_bytes);
  JobNetwork impostor{.keeper_pid = ::getpid(), .net_inode = 1, .user_inode = 0};
  EXPECT_EQ(ReadNetworkUsage(impostor).error().code(), Code::kNotFound);
  EXPECT_EQ(backend_->GetUsage("acct-1", "nosuchjob").error().code(), Code::kNotFound);
  EXPECT_EQ(backend_->GetUsage("acct-2", "busy").error().code(), Code::kNotFound);
}

}  // namespace
}  // namespace paddlecloud::cluster::local

namespace paddlecloud::cluster::local {
namespace {

TEST(GpuQueryTest, ReadsEachGpuAndLeavesWhatTheDriverCannotSayAbsent) {
  auto gpus = ParseGpuQuery({"0, 37, 1024, 16384\n", "1, [N/A], [N/A], 16384\n", "garbage\n", "\n"});
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].utilization_percent, 37);
  EXPECT_EQ(gpus[0].memory_used_bytes, std::optional<std::uint64_t>(1ull << 30));
  EXPECT_EQ(gpus[0].memory_total_bytes, std::optional<std::uint64_t>(16ull << 30));
  EXPECT_FALSE(gpus[1].utilization_percent.has_value());
  EXPECT_FALSE(gpus[1].memory_used_bytes.has_value());
}

// No GPU here: a stand-in nvidia-smi answers as the driver's does, and a pod is given GPU 0.
TEST_F(PodUsageTest, APodsGpusAreReadFromTheDriver) {
  std::string bin = tmp_.path() + "/bin";
  fs::create_directories(bin);
  std::ofstream(bin + "/nvidia-smi") << "#!/bin/sh\n"
                                        "case \"$1\" in -L) echo 'GPU 0: Stand-in'; echo 'GPU 1: Stand-in';;\n"
                                        "*) echo '0, 37, 1024, 16384'; echo '1, 90, 8000, 16384';; esac\n";
  fs::permissions(bin + "/nvidia-smi", fs::perms::owner_all);
  std::string path = std::getenv("PATH");
  ::setenv("PATH", (bin + ":" + path).c_str(), 1);  // before the backend's threads start
  auto backend = Make({4000, 8 * kGi, 2});
  JobRun run = Job("gpu", "touch '" + Path("gpu.done") + "' && sleep 300");
  run.trainer_requests = {100, 0, 1};
  ASSERT_TRUE(backend->Submit(run).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return fs::exists(Path("gpu.done")); }, kDeadline)) << Log("gpu-trainer-0");
  auto usage = backend->GetUsage("acct-1", "gpu");
  backend.reset();
  ::setenv("PATH", path.c_str(), 1);  // once they have ended
  ASSERT_TRUE(usage);
  ASSERT_EQ(usage->pods.size(), 1u);
  ASSERT_EQ(usage->pods[0].gpus.size(), 1u);  // its own GPU only, not the machine's other one
  EXPECT_EQ(usage->pods[0].gpus[0].index, 0);
  EXPECT_EQ(usage->pods[0].gpus[0].utilization_percent, 37);
}

}  // namespace
}  // namespace paddlecloud::cluster::local
