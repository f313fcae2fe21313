#include "cluster/kubernetes/manifests.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "common/base64.h"
#include "common/digest.h"

namespace paddlecloud::cluster::kubernetes {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kNamespacePrefix = "pc-";
constexpr int kWorkloadUid = 10001;  // the images' user (deploy/docker)

json::object Labels(std::string_view account) {
  return {{kManagedBy, "paddlecloud"}, {kAccountLabel, account}};
}

json::object Metadata(std::string_view name, std::string_view namespace_name, json::object labels) {
  json::object metadata{{"name", name}};
  if (!namespace_name.empty()) metadata["namespace"] = namespace_name;
  metadata["labels"] = std::move(labels);
  return metadata;
}

json::object Object(std::string_view api_version, std::string_view kind, json::object metadata) {
  return {{"apiVersion", api_version}, {"kind", kind}, {"metadata", std::move(metadata)}};
}

std::string CpuQuantity(std::int64_t milli) {
  return milli % 1000 == 0 ? std::to_string(milli / 1000) : std::to_string(milli) + "m";
}

// requests = limits, as the local backend enforces what was asked for.
json::object ResourceRequirements(const Resources& requests) {
  json::object amounts;
  if (requests.cpu_milli > 0) amounts["cpu"] = CpuQuantity(requests.cpu_milli);
  if (requests.memory_bytes > 0) amounts["memory"] = std::to_string(requests.memory_bytes);
  json::object limits = amounts;
  if (requests.gpus > 0) limits["nvidia.com/gpu"] = std::to_string(requests.gpus);
  json::object resources;
  if (!amounts.empty()) resources["requests"] = std::move(amounts);
  if (!limits.empty()) resources["limits"] = std::move(limits);
  return resources;
}

json::object FieldRef(std::string_view name, std::string_view field_path) {
  return {{"name", name}, {"valueFrom", {{"fieldRef", {{"fieldPath", field_path}}}}}};
}

// Each credential as a reference to its key in the workload's Secret.
std::vector<json::object> SecretRefs(const std::map<std::string, std::string>& secret_env, std::string_view workload) {
  std::vector<json::object> refs;
  for (const auto& [name, value] : secret_env)
    refs.push_back({{"name", name}, {"valueFrom", {{"secretKeyRef", {{"name", CredentialsName(workload)}, {"key", name}}}}}});
  return refs;
}

json::array EnvList(const std::map<std::string, std::string>& env, const std::vector<json::object>& from_fields) {
  json::array list;
  for (const auto& [name, value] : env) {
    bool overridden = std::any_of(from_fields.begin(), from_fields.end(),
                                  [&](const json::object& f) { return f.at("name").as_string() == name; });
    if (!overridden) list.push_back(json::object{{"name", name}, {"value", value}});
  }
  for (const auto& f : from_fields) list.push_back(f);
  return list;
}

// The claim's volume mounts: every source is a subPath of the data directory.
Result<json::array> VolumeMounts(const std::vector<Mount>& mounts, const MappingOptions& options) {
  json::array out;
  fs::path root = fs::path(options.data_dir).lexically_normal();
  for (const Mount& m : mounts) {
    bool from_image = std::any_of(options.image_paths.begin(), options.image_paths.end(), [&](const std::string& p) {
      return m.target == p || m.target.starts_with(p + "/");
    });
    if (from_image) continue;
    fs::path relative = fs::path(m.source).lexically_normal().lexically_relative(root);
    if (relative.empty() || *relative.begin() == ".." || relative.is_absolute() || relative == ".")
      return Err(Status::InvalidArgument("mount " + m.target + ": its source " + m.source +
                                             " is outside the data directory shared with the cluster",
                                         "mounts"));
    json::object mount{{"name", "data"}, {"mountPath", m.target}, {"subPath", relative.generic_string()}};
    if (m.read_only) mount["readOnly"] = true;
    out.push_back(std::move(mount));
  }
  return out;
}

struct PodSpecInput {
  std::string container_name;
  std::string image;
  std::string command;
  std::string working_dir;
  json::array env;
  json::array ports;
  Resources requests;
  json::array volume_mounts;
  std::string restart_policy;
  std::string subdomain;
  std::optional<json::object> readiness;
};

json::object PodSpec(PodSpecInput in) {
  json::object container{{"name", in.container_name},
                         {"image", in.image},
                         {"command", json::array{"/bin/sh", "-c", in.command}},
                         {"env", std::move(in.env)},
                         {"ports", std::move(in.ports)},
                         {"resources", ResourceRequirements(in.requests)},
                         {"volumeMounts", std::move(in.volume_mounts)}};
  if (!in.working_dir.empty()) container["workingDir"] = in.working_dir;
  if (in.readiness) container["readinessProbe"] = std::move(*in.readiness);
  container["securityContext"] = {{"allowPrivilegeEscalation", false}, {"capabilities", {{"drop", json::array{"ALL"}}}}};
  json::object spec{{"restartPolicy", in.restart_policy},
                    {"securityContext", {{"runAsNonRoot", true}, {"runAsUser", kWorkloadUid}, {"runAsGroup", kWorkloadUid},
                                         {"seccompProfile", {{"type", "RuntimeDefault"}}}}},
                    {"serviceAccountName", kWorkloadServiceAccount},
                    {"automountServiceAccountToken", false},
                    {"enableServiceLinks", false},
                    {"terminationGracePeriodSeconds", 30},
                    {"containers", json::array{std::move(container)}},
                    {"volumes", json::array{json::object{
                                    {"name", "data"},
                                    {"persistentVolumeClaim", {{"claimName", kDataClaim}}}}}}};
  if (!in.subdomain.empty()) spec["subdomain"] = in.subdomain;
  return spec;
}

json::object JobPodLabels(const JobRun& run, PodRole role) {
  json::object labels = Labels(run.namespace_name);
  labels[kJobLabel] = run.job;
  labels[kRoleLabel] = RoleName(role);
  return labels;
}

// The pod template of one role. Native pods are numbered by their indexed Job, PaddleJob pods by
// the training operator's replica-index label.
Result<json::object> JobPodTemplate(const JobRun& run, PodRole role, const MappingOptions& options) {
  auto mounts = VolumeMounts(run.mounts, options);
  if (!mounts) return Err(mounts.error());
  bool native = options.job_kind == JobKind::kNative;
  std::map<std::string, std::string> env = run.env;
  for (auto& [name, value] : PaddleEnv(run.job, role, 0, JobEndpoints(run, PodRole::kTrainer, options),
                                       JobEndpoints(run, PodRole::kPserver, options)))
    env[name] = value;
  std::vector<json::object> from_fields = SecretRefs(run.secret_env, run.job);
  from_fields.push_back(FieldRef("PADDLE_TRAINER_ID", native ? "metadata.annotations['" + std::string(kIndexAnnotation) + "']"
                                                             : "metadata.labels['training.kubeflow.org/replica-index']"));
  from_fields.push_back(FieldRef("POD_IP", "status.podIP"));
  json::object spec = PodSpec({.container_name = "paddle",
                               .image = run.image.empty() ? options.default_image : run.image,
                               .command = run.entry,
                               .working_dir = run.working_dir,
                               .env = EnvList(env, from_fields),
                               .ports = json::array{json::object{{"name", "paddle"}, {"containerPort", options.paddle_port}}},
                               .requests = role == PodRole::kTrainer ? run.trainer_requests : run.pserver_requests,
                               .volume_mounts = std::move(*mounts),
                               .restart_policy = native ? "Never" : "OnFailure",
                               .subdomain = native ? run.job : ""});
  return json::object{{"metadata", {{"labels", JobPodLabels(run, role)}}}, {"spec", std::move(spec)}};
}

std::string Plural(std::string_view kind) {
  std::string plural(kind);
  std::transform(plural.begin(), plural.end(), plural.begin(), [](unsigned char c) { return std::tolower(c); });
  if (plural.ends_with("y")) return plural.substr(0, plural.size() - 1) + "ies";
  return plural + "s";
}

bool ClusterScoped(std::string_view kind) {
  return kind == "Namespace" || kind == "PersistentVolume" || kind == "Node" || kind == "ClusterRole" ||
         kind == "ClusterRoleBinding";
}

const json::object* Find(const json::object& object, std::initializer_list<std::string_view> path) {
  const json::object* at = &object;
  for (auto key : path) {
    auto it = at->find(key);
    if (it == at->end() || !it->value().is_object()) return nullptr;
    at = &it->value().as_object();
  }
  return at;
}

std::string String(const json::object* object, std::string_view key) {
  if (!object) return "";
  auto it = object->find(key);
  return it != object->end() && it->value().is_string() ? std::string(it->value().as_string()) : "";
}

std::optional<std::int64_t> Int(const json::object* object, std::string_view key) {
  if (!object) return std::nullopt;
  auto it = object->find(key);
  if (it == object->end() || !it->value().is_number()) return std::nullopt;
  return it->value().to_number<std::int64_t>();
}

const json::object* FirstContainerStatus(const json::object& pod) {
  const json::object* status = Find(pod, {"status"});
  if (!status) return nullptr;
  auto it = status->find("containerStatuses");
  if (it == status->end() || !it->value().is_array() || it->value().as_array().empty()) return nullptr;
  const auto& first = it->value().as_array().front();
  return first.is_object() ? &first.as_object() : nullptr;
}

// "Unschedulable: 0/1 nodes are available: ..." or "ImagePullBackOff: ..." for a pod that waits.
std::string PendingReason(const json::object& pod) {
  if (const json::object* cs = FirstContainerStatus(pod))
    if (const json::object* waiting = Find(*cs, {"state", "waiting"})) {
      std::string reason = String(waiting, "reason"), message = String(waiting, "message");
      if (!reason.empty()) return message.empty() ? reason : reason + ": " + message;
    }
  if (const json::object* status = Find(pod, {"status"})) {
    auto it = status->find("conditions");
    if (it != status->end() && it->value().is_array())
      for (const auto& c : it->value().as_array()) {
        if (!c.is_object()) continue;
        const auto& condition = c.as_object();
        if (String(&condition, "type") == "PodScheduled" && String(&condition, "status") == "False") {
          std::string reason = String(&condition, "reason"), message = String(&condition, "message");
          return message.empty() ? reason : reason + ": " + message;
        }
      }
  }
  return "ContainerCreating";
}

bool PodReady(const json::object& pod) {
  const json::object* status = Find(pod, {"status"});
  if (!status) return false;
  auto it = status->find("conditions");
  if (it == status->end() || !it->value().is_array()) return false;
  for (const auto& c : it->value().as_array())
    if (c.is_object() && String(&c.as_object(), "type") == "Ready") return String(&c.as_object(), "status") == "True";
  return false;
}

}  // namespace

