// The mapping of the ClusterBackend's workloads onto Kubernetes objects (docs/kubernetes.md):
// pure functions from a JobRun / ServiceRun / account to the objects the adapter sends, and back
// from observed pods to the port's statuses. Nothing here talks to a server.
//
// - An account is the namespace pc-<account> with a ResourceQuota, a LimitRange, a NetworkPolicy,
//   a ServiceAccount whose token pods do not mount, and the claim of the platform's data volume.
// - A job is a headless Service plus an indexed batch/v1 Job per role (native), or one
//   kubeflow.org/v1 PaddleJob; a service is an apps/v1 Deployment plus a Service.
// - Every Mount's source must lie inside the platform's data directory: it becomes a subPath of
//   the account's claim, except mounts of what the image provides (MappingOptions::image_paths).
#pragma once

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cluster/cluster_backend.h"
#include "common/status.h"

namespace paddlecloud::cluster::kubernetes {

enum class JobKind { kNative, kPaddleJob };

struct MappingOptions {
  std::string data_dir;                           // the platform's data directory (absolute)
  std::string platform_namespace = "paddlecloud"; // where the server runs: pods may reach it
  std::string default_image = "paddlecloud/training:latest";
  std::string storage_class;                      // of the accounts' claims; empty: ""
  std::string nfs_server;                         // the export holding the data directory
  std::string nfs_path;
  JobKind job_kind = JobKind::kNative;
  int paddle_port = 6174;
  std::string data_capacity = "1Ti";              // the size the claims announce (NFS does not enforce it)
  // Where the image has what the local backend mounts from beside the binary (the model server):
  // a mount whose target lies under one of these is not made, whatever its source.
  std::vector<std::string> image_paths = {"/paddlecloud/bin"};
};

inline constexpr std::string_view kManagedBy = "app.kubernetes.io/managed-by";
inline constexpr std::string_view kAccountLabel = "paddlecloud.io/account";
inline constexpr std::string_view kJobLabel = "paddlecloud.io/job";
inline constexpr std::string_view kRoleLabel = "paddlecloud.io/role";
inline constexpr std::string_view kServiceLabel = "paddlecloud.io/service";
inline constexpr std::string_view kIndexAnnotation = "batch.kubernetes.io/job-completion-index";
inline constexpr std::string_view kCredentialsDigestAnnotation = "paddlecloud.io/credentials-sha256";
inline constexpr std::string_view kWorkloadServiceAccount = "paddlecloud-workload";
inline constexpr std::string_view kDataClaim = "paddlecloud-data";

std::string NamespaceOf(std::string_view account);       // "pc-<account>"
std::string AccountOf(std::string_view namespace_name);  // the inverse; empty for another namespace
std::string RoleJobName(std::string_view job, PodRole role);  // "<job>-trainer"

// The account's quota; an absent amount is unlimited.
struct NamespaceQuota {
  std::optional<std::int64_t> cpu_milli, memory_bytes, gpus;
};

// Namespace, ResourceQuota, LimitRange, NetworkPolicy, ServiceAccount, PersistentVolume (cluster
// scoped) and PersistentVolumeClaim, in the order they must be created.
std::vector<boost::json::object> AccountObjects(std::string_view account, const NamespaceQuota& quota,
                                                const MappingOptions& options);

// The objects of a job, in creation order. InvalidArgument for a mount outside the data directory.
Result<std::vector<boost::json::object>> JobObjects(const JobRun& run, const MappingOptions& options);
// The Deployment and Service of a service. InvalidArgument for a mount outside the data directory.
Result<std::vector<boost::json::object>> ServiceObjects(const ServiceRun& service, const MappingOptions& options);

// The Secret "<workload>-credentials" holding a job's or service's secret_env, which its pods'
// env refers to (secretKeyRef); nullopt when there is none. Specs never hold the values.
std::string CredentialsName(std::string_view workload);
std::optional<boost::json::object> CredentialsSecret(std::string_view account, std::string_view workload,
                                                     const std::map<std::string, std::string>& secret_env);

// The API path of an object's collection and of the object itself ("/apis/batch/v1/namespaces/pc-a/jobs").
std::string CollectionPath(const boost::json::object& object);
std::string ObjectPath(const boost::json::object& object);
std::string ObjectPath(std::string_view api_version, std::string_view kind, std::string_view namespace_name,
                       std::string_view name);

// Host names of a job's pods: "<job>-trainer-0.<job>.pc-a.svc:6174".
std::vector<std::string> JobEndpoints(const JobRun& run, PodRole role, const MappingOptions& options);

// The port's view of one observed pod (a job pod). `stopped`: the platform stopped it.
PodStatus JobPodStatus(const boost::json::object& pod, bool stopped);
// The port's view of one observed replica pod; index and name are given by the caller.
ReplicaStatus ReplicaPodStatus(const boost::json::object& pod, int port);

// Kubernetes quantities ("500m", "2Gi", "1.5") in the port's units.
std::int64_t CpuMilli(std::string_view quantity);
std::int64_t Bytes(std::string_view quantity);
// RFC 3339 ("2026-12-06T11:40:00Z") in unix seconds; nullopt if unparsable.
std::optional<std::int64_t> UnixSeconds(std::string_view rfc3339);

}  // namespace paddlecloud::cluster::kubernetes
