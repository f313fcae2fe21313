#include "kube_schema/kube_schema.h"

#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "yaml/yaml.h"

namespace paddlecloud::kube_schema {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

class KubeSchemaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto loaded = Schemas::Load(PADDLECLOUD_K8S_API_DIR);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().ToString();
    schemas_ = new Schemas(std::move(*loaded));
  }
  static void TearDownTestSuite() {
    delete schemas_;
    schemas_ = nullptr;
  }

  static json::value Yaml(std::string_view text) {
    auto docs = yaml::ParseYamlDocuments(text);
    EXPECT_TRUE(docs.has_value()) << (docs ? "" : docs.error().ToString());
    EXPECT_EQ(docs ? docs->size() : 0u, 1u);
    return docs && !docs->empty() ? (*docs)[0] : json::value();
  }
  static std::vector<std::string> Check(std::string_view text) { return schemas_->Validate(Yaml(text)); }

  static Schemas* schemas_;
};
Schemas* KubeSchemaTest::schemas_ = nullptr;

constexpr std::string_view kPod = R"(
apiVersion: v1
kind: Pod
metadata:
  name: fit-a-line-12-trainer-0
  namespace: pc-acme
  creationTimestamp: null
  labels:
    app.kubernetes.io/managed-by: paddlecloud
    paddlecloud.io/job: fit-a-line-12
  annotations:
    batch.kubernetes.io/job-completion-index: "0"
spec:
  restartPolicy: Never
  hostname: fit-a-line-12-trainer-0
  subdomain: fit-a-line-12
  serviceAccountName: paddlecloud-workload
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 30
  containers:
  - name: paddle
    image: paddlepaddle/paddle:2.6.1
    command: ["/bin/sh", "-c", "python train.py"]
    workingDir: /workspace
    ports:
    - containerPort: 6174
      name: paddle
      protocol: TCP
    env:
    - name: PADDLE_PORT
      value: "6174"
    - name: POD_IP
      valueFrom:
        fieldRef:
          fieldPath: status.podIP
    resources:
      requests: {cpu: 500m, memory: 1Gi}
      limits: {cpu: "2", memory: 2Gi, nvidia.com/gpu: 1}
    volumeMounts:
    - name: data
      mountPath: /data
      subPath: u/acme/data
      readOnly: true
  volumes:
  - name: data
    persistentVolumeClaim:
      claimName: paddlecloud-data
)";

TEST_F(KubeSchemaTest, ValidPod) { EXPECT_THAT(Check(kPod), IsEmpty()); }

TEST_F(KubeSchemaTest, ValidDeployment) {
  EXPECT_THAT(Check(R"(
apiVersion: apps/v1
kind: Deployment
metadata:
  name: serving-mnist
  namespace: pc-acme
  labels: {app.kubernetes.io/managed-by: paddlecloud, paddlecloud.io/service: serving-mnist}
spec:
  replicas: 2
  selector:
    matchLabels: {paddlecloud.io/service: serving-mnist}
  strategy:
    type: Recreate
  template:
    metadata:
      labels: {paddlecloud.io/service: serving-mnist}
    spec:
      restartPolicy: Always
      serviceAccountName: paddlecloud-workload
      automountServiceAccountToken: false
      containers:
      - name: paddle
        image: paddlecloud/runtime:1
        env:
        - {name: PORT, value: "8080"}
        - name: POD_IP
          valueFrom: {fieldRef: {fieldPath: status.podIP}}
        ports: [{containerPort: 8080, name: http}]
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 5
          timeoutSeconds: 2
          failureThreshold: 3
        resources:
          requests: {cpu: 1, memory: 1Gi}
          limits: {cpu: 1, memory: 1Gi}
)"),
              IsEmpty());
}

constexpr std::string_view kIndexedJob = R"(
apiVersion: batch/v1
kind: Job
metadata:
  name: fit-a-line-12-trainer
  namespace: pc-acme
  labels: {paddlecloud.io/job: fit-a-line-12, paddlecloud.io/role: trainer}