std::string NamespaceOf(std::string_view account) { return std::string(kNamespacePrefix) + std::string(account); }

std::string AccountOf(std::string_view namespace_name) {
  if (!namespace_name.starts_with(kNamespacePrefix)) return "";
  return std::string(namespace_name.substr(kNamespacePrefix.size()));
}

std::string RoleJobName(std::string_view job, PodRole role) { return std::string(job) + "-" + std::string(RoleName(role)); }

std::vector<json::object> AccountObjects(std::string_view account, const NamespaceQuota& quota,
                                         const MappingOptions& options) {
  std::string ns = NamespaceOf(account);
  std::string volume = ns + "-data";
  std::vector<json::object> objects;
  json::object namespace_labels = Labels(account);
  namespace_labels["pod-security.kubernetes.io/enforce"] = "restricted";
  objects.push_back(Object("v1", "Namespace", Metadata(ns, "", std::move(namespace_labels))));

  json::object hard;
  if (quota.cpu_milli) hard["requests.cpu"] = hard["limits.cpu"] = CpuQuantity(*quota.cpu_milli);
  if (quota.memory_bytes) hard["requests.memory"] = hard["limits.memory"] = std::to_string(*quota.memory_bytes);
  if (quota.gpus) hard["requests.nvidia.com/gpu"] = std::to_string(*quota.gpus);
  json::object resource_quota = Object("v1", "ResourceQuota", Metadata("paddlecloud-quota", ns, Labels(account)));
  resource_quota["spec"] = {{"hard", std::move(hard)}};
  objects.push_back(std::move(resource_quota));

  json::object limit_range = Object("v1", "LimitRange", Metadata("paddlecloud-defaults", ns, Labels(account)));
  json::object defaults{{"cpu", "1"}, {"memory", "1Gi"}};
  limit_range["spec"] = {{"limits", json::array{json::object{
                                         {"type", "Container"}, {"default", defaults}, {"defaultRequest", defaults}}}}};
  objects.push_back(std::move(limit_range));

  auto namespace_peer = [](std::string_view name) {
    return json::object{{"namespaceSelector", {{"matchLabels", {{"kubernetes.io/metadata.name", name}}}}}};
  };
  json::object same_namespace{{"podSelector", json::object{}}};
  json::object policy = Object("networking.k8s.io/v1", "NetworkPolicy", Metadata("paddlecloud-isolation", ns, Labels(account)));
  policy["spec"] = {
      {"podSelector", json::object{}},
      {"policyTypes", json::array{"Ingress", "Egress"}},
      {"ingress", json::array{json::object{{"from", json::array{same_namespace, namespace_peer(options.platform_namespace)}}}}},
      {"egress",
       json::array{json::object{{"to", json::array{same_namespace, namespace_peer(options.platform_namespace)}}},
                   json::object{{"to", json::array{namespace_peer("kube-system")}},
                                {"ports", json::array{json::object{{"protocol", "UDP"}, {"port", 53}},
                                                      json::object{{"protocol", "TCP"}, {"port", 53}}}}}}}};
  objects.push_back(std::move(policy));

  json::object account_sa = Object("v1", "ServiceAccount", Metadata(kWorkloadServiceAccount, ns, Labels(account)));
  account_sa["automountServiceAccountToken"] = false;
  objects.push_back(std::move(account_sa));

  json::object pv = Object("v1", "PersistentVolume", Metadata(volume, "", Labels(account)));
  pv["spec"] = {{"capacity", {{"storage", options.data_capacity}}},
                {"accessModes", json::array{"ReadWriteMany"}},
                {"persistentVolumeReclaimPolicy", "Retain"},
                {"storageClassName", options.storage_class},
                {"nfs", {{"server", options.nfs_server}, {"path", options.nfs_path}}},
                {"claimRef", {{"namespace", ns}, {"name", kDataClaim}}}};
  objects.push_back(std::move(pv));

  json::object pvc = Object("v1", "PersistentVolumeClaim", Metadata(kDataClaim, ns, Labels(account)));
  pvc["spec"] = {{"accessModes", json::array{"ReadWriteMany"}},
                 {"storageClassName", options.storage_class},
                 {"volumeName", volume},
                 {"resources", {{"requests", {{"storage", options.data_capacity}}}}}};
  objects.push_back(std::move(pvc));
  return objects;
}

