// `paddlecloud-pod-supervisor --pod-dir DIR [--lock-fd N] [--pod-dir DIR [--lock-fd N]] ...`:
// the pod supervisors of the local backend (see cluster/local/pod_supervisor.h), one detached
// process per pod; this returns once they are started. Each --lock-fd is an inherited descriptor
// holding the preceding pod's supervisor.lock.
#include <charconv>
#include <cstdio>
#include <string_view>
#include <vector>

#include "cluster/local/pod_supervisor.h"

int main(int argc, char** argv) {
  std::vector<paddlecloud::cluster::local::SupervisedPod> pods;
  bool valid = true;
  for (int i = 1; i < argc && valid; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--pod-dir" && i + 1 < argc) {
      pods.push_back({.dir = argv[++i]});
    } else if (arg == "--lock-fd" && i + 1 < argc && !pods.empty()) {
      std::string_view value = argv[++i];
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), pods.back().lock_fd);
      valid = ec == std::errc() && end == value.data() + value.size();
    } else {
      valid = false;
    }
  }
  if (!valid || pods.empty()) {
    std::fprintf(stderr, "usage: %s --pod-dir DIR [--lock-fd N] [--pod-dir DIR [--lock-fd N]] ...\n", argv[0]);
    return 2;
  }
  return paddlecloud::cluster::local::RunPodSupervisors(pods);
}
