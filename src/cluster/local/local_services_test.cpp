// Services on the local backend against real processes: replicas run by the built pod supervisor,
// probed over real loopback sockets.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "cluster/local/local_backend.h"
#include "cluster/local/pod_files.h"
#include "cluster/local/service_files.h"
#include "testing/server_process.h"

namespace paddlecloud::cluster::local {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr auto kDeadline = 30s;
constexpr char kHttpServer[] = "exec /usr/bin/python3 -m http.server --bind 127.0.0.1 \"$PORT\"";

std::string ReadText(const std::string& path) { return ReadWholeFile(path).value_or(""); }

int PortOf(const std::string& endpoint) { return std::atoi(endpoint.c_str() + endpoint.rfind(':') + 1); }

class LocalServicesTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(tmp_.path() + "/logs"); }

  void TearDown() override {
    // Replicas outlive backends by design: end whatever a failed test left running.
    if (!backend_) backend_ = Make();
    for (const auto& [ns, name] : created_) (void)backend_->DeleteService(ns, name, 0ms);
  }

  std::string State() const { return tmp_.path() + "/state"; }

  std::unique_ptr<ClusterBackend> Make() {
    LocalBackendOptions options;
    options.state_dir = State();
    options.supervisor_binary = (fs::path(testing::PaddlecloudBinary()).parent_path() / "paddlecloud-pod-supervisor").string();
    options.capacity_override = Resources{4000, 8LL << 30, 0};
    options.poll_interval = 50ms;
    options.default_grace = 2s;
    auto backend = MakeLocalBackend(options);
    EXPECT_TRUE(backend) << backend.error().ToString();
    return backend ? std::move(*backend) : nullptr;
  }

  ServiceRun Service(const std::string& name, const std::string& command, const std::string& ns = "acct-1") {
    ServiceRun s;
    s.namespace_name = ns;
    s.name = name;
    s.command = command;
    s.requests = {100, 0, 0};
    s.logs_dir = tmp_.path() + "/logs";
    s.readiness = HttpProbe{.path = "/", .period = 100ms, .timeout = 500ms, .failure_threshold = 2};
    return s;
  }

  void Apply(ClusterBackend& backend, const ServiceRun& s) {
    created_.insert({s.namespace_name, s.name});
    Status st = backend.ApplyService(s);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  static std::vector<ReplicaStatus> Replicas(ClusterBackend& backend, const std::string& name, const std::string& ns = "acct-1") {
    auto replicas = backend.GetReplicas(ns, name);
    return replicas ? *replicas : std::vector<ReplicaStatus>{};
  }

  static bool AllIn(ClusterBackend& backend, const std::string& name, ReplicaPhase phase, std::size_t count = 1,
                    const std::string& ns = "acct-1") {
    auto replicas = Replicas(backend, name, ns);
    return replicas.size() == count &&
           std::all_of(replicas.begin(), replicas.end(), [&](const ReplicaStatus& r) { return r.phase == phase; });
  }

  std::string ReplicaDir(const std::string& name, int index, const std::string& ns = "acct-1") const {
    return State() + "/" + kServicesDir + "/" + ns + "/" + name + "/replicas/" + ReplicaName(name, index);
  }

  // The replica's command (its process group leader, as the host sees it).
  pid_t EntryPid(const std::string& name, int index) const {
    auto record = PodRecordFromJson(ReadText(ReplicaDir(name, index) + "/" + kStatusFile));
    return record ? static_cast<pid_t>(record->entry_pid) : 0;
  }

  std::string Describe(ClusterBackend& backend, const std::string& name) {
    std::string out;
    for (const auto& r : Replicas(backend, name))
      out += r.name + " " + std::string(ReplicaPhaseName(r.phase)) + " " + r.reason + " (" + r.message + ") restarts=" +
             std::to_string(r.restarts) + "\n" + ReadText(r.log_path);
    return out;
  }

  testing::TempDir tmp_;
  std::unique_ptr<ClusterBackend> backend_;
  std::set<std::pair<std::string, std::string>> created_;
};