std::vector<std::string> JobEndpoints(const JobRun& run, PodRole role, const MappingOptions& options) {
  int count = role == PodRole::kTrainer ? run.trainers : run.pservers;
  std::vector<std::string> endpoints;
  std::string ns = NamespaceOf(run.namespace_name);
  std::string port = std::to_string(options.paddle_port);
  for (int i = 0; i < count; ++i)
    if (options.job_kind == JobKind::kNative)
      endpoints.push_back(PodName(run.job, role, i) + "." + run.job + "." + ns + ".svc:" + port);
    else  // the operator's Service per pod
      endpoints.push_back(run.job + (role == PodRole::kTrainer ? "-worker-" : "-master-") + std::to_string(i) + "." + ns +
                          ".svc:" + port);
  return endpoints;
}

Result<std::vector<json::object>> JobObjects(const JobRun& run, const MappingOptions& options) {
  std::string ns = NamespaceOf(run.namespace_name);
  json::object labels = Labels(run.namespace_name);
  labels[kJobLabel] = run.job;
  std::vector<json::object> objects;
  if (options.job_kind == JobKind::kPaddleJob) {
    json::object replica_specs;
    for (PodRole role : {PodRole::kTrainer, PodRole::kPserver}) {
      int replicas = role == PodRole::kTrainer ? run.trainers : run.pservers;
      if (replicas == 0) continue;
      auto template_ = JobPodTemplate(run, role, options);
      if (!template_) return Err(template_.error());
      // The operator's parameter-server mode: Master replicas are the pservers.
      replica_specs[role == PodRole::kTrainer ? "Worker" : "Master"] = {
          {"replicas", replicas}, {"restartPolicy", "OnFailure"}, {"template", std::move(*template_)}};
    }
    json::object paddle_job = Object("kubeflow.org/v1", "PaddleJob", Metadata(run.job, ns, labels));
    paddle_job["spec"] = {{"runPolicy", {{"backoffLimit", run.max_restarts}, {"cleanPodPolicy", "None"}}},
                          {"paddleReplicaSpecs", std::move(replica_specs)}};
    objects.push_back(std::move(paddle_job));
    return objects;
  }

  json::object service = Object("v1", "Service", Metadata(run.job, ns, labels));
  service["spec"] = {{"clusterIP", "None"},
                     {"publishNotReadyAddresses", true},
                     {"selector", {{kJobLabel, run.job}}},
                     {"ports", json::array{json::object{{"name", "paddle"}, {"port", options.paddle_port},
                                                        {"targetPort", options.paddle_port}}}}};
  objects.push_back(std::move(service));
  for (PodRole role : {PodRole::kTrainer, PodRole::kPserver}) {
    int count = role == PodRole::kTrainer ? run.trainers : run.pservers;
    if (count == 0) continue;
    auto template_ = JobPodTemplate(run, role, options);
    if (!template_) return Err(template_.error());
    json::object role_labels = labels;
    role_labels[kRoleLabel] = RoleName(role);
    json::object job = Object("batch/v1", "Job", Metadata(RoleJobName(run.job, role), ns, role_labels));
    job["spec"] = {{"completionMode", "Indexed"},
                   {"completions", count},
                   {"parallelism", count},
                   {"backoffLimitPerIndex", run.max_restarts},
                   // Trainers the job tolerates losing fail alone; any more, or a pserver, fail the Job.
                   {"maxFailedIndexes", role == PodRole::kTrainer ? run.fault_tolerant : 0},
                   {"podReplacementPolicy", "Failed"},
                   {"template", std::move(*template_)}};
    objects.push_back(std::move(job));
  }
  return objects;
}

