// KubernetesTestApiServer: a TEST DOUBLE of a Kubernetes API server with a one-node simulated
// cluster, for the Kubernetes adapter's unit and integration tests. Not a Kubernetes implementation:
// nothing here is meant to run outside tests.
//
// What it serves (JSON only, HTTPS by default with a certificate from a throwaway test CA, every
// request needing `Authorization: Bearer <token>`; errors are `kind: Status` objects like the real
// server's: reason/code/message/details):
//  - core v1 namespaces, persistentvolumes, nodes (cluster-scoped; one Node mirrors `allocatable`),
//    pods, services, serviceaccounts, resourcequotas, limitranges, persistentvolumeclaims,
//    configmaps, secrets, events; apps/v1 deployments (+ /scale as autoscaling/v1 Scale); batch/v1
//    jobs; networking.k8s.io/v1 networkpolicies (stored); kubeflow.org/v1 paddlejobs. `/status`
//    subresources replace only .status. Discovery (/api, /apis, /api/v1, ...), /version, /healthz,
//    /readyz, /livez.
//  - verbs: create (409 AlreadyExists; 404 when the namespace is missing, 403 when it terminates),
//    get, list (namespaced and across namespaces; labelSelector `a=b`, `a!=b`, `a in (x,y)`,
//    `a notin (x)`, `a`, `!a`; fieldSelector metadata.name / metadata.namespace / status.phase /
//    spec.nodeName; limit + continue), watch, replace (409 Conflict on a stale
//    metadata.resourceVersion), patch (merge, strategic-merge treated as merge, apply-patch+yaml as
//    create-or-merge with JSON bodies and a fieldManager), delete (gracePeriodSeconds,
//    propagationPolicy Background/Foreground/Orphan, preconditions; namespaces cascade),
//    deletecollection.
//  - watch: `?watch=1&resourceVersion=N&allowWatchBookmarks=true&timeoutSeconds=S`: newline-delimited
//    JSON events, chunked. No resourceVersion (or "0"): synthetic ADDED events for the current state
//    first. A resourceVersion older than the retained history (see CompactHistory) gives one ERROR
//    event carrying a 410 Expired Status, as the real server does. An object that stops (starts)
//    matching the selector is sent as DELETED (ADDED). Bookmarks every `bookmark_interval`.
//  - every write with `fieldValidation=Strict` runs the `validate` hook on the resulting object;
//    problems -> 422 Invalid. Names are checked as RFC 1123 names, Job/Deployment/PaddleJob sizes
//    bounded (422 Invalid) whatever the query says.
//  - pod logs: `.../pods/{name}/log` with follow, tailLines, limitBytes, container, previous,
//    timestamps, sinceTime, sinceSeconds (line times are when the log was seen growing, to ~20 ms);
//    400 while the container waits to start.
//
// The simulated cluster: one node with `allocatable` resources; a scheduler (Unschedulable pods stay
// Pending with the real message shape); a Job controller (Indexed and NonIndexed, backoffLimit,
// backoffLimitPerIndex, maxFailedIndexes, activeDeadlineSeconds, suspend, ttlSecondsAfterFinished;
// a pod deleted before it finished counts as a failure); a Deployment controller (Recreate; it owns
// pods directly, no ReplicaSets); a PaddleJob controller (pods <job>-<type>-<i> as Kubeflow's
// operator names them); a garbage collector (ownerReferences); and a kubelet that RUNS REAL
// PROCESSES: each pod's first container runs `command + args` under bwrap (read-only host root,
// /dev, /proc, a private /tmp, the pod's hostname, a generated /etc/hosts, each volumeMount bound at
// its path) in its own PID namespace, so killing the sandbox leaves nothing behind. Pods get
// distinct loopback IPs 127.b.x.y (the block b is this server's alone among the ones running on
// the machine). PVC volumes resolve PVC -> PV -> spec.nfs.path (+ subPath) -> `nfs_root(path)`; emptyDir, hostPath and configMap volumes work too. LimitRange defaults apply to
// pod creation, ResourceQuota too (403 "exceeded quota") with `enforce_resource_quota`; quotas'
// status.used is kept either way. Controllers, scheduler and kubelet record v1 Events (Scheduled,
// FailedScheduling, SuccessfulCreate, FailedCreate, Started, Killing, BackOff, Failed...).
// A pod's root is the host's own, read-only, plus `image_files`. Limits: only a pod's first
// container runs; pods run as the server's own user (securityContext is not applied); strategic
// merge patch is a plain merge patch; quantities are parsed, not validated.
//
// Thread safety: every public method may be called from any thread. The destructor kills every
// child process (whole process groups) and joins every thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

#include "common/status.h"

