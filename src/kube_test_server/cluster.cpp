#include <signal.h>
#include <sys/wait.h>

#include "kube_test_server/impl.h"

namespace paddlecloud::kube_test {

void KubernetesTestApiServer::Impl::ClusterLoop() {
  std::unique_lock<std::mutex> lock(mu);
  while (!stopping) cv.wait_for(lock, std::chrono::milliseconds(20));
}

void KubernetesTestApiServer::Impl::KillAllChildren() {}

Status KubernetesTestApiServer::OomKill(const std::string&, const std::string&) { return Status::Ok(); }

}  // namespace paddlecloud::kube_test