Result<std::vector<json::object>> ServiceObjects(const ServiceRun& run, const MappingOptions& options) {
  auto mounts = VolumeMounts(run.mounts, options);
  if (!mounts) return Err(mounts.error());
  std::string ns = NamespaceOf(run.namespace_name);
  json::object labels = Labels(run.namespace_name);
  labels[kServiceLabel] = run.name;
  std::map<std::string, std::string> env = run.env;
  env["PORT"] = std::to_string(run.port);
  std::vector<json::object> from_fields = SecretRefs(run.secret_env, run.name);
  from_fields.push_back(FieldRef("POD_IP", "status.podIP"));
  std::optional<json::object> readiness;
  if (run.readiness) {
    json::array headers;
    for (const auto& [name, value] : run.readiness->headers) headers.push_back(json::object{{"name", name}, {"value", value}});
    auto seconds = [](std::chrono::milliseconds ms) { return std::max<std::int64_t>(1, (ms.count() + 999) / 1000); };
    json::object get{{"path", run.readiness->path}, {"port", run.port}};
    if (!headers.empty()) get["httpHeaders"] = std::move(headers);
    readiness = json::object{{"httpGet", std::move(get)},
                             {"periodSeconds", seconds(run.readiness->period)},
                             {"timeoutSeconds", seconds(run.readiness->timeout)},
                             {"failureThreshold", std::max(1, run.readiness->failure_threshold)}};
  }
  json::object spec = PodSpec({.container_name = "service",
                               .image = run.image.empty() ? options.default_image : run.image,
                               .command = run.command,
                               .working_dir = run.working_dir,
                               .env = EnvList(env, from_fields),
                               .ports = json::array{json::object{{"name", "http"}, {"containerPort", run.port}}},
                               .requests = run.requests,
                               .volume_mounts = std::move(*mounts),
                               .restart_policy = "Always",
                               .readiness = std::move(readiness)});
  json::object template_metadata{{"labels", labels}};
  if (!run.secret_env.empty()) {
    // New credentials are a new template, so replicas restart with them (and a changed service is
    // told from the same one); a digest tells nothing of the values.
    std::string credentials;
    for (const auto& [name, value] : run.secret_env) credentials += name + "=" + value + '\n';
    template_metadata["annotations"] = {{kCredentialsDigestAnnotation, Sha256Hex(credentials)}};
  }
  json::object deployment = Object("apps/v1", "Deployment", Metadata(run.name, ns, labels));
  deployment["spec"] = {{"replicas", run.replicas},
                        {"selector", {{"matchLabels", {{kServiceLabel, run.name}}}}},
                        {"strategy", {{"type", "Recreate"}}},
                        {"template", {{"metadata", std::move(template_metadata)}, {"spec", std::move(spec)}}}};
  json::object service = Object("v1", "Service", Metadata(run.name, ns, labels));
  service["spec"] = {{"selector", {{kServiceLabel, run.name}}},
                     {"ports", json::array{json::object{{"name", "http"}, {"port", run.port}, {"targetPort", run.port}}}}};
  return std::vector<json::object>{std::move(deployment), std::move(service)};
}

