// The Kubernetes adapter against the test API server (a test double: no API server can run here),
// whose kubelet runs the pods as real processes. Every object written is checked against the
// official schemas, as a Strict API server does.
#include "cluster/kubernetes/kubernetes_backend.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cluster/kubernetes/kube_config.h"
#include "kube_schema/kube_schema.h"
#include "kube_test_server/kube_test_server.h"
#include "testing/server_process.h"

namespace paddlecloud::cluster::kubernetes {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

template <typename F>
bool WaitFor(F condition, std::chrono::milliseconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return condition();
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class KubernetesBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = fs::path(dir_.path()) / "data";
    fs::create_directories(data_ / "jobs");
    auto server = kube_test::KubernetesTestApiServer::Start(
        {.work_dir = dir_.path() + "/apiserver",
         .validate = [](const boost::json::value& object) { return kube_schema::RepositorySchemas().Validate(object); },
         .nfs_root = [data = data_.string()](const std::string& path) {
           return data + path.substr(std::string("/export").size());
         }});
    ASSERT_TRUE(server) << server.error().message();
    api_ = std::move(*server);
    kubeconfig_ = dir_.path() + "/kubeconfig";
    api_->Kubeconfig(kubeconfig_);
    Connect();
  }

  void Connect() {
    backend_.reset();
    auto connection = LoadKubeconfig(kubeconfig_);
    ASSERT_TRUE(connection) << connection.error().message();
    client_ = std::make_shared<KubeClient>(std::move(*connection));
    auto backend = MakeKubernetesBackend(client_, Options());
    ASSERT_TRUE(backend) << backend.error().message();
    backend_ = std::move(*backend);
    backend_->SetObserver([this] { ++changes_; });
    ASSERT_TRUE(WaitFor([&] { return backend_->Health().ok(); })) << backend_->Health().message();
  }

  KubernetesBackendOptions Options() {
    return {.mapping = {.data_dir = data_.string(), .nfs_server = "nfs.test", .nfs_path = "/export"},
            .state_dir = dir_.path() + "/state",
            .quota_of = [](const std::string&) { return NamespaceQuota{.cpu_milli = 8000}; }};
  }

  JobRun Job(std::string name, std::string entry, int trainers = 1, int pservers = 0) {
    fs::path job_dir = data_ / "jobs" / name;
    fs::create_directories(job_dir / "code");
    fs::create_directories(job_dir / "logs");
    return JobRun{.namespace_name = "acme", .job = std::move(name), .entry = std::move(entry),
                  .working_dir = "/paddlecloud/job/code",
                  .env = {{"PADDLE_CLOUD_JOB_DIR", "/paddlecloud/job"}},
                  .mounts = {{(job_dir / "code").string(), "/paddlecloud/job/code", false}},
                  .trainers = trainers, .trainer_requests = {.cpu_milli = 100, .memory_bytes = 64 << 20},
                  .pservers = pservers, .pserver_requests = {.cpu_milli = 100, .memory_bytes = 64 << 20},
                  .logs_dir = (job_dir / "logs").string()};
  }

  std::vector<PodStatus> Pods(const std::string& job) {
    auto pods = backend_->GetPods("acme", job);
    return pods ? *pods : std::vector<PodStatus>{};
  }

  bool AllPods(const std::string& job, PodPhase phase) {
    auto pods = Pods(job);
    return !pods.empty() && std::all_of(pods.begin(), pods.end(), [&](const PodStatus& p) { return p.phase == phase; });
  }

  testing::TempDir dir_;
  fs::path data_;
  std::string kubeconfig_;
  std::unique_ptr<kube_test::KubernetesTestApiServer> api_;
  std::shared_ptr<KubeClient> client_;
  std::unique_ptr<ClusterBackend> backend_;
  std::atomic<int> changes_{0};
};