TEST_F(LocalServicesTest, AnHttpServerBecomesReadyThroughItsProbeOnItsPort) {
  backend_ = Make();
  Apply(*backend_, Service("web", kHttpServer));
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend_, "web", ReplicaPhase::kReady); }, kDeadline))
      << Describe(*backend_, "web");
  ReplicaStatus r = Replicas(*backend_, "web")[0];
  EXPECT_EQ(r.name, "web-0");
  EXPECT_EQ(r.restarts, 0);
  EXPECT_TRUE(r.started_at.has_value());
  ASSERT_TRUE(r.endpoint.starts_with("127.0.0.1:")) << r.endpoint;
  EXPECT_EQ(ProbeHttp("127.0.0.1", PortOf(r.endpoint), HttpProbe{}), "");  // the platform reaches it
  EXPECT_EQ(r.log_path, tmp_.path() + "/logs/web-0.log");
  EXPECT_EQ(backend_->GetCapacity().in_use.cpu_milli, 100);
  auto usage = backend_->GetServiceUsage("acct-1", "web");
  ASSERT_TRUE(usage) << usage.error().ToString();
  ASSERT_EQ(usage->pods.size(), 1u);
  EXPECT_EQ(usage->pods[0].name, "web-0");
  // Applying the same spec again changes nothing; another spec is a conflict.
  EXPECT_TRUE(backend_->ApplyService(Service("web", kHttpServer)).ok());
  EXPECT_EQ(Replicas(*backend_, "web")[0].endpoint, r.endpoint);
  EXPECT_EQ(backend_->ApplyService(Service("web", "sleep 1")).code(), Code::kConflict);
}

TEST_F(LocalServicesTest, AReplicaThatNeverAnswersStaysNotReadyWithAReason) {
  backend_ = Make();
  Apply(*backend_, Service("mute", "exec sleep 300"));
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend_, "mute", ReplicaPhase::kNotReady); }, kDeadline))
      << Describe(*backend_, "mute");
  ReplicaStatus r = Replicas(*backend_, "mute")[0];
  EXPECT_EQ(r.reason, "readiness probe failed");
  // Refused at its port, or reset or closed by the relay into its own network, which nothing
  // answers in (under load the relay's close can come before it learns of the refusal).
  EXPECT_TRUE(r.message == "Connection refused" || r.message == "Connection reset by peer" ||
              r.message == "not an HTTP answer")
      << r.message;
  EXPECT_EQ(r.restarts, 0);
}

TEST_F(LocalServicesTest, AReplicaListeningOnAnotherPortThanItsPortNeverBecomesReady) {
  backend_ = Make();
  Apply(*backend_, Service("astray", "exec /usr/bin/python3 -u -m http.server --bind 127.0.0.1 0"));
  ASSERT_TRUE(testing::WaitFor([&] { return ReadText(tmp_.path() + "/logs/astray-0.log").find("Serving HTTP") != std::string::npos; },
                               kDeadline))
      << Describe(*backend_, "astray");
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend_, "astray", ReplicaPhase::kNotReady); }, kDeadline));
  EXPECT_FALSE(testing::WaitFor([&] { return !AllIn(*backend_, "astray", ReplicaPhase::kNotReady); }, 1s))
      << Describe(*backend_, "astray");
}

TEST_F(LocalServicesTest, ACrashingReplicaIsRestartedWithBackoffAndItsRestartsCounted) {
  backend_ = Make();
  ServiceRun s = Service("crashy", "echo crashing; exit 3");
  s.max_backoff = 400ms;
  auto start = std::chrono::steady_clock::now();
  Apply(*backend_, s);
  bool saw_backoff = false;
  ASSERT_TRUE(testing::WaitFor([&] {
    auto replicas = Replicas(*backend_, "crashy");
    if (replicas.size() == 1 && replicas[0].reason == "CrashLoopBackOff") saw_backoff = true;
    return replicas.size() == 1 && replicas[0].restarts >= 4;
  }, kDeadline)) << Describe(*backend_, "crashy");
  // Backoffs of 200, 400 (the cap) and 400 ms at least came before the fourth restart is counted
  // (the fourth backoff may still be running then).
  EXPECT_GE(std::chrono::steady_clock::now() - start, 1000ms);
  ReplicaStatus r = Replicas(*backend_, "crashy")[0];
  EXPECT_EQ(r.last_exit_code, 3);
  EXPECT_TRUE(saw_backoff);
  std::string log = ReadText(r.log_path);
  EXPECT_NE(log.find("restarting in 200 ms (restart 1)"), std::string::npos) << log;
  EXPECT_NE(log.find("restarting in 400 ms (restart 3)"), std::string::npos) << log;
  EXPECT_GE(std::count(log.begin(), log.end(), '\n'), 8);
}