std::string CredentialsName(std::string_view workload) { return std::string(workload) + "-credentials"; }

std::optional<json::object> CredentialsSecret(std::string_view account, std::string_view workload,
                                              const std::map<std::string, std::string>& secret_env) {
  if (secret_env.empty()) return std::nullopt;
  json::object data;
  for (const auto& [name, value] : secret_env) data[name] = Base64Encode(value);
  json::object secret = Object("v1", "Secret", Metadata(CredentialsName(workload), NamespaceOf(account), Labels(account)));
  secret["type"] = "Opaque";
  secret["data"] = std::move(data);
  return secret;
}

std::string ObjectPath(std::string_view api_version, std::string_view kind, std::string_view namespace_name,
                       std::string_view name) {
  std::string path = api_version == "v1" ? "/api/v1" : "/apis/" + std::string(api_version);
  if (!ClusterScoped(kind) && !namespace_name.empty()) path += "/namespaces/" + std::string(namespace_name);
  path += "/" + Plural(kind);
  if (!name.empty()) path += "/" + std::string(name);
  return path;
}

std::string CollectionPath(const json::object& object) {
  const json::object* metadata = Find(object, {"metadata"});
  return ObjectPath(String(&object, "apiVersion"), String(&object, "kind"), String(metadata, "namespace"), "");
}