spec:
  completionMode: Indexed
  completions: 4
  parallelism: 4
  backoffLimitPerIndex: 3
  maxFailedIndexes: 0
  podReplacementPolicy: Failed
  template:
    metadata:
      labels: {paddlecloud.io/job: fit-a-line-12, paddlecloud.io/role: trainer}
    spec:
      restartPolicy: Never
      subdomain: fit-a-line-12
      serviceAccountName: paddlecloud-workload
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 30
      containers:
      - name: paddle
        image: paddlepaddle/paddle:2.6.1
        command: ["/bin/sh", "-c", "python train.py"]
        env:
        - name: PADDLE_TRAINER_ID
          valueFrom:
            fieldRef:
              fieldPath: metadata.annotations['batch.kubernetes.io/job-completion-index']
        ports: [{containerPort: 6174, name: paddle}]
        resources:
          requests: {cpu: "2", memory: 4Gi}
          limits: {cpu: "2", memory: 4Gi, nvidia.com/gpu: "1"}
)";

TEST_F(KubeSchemaTest, ValidIndexedJob) { EXPECT_THAT(Check(kIndexedJob), IsEmpty()); }

TEST_F(KubeSchemaTest, ValidService) {
  EXPECT_THAT(Check(R"(
apiVersion: v1
kind: Service
metadata: {name: fit-a-line-12, namespace: pc-acme}
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector: {paddlecloud.io/job: fit-a-line-12}
  ports:
  - {name: paddle, port: 6174, targetPort: 6174, protocol: TCP}
  - {name: http, port: 80, targetPort: http}
)"),
              IsEmpty());
}

TEST_F(KubeSchemaTest, ValidNamespacePolicies) {
  EXPECT_THAT(Check(R"(
apiVersion: v1
kind: Namespace
metadata:
  name: pc-acme
  labels: {app.kubernetes.io/managed-by: paddlecloud, paddlecloud.io/account: acme}
)"),
              IsEmpty());
  EXPECT_THAT(Check(R"(
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: paddlecloud-isolation, namespace: pc-acme}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {}
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: paddlecloud}
  egress:
  - to:
    - podSelector: {}
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: paddlecloud}
  - to:
    - namespaceSelector:
        matchLabels: {kubernetes.io/metadata.name: kube-system}
    ports:
    - {protocol: UDP, port: 53}
    - {protocol: TCP, port: 53}
)"),
              IsEmpty());
  EXPECT_THAT(Check(R"(
apiVersion: v1
kind: ResourceQuota
metadata: {name: paddlecloud-quota, namespace: pc-acme}
spec:
  hard:
    requests.cpu: "16"
    requests.memory: 64Gi
    requests.nvidia.com/gpu: 2
    limits.cpu: 16
    limits.memory: 64Gi
)"),
              IsEmpty());
  EXPECT_THAT(Check(R"(
apiVersion: v1
kind: LimitRange
metadata: {name: paddlecloud-defaults, namespace: pc-acme}
spec:
  limits:
  - type: Container
    default: {cpu: 1, memory: 1Gi}
    defaultRequest: {cpu: 1, memory: 1Gi}
)"),
              IsEmpty());
  EXPECT_THAT(Check(R"(
apiVersion: v1
kind: ServiceAccount
metadata: {name: paddlecloud-workload, namespace: pc-acme}
automountServiceAccountToken: false
)"),
              IsEmpty());
}

TEST_F(KubeSchemaTest, ValidVolumes) {
  EXPECT_THAT(Check(R"(
apiVersion: v1
kind: PersistentVolume
metadata:
  name: pc-acme-data
  labels: {paddlecloud.io/account: acme}
spec:
  capacity: {storage: 1Ti}
  accessModes: [ReadWriteMany]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: nfs
  nfs: {server: 10.0.0.5, path: /exports/paddlecloud}
  claimRef: {namespace: pc-acme, name: paddlecloud-data}
)"),
              IsEmpty());
  EXPECT_THAT(Check(R"(
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: paddlecloud-data, namespace: pc-acme}
spec:
  accessModes: [ReadWriteMany]
  storageClassName: nfs
  volumeName: pc-acme-data
  resources:
    requests: {storage: 1Ti}
)"),
              IsEmpty());
}

TEST_F(KubeSchemaTest, ValidScaleAndRbac) {
  EXPECT_THAT(Check(R"(
apiVersion: autoscaling/v1
kind: Scale
metadata: {name: serving-mnist, namespace: pc-acme, resourceVersion: "123"}
spec: {replicas: 3}
)"),
              IsEmpty());
  EXPECT_THAT(Check(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: paddlecloud}
rules:
- apiGroups: [""]
  resources: [namespaces, resourcequotas, limitranges, serviceaccounts, services, persistentvolumeclaims, pods, pods/log]
  verbs: [get, list, watch, create, update, patch, delete]
- apiGroups: [apps]
  resources: [deployments, deployments/scale]
  verbs: ["*"]
- nonResourceURLs: [/healthz]
  verbs: [get]
)"),
              IsEmpty());
  EXPECT_THAT(Check(R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: paddlecloud}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: paddlecloud}