TEST_F(LocalServicesTest, ScaleUpAndDownStartsAndStopsReplicas) {
  backend_ = Make();
  Apply(*backend_, Service("scaled", kHttpServer));
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend_, "scaled", ReplicaPhase::kReady); }, kDeadline));
  ASSERT_TRUE(backend_->ScaleService("acct-1", "scaled", 3).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend_, "scaled", ReplicaPhase::kReady, 3); }, kDeadline))
      << Describe(*backend_, "scaled");
  std::set<std::string> endpoints;
  for (const auto& r : Replicas(*backend_, "scaled")) endpoints.insert(r.endpoint);
  EXPECT_EQ(endpoints.size(), 3u);
  EXPECT_EQ(backend_->GetCapacity().in_use.cpu_milli, 300);
  pid_t second = EntryPid("scaled", 1), third = EntryPid("scaled", 2);
  ASSERT_GT(second, 0);
  ASSERT_GT(third, 0);
  ASSERT_TRUE(backend_->ScaleService("acct-1", "scaled", 1).ok());
  EXPECT_EQ(Replicas(*backend_, "scaled").size(), 1u);
  EXPECT_TRUE(testing::WaitFor([&] { return testing::ProcessGone(second) && testing::ProcessGone(third); }, 10s));
  EXPECT_TRUE(testing::WaitFor([&] { return !fs::exists(ReplicaDir("scaled", 1)) && !fs::exists(ReplicaDir("scaled", 2)); }, 10s));
  EXPECT_TRUE(testing::WaitFor([&] { return backend_->GetCapacity().in_use.cpu_milli == 100; }, 10s));
  EXPECT_EQ(Replicas(*backend_, "scaled")[0].phase, ReplicaPhase::kReady);
  EXPECT_EQ(backend_->ScaleService("acct-1", "nothing", 1).code(), Code::kNotFound);
}

TEST_F(LocalServicesTest, DeleteStopsTheReplicasAndRemovesTheirState) {
  backend_ = Make();
  ServiceRun s = Service("doomed", "trap '' TERM; /usr/bin/python3 -m http.server --bind 127.0.0.1 \"$PORT\"");
  s.replicas = 2;
  Apply(*backend_, s);
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend_, "doomed", ReplicaPhase::kReady, 2); }, kDeadline))
      << Describe(*backend_, "doomed");
  std::vector<pid_t> pids = {EntryPid("doomed", 0), EntryPid("doomed", 1)};
  auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(backend_->DeleteService("acct-1", "doomed", 300ms).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  for (pid_t pid : pids) EXPECT_TRUE(testing::ProcessGone(pid)) << pid;
  EXPECT_FALSE(fs::exists(State() + "/" + kServicesDir + "/acct-1/doomed"));
  EXPECT_EQ(backend_->GetReplicas("acct-1", "doomed").error().code(), Code::kNotFound);
  EXPECT_EQ(backend_->GetCapacity().in_use.cpu_milli, 0);
  EXPECT_TRUE(fs::exists(tmp_.path() + "/logs/doomed-0.log"));  // logs stay
  EXPECT_EQ(backend_->DeleteService("acct-1", "doomed", 0ms).code(), Code::kNotFound);
}