namespace paddlecloud::kube_test {

struct NodeAllocatable {
  std::int64_t cpu_milli = 16000;
  std::int64_t memory_bytes = 64LL << 30;
  std::int64_t gpus = 0;  // nvidia.com/gpu
};

struct KubernetesTestApiServerOptions {
  std::string token = "test-token";
  bool tls = true;                 // false: plain HTTP (only for clients that cannot do TLS)
  std::string work_dir;            // certificates, pod sandboxes, logs; empty: a fresh temp dir, removed at the end
  // Called on the resulting object of a write that asked fieldValidation=Strict; returns problems.
  std::function<std::vector<std::string>(const boost::json::value&)> validate;
  // Maps an NFS export path (PV spec.nfs.path joined with the mount's subPath) to a host directory.
  // Unset: the path itself.
  std::function<std::string(const std::string& nfs_path)> nfs_root;
  NodeAllocatable allocatable;
  std::string node_name = "test-node";
  std::chrono::milliseconds restart_backoff_initial{100};
  std::chrono::milliseconds restart_backoff_max{2000};
  std::chrono::milliseconds bookmark_interval{1000};
  std::size_t history_limit = 10000;  // watch events kept before the oldest are compacted away
  // The identity named in Forbidden messages.
  std::string user = "system:serviceaccount:paddlecloud:paddlecloud";
  // Refuse pods over a namespace's ResourceQuota (403 "exceeded quota", as a real API server does;
  // Job and Deployment controllers then record FailedCreate events). Off by default so tests can
  // create pods that only the scheduler refuses. LimitRange defaults apply either way.
  bool enforce_resource_quota = false;
  // What every image holds beyond the host's root, which pods see as their image: container path ->
  // host path, bound read-only (a training image's /paddlecloud/bin).
  std::map<std::string, std::string> image_files;
  // Called with each watch event ("ADDED", "MODIFIED", "DELETED") as the store records it, before
  // any watcher is sent it (for latency measurements). Runs under the server's lock: it must not
  // call the server.
  std::function<void(const std::string& type, const boost::json::object& object)> on_event;
};

// One API request as received (recorded before authentication, so unauthenticated ones count too).
struct RecordedRequest {
  std::string method;
  std::string path;
  std::map<std::string, std::string> query;
  int status = 0;  // the HTTP status answered (0 while a streamed answer is still running)
};

class KubernetesTestApiServer {
 public:
  // Creates the CA and server certificate, binds 127.0.0.1:0 and starts serving and simulating.
  static Result<std::unique_ptr<KubernetesTestApiServer>> Start(KubernetesTestApiServerOptions options = {});
  ~KubernetesTestApiServer();
  KubernetesTestApiServer(const KubernetesTestApiServer&) = delete;
  KubernetesTestApiServer& operator=(const KubernetesTestApiServer&) = delete;

  std::string url() const;                 // "https://127.0.0.1:PORT"
  std::string address() const;             // "127.0.0.1:PORT"
  std::string ca_certificate_pem() const;  // empty when tls is false
  std::string ca_certificate_file() const;
  const std::string& token() const;
  // A kubeconfig (clusters[].cluster.server + certificate-authority-data, users[].user.token, one
  // context, current-context) for this server; also written to `file` when it is non-empty.
  std::string Kubeconfig(const std::string& file = "", const std::string& context = "test") const;

  // Inspection. `object_path` is an API path: "/api/v1/namespaces/ns/pods/p",
  // "/apis/batch/v1/namespaces/ns/jobs/j", "/api/v1/namespaces/ns". Kinds are resource plurals
  // ("pods", "jobs", "deployments"); an empty namespace lists every namespace.
  std::optional<boost::json::value> Get(const std::string& object_path) const;
  std::vector<boost::json::value> List(const std::string& resource, const std::string& ns = "") const;
  std::vector<RecordedRequest> Requests() const;
  // Requests with this method (empty: any) whose path starts with `path_prefix`.
  std::size_t CountRequests(const std::string& method, const std::string& path_prefix = "") const;
  // POST/PUT/PATCH requests that did not ask for fieldValidation=Strict.
  std::vector<RecordedRequest> WritesWithoutStrictFieldValidation() const;
  void ClearRequests();
  std::int64_t ResourceVersion() const;  // the global counter
  std::size_t OpenWatches() const;
  std::size_t RunningProcesses() const;  // container processes alive right now
  // The log of a pod's current container instance.
  std::string PodLog(const std::string& ns, const std::string& pod) const;

  // Direct store writes (as another client would do them, bypassing the HTTP API and its faults).
  Status Create(const boost::json::value& object);
  // Deletes as the API would (graceful for running pods); grace < 0 = the pod's own grace.
  Status Delete(const std::string& object_path, int grace_period_seconds = -1,
                const std::string& propagation_policy = "Background");

  // Fault injection.
  void DropWatches();                             // closes every open watch stream
  void FailNextRequests(int n, int code = 500);   // the next n API requests fail with a Status
  void SetLatency(std::chrono::milliseconds latency);  // added to every API request
  void CompactHistory();                          // a watch from any earlier resourceVersion gets 410
  Status OomKill(const std::string& ns, const std::string& pod);  // SIGKILL, reason OOMKilled, 137
  // A container that hangs (SIGSTOP to its processes; frozen = false sends SIGCONT).
  Status FreezeContainer(const std::string& ns, const std::string& pod, bool frozen);
  Status DeletePodBehindTheBackOfThePlatform(const std::string& ns, const std::string& pod);
  void SetAllocatable(NodeAllocatable allocatable);
  void SetUnpullableImages(std::set<std::string> images);
  // verb: get list watch create update patch delete deletecollection; resource: "jobs", "pods", ...
  void ForbidVerb(const std::string& verb, const std::string& resource);
  void AllowAll();

  struct Impl;

 private:
  explicit KubernetesTestApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace paddlecloud::kube_test
