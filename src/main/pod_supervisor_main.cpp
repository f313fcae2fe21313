// `paddlecloud-pod-supervisor pod-supervisor --pod-dir DIR [--lock-fd N] [--detach]`: the pod
// supervisor alone (see cluster/local/pod_supervisor.h). The local backend starts one per pod; this
// small binary loads a few libraries instead of the whole platform, so a job's pods start sooner.
// `paddlecloud pod-supervisor` takes the same arguments.
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include "cluster/local/pod_supervisor.h"

int main(int argc, char** argv) {
  std::string pod_dir;
  int lock_fd = -1;
  bool detach = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "pod-supervisor") continue;
    if (arg == "--detach") {
      detach = true;
    } else if (arg == "--pod-dir" && i + 1 < argc) {
      pod_dir = argv[++i];
    } else if (arg == "--lock-fd" && i + 1 < argc) {
      std::string_view value = argv[++i];
      auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), lock_fd);
      if (ec != std::errc() || end != value.data() + value.size()) pod_dir.clear();
    } else {
      pod_dir.clear();
      break;
    }
  }
  if (pod_dir.empty()) {
    std::fprintf(stderr, "usage: %s pod-supervisor --pod-dir DIR [--lock-fd N] [--detach]\n", argv[0]);
    return 2;
  }
  return paddlecloud::cluster::local::RunPodSupervisor(pod_dir, lock_fd, detach);
}
