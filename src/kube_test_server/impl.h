// Internals of KubernetesTestApiServer shared by its .cpp files (store and HTTP API in
// kube_test_server.cpp, the simulated cluster in cluster.cpp).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <expected>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>

#include "http/server.h"
#include "kube_test_server/kube_test_server.h"
#include "kube_test_server/kube_util.h"

namespace paddlecloud::kube_test {

struct ResourceInfo {
  std::string group;  // "" for core
  std::string version;
  std::string plural;
  std::string kind;
  bool namespaced = true;
  bool has_status = true;
  std::string ApiVersion() const { return group.empty() ? version : group + "/" + version; }
  std::string Qualified() const { return group.empty() ? plural : plural + "." + group; }
};

const ResourceInfo* FindResource(std::string_view group, std::string_view version, std::string_view plural);
const ResourceInfo* FindResourceByPlural(std::string_view plural);
const ResourceInfo* FindResourceByKind(std::string_view api_version, std::string_view kind);

struct ApiError {
  int code = 500;
  std::string reason;
  std::string message;
  boost::json::object details;
};
template <typename T>
using ApiResult = std::expected<T, ApiError>;

boost::json::object StatusObject(const ApiError& e);
ApiError NotFoundError(const ResourceInfo& r, const std::string& name);

struct Watcher {
  const ResourceInfo* resource = nullptr;
  std::string ns;  // empty: all
  LabelSelector labels;
  std::vector<FieldRequirement> fields;
  std::mutex mu;
  std::deque<std::string> lines;
  bool closed = false;
  std::int64_t rv_seen = 0;  // every event up to this resourceVersion has been queued or skipped
  // Set by the streaming coroutine: wakes it when a line is queued or the watch is closed (call
  // with `mu` held).
  std::function<void()> wake;
  void Wake() {
    if (wake) wake();
  }
};

// The kubelet's record of a pod's one container.
struct PodRuntime {
  std::string ns, name, uid;
  std::string ip;
  std::string dir;
  pid_t pid = -1;  // running process (group leader), -1 when none
  bool started_once = false;
  bool terminal = false;         // Succeeded/Failed: never starts again
  bool oom = false;              // the next exit is an OOM kill
  int restart_count = 0;
  std::chrono::steady_clock::time_point next_start{};
  std::chrono::milliseconds backoff{0};
  bool term_sent = false;
  std::chrono::steady_clock::time_point kill_at{};
  int image_pull_attempts = 0;
  bool ready = false;
  int probe_successes = 0, probe_failures = 0;
  std::chrono::steady_clock::time_point next_probe{};
  std::chrono::steady_clock::time_point started_steady{};
  std::string started_at;
  boost::json::object last_terminated;     // lastState.terminated
  boost::json::object current_terminated;  // state.terminated of a container that will not run again
  std::chrono::steady_clock::time_point instance{};  // identifies one run (for probes and log follows)
  std::string waiting_reason, waiting_message;
  std::string log_file;
  // (log size, RFC 3339 time with nanoseconds) when the kubelet saw the log grow: line timestamps.
  std::vector<std::pair<std::uint64_t, std::string>> log_marks, previous_log_marks;
};

// Records the log's current size with the time now when it grew (mu held).
void MarkLog(PodRuntime& rt);

struct KubernetesTestApiServer::Impl {
  KubernetesTestApiServerOptions options;
  std::string work_dir;
  bool own_work_dir = false;
  std::string ca_pem, ca_file;
  std::unique_ptr<http::HttpServer> server;
  std::thread server_thread;
  std::thread cluster_thread;