std::string ObjectPath(const json::object& object) {
  const json::object* metadata = Find(object, {"metadata"});
  return ObjectPath(String(&object, "apiVersion"), String(&object, "kind"), String(metadata, "namespace"),
                    String(metadata, "name"));
}

PodStatus JobPodStatus(const json::object& pod, bool stopped) {
  const json::object* metadata = Find(pod, {"metadata"});
  const json::object* labels = Find(pod, {"metadata", "labels"});
  const json::object* annotations = Find(pod, {"metadata", "annotations"});
  PodStatus out;
  out.role = String(labels, kRoleLabel) == "pserver" ? PodRole::kPserver : PodRole::kTrainer;
  std::string index = String(annotations, kIndexAnnotation);
  if (index.empty()) index = String(labels, kIndexAnnotation);
  if (index.empty()) index = String(labels, "training.kubeflow.org/replica-index");
  std::from_chars(index.data(), index.data() + index.size(), out.index);
  out.name = PodName(String(labels, kJobLabel), out.role, out.index);

  std::string phase = String(Find(pod, {"status"}), "phase");
  const json::object* cs = FirstContainerStatus(pod);
  const json::object* terminated = cs ? Find(*cs, {"state", "terminated"}) : nullptr;
  if (!terminated && cs) terminated = Find(*cs, {"lastState", "terminated"});
  if (const json::object* running = cs ? Find(*cs, {"state", "running"}) : nullptr)
    out.started_at = UnixSeconds(String(running, "startedAt"));
  if (terminated) {
    if (auto code = Int(terminated, "exitCode")) out.exit_code = static_cast<int>(*code);
    if (!out.started_at) out.started_at = UnixSeconds(String(terminated, "startedAt"));
  }
  if (cs) out.restarts = static_cast<int>(Int(cs, "restartCount").value_or(0));

  if (phase == "Running") {
    out.phase = PodPhase::kRunning;
  } else if (phase == "Succeeded") {
    out.phase = PodPhase::kSucceeded;
    out.reason = "Completed";
  } else if (phase == "Failed") {
    out.phase = PodPhase::kFailed;
    out.reason = terminated ? String(terminated, "reason") : String(Find(pod, {"status"}), "reason");
    if (out.reason.empty()) out.reason = "Error";
  } else {
    out.phase = PodPhase::kPending;
    out.reason = PendingReason(pod);
  }
  if (terminated && out.phase != PodPhase::kRunning) out.finished_at = UnixSeconds(String(terminated, "finishedAt"));
  if (stopped && out.phase != PodPhase::kSucceeded) {
    out.phase = PodPhase::kFailed;
    out.reason = "Stopped";
  }
  std::string hostname = String(Find(pod, {"spec"}), "hostname");
  std::string subdomain = String(Find(pod, {"spec"}), "subdomain");
  if (!hostname.empty() && !subdomain.empty())
    out.endpoint = hostname + "." + subdomain + "." + String(metadata, "namespace") + ".svc:6174";
  else
    out.endpoint = String(Find(pod, {"status"}), "podIP");
  return out;
}