TEST_F(KubernetesBackendTest, AJobsPodsGetTheContractRunToCompletionAndKeepTheirLogs) {
  JobRun run = Job("contract-1",
                   "echo role=$TRAINING_ROLE id=$PADDLE_TRAINER_ID trainers=$PADDLE_TRAINER_ENDPOINTS "
                   "pservers=$PADDLE_PSERVERS_IP_PORT_LIST; echo pwd=$(pwd); "
                   "test \"$TRAINING_ROLE\" = TRAINER || exec sleep 300",
                   2, 1);
  ASSERT_TRUE(backend_->Submit(run).ok());
  ASSERT_TRUE(backend_->Submit(run).ok());  // idempotent
  ASSERT_TRUE(WaitFor([&] {
    auto pods = Pods("contract-1");
    return pods.size() == 3 && pods[0].phase == PodPhase::kSucceeded && pods[1].phase == PodPhase::kSucceeded &&
           pods[2].phase == PodPhase::kRunning;
  })) << api_->Requests().size();
  auto pods = Pods("contract-1");
  EXPECT_EQ(pods[1].name, "contract-1-trainer-1");
  EXPECT_EQ(pods[1].reason, "Completed");
  EXPECT_EQ(pods[2].name, "contract-1-pserver-0");
  EXPECT_EQ(pods[2].endpoint, "contract-1-pserver-0.contract-1.pc-acme.svc:6174");
  fs::path log = fs::path(run.logs_dir) / "contract-1-trainer-1.log";
  ASSERT_TRUE(WaitFor([&] { return ReadFile(log).find("pwd=") != std::string::npos; })) << ReadFile(log);
  std::string text = ReadFile(log);
  EXPECT_NE(text.find("role=TRAINER id=1 trainers=contract-1-trainer-0.contract-1.pc-acme.svc:6174,"
                      "contract-1-trainer-1.contract-1.pc-acme.svc:6174 pservers=contract-1-pserver-0.contract-1.pc-acme.svc:6174"),
            std::string::npos) << text;
  EXPECT_NE(text.find("pwd=/paddlecloud/job/code"), std::string::npos) << text;
  EXPECT_GT(changes_.load(), 0);

  // Deleting a running job is refused; its pservers are stopped as after training.
  EXPECT_EQ(backend_->Delete("acme", "contract-1").code(), Code::kConflict);
  ASSERT_TRUE(backend_->Stop("acme", "contract-1", PodRole::kPserver, 1s).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto p = Pods("contract-1");
    return p.size() == 3 && p[2].phase == PodPhase::kFailed && p[2].reason == "Stopped" && p[0].phase == PodPhase::kSucceeded;
  }));
  ASSERT_TRUE(backend_->Delete("acme", "contract-1").ok());
  EXPECT_EQ(backend_->GetPods("acme", "contract-1").error().code(), Code::kNotFound);
  EXPECT_NE(ReadFile(log).find("role=TRAINER"), std::string::npos);  // the log stays

  // Every write was validated strictly, and the account's namespace was set up.
  for (const auto& r : api_->Requests()) {
    if (r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
      EXPECT_EQ(r.query.count("fieldValidation") ? r.query.at("fieldValidation") : "", "Strict") << r.method << " " << r.path;
    }
  }
  EXPECT_TRUE(api_->Get("/api/v1/namespaces/pc-acme"));
  EXPECT_TRUE(api_->Get("/apis/networking.k8s.io/v1/namespaces/pc-acme/networkpolicies/paddlecloud-isolation"));
  auto quota = api_->Get("/api/v1/namespaces/pc-acme/resourcequotas/paddlecloud-quota");
  ASSERT_TRUE(quota);
  EXPECT_EQ(quota->at("spec").at("hard").at("requests.cpu"), "8");
}

TEST_F(KubernetesBackendTest, AFailingPodIsRetriedUpToItsLimitThenFails) {
  JobRun run = Job("crash-1", "echo attempt; exit 3");
  run.max_restarts = 1;
  ASSERT_TRUE(backend_->Submit(run).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto p = Pods("crash-1");
    return p.size() == 1 && p[0].phase == PodPhase::kFailed && p[0].restarts == 1;
  })) << (Pods("crash-1").empty() ? "" : Pods("crash-1")[0].reason);
  auto p = Pods("crash-1");
  EXPECT_EQ(p[0].exit_code, 3);
  EXPECT_EQ(p[0].reason, "Error");
}

