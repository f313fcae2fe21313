// kubernetes_bench: the Kubernetes adapter against the test API server (make bench).
//
// 1. Reconcile latency: a job pod is deleted in the API server; from the moment the store records
//    the first event that ends the pod (the watch event) until the adapter's GetPods shows the job's
//    pod no longer running, woken by the backend's observer as the platform's reconciler is.
//    p50/p99 over many events; target p99 <= 50 ms.
// 2. API calls per submitted 8 trainers + 4 pservers job: to submit it, and over its whole life
//    (submit, run, stop the pservers, forget it), watch and log streams counted as one call each.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>

#include "cluster/kubernetes/kube_config.h"
#include "cluster/kubernetes/kubernetes_backend.h"
#include "kube_test_server/kube_test_server.h"
#include "testing/server_process.h"

namespace k8s = paddlecloud::cluster::kubernetes;
namespace cluster = paddlecloud::cluster;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

struct Observed {
  std::mutex mutex;
  std::condition_variable changed;
  std::uint64_t generation = 0;
  void Notify() {
    {
      std::lock_guard lock(mutex);
      ++generation;
    }
    changed.notify_all();
  }
  // Waits, woken by each change, until `done` holds or the deadline passes.
  template <typename F>
  bool WaitUntil(F done, Clock::duration timeout = 30s) {
    auto deadline = Clock::now() + timeout;
    std::unique_lock lock(mutex);
    while (true) {
      std::uint64_t seen = generation;  // read before `done`: a change while it runs is not lost
      lock.unlock();
      if (done()) return true;
      lock.lock();
      if (!changed.wait_until(lock, deadline, [&] { return generation != seen; })) return false;
    }
  }
};

cluster::JobRun Job(const fs::path& data, std::string name, std::string entry, int trainers, int pservers) {
  fs::path dir = data / "jobs" / name;
  fs::create_directories(dir / "code");
  fs::create_directories(dir / "logs");
  return {.namespace_name = "bench", .job = std::move(name), .entry = std::move(entry),
          .working_dir = "/paddlecloud/job/code",
          .mounts = {{(dir / "code").string(), "/paddlecloud/job/code", false}},
          .trainers = trainers, .trainer_requests = {.cpu_milli = 10, .memory_bytes = 16 << 20},
          .pservers = pservers, .pserver_requests = {.cpu_milli = 10, .memory_bytes = 16 << 20},
          .logs_dir = (dir / "logs").string()};
}