TEST_F(LocalServicesTest, ReplicasSurviveTheControlPlaneAndANewBackendReportsAndDeletesThem) {
  std::string endpoint;
  pid_t pid = 0;
  {
    auto first = Make();
    Apply(*first, Service("durable", kHttpServer));
    ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*first, "durable", ReplicaPhase::kReady); }, kDeadline));
    endpoint = Replicas(*first, "durable")[0].endpoint;
    pid = EntryPid("durable", 0);
  }
  EXPECT_FALSE(testing::ProcessGone(pid));
  backend_ = Make();
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend_, "durable", ReplicaPhase::kReady); }, kDeadline))
      << Describe(*backend_, "durable");
  ReplicaStatus r = Replicas(*backend_, "durable")[0];
  EXPECT_EQ(ProbeHttp("127.0.0.1", PortOf(r.endpoint), HttpProbe{}), "");  // the same process answers
  // In its own network (as root), its $PORT is not this machine's: only the relay reaches it.
  auto spec = PodSpecFromJson(ReadText(ReplicaDir("durable", 0) + "/" + kPodSpecFile));
  ASSERT_TRUE(spec);
  if (spec->network.keeper_pid)
    EXPECT_NE(ProbeHttp("127.0.0.1", std::atoi(spec->env.at("PORT").c_str()), HttpProbe{}), "");
  else
    EXPECT_EQ(r.endpoint, endpoint);
  EXPECT_EQ(r.restarts, 0);
  EXPECT_EQ(EntryPid("durable", 0), pid);
  EXPECT_EQ(backend_->GetCapacity().in_use.cpu_milli, 100);
  ASSERT_TRUE(backend_->DeleteService("acct-1", "durable", 1s).ok());
  EXPECT_TRUE(testing::ProcessGone(pid));
}

TEST_F(LocalServicesTest, AReplicaWhoseSupervisorDiesIsCleanedUpAndStartedAnew) {
  backend_ = Make();
  Apply(*backend_, Service("orphan", kHttpServer));
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend_, "orphan", ReplicaPhase::kReady); }, kDeadline));
  pid_t entry = EntryPid("orphan", 0);
  pid_t supervisor = std::atoi(ReadText(ReplicaDir("orphan", 0) + "/" + kPidFile).c_str());
  ASSERT_GT(supervisor, 0);
  ASSERT_EQ(::kill(supervisor, SIGKILL), 0);
  EXPECT_TRUE(testing::WaitFor([&] { return testing::ProcessGone(entry); }, kDeadline));
  ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend_, "orphan", ReplicaPhase::kReady) && EntryPid("orphan", 0) != entry; },
                               kDeadline))
      << Describe(*backend_, "orphan");
}

TEST_F(LocalServicesTest, AReplicaCannotReachTheFilesOfAnotherNamespacesReplica) {
  backend_ = Make();
  std::string mine = tmp_.path() + "/acct-1-data", theirs = tmp_.path() + "/acct-2-data";
  fs::create_directories(mine);
  fs::create_directories(theirs);
  ServiceRun victim = Service("victim", "echo s3cret > /data/secret; " + std::string(kHttpServer));
  victim.mounts = {{mine, "/data", false}};
  Apply(*backend_, victim);
  ASSERT_TRUE(testing::WaitFor([&] { return ReadText(mine + "/secret") == "s3cret\n"; }, kDeadline)) << Describe(*backend_, "victim");
  std::string victim_dir = ReplicaDir("victim", 0);
  ServiceRun attacker = Service("attacker",
                                "for f in " + mine + "/secret /data/secret " + victim_dir + "/pod.json " + State() +
                                    "/.services/acct-1/victim/service.json; do cat $f; done > /data/out 2>&1; "
                                    "ls /proc > /data/procs; echo done >> /data/out; " + std::string(kHttpServer),
                                "acct-2");
  attacker.mounts = {{theirs, "/data", false}};
  Apply(*backend_, attacker);
  ASSERT_TRUE(testing::WaitFor([&] { return ReadText(theirs + "/out").find("done") != std::string::npos; }, kDeadline))
      << Describe(*backend_, "attacker");
  std::string out = ReadText(theirs + "/out");
  EXPECT_EQ(out.find("s3cret"), std::string::npos) << out;
  EXPECT_EQ(out.find("PORT"), std::string::npos) << out;
  EXPECT_NE(out.find("No such file"), std::string::npos) << out;
  // Its own pid namespace: the other replica's processes are not even listed.
  EXPECT_FALSE(ReadText(theirs + "/procs").empty());
  EXPECT_EQ(ReadText(theirs + "/procs").find(std::to_string(EntryPid("victim", 0)) + "\n"), std::string::npos);
}