subjects:
- {kind: ServiceAccount, name: paddlecloud, namespace: paddlecloud}
)"),
              IsEmpty());
}

constexpr std::string_view kPaddleJob = R"(
apiVersion: kubeflow.org/v1
kind: PaddleJob
metadata:
  name: fit-a-line-12
  namespace: pc-acme
  labels: {app.kubernetes.io/managed-by: paddlecloud}
spec:
  runPolicy:
    backoffLimit: 3
    cleanPodPolicy: None
  paddleReplicaSpecs:
    Worker:
      replicas: 2
      restartPolicy: OnFailure
      template:
        metadata:
          labels: {paddlecloud.io/job: fit-a-line-12, paddlecloud.io/role: trainer}
        spec:
          serviceAccountName: paddlecloud-workload
          automountServiceAccountToken: false
          containers:
          - name: paddle
            image: paddlepaddle/paddle:2.6.1
            command: ["/bin/sh", "-c", "python train.py"]
            ports: [{containerPort: 6174, name: paddle}]
            resources:
              limits: {cpu: "2", memory: 4Gi, nvidia.com/gpu: 1}
    PS:
      replicas: 1
      restartPolicy: OnFailure
      template:
        spec:
          containers:
          - name: paddle
            image: paddlepaddle/paddle:2.6.1
            resources:
              requests: {cpu: 500m, memory: 1Gi}
)";

TEST_F(KubeSchemaTest, ValidPaddleJob) { EXPECT_THAT(Check(kPaddleJob), IsEmpty()); }

std::string Replace(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  auto at = out.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

TEST_F(KubeSchemaTest, UnknownFieldIsNamedByPath) {
  EXPECT_THAT(Check(Replace(kIndexedJob, "        resources:", "        resourcs:")),
              ElementsAre("spec.template.spec.containers[0].resourcs: unknown field"));
  EXPECT_THAT(Check(Replace(kPod, "  restartPolicy: Never", "  restartPolicy: Never\n  backoffLimit: 3")),
              ElementsAre("spec.backoffLimit: unknown field"));
  EXPECT_THAT(Check(Replace(kPod, "kind: Pod", "kind: Pod\nextra: 1")), ElementsAre("extra: unknown field"));
  EXPECT_THAT(Check(Replace(kPod, "  labels:", "  lables:")), ElementsAre("metadata.lables: unknown field"));
}

TEST_F(KubeSchemaTest, WrongTypes) {
  EXPECT_THAT(Check(Replace(kIndexedJob, "parallelism: 4", "parallelism: \"4\"")),
              ElementsAre("spec.parallelism: expected integer, got string"));
  EXPECT_THAT(Check(Replace(kIndexedJob, "parallelism: 4", "parallelism: 4.5")),
              ElementsAre("spec.parallelism: expected integer, got number"));
  EXPECT_THAT(Check(Replace(kIndexedJob, "parallelism: 4", "parallelism: 4294967296")),
              ElementsAre("spec.parallelism: value 4294967296 out of range for int32"));
  EXPECT_THAT(Check(Replace(kPod, "automountServiceAccountToken: false", "automountServiceAccountToken: \"false\"")),
              ElementsAre("spec.automountServiceAccountToken: expected boolean, got string"));
  EXPECT_THAT(Check(Replace(kPod, "command: [\"/bin/sh\", \"-c\", \"python train.py\"]", "command: /bin/sh")),
              ElementsAre("spec.containers[0].command: expected array, got string"));
  EXPECT_THAT(Check(Replace(kPod, "job-completion-index: \"0\"", "job-completion-index: 0")),
              ElementsAre("metadata.annotations[batch.kubernetes.io/job-completion-index]: expected string, got integer"));
  EXPECT_THAT(Check(Replace(kPod, "creationTimestamp: null", "creationTimestamp: yesterday")),
              ElementsAre(HasSubstr("metadata.creationTimestamp: \"yesterday\" is not an RFC 3339 date-time")));
  EXPECT_THAT(Check(Replace(kPod, "creationTimestamp: null", "creationTimestamp: 2026-12-06T11:40:44Z")), IsEmpty());
  EXPECT_THAT(Check(Replace(kPaddleJob, "      replicas: 2", "      replicas: two")),
              ElementsAre("spec.paddleReplicaSpecs[Worker].replicas: expected integer, got string"));
}

TEST_F(KubeSchemaTest, IntOrString) {
  std::string service = R"(
apiVersion: v1
kind: Service
metadata: {name: s}
spec:
  ports: [{port: 80, targetPort: TARGET}]
)";
  EXPECT_THAT(schemas_->Validate(Yaml(Replace(service, "TARGET", "8080"))), IsEmpty());
  EXPECT_THAT(schemas_->Validate(Yaml(Replace(service, "TARGET", "http"))), IsEmpty());
  EXPECT_THAT(schemas_->Validate(Yaml(Replace(service, "TARGET", "true"))),
              ElementsAre("spec.ports[0].targetPort: expected string or integer, got boolean"));
  EXPECT_THAT(schemas_->Validate(Yaml(Replace(service, "port: 80", "port: \"80\""))),
              ElementsAre("spec.ports[0].port: expected integer, got string"));
}