// The requests a call made itself: the watch and the log streams the backend's threads open meanwhile
// are not its.
std::size_t CallsOfTheCaller(const std::vector<paddlecloud::kube_test::RecordedRequest>& requests) {
  return std::count_if(requests.begin(), requests.end(), [](const auto& r) {
    return !r.path.ends_with("/log") && !r.query.contains("watch");
  });
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<std::size_t>(p * static_cast<double>(values.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  int events = argc > 1 ? std::atoi(argv[1]) : 100;
  paddlecloud::testing::TempDir dir;
  fs::path data = fs::path(dir.path()) / "data";
  // The pod whose end is being timed, and when the store first recorded it ending.
  std::mutex timed_mutex;
  std::string timed_pod;
  std::optional<Clock::time_point> timed_event;
  auto on_event = [&](const std::string& type, const boost::json::object& pod) {
    const auto* metadata = pod.if_contains("metadata");
    const auto* name = metadata && metadata->is_object() ? metadata->as_object().if_contains("name") : nullptr;
    if (!name || !name->is_string()) return;
    const auto* status = pod.if_contains("status");
    const auto* phase = status && status->is_object() ? status->as_object().if_contains("phase") : nullptr;
    bool ended = type == "DELETED" || (phase && phase->is_string() && phase->as_string() != "Running");
    std::lock_guard lock(timed_mutex);
    if (ended && name->as_string() == timed_pod && !timed_event) timed_event = Clock::now();
  };
  auto api = paddlecloud::kube_test::KubernetesTestApiServer::Start(
      {.work_dir = dir.path() + "/apiserver",
       .nfs_root = [d = data.string()](const std::string& path) { return d + path.substr(std::string("/export").size()); },
       .on_event = on_event});
  if (!api) {
    std::fprintf(stderr, "test API server: %s\n", api.error().message().c_str());
    return 1;
  }
  std::string kubeconfig = dir.path() + "/kubeconfig";
  (*api)->Kubeconfig(kubeconfig);
  auto connection = k8s::LoadKubeconfig(kubeconfig);
  if (!connection) return 1;
  auto client = std::make_shared<k8s::KubeClient>(std::move(*connection));
  auto made = k8s::MakeKubernetesBackend(
      client, {.mapping = {.data_dir = data.string(), .nfs_server = "nfs.bench", .nfs_path = "/export"},
               .state_dir = dir.path() + "/state"});
  if (!made) return 1;
  auto& backend = **made;
  Observed observed;
  backend.SetObserver([&] { observed.Notify(); });
  if (!observed.WaitUntil([&] { return backend.Health().ok(); })) {
    std::fprintf(stderr, "the adapter never reached the test API server: %s\n", backend.Health().message().c_str());
    return 1;
  }

  auto phase_of = [&](const std::string& job) {
    auto pods = backend.GetPods("bench", job);
    return pods && !pods->empty() ? std::optional(pods->front().phase) : std::nullopt;
  };

  // 1. Reconcile latency.
  std::vector<double> latencies_ms;
  std::size_t first_submit = 0;  // API calls of an account's first job: its namespace's objects too
  for (int i = 0; i < events; ++i) {
    std::string job = "latency-" + std::to_string(i);
    (*api)->ClearRequests();
    if (!backend.Submit(Job(data, job, "exec sleep 3600", 1, 0)).ok()) return 1;
    if (i == 0) first_submit = CallsOfTheCaller((*api)->Requests());
    if (!observed.WaitUntil([&] { return phase_of(job) == cluster::PodPhase::kRunning; })) {
      std::fprintf(stderr, "pod of %s never ran\n", job.c_str());
      return 1;
    }
    auto pods = (*api)->List("pods", "pc-bench");
    std::string pod;
    for (const auto& p : pods)
      if (p.at("metadata").at("labels").at("paddlecloud.io/job").as_string() == job)
        pod = std::string(p.at("metadata").at("name").as_string());
    {
      std::lock_guard lock(timed_mutex);
      timed_pod = pod;
      timed_event.reset();
    }
    if (!(*api)->Delete("/api/v1/namespaces/pc-bench/pods/" + pod, 0).ok()) return 1;
    if (!observed.WaitUntil([&] { return phase_of(job) != cluster::PodPhase::kRunning; })) {
      std::fprintf(stderr, "the adapter never saw the pod of %s end\n", job.c_str());
      return 1;
    }
    auto seen = Clock::now();
    std::optional<Clock::time_point> event_at;
    {
      std::lock_guard lock(timed_mutex);
      event_at = timed_event;
    }
    if (!event_at) {
      std::fprintf(stderr, "the adapter saw the pod of %s end before the API server did\n", job.c_str());
      return 1;
    }
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(seen - *event_at).count());
    (void)backend.Stop("bench", job, std::nullopt, 0s);
  }

  // 2. API calls of an 8 + 4 job.
  (*api)->ClearRequests();
  std::string job = "big-job";
  if (!backend.Submit(Job(data, job, "test \"$TRAINING_ROLE\" = TRAINER || exec sleep 3600", 8, 4)).ok()) return 1;
  std::size_t to_submit = CallsOfTheCaller((*api)->Requests());
  bool trainers_done = observed.WaitUntil([&] {
    auto pods = backend.GetPods("bench", job);
    if (!pods || pods->size() != 12) return false;
    for (int i = 0; i < 8; ++i)
      if ((*pods)[i].phase != cluster::PodPhase::kSucceeded) return false;
    return true;
  }, 120s);
  if (!trainers_done || !backend.Stop("bench", job, cluster::PodRole::kPserver, 1s).ok() ||
      !observed.WaitUntil([&] { return backend.Delete("bench", job).ok(); }, 60s)) {
    std::fprintf(stderr, "the 8+4 job did not run to its end\n");
    return 1;
  }
  std::size_t over_life = (*api)->Requests().size();
  std::size_t streams = 0;
  for (const auto& r : (*api)->Requests())
    if (r.path.ends_with("/log")) ++streams;

  std::printf("kubernetes adapter against the test API server (%d events)\n", events);
  std::printf("  reconcile latency, watch event -> job state through the adapter: p50 %.2f ms, p99 %.2f ms, max %.2f ms (target p99 <= 50 ms)\n",
              Percentile(latencies_ms, 0.5), Percentile(latencies_ms, 0.99), Percentile(latencies_ms, 1.0));
  std::printf("  API calls of an 8+4 job: %zu to submit it; %zu over its life (of which %zu pod log streams for its 12 pods);"
              " an account's first job takes %zu (its namespace's objects too)\n",
              to_submit, over_life, streams, first_submit);
  return 0;
}
