// The Kubernetes adapter of the ClusterBackend port: jobs and services as native objects in one
// namespace per account (manifests.h), observed through a list + watch of the platform's pods.
//
// - Every write goes through KubeClient with fieldValidation=Strict. Objects are created once and
//   an existing one (AlreadyExists) is taken as created, so Submit and ApplyService are idempotent
//   across restarts of the platform.
// - One watch of all pods labelled app.kubernetes.io/managed-by=paddlecloud feeds an in-memory cache
//   (re-listed on 410 Gone, retried with backoff); GetPods/GetReplicas read the cache, never the
//   server, and the observer is told of every change so reconcilers react at once.
// - What the cluster forgets is kept under `state_dir`: the jobs and services the backend has, and
//   each ended pod's last status (pods of a stopped job are deleted). Logs are streamed from the pod
//   log API into the run's logs_dir while a pod runs, so they outlive the pod.
// - Usage: memory from metrics.k8s.io where metrics-server runs, CPU time integrated from its
//   rates; otherwise "not measured" with the reason.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "cluster/cluster_backend.h"
#include "cluster/kubernetes/kube_client.h"
#include "cluster/kubernetes/manifests.h"

namespace paddlecloud::cluster::kubernetes {

struct KubernetesBackendOptions {
  MappingOptions mapping;
  std::string state_dir;  // this backend's own files
  // The account's quota, turned into its namespace's ResourceQuota. None: unlimited.
  std::function<NamespaceQuota(const std::string& account)> quota_of;
  std::chrono::milliseconds max_backoff{5000};  // between failed list/watch attempts
};

// Starts the pod watch. Fails only on a bad state_dir: an unreachable API server is reported by
// Health() and retried.
Result<std::unique_ptr<ClusterBackend>> MakeKubernetesBackend(std::shared_ptr<KubeClient> client,
                                                              KubernetesBackendOptions options);

}  // namespace paddlecloud::cluster::kubernetes