  // Everything below is guarded by mu.
  mutable std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;
  std::int64_t rv = 0;
  std::int64_t compacted_rv = 0;  // a watch from a resourceVersion below this is too old
  // key: "group|plural|namespace|name"
  std::map<std::string, boost::json::object> objects;
  struct Event {
    std::int64_t rv;
    const ResourceInfo* resource;
    std::string type;
    boost::json::object object;
    std::optional<boost::json::object> old;
  };
  std::deque<Event> history;
  std::vector<std::shared_ptr<Watcher>> watchers;
  std::vector<RecordedRequest> requests;
  int fail_next = 0;
  int fail_code = 500;
  std::chrono::milliseconds latency{0};
  std::set<std::pair<std::string, std::string>> forbidden;  // (verb, resource)
  std::set<std::string> unpullable;
  NodeAllocatable allocatable;
  std::map<std::string, PodRuntime> pods;  // by store key
  std::uint32_t next_ip = 0;
  // Pod IPs are 127.<ip_block>.x.y; the block is this server's alone among the servers running on
  // the machine (concurrent tests) while it holds the block's lock file.
  int ip_block = 1;
  int ip_block_lock = -1;
  std::map<std::string, std::int64_t> created_seq;  // uid -> resourceVersion at creation (orders pods)
  std::string hosts_content;
  // Job uid -> completion index -> pods removed before they finished (count as failures).
  std::map<std::string, std::map<std::int64_t, int>> job_lost;

  // Store (mu held).
  static std::string Key(const ResourceInfo& r, const std::string& ns, const std::string& name);
  const boost::json::object* Lookup(const ResourceInfo& r, const std::string& ns, const std::string& name) const;
  std::vector<const boost::json::object*> ListLocked(const ResourceInfo& r, const std::string& ns) const;
  void Emit(const ResourceInfo& r, const std::string& type, const boost::json::object& object,
            const boost::json::object* old);
  ApiResult<boost::json::object> CreateLocked(const ResourceInfo& r, const std::string& ns, boost::json::object obj,
                                              bool strict);
  // Stores `obj` as the new state of an existing object (bumps rv/generation, emits MODIFIED) when it
  // differs; returns the stored object.
  boost::json::object WriteLocked(const ResourceInfo& r, boost::json::object obj);
  ApiResult<boost::json::object> UpdateLocked(const ResourceInfo& r, const std::string& ns, const std::string& name,
                                              boost::json::object obj, bool status_only, bool strict);
  ApiResult<boost::json::object> DeleteLocked(const ResourceInfo& r, const std::string& ns, const std::string& name,
                                              int grace, const std::string& policy,
                                              const boost::json::object& preconditions);
  void RemoveLocked(const ResourceInfo& r, const std::string& ns, const std::string& name);
  // LimitRange defaults and ResourceQuota admission for a new pod (403 when over a quota).
  std::optional<ApiError> AdmitPodLocked(const std::string& ns, boost::json::object& pod);
  void QuotaStatusLocked();
  void SyncNodeLocked();
  // A v1 Event about `object` (repeats bump count and lastTimestamp, at most once a second).
  void RecordEventLocked(const boost::json::object& object, const std::string& type, const std::string& reason,
                         const std::string& message, const std::string& component);
  std::map<std::string, std::string> event_names;  // uid|reason|message -> Event name
  std::vector<std::string> ValidateLocked(const boost::json::object& obj, bool strict);

  // HTTP.
  void InstallRoutes(http::Router& router);
  boost::asio::awaitable<http::Response> Handle(http::Request& request);
  http::Response HandleWatch(http::Request& request, const ResourceInfo& r, const std::string& ns);
  http::Response HandleLog(http::Request& request, const std::string& ns, const std::string& name);
  http::Router router;

  // Cluster simulation (cluster.cpp).
  void ClusterLoop();
  void TickLocked(std::vector<std::function<void()>>* after_unlock);
  void GarbageCollectLocked();
  void JobControllerLocked();
  void DeploymentControllerLocked();
  void PaddleJobControllerLocked();
  void SchedulerLocked();
  void KubeletLocked(std::vector<std::function<void()>>* after_unlock);
  void StartContainerLocked(PodRuntime& rt, boost::json::object& pod);
  void WriteHostsLocked();
  void KillAllChildren();
  std::string HostsFile() const { return work_dir + "/hosts"; }
};

inline const ResourceInfo& PodsResource() { return *FindResource("", "v1", "pods"); }

}  // namespace paddlecloud::kube_test
