// The objects of the mapping, each checked against the official Kubernetes 1.35 schemas and the
// PaddleJob CRD as a Strict API server would, and the statuses read back from observed pods.
#include "cluster/kubernetes/manifests.h"

#include <gtest/gtest.h>

#include "kube_schema/kube_schema.h"

namespace paddlecloud::cluster::kubernetes {
namespace {
namespace json = boost::json;

void ExpectValid(const json::object& object) {
  auto problems = kube_schema::RepositorySchemas().Validate(object);
  EXPECT_TRUE(problems.empty()) << json::serialize(object) << "\n" << [&] {
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    return all;
  }();
}

MappingOptions Options() {
  return {.data_dir = "/var/lib/paddlecloud", .nfs_server = "nfs.example", .nfs_path = "/exports/paddlecloud"};
}

JobRun FitALine() {
  return JobRun{.namespace_name = "acme",
                .job = "fit-a-line-12",
                .entry = "python3 train.py --passes 30",
                .working_dir = "/paddlecloud/job/code",
                .env = {{"PADDLE_CLOUD_URL", "http://paddlecloud.paddlecloud.svc:8080"}},
                .secret_env = {{"PADDLE_CLOUD_TOKEN", "pct_secret"}},
                .mounts = {{"/var/lib/paddlecloud/jobs/acme/12/code", "/paddlecloud/job/code", false},
                           {"/var/lib/paddlecloud/files/acme/datasets", "/data/datasets", false},
                           {"/var/lib/paddlecloud/files/public", "/public", true}},
                .trainers = 2,
                .trainer_requests = {.cpu_milli = 1500, .memory_bytes = 1 << 30, .gpus = 1},
                .pservers = 1,
                .pserver_requests = {.cpu_milli = 1000, .memory_bytes = 512 << 20},
                .max_restarts = 2,
                .fault_tolerant = 1,
                .logs_dir = "/var/lib/paddlecloud/jobs/acme/12/logs"};
}

const json::object& Container(const json::object& workload) {
  return workload.at("spec").at("template").at("spec").at("containers").at(0).as_object();
}

std::string EnvValue(const json::object& container, std::string_view name) {
  for (const auto& e : container.at("env").as_array())
    if (e.at("name").as_string() == name) {
      if (e.as_object().contains("value")) return std::string(e.at("value").as_string());
      if (const auto* ref = e.at("valueFrom").as_object().if_contains("secretKeyRef"))
        return "secretKeyRef:" + std::string(ref->at("name").as_string()) + "/" + std::string(ref->at("key").as_string());
      return "fieldRef:" + std::string(e.at("valueFrom").at("fieldRef").at("fieldPath").as_string());
    }
  return "";
}

TEST(ManifestsTest, AccountObjectsAreSchemaValidAndIsolateTheNamespace) {
  auto objects = AccountObjects("acme", {.cpu_milli = 8000, .memory_bytes = 32LL << 30, .gpus = 2}, Options());
  ASSERT_EQ(objects.size(), 7u);
  for (const auto& o : objects) ExpectValid(o);
  EXPECT_EQ(objects[0].at("metadata").at("name"), "pc-acme");
  const auto& hard = objects[1].at("spec").at("hard").as_object();
  EXPECT_EQ(hard.at("requests.cpu"), "8");
  EXPECT_EQ(hard.at("requests.nvidia.com/gpu"), "2");
  EXPECT_EQ(objects[4].at("automountServiceAccountToken"), false);
  // Only this namespace, the platform's and DNS: another account's namespace is not a peer.
  std::string policy = json::serialize(objects[3].at("spec"));
  EXPECT_NE(policy.find("\"kubernetes.io/metadata.name\":\"paddlecloud\""), std::string::npos);
  EXPECT_EQ(policy.find("pc-"), std::string::npos);
  EXPECT_EQ(objects[5].at("spec").at("claimRef").at("namespace"), "pc-acme");

  auto unlimited = AccountObjects("acme", {}, Options());
  EXPECT_TRUE(unlimited[1].at("spec").at("hard").as_object().empty());
  ExpectValid(unlimited[1]);
}

TEST(ManifestsTest, NativeJobIsAHeadlessServiceAndOneIndexedJobPerRoleWithTheEnvironmentContract) {
  auto objects = JobObjects(FitALine(), Options());
  ASSERT_TRUE(objects) << objects.error().message();
  ASSERT_EQ(objects->size(), 3u);
  for (const auto& o : *objects) ExpectValid(o);
  const auto& service = (*objects)[0];
  EXPECT_EQ(service.at("kind"), "Service");
  EXPECT_EQ(service.at("spec").at("clusterIP"), "None");
  const auto& trainers = (*objects)[1];
  EXPECT_EQ(trainers.at("metadata").at("name"), "fit-a-line-12-trainer");
  EXPECT_EQ(trainers.at("spec").at("completionMode"), "Indexed");
  EXPECT_EQ(trainers.at("spec").at("completions"), 2);
  EXPECT_EQ(trainers.at("spec").at("backoffLimitPerIndex"), 2);
  EXPECT_EQ(trainers.at("spec").at("maxFailedIndexes"), 1);  // fault_tolerant
  EXPECT_EQ((*objects)[2].at("spec").at("maxFailedIndexes"), 0);  // a pserver is never tolerated
  EXPECT_EQ(trainers.at("spec").at("template").at("spec").at("subdomain"), "fit-a-line-12");
  EXPECT_EQ(trainers.at("spec").at("template").at("spec").at("automountServiceAccountToken"), false);

  const auto& c = Container(trainers);
  EXPECT_EQ(EnvValue(c, "PADDLE_TRAINER_ENDPOINTS"),
            "fit-a-line-12-trainer-0.fit-a-line-12.pc-acme.svc:6174,fit-a-line-12-trainer-1.fit-a-line-12.pc-acme.svc:6174");
  EXPECT_EQ(EnvValue(c, "PADDLE_PSERVERS_IP_PORT_LIST"), "fit-a-line-12-pserver-0.fit-a-line-12.pc-acme.svc:6174");
  EXPECT_EQ(EnvValue(c, "PADDLE_TRAINER_ID"), "fieldRef:metadata.annotations['batch.kubernetes.io/job-completion-index']");
  EXPECT_EQ(EnvValue(c, "POD_IP"), "fieldRef:status.podIP");
  EXPECT_EQ(EnvValue(c, "TRAINING_ROLE"), "TRAINER");
  EXPECT_EQ(EnvValue(c, "PADDLE_CLOUD_TOKEN"), "secretKeyRef:fit-a-line-12-credentials/PADDLE_CLOUD_TOKEN");
  for (const auto& o : *objects) EXPECT_EQ(json::serialize(o).find("pct_secret"), std::string::npos) << o;
  EXPECT_EQ(c.at("resources").at("limits").at("nvidia.com/gpu"), "1");
  EXPECT_EQ(c.at("resources").at("requests").at("cpu"), "1500m");
  EXPECT_EQ(c.at("image"), "paddlecloud/training:latest");
  const auto& mounts = c.at("volumeMounts").as_array();
  ASSERT_EQ(mounts.size(), 3u);
  EXPECT_EQ(mounts[0].at("subPath"), "jobs/acme/12/code");
  EXPECT_EQ(mounts[2].at("readOnly"), true);
  EXPECT_EQ(EnvValue(Container((*objects)[2]), "TRAINING_ROLE"), "PSERVER");
}

TEST(ManifestsTest, CredentialsAreASecretOfTheWorkloadAndOnlyThere) {
  auto secret = CredentialsSecret("acme", "fit-a-line-12", FitALine().secret_env);
  ASSERT_TRUE(secret);
  ExpectValid(*secret);
  EXPECT_EQ(secret->at("metadata").at("name"), "fit-a-line-12-credentials");
  EXPECT_EQ(secret->at("metadata").at("namespace"), "pc-acme");
  EXPECT_EQ(secret->at("metadata").at("labels").at("paddlecloud.io/account"), "acme");
  EXPECT_EQ(secret->at("data").at("PADDLE_CLOUD_TOKEN"), "cGN0X3NlY3JldA==");  // base64 of pct_secret
  EXPECT_FALSE(CredentialsSecret("acme", "fit-a-line-12", {}));  // none: no Secret
}

TEST(ManifestsTest, PaddleJobModeIsValidAgainstTheTrainingOperatorsCrd) {
  MappingOptions options = Options();
  options.job_kind = JobKind::kPaddleJob;
  auto objects = JobObjects(FitALine(), options);
  ASSERT_TRUE(objects) << objects.error().message();
  ASSERT_EQ(objects->size(), 1u);
  ExpectValid((*objects)[0]);
  const auto& specs = (*objects)[0].at("spec").at("paddleReplicaSpecs");
  EXPECT_EQ(specs.at("Worker").at("replicas"), 2);
  EXPECT_EQ(specs.at("Master").at("replicas"), 1);
  const auto& worker = specs.at("Worker").at("template").at("spec").at("containers").at(0).as_object();
  EXPECT_EQ(EnvValue(worker, "PADDLE_PSERVERS_IP_PORT_LIST"), "fit-a-line-12-master-0.pc-acme.svc:6174");
  EXPECT_EQ(EnvValue(worker, "PADDLE_TRAINER_ID"), "fieldRef:metadata.labels['training.kubeflow.org/replica-index']");
  EXPECT_EQ(EnvValue(worker, "PADDLE_CLOUD_TOKEN"), "secretKeyRef:fit-a-line-12-credentials/PADDLE_CLOUD_TOKEN");
  EXPECT_EQ(specs.at("Worker").at("template").at("spec").at("containers").at(0).at("name"), "paddle");
}

TEST(ManifestsTest, ServiceIsADeploymentWithAReadinessProbeAndAService) {
  ServiceRun run{.namespace_name = "acme", .name = "serving-mnist", .command = "exec model-server --port $PORT",
                 .secret_env = {{"JUPYTER_TOKEN", "x"}},
                 .mounts = {{"/var/lib/paddlecloud/serving/acme/mnist/model", "/model", true}},
                 .requests = {.cpu_milli = 1000, .memory_bytes = 1 << 30}, .replicas = 3, .port = 8080,
                 .readiness = HttpProbe{.path = "/v2/health/ready", .headers = {{"X-Probe", "1"}}}};
  auto objects = ServiceObjects(run, Options());
  ASSERT_TRUE(objects) << objects.error().message();
  ASSERT_EQ(objects->size(), 2u);
  for (const auto& o : *objects) ExpectValid(o);
  EXPECT_EQ((*objects)[0].at("spec").at("replicas"), 3);
  const auto& c = Container((*objects)[0]);
  EXPECT_EQ(c.at("readinessProbe").at("httpGet").at("path"), "/v2/health/ready");
  EXPECT_EQ(EnvValue(c, "PORT"), "8080");
  EXPECT_EQ(EnvValue(c, "POD_IP"), "fieldRef:status.podIP");
  EXPECT_EQ(EnvValue(c, "JUPYTER_TOKEN"), "secretKeyRef:serving-mnist-credentials/JUPYTER_TOKEN");
  // Other credentials make another template (replicas restart with them), never showing them.
  const auto& annotations = (*objects)[0].at("spec").at("template").at("metadata").at("annotations");
  std::string digest(annotations.at("paddlecloud.io/credentials-sha256").as_string());
  EXPECT_EQ(digest.size(), 64u);
  run.secret_env["JUPYTER_TOKEN"] = "y";
  EXPECT_NE(ServiceObjects(run, Options())->at(0).at("spec").at("template").at("metadata").at("annotations"), annotations);
  EXPECT_EQ(json::serialize((*objects)[0]).find("\"x\""), std::string::npos);
}

TEST(ManifestsTest, AMountOutsideTheDataDirectoryIsRefused) {
  JobRun run = FitALine();
  for (std::string source : {"/etc", "/var/lib/paddlecloud/../paddlecloud-other/x", "/var/lib/paddlecloud"}) {
    run.mounts = {{source, "/x", true}};
    auto objects = JobObjects(run, Options());
    ASSERT_FALSE(objects) << source;
    EXPECT_EQ(objects.error().field(), "mounts");
  }
}

TEST(ManifestsTest, PathsOfObjects) {
  EXPECT_EQ(ObjectPath("batch/v1", "Job", "pc-a", "x"), "/apis/batch/v1/namespaces/pc-a/jobs/x");
  EXPECT_EQ(ObjectPath("v1", "Namespace", "", "pc-a"), "/api/v1/namespaces/pc-a");
  EXPECT_EQ(ObjectPath("networking.k8s.io/v1", "NetworkPolicy", "pc-a", ""),
            "/apis/networking.k8s.io/v1/namespaces/pc-a/networkpolicies");
  EXPECT_EQ(ObjectPath("v1", "PersistentVolume", "pc-a", "v"), "/api/v1/persistentvolumes/v");
}

json::object Pod(std::string_view phase, json::object container_status, json::array conditions = {}) {
  return json::object{
      {"metadata", {{"name", "fit-a-line-12-trainer-1-abcde"}, {"namespace", "pc-acme"},
                    {"labels", {{kJobLabel, "fit-a-line-12"}, {kRoleLabel, "trainer"}}},
                    {"annotations", {{kIndexAnnotation, "1"}}}}},
      {"spec", {{"hostname", "fit-a-line-12-trainer-1"}, {"subdomain", "fit-a-line-12"}}},
      {"status", {{"phase", phase}, {"podIP", "10.0.0.7"}, {"conditions", std::move(conditions)},
                  {"containerStatuses", json::array{std::move(container_status)}}}}};
}

TEST(ManifestsTest, PodStatusesAsThePortShowsThem) {
  PodStatus oom = JobPodStatus(
      Pod("Failed", {{"restartCount", 0}, {"state", {{"terminated", {{"exitCode", 137}, {"reason", "OOMKilled"},
                                                                    {"startedAt", "2026-12-06T10:00:00Z"},
                                                                    {"finishedAt", "2026-12-06T10:01:00Z"}}}}}}),
      false);
  EXPECT_EQ(oom.name, "fit-a-line-12-trainer-1");
  EXPECT_EQ(oom.index, 1);
  EXPECT_EQ(oom.phase, PodPhase::kFailed);
  EXPECT_EQ(oom.reason, "OOMKilled");
  EXPECT_EQ(oom.exit_code, 137);
  EXPECT_EQ(*oom.finished_at - *oom.started_at, 60);
  EXPECT_EQ(oom.endpoint, "fit-a-line-12-trainer-1.fit-a-line-12.pc-acme.svc:6174");

  PodStatus unschedulable = JobPodStatus(
      Pod("Pending", {}, json::array{json::object{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"},
                                                  {"message", "0/3 nodes are available: 3 Insufficient nvidia.com/gpu."}}}),
      false);
  EXPECT_EQ(unschedulable.phase, PodPhase::kPending);
  EXPECT_EQ(unschedulable.reason, "Unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.");

  PodStatus pull = JobPodStatus(Pod("Pending", {{"state", {{"waiting", {{"reason", "ImagePullBackOff"},
                                                                          {"message", "Back-off pulling image \"x\""}}}}}}),
                                false);
  EXPECT_EQ(pull.reason, "ImagePullBackOff: Back-off pulling image \"x\"");

  PodStatus stopped = JobPodStatus(Pod("Running", {{"state", {{"running", {{"startedAt", "2026-12-06T10:00:00Z"}}}}}}), true);
  EXPECT_EQ(stopped.phase, PodPhase::kFailed);
  EXPECT_EQ(stopped.reason, "Stopped");

  ReplicaStatus crashing = ReplicaPodStatus(
      Pod("Running", {{"restartCount", 3}, {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}},
                      {"lastState", {{"terminated", {{"exitCode", 3}}}}}}),
      8080);
  EXPECT_EQ(crashing.phase, ReplicaPhase::kNotReady);
  EXPECT_EQ(crashing.reason, "CrashLoopBackOff");
  EXPECT_EQ(crashing.message, "exited with code 3");
  EXPECT_EQ(crashing.endpoint, "10.0.0.7:8080");
  ReplicaStatus ready = ReplicaPodStatus(
      Pod("Running", {{"state", {{"running", json::object{}}}}}, json::array{json::object{{"type", "Ready"}, {"status", "True"}}}),
      8080);
  EXPECT_EQ(ready.phase, ReplicaPhase::kReady);
}

TEST(ManifestsTest, Quantities) {
  EXPECT_EQ(CpuMilli("500m"), 500);
  EXPECT_EQ(CpuMilli("2"), 2000);
  EXPECT_EQ(CpuMilli("1.5"), 1500);
  EXPECT_EQ(CpuMilli("250000000n"), 250);
  EXPECT_EQ(Bytes("1Gi"), 1LL << 30);
  EXPECT_EQ(Bytes("128974848"), 128974848);
  EXPECT_EQ(Bytes("129M"), 129000000);
  EXPECT_EQ(Bytes("1e3"), 1000);
  EXPECT_EQ(UnixSeconds("1970-01-01T00:01:00Z"), 60);
  EXPECT_FALSE(UnixSeconds("yesterday"));
}

}  // namespace
}  // namespace paddlecloud::cluster::kubernetes