// Real Jupyter Notebook (Debian's python3-notebook) as a replica, its home a writable mount, its
// token in JUPYTER_TOKEN (kept off the command line) and probed with it. Prints the median
// spawn-to-ready time of three runs.
TEST_F(LocalServicesTest, JupyterNotebookBecomesReadyAndAnswersWithItsToken) {
  if (ReadText("/usr/lib/python3/dist-packages/notebook/__init__.py").empty())
    GTEST_SKIP() << "python3-notebook is not installed (scripts/install-deps installs it)";
  backend_ = Make();
  std::string token;
  std::random_device random;
  for (int i = 0; i < 32; ++i) token += "0123456789abcdef"[random() % 16];
  std::vector<double> seconds;
  for (int run = 0; run < 3; ++run) {
    std::string name = "nb-" + std::to_string(run), home = tmp_.path() + "/" + name + "-home";
    fs::create_directories(home);
    ServiceRun s = Service(name,
                           "exec /usr/bin/python3 -m notebook --no-browser --ip=127.0.0.1 --port=\"$PORT\" --port-retries=0 "
                           "--NotebookApp.base_url=/user/x/ --NotebookApp.allow_remote_access=True");
    s.mounts = {{home, "/home/jovyan", false}};
    s.working_dir = "/home/jovyan";
    s.env = {{"HOME", "/home/jovyan"}, {"JUPYTER_TOKEN", token},
             {"JUPYTER_RUNTIME_DIR", "/home/jovyan/.local/share/jupyter/runtime"}};
    s.requests = {1000, 1LL << 30, 0};
    s.readiness = HttpProbe{.path = "/user/x/api/status", .headers = {{"Authorization", "token " + token}},
                            .period = 100ms, .timeout = 1s, .failure_threshold = 3, .startup_grace = 60s};
    auto start = std::chrono::steady_clock::now();
    Apply(*backend_, s);
    ASSERT_TRUE(testing::WaitFor([&] { return AllIn(*backend_, name, ReplicaPhase::kReady); }, 60s)) << Describe(*backend_, name);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    ReplicaStatus r = Replicas(*backend_, name)[0];
    HttpProbe status{.path = "/user/x/api/status", .headers = {{"Authorization", "token " + token}}, .timeout = 5s};
    EXPECT_EQ(ProbeHttp("127.0.0.1", PortOf(r.endpoint), status), "");
    status.headers["Authorization"] = "token wrong";
    EXPECT_EQ(ProbeHttp("127.0.0.1", PortOf(r.endpoint), status), "HTTP 403");
    EXPECT_EQ(ReadText(r.log_path).find(token), std::string::npos);  // the token is not logged
    ASSERT_TRUE(backend_->DeleteService("acct-1", name, 5s).ok());
  }
  std::sort(seconds.begin(), seconds.end());
  std::printf("jupyter spawn-to-ready: median %.2f s (runs %.2f, %.2f, %.2f s)\n", seconds[1], seconds[0], seconds[1], seconds[2]);
  RecordProperty("jupyter_spawn_to_ready_median_ms", static_cast<int>(seconds[1] * 1000));
}

TEST_F(LocalServicesTest, BadSpecsAreRefusedNamingTheField) {
  backend_ = Make();
  auto field = [&](ServiceRun s) {
    Status st = backend_->ApplyService(s);
    EXPECT_EQ(st.code(), Code::kInvalidArgument) << st.ToString();
    return st.field();
  };
  ServiceRun s = Service("ok", "true");
  s.name = "Not_A_Label";
  EXPECT_EQ(field(s), "name");
  s = Service("ok", "true");
  s.env["PORT"] = "1";
  EXPECT_EQ(field(s), "env");
  s = Service("ok", "true");
  s.readiness->headers["X-Evil"] = "a\r\nHost: b";
  EXPECT_EQ(field(s), "readiness.headers");
  s = Service("ok", "true");
  s.requests.cpu_milli = 5000;
  EXPECT_EQ(field(s), "requests");
  s = Service("ok", "true");
  s.replicas = -1;
  EXPECT_EQ(field(s), "replicas");
}

}  // namespace
}  // namespace paddlecloud::cluster::local