TEST_F(KubeSchemaTest, MissingRequiredField) {
  EXPECT_THAT(Check(Replace(kPod, "  - name: paddle\n    image:", "  - image:")),
              ElementsAre("spec.containers[0].name: required field is missing"));
  EXPECT_THAT(Check(Replace(kPaddleJob, "          - name: paddle\n            image: paddlepaddle/paddle:2.6.1\n"
                                        "            resources:",
                            "          - image: paddlepaddle/paddle:2.6.1\n            resources:")),
              ElementsAre("spec.paddleReplicaSpecs[PS].template.spec.containers[0].name: required field is missing"));
  EXPECT_THAT(Check("{apiVersion: v1, kind: Pod, metadata: {name: p}, spec: {}}"),
              ElementsAre("spec.containers: required field is missing"));
}

TEST_F(KubeSchemaTest, Quantities) {
  EXPECT_THAT(Check(Replace(kPod, "cpu: 500m", "cpu: 1 GB")),
              ElementsAre(HasSubstr("spec.containers[0].resources.requests[cpu]: quantity \"1 GB\"")));
  EXPECT_THAT(Check(Replace(kPod, "memory: 2Gi", "memory: abc")),
              ElementsAre(HasSubstr("spec.containers[0].resources.limits[memory]: quantity \"abc\"")));
  EXPECT_THAT(Check(Replace(kPod, "memory: 2Gi", "memory: [2Gi]")),
              ElementsAre("spec.containers[0].resources.limits[memory]: expected string or number, got array"));
  EXPECT_THAT(Check(Replace(kPod, "cpu: 500m", "cpu: 0.5")), IsEmpty());
  EXPECT_THAT(Check(Replace(kPod, "cpu: 500m", "cpu: 1e3")), IsEmpty());
  // The CRD's quantities are int-or-string with the quantity pattern.
  EXPECT_THAT(Check(Replace(kPaddleJob, "cpu: 500m", "cpu: 5 cores")),
              ElementsAre(HasSubstr("spec.paddleReplicaSpecs[PS].template.spec.containers[0].resources.requests[cpu]: "
                                    "quantity \"5 cores\"")));

  for (std::string_view ok : {"500m", "1Gi", "2", "1e3", "1E3", "1E", ".5", "5.", "+1", "-1.5Ki", "100n", "3u", "1k",
                              "12Ei", "1e-3"}) {
    EXPECT_TRUE(IsQuantity(ok)) << ok;
  }
  for (std::string_view bad : {"", "1 GB", "abc", "1GB", "1g", "Gi", ".", "1.2.3", "1Gi ", " 1", "1e", "1e1.5", "1ki",
                               "--1", "1mi"}) {
    EXPECT_FALSE(IsQuantity(bad)) << bad;
  }
}

