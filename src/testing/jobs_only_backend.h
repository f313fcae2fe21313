// A base for ClusterBackend test doubles that stand in for jobs only: every service call answers
// Unavailable, so a test that reaches one by mistake fails clearly.
#pragma once

#include "cluster/cluster_backend.h"

namespace paddlecloud::testing {

class JobsOnlyBackend : public cluster::ClusterBackend {
 public:
  Status ApplyService(const cluster::ServiceRun&) override { return NoServices(); }
  Status ScaleService(const std::string&, const std::string&, int) override { return NoServices(); }
  Status DeleteService(const std::string&, const std::string&, std::chrono::milliseconds) override {
    return NoServices();
  }
  Result<std::vector<cluster::ReplicaStatus>> GetReplicas(const std::string&, const std::string&) override {
    return Err(NoServices());
  }
  Result<cluster::JobUsage> GetServiceUsage(const std::string&, const std::string&) override {
    return Err(NoServices());
  }

 private:
  static Status NoServices() { return Status::Unavailable("this test double runs no services"); }
};

}  // namespace paddlecloud::testing