ReplicaStatus ReplicaPodStatus(const json::object& pod, int port) {
  ReplicaStatus out;
  std::string phase = String(Find(pod, {"status"}), "phase");
  const json::object* cs = FirstContainerStatus(pod);
  if (cs) out.restarts = static_cast<int>(Int(cs, "restartCount").value_or(0));
  if (const json::object* last = cs ? Find(*cs, {"lastState", "terminated"}) : nullptr)
    if (auto code = Int(last, "exitCode")) out.last_exit_code = static_cast<int>(*code);
  if (const json::object* running = cs ? Find(*cs, {"state", "running"}) : nullptr)
    out.started_at = UnixSeconds(String(running, "startedAt"));
  std::string ip = String(Find(pod, {"status"}), "podIP");
  if (!ip.empty()) out.endpoint = ip + ":" + std::to_string(port);

  const json::object* waiting = cs ? Find(*cs, {"state", "waiting"}) : nullptr;
  if (Find(pod, {"metadata"}) && Find(pod, {"metadata"})->contains("deletionTimestamp")) {
    out.phase = ReplicaPhase::kNotReady;
    out.reason = kReplicaTerminating;
  } else if (phase == "Pending") {
    out.phase = ReplicaPhase::kPending;
    out.reason = PendingReason(pod);
  } else if (phase == "Running") {
    if (PodReady(pod)) {
      out.phase = ReplicaPhase::kReady;
      out.reason = "Ready";
    } else if (waiting && String(waiting, "reason") == "CrashLoopBackOff") {
      out.phase = ReplicaPhase::kNotReady;
      out.reason = "CrashLoopBackOff";
      out.message = out.last_exit_code ? "exited with code " + std::to_string(*out.last_exit_code) : String(waiting, "message");
    } else if (out.restarts == 0) {
      out.phase = ReplicaPhase::kStarting;
      out.reason = "Starting";
    } else {
      out.phase = ReplicaPhase::kNotReady;
      out.reason = "readiness probe failed";
    }
  } else {
    out.phase = ReplicaPhase::kFailed;
    const json::object* terminated = cs ? Find(*cs, {"state", "terminated"}) : nullptr;
    out.reason = terminated ? String(terminated, "reason") : String(Find(pod, {"status"}), "reason");
    if (out.reason.empty()) out.reason = "Error";
    if (terminated)
      if (auto code = Int(terminated, "exitCode")) out.last_exit_code = static_cast<int>(*code);
  }
  return out;
}