TEST_F(KubernetesBackendTest, StopEndsRunningPodsAndTheirStatusOutlivesThePods) {
  JobRun run = Job("stop-1", "echo started; exec sleep 300", 2);
  ASSERT_TRUE(backend_->Submit(run).ok());
  ASSERT_TRUE(WaitFor([&] { return AllPods("stop-1", PodPhase::kRunning); }));
  ASSERT_TRUE(WaitFor([&] { return ReadFile(fs::path(run.logs_dir) / "stop-1-trainer-0.log").find("started") != std::string::npos; }));
  ASSERT_TRUE(backend_->Stop("acme", "stop-1", std::nullopt, 2s).ok());
  ASSERT_TRUE(WaitFor([&] { return api_->List("pods", "pc-acme").empty(); }));
  ASSERT_TRUE(WaitFor([&] { return AllPods("stop-1", PodPhase::kFailed); }));
  for (const auto& pod : Pods("stop-1")) EXPECT_EQ(pod.reason, "Stopped");
  EXPECT_NE(ReadFile(fs::path(run.logs_dir) / "stop-1-trainer-0.log").find("started"), std::string::npos);

  // A new backend over the same state (a restarted platform) reports the same.
  Connect();
  ASSERT_TRUE(WaitFor([&] { return AllPods("stop-1", PodPhase::kFailed); }));
  EXPECT_EQ(Pods("stop-1")[1].reason, "Stopped");
}

TEST_F(KubernetesBackendTest, APodDeletedUnderThePlatformIsReportedAndItsLogKept) {
  JobRun run = Job("deleted-1", "echo hello-from-pod; exec sleep 300");
  ASSERT_TRUE(backend_->Submit(run).ok());
  fs::path log = fs::path(run.logs_dir) / "deleted-1-trainer-0.log";
  ASSERT_TRUE(WaitFor([&] { return ReadFile(log).find("hello-from-pod") != std::string::npos; }));
  auto pods = api_->List("pods", "pc-acme");
  ASSERT_EQ(pods.size(), 1u);
  std::string pod_name(pods[0].at("metadata").at("name").as_string());
  ASSERT_TRUE(api_->DeletePodBehindTheBackOfThePlatform("pc-acme", pod_name).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto p = Pods("deleted-1");
    return !p.empty() && (p[0].phase == PodPhase::kFailed || p[0].restarts > 0 || p[0].phase == PodPhase::kRunning);
  }));
  EXPECT_NE(ReadFile(log).find("hello-from-pod"), std::string::npos);
  ASSERT_TRUE(backend_->Stop("acme", "deleted-1", std::nullopt, 1s).ok());
}

TEST_F(KubernetesBackendTest, TheWatchRecoversFromDroppedStreamsAndExpiredHistory) {
  api_->DropWatches();
  api_->CompactHistory();
  api_->FailNextRequests(2, 500);
  JobRun run = Job("after-faults-1", "echo ok");
  Status submitted = backend_->Submit(run);
  if (!submitted.ok()) submitted = backend_->Submit(run);  // a 500 may reach a create: the retry completes it
  ASSERT_TRUE(submitted.ok()) << submitted.message();
  api_->DropWatches();
  ASSERT_TRUE(WaitFor([&] { return AllPods("after-faults-1", PodPhase::kSucceeded); }));
  EXPECT_TRUE(backend_->Health().ok());
}

TEST_F(KubernetesBackendTest, WaitingPodsSayWhy) {
  JobRun big = Job("big-1", "echo never");
  big.trainer_requests.cpu_milli = 1'000'000;
  ASSERT_TRUE(backend_->Submit(big).ok());
  JobRun pull = Job("pull-1", "echo never");
  pull.image = "registry.invalid/nope:1";
  api_->SetUnpullableImages({pull.image});
  ASSERT_TRUE(backend_->Submit(pull).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto b = Pods("big-1");
    return !b.empty() && b[0].reason.starts_with("Unschedulable: 0/1 nodes are available");
  })) << (Pods("big-1").empty() ? "" : Pods("big-1")[0].reason);
  ASSERT_TRUE(WaitFor([&] {
    auto p = Pods("pull-1");
    return !p.empty() && (p[0].reason.starts_with("ImagePullBackOff") || p[0].reason.starts_with("ErrImagePull"));
  }));
  EXPECT_EQ(Pods("pull-1")[0].phase, PodPhase::kPending);
}