TEST_F(KubeSchemaTest, DateTimes) {
  for (std::string_view ok : {"2026-12-06T11:40:44Z", "2024-02-29T00:00:00.123456Z", "2026-01-01T23:59:59+05:30"}) {
    EXPECT_TRUE(IsDateTime(ok)) << ok;
  }
  for (std::string_view bad : {"2026-12-06", "2026-12-06 11:40:44Z", "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                               "2026-12-06T11:40:44", "2026-12-06T11:40:44.Z", "2026-12-06T24:00:00Z"}) {
    EXPECT_FALSE(IsDateTime(bad)) << bad;
  }
}

TEST_F(KubeSchemaTest, UnknownKindIsOneProblem) {
  EXPECT_THAT(Check("{apiVersion: v1, kind: Pdo, metadata: {name: x}, spec: {junk: 1}}"),
              ElementsAre("kind: unknown apiVersion/kind v1 Pdo"));
  EXPECT_THAT(Check("{apiVersion: apps/v2, kind: Deployment}"), ElementsAre("kind: unknown apiVersion/kind apps/v2 Deployment"));
  EXPECT_THAT(Check("{kind: Pod}"), ElementsAre("apiVersion: required field is missing"));
  EXPECT_THAT(Check("[1, 2]"), ElementsAre(HasSubstr("expected a Kubernetes object")));
  EXPECT_TRUE(schemas_->Knows("v1", "Pod"));
  EXPECT_TRUE(schemas_->Knows("batch/v1", "Job"));
  EXPECT_TRUE(schemas_->Knows("kubeflow.org/v1", "PaddleJob"));
  EXPECT_TRUE(schemas_->Knows("autoscaling/v1", "Scale"));
  EXPECT_FALSE(schemas_->Knows("v1", "Job"));
  EXPECT_FALSE(schemas_->Knows("kubeflow.org/v2", "PaddleJob"));
}

TEST_F(KubeSchemaTest, PaddleJobMetadataIsObjectMeta) {
  EXPECT_THAT(Check(Replace(kPaddleJob, "  namespace: pc-acme", "  namespace: pc-acme\n  generateName: fit-")),
              IsEmpty());
  EXPECT_THAT(Check(Replace(kPaddleJob, "  namespace: pc-acme", "  namspace: pc-acme")),
              ElementsAre("metadata.namspace: unknown field"));
  EXPECT_THAT(Check(Replace(kPaddleJob, "    cleanPodPolicy: None", "    cleanPodPolicy: None\n    ttl: 3")),
              ElementsAre("spec.runPolicy.ttl: unknown field"));
}

TEST_F(KubeSchemaTest, OpaqueBuiltinObjectsTakeAnything) {
  // managedFields[].fieldsV1 is FieldsV1: any content.
  EXPECT_THAT(Check(R"(
apiVersion: v1
kind: ConfigMap
metadata:
  name: c
  managedFields:
  - manager: kubectl
    operation: Apply
    fieldsV1: {"f:data": {"f:a": {}}}
data: {a: b}
binaryData: {blob: aGVsbG8=}
)"),
              IsEmpty());
  EXPECT_THAT(Check("{apiVersion: v1, kind: ConfigMap, metadata: {name: c}, binaryData: {blob: 'not base64!'}}"),
              ElementsAre("binaryData[blob]: not valid base64"));
}

TEST_F(KubeSchemaTest, ProblemsAreCapped) {
  json::object pod = Yaml(kPod).as_object();
  json::object& spec = pod["spec"].as_object();
  for (int i = 0; i < 1000; ++i) spec["junk" + std::to_string(i)] = i;
  auto problems = schemas_->Validate(pod);
  EXPECT_THAT(problems, SizeIs(kMaxProblems));
  EXPECT_THAT(problems.back(), HasSubstr("more than"));
}

TEST_F(KubeSchemaTest, ThousandsOfObjectsAreFast) {
  json::value job = Yaml(kIndexedJob);
  json::value paddle = Yaml(kPaddleJob);
  json::value pod = Yaml(kPod);
  auto start = std::chrono::steady_clock::now();
  std::size_t problems = 0;
  for (int i = 0; i < 3000; ++i) {
    problems += schemas_->Validate(job).size() + schemas_->Validate(paddle).size() + schemas_->Validate(pod).size();
  }
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(problems, 0u);
  EXPECT_LT(elapsed, std::chrono::seconds(10));
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("kube_schema_test." + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "." +
             std::to_string(reinterpret_cast<std::uintptr_t>(this)));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }
  void Write(const std::string& name, std::string_view content) {
    std::filesystem::create_directories((path_ / name).parent_path());
    std::ofstream(path_ / name) << content;
  }

 private:
  std::filesystem::path path_;
};