namespace {

// The number before a quantity's suffix, and the suffix.
std::pair<double, std::string_view> SplitQuantity(std::string_view q) {
  std::size_t end = 0;
  while (end < q.size() && (std::isdigit(static_cast<unsigned char>(q[end])) || q[end] == '.' || q[end] == '+' ||
                            q[end] == '-' || ((q[end] == 'e' || q[end] == 'E') && end + 1 < q.size() &&
                                              (std::isdigit(static_cast<unsigned char>(q[end + 1])) || q[end + 1] == '-'))))
    ++end;
  double value = 0;
  std::from_chars(q.data(), q.data() + end, value);
  return {value, q.substr(end)};
}

double Multiplier(std::string_view suffix) {
  static const std::pair<std::string_view, double> kSuffixes[] = {
      {"n", 1e-9}, {"u", 1e-6}, {"m", 1e-3}, {"", 1},     {"k", 1e3},  {"M", 1e6},
      {"G", 1e9},  {"T", 1e12}, {"P", 1e15}, {"E", 1e18}, {"Ki", 1024.0}, {"Mi", 1048576.0},
      {"Gi", 1073741824.0}, {"Ti", 1099511627776.0}, {"Pi", 1125899906842624.0}, {"Ei", 1152921504606846976.0}};
  for (const auto& [name, factor] : kSuffixes)
    if (name == suffix) return factor;
  return 0;
}

}  // namespace

std::int64_t CpuMilli(std::string_view quantity) {
  auto [value, suffix] = SplitQuantity(quantity);
  return static_cast<std::int64_t>(std::llround(value * Multiplier(suffix) * 1000));
}

std::int64_t Bytes(std::string_view quantity) {
  auto [value, suffix] = SplitQuantity(quantity);
  return static_cast<std::int64_t>(std::llround(value * Multiplier(suffix)));
}

std::optional<std::int64_t> UnixSeconds(std::string_view rfc3339) {
  std::tm tm{};
  std::string text(rfc3339);
  const char* end = strptime(text.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end) return std::nullopt;
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace paddlecloud::cluster::kubernetes