TEST_F(KubernetesBackendTest, AForbiddenVerbIsNamedAndANamespaceDeletedByHandIsMadeAgain) {
  api_->ForbidVerb("create", "jobs");
  Status refused = backend_->Submit(Job("forbidden-1", "echo x"));
  EXPECT_EQ(refused.code(), Code::kPermissionDenied);
  EXPECT_NE(refused.message().find("cannot create resource \"jobs\""), std::string::npos) << refused.message();
  api_->AllowAll();
  ASSERT_TRUE(backend_->Submit(Job("forbidden-1", "echo x")).ok());
  ASSERT_TRUE(WaitFor([&] { return AllPods("forbidden-1", PodPhase::kSucceeded); }));

  ASSERT_TRUE(api_->Delete("/api/v1/namespaces/pc-acme").ok());
  ASSERT_TRUE(WaitFor([&] { return !api_->Get("/api/v1/namespaces/pc-acme"); }));
  ASSERT_TRUE(backend_->Submit(Job("again-1", "echo again")).ok());
  ASSERT_TRUE(WaitFor([&] { return AllPods("again-1", PodPhase::kSucceeded); }));
}

TEST_F(KubernetesBackendTest, AnUnreachableApiServerIsReportedNotFatal) {
  backend_.reset();
  KubeConnection nowhere{.server = "https://127.0.0.1:1", .token = "x"};
  auto backend = MakeKubernetesBackend(std::make_shared<KubeClient>(nowhere), Options());
  ASSERT_TRUE(backend);
  ASSERT_TRUE(WaitFor([&] { return (*backend)->Health().message().find("cannot be watched") != std::string::npos; }))
      << (*backend)->Health().message();
  EXPECT_EQ((*backend)->Health().code(), Code::kUnavailable);
  EXPECT_EQ((*backend)->Submit(Job("unreachable-1", "echo x")).code(), Code::kUnavailable);
}

TEST_F(KubernetesBackendTest, AServiceScalesThroughTheScaleSubresourceAndItsReplicasBecomeReady) {
  fs::path site = data_ / "site";
  fs::create_directories(site);
  std::ofstream(site / "index.html") << "hello";
  ServiceRun run{.namespace_name = "acme", .name = "web", .command = "exec /usr/bin/python3 -m http.server --bind \"$POD_IP\" \"$PORT\"",
                 .working_dir = "/site", .mounts = {{site.string(), "/site", true}},
                 .requests = {.cpu_milli = 100, .memory_bytes = 64 << 20}, .replicas = 1, .port = 8080,
                 .readiness = HttpProbe{.path = "/index.html"}, .logs_dir = dir_.path() + "/web-logs"};
  ASSERT_TRUE(backend_->ApplyService(run).ok());
  ASSERT_TRUE(backend_->ApplyService(run).ok());
  auto ready = [&](std::size_t n) {
    auto replicas = backend_->GetReplicas("acme", "web");
    return replicas && replicas->size() == n &&
           std::all_of(replicas->begin(), replicas->end(), [](const auto& r) { return r.phase == ReplicaPhase::kReady; });
  };
  ASSERT_TRUE(WaitFor([&] { return ready(1); }));
  ASSERT_TRUE(backend_->ScaleService("acme", "web", 3).ok());
  ASSERT_TRUE(WaitFor([&] { return ready(3); }));
  auto replicas = *backend_->GetReplicas("acme", "web");
  EXPECT_EQ(replicas[2].name, "web-2");
  EXPECT_NE(replicas[0].endpoint, replicas[1].endpoint);
  auto deployment = api_->Get("/apis/apps/v1/namespaces/pc-acme/deployments/web");
  ASSERT_TRUE(deployment);
  EXPECT_EQ(deployment->at("spec").at("replicas"), 3);
  ASSERT_TRUE(backend_->ScaleService("acme", "web", 1).ok());
  ASSERT_TRUE(WaitFor([&] { return ready(1); }));
  EXPECT_EQ(backend_->GetReplicas("acme", "web")->at(0).name, "web-0");

  ServiceRun changed = run;
  changed.command = "exec sleep 1000";
  EXPECT_EQ(backend_->ApplyService(changed).code(), Code::kConflict);
  ASSERT_TRUE(backend_->DeleteService("acme", "web", 2s).ok());
  EXPECT_EQ(backend_->GetReplicas("acme", "web").error().code(), Code::kNotFound);
  EXPECT_TRUE(api_->List("pods", "pc-acme").empty());
}

}  // namespace
}  // namespace paddlecloud::cluster::kubernetes
