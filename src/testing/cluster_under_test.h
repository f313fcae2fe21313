// ClusterUnderTest: the cluster an integration test runs the platform on, so the same test checks
// both backends' promises. Local: the server's own machine, nothing to start. Kubernetes: the
// KubernetesTestApiServer test double (every write validated against the 1.35 schemas and the
// PaddleJob CRD, as Strict field validation does), the server's data directory exported as the NFS
// path /export, the images holding the model server beside the paddlecloud binary.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "kube_test_server/kube_test_server.h"

namespace paddlecloud::testing {

enum class ClusterKind { kLocal, kKubernetesNative, kKubernetesPaddleJob };

// For INSTANTIATE_TEST_SUITE_P: "Local", "KubernetesNative", "KubernetesPaddleJob".
std::string ClusterKindName(const ::testing::TestParamInfo<ClusterKind>& info);

class ClusterUnderTest {
 public:
  // `work_dir`: the cluster's own files; `data_dir`: the server's data directory.
  ClusterUnderTest(ClusterKind kind, std::string work_dir, std::string data_dir);
  ~ClusterUnderTest();
  // Whether it is serving (always for Local); why not in `error()`.
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  ClusterKind kind() const { return kind_; }
  bool kubernetes() const { return kind_ != ClusterKind::kLocal; }
  // The flags that point `paddlecloud server` at this cluster.
  std::vector<std::string> ServerFlags() const;
  // The test API server (null for Local), to inspect objects or inject faults.
  kube_test::KubernetesTestApiServer* api() const { return api_.get(); }
  // Writes that did not ask the API server for Strict field validation (none expected).
  std::vector<std::string> UnvalidatedWrites() const;

 private:
  ClusterKind kind_;
  std::string work_dir_, data_dir_, kubeconfig_;
  std::unique_ptr<kube_test::KubernetesTestApiServer> api_;
  std::string error_;
};

}  // namespace paddlecloud::testing