TEST(KubeSchemaLoad, Errors) {
  TempDir dir;
  auto empty = Schemas::Load(dir.path());
  ASSERT_FALSE(empty.has_value());
  EXPECT_EQ(empty.error().code(), Code::kNotFound);

  auto missing = Schemas::Load(dir.path() / "nope");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);

  dir.Write("openapi-v3-1.0/api_v1.json", "{\"components\": {\"schemas\": {");
  auto broken = Schemas::Load(dir.path());
  ASSERT_FALSE(broken.has_value());
  EXPECT_THAT(broken.error().message(), HasSubstr("api_v1.json"));

  dir.Write("openapi-v3-1.0/api_v1.json",
            R"({"components": {"schemas": {"x.Thing": {"type": "object", "properties": {"spec": {"$ref": "#/components/schemas/x.Missing"}},
                "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Thing"}]}}}})");
  auto dangling = Schemas::Load(dir.path());
  ASSERT_FALSE(dangling.has_value());
  EXPECT_THAT(dangling.error().message(), HasSubstr("x.Missing"));
}

TEST(KubeSchemaLoad, SmallDocumentAndRecursiveSchema) {
  TempDir dir;
  dir.Write("openapi-v3-1.0/api_v1.json", R"({"components": {"schemas": {
    "x.Tree": {"type": "object", "required": ["name"],
               "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                              "name": {"type": "string", "enum": ["a", "b"]},
                              "children": {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/x.Tree"}]}}},
               "x-kubernetes-group-version-kind": [{"group": "", "version": "v1", "kind": "Tree"}]}}}})");
  auto schemas = Schemas::Load(dir.path());
  ASSERT_TRUE(schemas.has_value()) << schemas.error().ToString();
  EXPECT_THAT(schemas->Validate(json::parse(
                  R"({"apiVersion": "v1", "kind": "Tree", "name": "a", "children": [{"name": "b", "children": [{"name": "a"}]}]})")),
              IsEmpty());
  EXPECT_THAT(schemas->Validate(json::parse(
                  R"({"apiVersion": "v1", "kind": "Tree", "name": "a", "children": [{"children": [{"name": "c", "x": 1}]}]})")),
              ElementsAre("children[0].children[0].name: unsupported value \"c\" (allowed: \"a\", \"b\")",
                          "children[0].children[0].x: unknown field", "children[0].name: required field is missing"));
}

struct RunResult {
  int status = -1;
  std::string output;
};

RunResult RunChecker(const std::string& args) {
  RunResult result;
  std::string command = std::string(KUBE_SCHEMA_CHECK_BIN) + " " + args + " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return result;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) result.output.append(buffer, n);
  int status = ::pclose(pipe);
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

TEST(KubeSchemaCheck, ReportsEveryDocument) {
  TempDir dir;
  dir.Write("good.yaml", std::string(kPod) + "---\n" + std::string(kPaddleJob));
  RunResult good = RunChecker((dir.path() / "good.yaml").string());
  EXPECT_EQ(good.status, 0) << good.output;
  EXPECT_EQ(good.output, "");

  dir.Write("mixed.yaml", R"(apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [a.yaml]
---
apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: ok}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: cm}, data: {a: 1}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {a: b}}
  template:
    spec:
      containers: [{name: c, image: x, resourcs: {}}]
---
apiVersion: v1
kind: Gizmo
metadata: {name: g}
)");
  dir.Write("bad.json", R"({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "x", "name": "y"}})");
  RunResult mixed = RunChecker((dir.path() / "mixed.yaml").string() + " " + (dir.path() / "bad.json").string() + " " +
                               (dir.path() / "missing.yaml").string());
  EXPECT_EQ(mixed.status, 1);
  std::string m = (dir.path() / "mixed.yaml").string();
  std::string b = (dir.path() / "bad.json").string();
  std::string x = (dir.path() / "missing.yaml").string();
  EXPECT_EQ(mixed.output, m + ": doc 1 (Kustomization): skipped (a kustomize file, not a Kubernetes API object)\n" +
                              m + ": doc 2 item 2 (ConfigMap cm): data[a]: expected string, got integer\n" +
                              m + ": doc 3 (Deployment web): spec.template.spec.containers[0].resourcs: unknown field\n" +
                              m + ": doc 4 (Gizmo g): kind: unknown apiVersion/kind v1 Gizmo\n" +
                              b + ": yaml: line 1, column 69: duplicate key \"name\"\n" +
                              x + ": cannot read the file\n");

  RunResult usage = RunChecker("");
  EXPECT_EQ(usage.status, 2);
  RunResult no_schemas = RunChecker("--schemas " + (dir.path() / "none").string() + " " + m);
  EXPECT_EQ(no_schemas.status, 2);
}

}  // namespace
}  // namespace paddlecloud::kube_schema
