#include "cluster/kubernetes/kubernetes_backend.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "common/fs.h"

namespace paddlecloud::cluster::kubernetes {
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

std::string Str(const json::value* v) { return v && v->is_string() ? std::string(v->as_string()) : ""; }
const json::value* At(const json::object& o, std::initializer_list<std::string_view> path) {
  const json::object* at = &o;
  const json::value* found = nullptr;
  for (auto key : path) {
    if (!at) return nullptr;
    found = at->if_contains(key);
    if (!found) return nullptr;
    at = found->if_object();
  }
  return found;
}
// Takes the object by reference: a value made from an object would be a temporary the result
// points into.
const json::value* At(const json::value& v, std::initializer_list<std::string_view> path) {
  return v.is_object() ? At(v.as_object(), path) : nullptr;
}
std::string Label(const json::object& pod, std::string_view key) { return Str(At(pod, {"metadata", "labels", key})); }
std::string Uid(const json::object& pod) { return Str(At(pod, {"metadata", "uid"})); }
int Restarts(const json::object& pod) {
  const json::value* statuses = At(pod, {"status", "containerStatuses"});
  if (!statuses || !statuses->is_array() || statuses->as_array().empty()) return 0;
  const json::value* count = At(statuses->as_array()[0], {"restartCount"});
  return count && count->is_int64() ? static_cast<int>(count->as_int64()) : 0;
}
// Why the pod's container last ended ("OOMKilled", "Error").
std::string LastTerminationReason(const json::object& pod) {
  const json::value* statuses = At(pod, {"status", "containerStatuses"});
  if (statuses && statuses->is_array() && !statuses->as_array().empty())
    for (const char* state : {"state", "lastState"})
      if (std::string reason = Str(At(statuses->as_array()[0], {state, "terminated", "reason"})); !reason.empty())
        return reason;
  return "Error";
}
std::string PodPhaseOf(const json::object& pod) { return Str(At(pod, {"status", "phase"})); }
bool Terminal(const json::object& pod) {
  std::string phase = PodPhaseOf(pod);
  return phase == "Succeeded" || phase == "Failed";
}

json::value PodStatusJson(const PodStatus& s) {
  json::object o{{"name", s.name}, {"role", RoleName(s.role)}, {"index", s.index}, {"phase", PhaseName(s.phase)},
                 {"reason", s.reason}, {"restarts", s.restarts}, {"endpoint", s.endpoint}};
  if (s.exit_code) o["exit_code"] = *s.exit_code;
  if (s.started_at) o["started_at"] = *s.started_at;
  if (s.finished_at) o["finished_at"] = *s.finished_at;
  return o;
}

PodStatus PodStatusFromJson(const json::object& o) {
  PodStatus s;
  s.name = Str(o.if_contains("name"));
  s.role = Str(o.if_contains("role")) == "pserver" ? PodRole::kPserver : PodRole::kTrainer;
  s.index = static_cast<int>(o.at("index").to_number<std::int64_t>());
  std::string phase = Str(o.if_contains("phase"));
  s.phase = phase == "Succeeded" ? PodPhase::kSucceeded : phase == "Running" ? PodPhase::kRunning
          : phase == "Pending" ? PodPhase::kPending : PodPhase::kFailed;
  s.reason = Str(o.if_contains("reason"));
  s.restarts = static_cast<int>(o.at("restarts").to_number<std::int64_t>());
  s.endpoint = Str(o.if_contains("endpoint"));
  if (auto* v = o.if_contains("exit_code")) s.exit_code = static_cast<int>(v->to_number<std::int64_t>());
  if (auto* v = o.if_contains("started_at")) s.started_at = v->to_number<std::int64_t>();
  if (auto* v = o.if_contains("finished_at")) s.finished_at = v->to_number<std::int64_t>();
  return s;
}

// What the backend remembers of a job: what was submitted and how each ended pod ended.
struct JobRecord {
  int trainers = 0, pservers = 0;
  int max_restarts = 0;
  std::string logs_dir;
  std::set<std::string> stopped_roles;         // "trainer", "pserver"
  std::map<std::string, PodStatus> ended;      // by platform pod name: the last status of its last pod
  std::map<std::string, int> failed_pods;      // by platform pod name: earlier pods of the index that failed
};

struct ServiceRecord {
  std::string spec;  // the objects without the replica count, to tell a changed spec
  int replicas = 1;
  int port = 8080;
  std::string logs_dir;
};

// The kubelet resolves a subPath's links inside the volume, and the whole export is one volume: a
// link planted in an account's folder could mount another account's files. Every source must be
// reached from the data directory without one, as the local backend opens them.
Status RefuseLinkedSources(const std::vector<Mount>& mounts, const std::string& data_dir) {
  fs::path root = fs::path(data_dir).lexically_normal();
  for (const Mount& m : mounts) {
    fs::path relative = fs::path(m.source).lexically_normal().lexically_relative(root);
    if (relative.empty() || *relative.begin() == "..") continue;  // from the image, or refused by the mapping
    fs::path at = root;
    for (const auto& part : relative) {
      at /= part;
      std::error_code ec;
      if (fs::is_symlink(fs::symlink_status(at, ec)))
        return Status::InvalidArgument("mount " + m.target + ": " + at.string() + " is a symbolic link", "mounts");
    }
  }
  return Status::Ok();
}

struct Key {
  std::string ns, name;
  auto operator<=>(const Key&) const = default;
};

// How long an ended pod's state (and deleting its job) waits for its log to be copied.
constexpr auto kLogCopyTimeout = std::chrono::seconds(10);

// Copies one pod's log into a file while the pod runs: the follow stream is resumed after a
// break by reading the log again from its start and skipping what the file already has. Once the
// pod has ended the copy completes, or gives up when the pod and its log are gone.
class LogFollower {
 public:
  // `copied` is called once the copy has ended (from the follower's thread).
  // `state_path`: where the copy's progress is kept, so a restarted platform resumes it.
  LogFollower(std::shared_ptr<KubeClient> client, std::string log_path, std::string api_path, std::string state_path,
              int instance, std::function<void()> copied)
      : instance_(instance),
        thread_([this, client = std::move(client), log_path = std::move(log_path), api_path = std::move(api_path),
                 state_path = std::move(state_path), copied = std::move(copied)](std::stop_token stop) {
          Run(stop, *client, log_path, api_path, state_path);
          if (gone_) {
            std::error_code ec;
            fs::remove(state_path, ec);
          }
          {
            std::lock_guard lock(mutex_);
            copied_ = true;
          }
          copied_changed_.notify_all();
          if (copied) copied();
          done_ = true;
        }) {}
  ~LogFollower() { thread_.request_stop(); }
  // The pod has ended: finish the copy, then stop.
  void Finish() {
    {
      std::lock_guard lock(mutex_);
      if (!finished_at_) finished_at_ = std::chrono::steady_clock::now();
      finished_ = true;
    }
    changed_.notify_all();
  }
  // The pod is gone from the cluster: once the copy ends, its progress is forgotten.
  void Gone() {
    gone_ = true;
    Finish();
  }
  // The container's restart count: a restarted container's log starts afresh.
  void SetInstance(int restarts) {
    {
      std::lock_guard lock(mutex_);
      instance_ = restarts;
    }
    changed_.notify_all();
  }
  // Whether the pod's ended state may be shown: its log is copied, or the copy took too long.
  bool Settled() {
    std::lock_guard lock(mutex_);
    return copied_ || (finished_at_ && std::chrono::steady_clock::now() > *finished_at_ + kLogCopyTimeout);
  }
  // Whether the follower's thread has nothing left to do (it may be destroyed without waiting).
  bool Done() const { return done_; }
  // Waits until the copy has ended, at most until `deadline`.
  void WaitCopied(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    copied_changed_.wait_until(lock, deadline, [this] { return copied_; });
  }

 private:
  static constexpr int kAttemptsAfterTheEnd = 4;

  // The progress file: "<instance> <offset in the file where its log begins> [done]".
  struct Progress {
    int instance = -1;
    std::uint64_t start = 0;
    bool done = false;
  };
  static Progress ReadProgress(const std::string& path) {
    Progress p;
    std::ifstream in(path);
    std::string done;
    if (!(in >> p.instance >> p.start)) return {};
    p.done = (in >> done) && done == "done";
    return p;
  }
  static void WriteProgress(const std::string& path, const Progress& p) {
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    std::string tmp = path + ".tmp";
    std::ofstream(tmp, std::ios::trunc) << p.instance << ' ' << p.start << (p.done ? " done" : "") << '\n';
    fs::rename(tmp, path, ec);
  }

  void Run(std::stop_token stop, KubeClient& client, const std::string& log_path, const std::string& api_path,
           const std::string& state_path) {
    std::error_code ec;
    fs::create_directories(fs::path(log_path).parent_path(), ec);
    std::ofstream out(log_path, std::ios::app | std::ios::binary);
    auto file_size = [&] {
      std::error_code size_ec;
      auto size = fs::file_size(log_path, size_ec);
      return size_ec ? std::uint64_t{0} : static_cast<std::uint64_t>(size);
    };
    int copied_instance = Instance();
    Progress progress = ReadProgress(state_path);
    std::uint64_t copied = 0;
    if (progress.instance == copied_instance && progress.start <= file_size()) {
      if (progress.done) return;
      copied = file_size() - progress.start;  // what an earlier run of the platform copied
    } else {
      progress = {copied_instance, file_size(), false};
      WriteProgress(state_path, progress);
    }
    auto mark_done = [&] {
      progress.done = true;
      WriteProgress(state_path, progress);
    };
    auto backoff = std::chrono::milliseconds(200);
    int attempts_after_the_end = 0;
    while (!stop.stop_requested()) {
      std::uint64_t seen = 0;
      bool ended = finished_.load();
      Status streamed = client.Stream(api_path, "follow=true", [&](std::string_view chunk) {
        if (seen + chunk.size() > copied) {
          std::size_t skip = copied > seen ? copied - seen : 0;
          out.write(chunk.data() + skip, static_cast<std::streamsize>(chunk.size() - skip));
          out.flush();
          copied += chunk.size() - skip;
        }
        seen += chunk.size();
        return true;
      }, stop);
      if (streamed.ok() && (ended || finished_.load())) return mark_done();
      if (ended && (streamed.code() == Code::kNotFound || ++attempts_after_the_end >= kAttemptsAfterTheEnd)) return;
      if (streamed.ok()) {
        // The container ended: it restarts (its new log is copied from its start) or the pod ends.
        {
          std::unique_lock lock(mutex_);
          changed_.wait_for(lock, stop, kRestartWait, [&] { return instance_ != copied_instance || finished_; });
          if (instance_ != copied_instance) {
            copied = 0;
            copied_instance = instance_;
            out.flush();
            progress = {copied_instance, file_size(), false};
            WriteProgress(state_path, progress);
          }
        }
        backoff = std::chrono::milliseconds(200);
        continue;
      }
      std::mutex m;
      std::condition_variable_any cv;
      std::unique_lock lock(m);
      cv.wait_for(lock, stop, backoff, [] { return false; });
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
  int Instance() {
    std::lock_guard lock(mutex_);
    return instance_;
  }

  static constexpr auto kRestartWait = std::chrono::seconds(2);
  std::atomic<bool> finished_{false};
  std::atomic<bool> gone_{false};
  std::mutex mutex_;
  std::condition_variable copied_changed_;
  std::condition_variable_any changed_;  // instance_ or finished_
  int instance_ = 0;
  std::optional<std::chrono::steady_clock::time_point> finished_at_;
  bool copied_ = false;
  std::atomic<bool> done_{false};
  std::jthread thread_;  // last: it stops and joins before the members it uses go
};

class KubernetesBackend final : public ClusterBackend {
 public:
  KubernetesBackend(std::shared_ptr<KubeClient> client, KubernetesBackendOptions options)
      : client_(std::move(client)), options_(std::move(options)) {
    LoadRecords();
    watcher_ = std::jthread([this](std::stop_token stop) { WatchPods(stop); });
  }
  ~KubernetesBackend() override {
    watcher_.request_stop();
    if (watcher_.joinable()) watcher_.join();
    // Destroyed outside the lock: a follower's thread ends by notifying, which takes it.
    std::map<std::string, std::shared_ptr<LogFollower>> followers;
    std::vector<std::shared_ptr<LogFollower>> draining;
    {
      std::lock_guard lock(mutex_);
      followers.swap(followers_);
      draining.swap(draining_);
    }
  }

  std::string_view Name() const override { return "kubernetes"; }

  void SetObserver(std::function<void()> changed) override {
    std::lock_guard lock(mutex_);
    observer_ = std::move(changed);
  }

  Status Health() override {
    std::lock_guard lock(mutex_);
    return health_;
  }

  Capacity GetCapacity() override {
    Capacity capacity;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [uid, pod] : pods_) {
        if (Terminal(pod)) continue;
        const json::value* containers = At(pod, {"spec", "containers"});
        if (!containers || !containers->is_array()) continue;
        for (const auto& c : containers->as_array()) {
          const json::value* requests = At(c, {"resources", "requests"});
          if (!requests || !requests->is_object()) continue;
          capacity.in_use.cpu_milli += CpuMilli(Str(requests->as_object().if_contains("cpu")));
          capacity.in_use.memory_bytes += Bytes(Str(requests->as_object().if_contains("memory")));
        }
      }
      if (std::chrono::steady_clock::now() < nodes_read_at_ + std::chrono::seconds(30)) {
        capacity.total = nodes_total_;
        return capacity;
      }
    }
    Resources total;
    auto nodes = client_->Get("/api/v1/nodes");
    if (nodes) {
      if (const json::value* items = At(*nodes, {"items"}); items && items->is_array())
        for (const auto& node : items->as_array()) {
          const json::value* allocatable = At(node, {"status", "allocatable"});
          if (!allocatable || !allocatable->is_object()) continue;
          const auto& a = allocatable->as_object();
          total.cpu_milli += CpuMilli(Str(a.if_contains("cpu")));
          total.memory_bytes += Bytes(Str(a.if_contains("memory")));
          total.gpus += Bytes(Str(a.if_contains("nvidia.com/gpu")));
        }
    } else {
      spdlog::warn("kubernetes: the nodes' capacity could not be read: {}", nodes.error().message());
    }
    std::lock_guard lock(mutex_);
    if (nodes) {
      nodes_total_ = total;
      nodes_read_at_ = std::chrono::steady_clock::now();
    }
    capacity.total = nodes_total_;
    return capacity;
  }

  Status Submit(const JobRun& run) override {
    Key key{run.namespace_name, run.job};
    {
      std::lock_guard lock(mutex_);
      if (jobs_.contains(key)) return Status::Ok();
    }
    auto objects = JobObjects(run, options_.mapping);
    if (!objects) return objects.error();
    PC_RETURN_IF_ERROR(RefuseLinkedSources(run.mounts, options_.mapping.data_dir));
    PC_RETURN_IF_ERROR(EnsureNamespace(run.namespace_name));
    JobRecord record{.trainers = run.trainers, .pservers = run.pservers, .max_restarts = run.max_restarts,
                     .logs_dir = run.logs_dir};
    // Recorded last: a job whose objects were only partly created is completed by the next Submit.
    PC_RETURN_IF_ERROR(WriteCredentials(run.namespace_name, run.job, run.secret_env));
    for (const auto& object : *objects) PC_RETURN_IF_ERROR(CreateObject(run.namespace_name, object));
    std::lock_guard lock(mutex_);
    jobs_[key] = std::move(record);
    SaveJob(key);
    TrackPodsLabelled(run.namespace_name, kJobLabel, run.job);
    return Status::Ok();
  }

  Status Stop(const std::string& ns, const std::string& job, std::optional<PodRole> role,
              std::chrono::milliseconds grace) override {
    Key key{ns, job};
    std::vector<std::string> pods_to_delete;
    {
      std::lock_guard lock(mutex_);
      auto it = jobs_.find(key);
      if (it == jobs_.end()) return Status::NotFound("job " + job + " is unknown to the cluster backend");
      for (PodRole r : {PodRole::kTrainer, PodRole::kPserver})
        if (!role || *role == r) it->second.stopped_roles.insert(std::string(RoleName(r)));
      SaveJob(key);
      for (const auto& [uid, pod] : pods_)
        if (Str(At(pod, {"metadata", "namespace"})) == NamespaceOf(ns) && Label(pod, kJobLabel) == job &&
            (!role || Label(pod, kRoleLabel) == RoleName(*role)) && !Terminal(pod))
          pods_to_delete.push_back(Str(At(pod, {"metadata", "name"})));
    }
    std::string kns = NamespaceOf(ns);
    // The Job first, so that its controller makes no new pods; then each pod with the grace asked for.
    if (options_.mapping.job_kind == JobKind::kPaddleJob) {
      if (!role) PC_RETURN_IF_ERROR(IgnoreNotFound(client_->Delete(ObjectPath("kubeflow.org/v1", "PaddleJob", kns, job), std::nullopt, "Background")));
    } else {
      for (PodRole r : {PodRole::kTrainer, PodRole::kPserver})
        if (!role || *role == r)
          PC_RETURN_IF_ERROR(IgnoreNotFound(
              client_->Delete(ObjectPath("batch/v1", "Job", kns, RoleJobName(job, r)), std::nullopt, "Background")));
    }
    int grace_seconds = static_cast<int>((grace.count() + 999) / 1000);
    for (const auto& pod : pods_to_delete)
      PC_RETURN_IF_ERROR(IgnoreNotFound(client_->Delete(ObjectPath("v1", "Pod", kns, pod), grace_seconds, "Background")));
    Notify();
    return Status::Ok();
  }

  Result<std::vector<PodStatus>> GetPods(const std::string& ns, const std::string& job) override {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find({ns, job});
    if (it == jobs_.end()) return Err(Status::NotFound("job " + job + " is unknown to the cluster backend"));
    const JobRecord& record = it->second;
    std::map<std::string, const json::object*> newest;  // by platform pod name
    std::set<std::string> log_copying;                   // platform pod names whose log is being copied
    std::string kns = NamespaceOf(ns);
    for (const auto& [uid, pod] : pods_) {
      if (Str(At(pod, {"metadata", "namespace"})) != kns || Label(pod, kJobLabel) != job) continue;
      PodStatus s = JobPodStatus(pod, false);
      if (auto follower = followers_.find(uid); follower != followers_.end() && !follower->second->Settled())
        log_copying.insert(s.name);
      const json::object*& slot = newest[s.name];
      if (!slot || Str(At(*slot, {"metadata", "creationTimestamp"})) < Str(At(pod, {"metadata", "creationTimestamp"})))
        slot = &pod;
    }
    std::vector<PodStatus> out;
    for (PodRole role : {PodRole::kTrainer, PodRole::kPserver}) {
      int count = role == PodRole::kTrainer ? record.trainers : record.pservers;
      bool stopped = record.stopped_roles.contains(std::string(RoleName(role)));
      for (int i = 0; i < count; ++i) {
        std::string name = PodName(job, role, i);
        PodStatus s;
        if (auto live = newest.find(name); live != newest.end()) {
          s = JobPodStatus(*live->second, stopped);
          s.restarts += FailedEarlier(record, kns, job, name, Uid(*live->second));
          if (options_.mapping.job_kind == JobKind::kNative && s.phase == PodPhase::kFailed && !stopped &&
              s.restarts < record.max_restarts) {
            // Its index has retries left: the Job controller is about to replace it, as a restart.
            s.phase = PodPhase::kPending;
            s.reason = "Restarting";
            s.restarts += 1;
            s.finished_at.reset();
          }
          if (options_.mapping.job_kind == JobKind::kPaddleJob && s.phase == PodPhase::kRunning &&
              s.restarts > record.max_restarts) {
            // Restarted in place past the limit: the PaddleJob has failed, its pod restarts on
            // (cleanPodPolicy None keeps it for its log) until the job is deleted.
            s.phase = PodPhase::kFailed;
            s.reason = LastTerminationReason(*live->second);
            s.restarts = record.max_restarts;
          }
          if ((s.phase == PodPhase::kSucceeded || s.phase == PodPhase::kFailed) && log_copying.contains(name)) {
            // Shown ended once its log (its earlier attempts' too) is in the platform's storage.
            s.phase = PodPhase::kRunning;
            s.reason.clear();
            s.exit_code.reset();
            s.finished_at.reset();
          }
        } else if (auto ended = record.ended.find(name); ended != record.ended.end()) {
          s = ended->second;
          if (stopped && s.phase != PodPhase::kSucceeded) {
            s.phase = PodPhase::kFailed;
            s.reason = "Stopped";
          }
        } else {
          s = PodStatus{.name = name, .role = role, .index = i,
                        .phase = stopped ? PodPhase::kFailed : PodPhase::kPending,
                        .reason = stopped ? "Stopped" : "ContainerCreating"};
        }
        out.push_back(std::move(s));
      }
    }
    return out;
  }

  Result<JobUsage> GetUsage(const std::string& ns, const std::string& job) override {
    {
      std::lock_guard lock(mutex_);
      if (!jobs_.contains({ns, job})) return Err(Status::NotFound("job " + job + " is unknown to the cluster backend"));
    }
    return Usage(ns, std::string(kJobLabel) + "=" + job, [&](const json::object& pod) { return JobPodStatus(pod, false).name; });
  }

  Status Delete(const std::string& ns, const std::string& job) override {
    Key key{ns, job};
    std::string kns = NamespaceOf(ns);
    std::vector<std::shared_ptr<LogFollower>> copying;
    {
      std::lock_guard lock(mutex_);
      auto record = jobs_.find(key);
      if (record == jobs_.end()) return Status::NotFound("job " + job + " is unknown to the cluster backend");
      // Pods of a stopped role are being deleted already.
      for (const auto& [uid, pod] : pods_)
        if (Str(At(pod, {"metadata", "namespace"})) == kns && Label(pod, kJobLabel) == job && !Terminal(pod) &&
            !record->second.stopped_roles.contains(Label(pod, kRoleLabel)))
          return Status::Conflict("job " + job + " still has running pods");
      for (const auto& [uid, pod] : pods_)
        if (Str(At(pod, {"metadata", "namespace"})) == kns && Label(pod, kJobLabel) == job)
          if (auto follower = followers_.find(uid); follower != followers_.end()) copying.push_back(follower->second);
    }
    // The pods' logs are copied before the objects, and the pods with them, go.
    auto deadline = std::chrono::steady_clock::now() + kLogCopyTimeout;
    for (const auto& follower : copying) {
      follower->Finish();
      follower->WaitCopied(deadline);
    }
    if (options_.mapping.job_kind == JobKind::kPaddleJob) {
      PC_RETURN_IF_ERROR(IgnoreNotFound(client_->Delete(ObjectPath("kubeflow.org/v1", "PaddleJob", kns, job), std::nullopt, "Background")));
    } else {
      for (PodRole r : {PodRole::kTrainer, PodRole::kPserver})
        PC_RETURN_IF_ERROR(IgnoreNotFound(
            client_->Delete(ObjectPath("batch/v1", "Job", kns, RoleJobName(job, r)), std::nullopt, "Background")));
      PC_RETURN_IF_ERROR(IgnoreNotFound(client_->Delete(ObjectPath("v1", "Service", kns, job), std::nullopt, "Background")));
    }
    PC_RETURN_IF_ERROR(IgnoreNotFound(client_->Delete(ObjectPath("v1", "Secret", kns, CredentialsName(job)), std::nullopt, "")));
    std::lock_guard lock(mutex_);
    jobs_.erase(key);
    std::error_code ec;
    fs::remove(RecordPath("jobs", key), ec);
    return Status::Ok();
  }

  Status ApplyService(const ServiceRun& run) override {
    auto objects = ServiceObjects(run, options_.mapping);
    if (!objects) return objects.error();
    json::object without_replicas = (*objects)[0];
    without_replicas["spec"].as_object().erase("replicas");
    std::string spec = json::serialize(json::array{without_replicas, (*objects)[1]});
    Key key{run.namespace_name, run.name};
    {
      std::unique_lock lock(mutex_);
      if (auto it = services_.find(key); it != services_.end()) {
        if (it->second.spec != spec)
          return Status::Conflict("service " + run.name + " exists with another spec: delete it first");
        if (it->second.replicas == run.replicas) return Status::Ok();
        lock.unlock();
        return ScaleService(run.namespace_name, run.name, run.replicas);
      }
    }
    PC_RETURN_IF_ERROR(RefuseLinkedSources(run.mounts, options_.mapping.data_dir));
    PC_RETURN_IF_ERROR(EnsureNamespace(run.namespace_name));
    PC_RETURN_IF_ERROR(WriteCredentials(run.namespace_name, run.name, run.secret_env));
    for (const auto& object : *objects) PC_RETURN_IF_ERROR(CreateObject(run.namespace_name, object));
    std::lock_guard lock(mutex_);
    services_[key] = ServiceRecord{.spec = spec, .replicas = run.replicas, .port = run.port, .logs_dir = run.logs_dir};
    SaveService(key);
    TrackPodsLabelled(run.namespace_name, kServiceLabel, run.name);
    return Status::Ok();
  }

  Status ScaleService(const std::string& ns, const std::string& name, int replicas) override {
    Key key{ns, name};
    std::vector<std::string> leaving;
    {
      std::lock_guard lock(mutex_);
      if (!services_.contains(key)) return Status::NotFound("service " + name + " is unknown to the cluster backend");
      for (const auto& [uid, index] : replica_index_[key])
        if (index >= replicas)
          if (auto pod = pods_.find(uid); pod != pods_.end()) leaving.push_back(Str(At(pod->second, {"metadata", "name"})));
    }
    std::string kns = NamespaceOf(ns);
    // The replicas with the highest indexes go first: the ReplicaSet removes the cheapest pods first.
    for (const auto& pod : leaving)
      PC_RETURN_IF_ERROR(IgnoreNotFound(client_->MergePatch(
          ObjectPath("v1", "Pod", kns, pod),
          json::object{{"metadata", {{"annotations", {{"controller.kubernetes.io/pod-deletion-cost", "-1000"}}}}}})));
    auto scaled = client_->MergePatch(ObjectPath("apps/v1", "Deployment", kns, name) + "/scale",
                                      json::object{{"spec", {{"replicas", replicas}}}});
    if (!scaled) return scaled.error();
    std::lock_guard lock(mutex_);
    services_[key].replicas = replicas;
    SaveService(key);
    return Status::Ok();
  }

  Status DeleteService(const std::string& ns, const std::string& name, std::chrono::milliseconds grace) override {
    Key key{ns, name};
    std::string kns = NamespaceOf(ns);
    std::vector<std::string> pods;
    {
      std::lock_guard lock(mutex_);
      if (!services_.contains(key)) return Status::NotFound("service " + name + " is unknown to the cluster backend");
      for (const auto& [uid, pod] : pods_)
        if (Str(At(pod, {"metadata", "namespace"})) == kns && Label(pod, kServiceLabel) == name)
          pods.push_back(Str(At(pod, {"metadata", "name"})));
    }
    PC_RETURN_IF_ERROR(IgnoreNotFound(client_->Delete(ObjectPath("apps/v1", "Deployment", kns, name), std::nullopt, "Background")));
    PC_RETURN_IF_ERROR(IgnoreNotFound(client_->Delete(ObjectPath("v1", "Service", kns, name), std::nullopt, "Background")));
    PC_RETURN_IF_ERROR(IgnoreNotFound(client_->Delete(ObjectPath("v1", "Secret", kns, CredentialsName(name)), std::nullopt, "")));
    int grace_seconds = static_cast<int>((grace.count() + 999) / 1000);
    for (const auto& pod : pods)
      PC_RETURN_IF_ERROR(IgnoreNotFound(client_->Delete(ObjectPath("v1", "Pod", kns, pod), grace_seconds, "Background")));
    std::unique_lock lock(mutex_);
    bool gone = changed_.wait_for(lock, grace + std::chrono::seconds(5), [&] {
      return std::none_of(pods_.begin(), pods_.end(), [&](const auto& entry) {
        return Str(At(entry.second, {"metadata", "namespace"})) == kns && Label(entry.second, kServiceLabel) == name;
      });
    });
    if (!gone) return Status::Unavailable("the replicas of " + name + " are still stopping");
    services_.erase(key);
    replica_index_.erase(key);
    std::error_code ec;
    fs::remove(RecordPath("services", key), ec);
    return Status::Ok();
  }

  Result<std::vector<ReplicaStatus>> GetReplicas(const std::string& ns, const std::string& name) override {
    std::lock_guard lock(mutex_);
    Key key{ns, name};
    auto it = services_.find(key);
    if (it == services_.end()) return Err(Status::NotFound("service " + name + " is unknown to the cluster backend"));
    std::vector<ReplicaStatus> out;
    for (const auto& [uid, index] : replica_index_[key]) {
      auto pod = pods_.find(uid);
      if (pod == pods_.end()) continue;
      ReplicaStatus s = ReplicaPodStatus(pod->second, it->second.port);
      s.index = index;
      s.name = ReplicaName(name, index);
      if (!it->second.logs_dir.empty()) s.log_path = (fs::path(it->second.logs_dir) / (s.name + ".log")).string();
      out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    return out;
  }

  Result<JobUsage> GetServiceUsage(const std::string& ns, const std::string& name) override {
    Key key{ns, name};
    {
      std::lock_guard lock(mutex_);
      if (!services_.contains(key)) return Err(Status::NotFound("service " + name + " is unknown to the cluster backend"));
    }
    return Usage(ns, std::string(kServiceLabel) + "=" + name, [&](const json::object& pod) {
      std::lock_guard lock(mutex_);
      auto index = replica_index_[key].find(Uid(pod));
      return index == replica_index_[key].end() ? std::string(Str(At(pod, {"metadata", "name"})))
                                                : ReplicaName(name, index->second);
    });
  }

 private:
  static Status IgnoreNotFound(const Result<json::value>& r) {
    if (r || r.error().code() == Code::kNotFound) return Status::Ok();
    return r.error();
  }

  // A create retried twice over a server error or a lost connection (it is idempotent here).
  Result<json::value> Create(const json::object& object) {
    auto created = client_->Create(CollectionPath(object), object);
    for (auto pause = std::chrono::milliseconds(100);
         !created && created.error().code() == Code::kUnavailable && pause <= std::chrono::milliseconds(200); pause *= 2) {
      std::this_thread::sleep_for(pause);
      created = client_->Create(CollectionPath(object), object);
    }
    return created;
  }

  // Creates `object`; one that exists is left as it is. A namespace deleted by hand is made again.
  Status CreateObject(const std::string& account, const json::object& object) {
    auto created = Create(object);
    if (created || KubeReason(created.error()) == "AlreadyExists") return Status::Ok();
    if (created.error().code() == Code::kNotFound) {
      {
        std::lock_guard lock(mutex_);
        ensured_.erase(account);
      }
      PC_RETURN_IF_ERROR(EnsureNamespace(account));
      created = Create(object);
      if (created || KubeReason(created.error()) == "AlreadyExists") return Status::Ok();
    }
    return created.error();
  }

  // A workload's Secret of credentials, written before the objects whose pods refer to it; one left
  // from an earlier run of the same name (a notebook started again) is replaced.
  Status WriteCredentials(const std::string& account, const std::string& workload,
                          const std::map<std::string, std::string>& secret_env) {
    auto secret = CredentialsSecret(account, workload, secret_env);
    if (!secret) return Status::Ok();
    auto created = Create(*secret);
    if (created) return Status::Ok();
    if (KubeReason(created.error()) != "AlreadyExists") return created.error();
    auto replaced = client_->Replace(ObjectPath(*secret), *secret);
    return replaced ? Status::Ok() : replaced.error();
  }

  // The account's namespace and its objects, once per run of the platform (the quota every time
  // it changed).
  Status EnsureNamespace(const std::string& account) {
    NamespaceQuota quota = options_.quota_of ? options_.quota_of(account) : NamespaceQuota{};
    std::string quota_key = std::to_string(quota.cpu_milli.value_or(-1)) + "/" +
                            std::to_string(quota.memory_bytes.value_or(-1)) + "/" + std::to_string(quota.gpus.value_or(-1));
    {
      std::lock_guard lock(mutex_);
      if (auto it = ensured_.find(account); it != ensured_.end() && it->second == quota_key) return Status::Ok();
    }
    for (const auto& object : AccountObjects(account, quota, options_.mapping)) {
      auto created = Create(object);
      if (created) continue;
      if (KubeReason(created.error()) != "AlreadyExists") return created.error();
      if (Str(object.if_contains("kind")) == "PersistentVolume") {
        // Released by a claim deleted with its namespace: free it for the claim made again.
        auto freed = client_->MergePatch(ObjectPath(object), json::object{{"spec", {{"claimRef", {{"uid", nullptr}, {"resourceVersion", nullptr}}}}}});
        if (!freed) return freed.error();
      }
      if (Str(object.if_contains("kind")) == "ResourceQuota") {
        auto patched = client_->MergePatch(ObjectPath(object), json::object{{"spec", object.at("spec")}});
        if (!patched) return patched.error();
      }
    }
    std::lock_guard lock(mutex_);
    ensured_[account] = quota_key;
    return Status::Ok();
  }

  // Earlier pods of the same index that failed and were replaced (each is a restart).
  int FailedEarlier(const JobRecord& record, const std::string& kns, const std::string& job, const std::string& name,
                    const std::string& current_uid) const {
    int failed = 0;
    for (const auto& [uid, pod] : pods_)
      if (uid != current_uid && Str(At(pod, {"metadata", "namespace"})) == kns && Label(pod, kJobLabel) == job &&
          PodPhaseOf(pod) == "Failed" && JobPodStatus(pod, false).name == name)
        ++failed;
    auto it = record.failed_pods.find(name);
    return failed + (it == record.failed_pods.end() ? 0 : it->second);
  }

  Result<JobUsage> Usage(const std::string& ns, const std::string& selector,
                         const std::function<std::string(const json::object&)>& name_of) {
    JobUsage usage;
    usage.at_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
    usage.network_not_measured = "the pods use the cluster's network, which the platform does not measure per job";
    std::vector<json::object> running;
    {
      std::lock_guard lock(mutex_);
      for (const auto& [uid, pod] : pods_)
        if (Str(At(pod, {"metadata", "namespace"})) == NamespaceOf(ns) && PodPhaseOf(pod) == "Running") {
          auto eq = selector.find('=');
          if (Label(pod, selector.substr(0, eq)) == selector.substr(eq + 1)) running.push_back(pod);
        }
    }
    std::map<std::string, json::object> metrics;  // pod name → PodMetrics
    std::string not_measured;
    auto read = client_->Get("/apis/metrics.k8s.io/v1beta1/namespaces/" + NamespaceOf(ns) + "/pods",
                             QueryString({{"labelSelector", selector}}));
    if (read) {
      if (const json::value* items = At(*read, {"items"}); items && items->is_array())
        for (const auto& item : items->as_array())
          if (item.is_object()) metrics[Str(At(item, {"metadata", "name"}))] = item.as_object();
    } else {
      not_measured = "cpu, memory: the cluster serves no metrics.k8s.io (is metrics-server installed?)";
    }
    for (const auto& pod : running) {
      PodUsage u;
      u.name = name_of(pod);
      auto m = metrics.find(Str(At(pod, {"metadata", "name"})));
      if (m == metrics.end()) {
        u.not_measured = not_measured.empty() ? "cpu, memory: metrics-server has no sample of this pod yet" : not_measured;
      } else {
        std::int64_t cpu_milli = 0, memory = 0;
        if (const json::value* containers = At(m->second, {"containers"}); containers && containers->is_array())
          for (const auto& c : containers->as_array()) {
            cpu_milli += CpuMilli(Str(At(c, {"usage", "cpu"})));
            memory += Bytes(Str(At(c, {"usage", "memory"})));
          }
        u.memory_working_set_bytes = static_cast<std::uint64_t>(memory);
        u.cpu_ns = IntegrateCpu(Uid(pod), cpu_milli);
        u.not_measured = "disk: not reported by metrics.k8s.io";
      }
      usage.pods.push_back(std::move(u));
    }
    return usage;
  }

  // metrics.k8s.io reports a rate; the port wants a counter: the rate times the time since the last read.
  std::uint64_t IntegrateCpu(const std::string& uid, std::int64_t cpu_milli) {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    auto& [total, at] = cpu_counters_[uid];
    if (at != std::chrono::steady_clock::time_point{}) {
      double seconds = std::min(60.0, std::chrono::duration<double>(now - at).count());
      total += static_cast<std::uint64_t>(static_cast<double>(cpu_milli) * 1e6 * seconds);
    }
    at = now;
    return total;
  }

  // ---- the pod watch ------------------------------------------------------------------------

  void WatchPods(std::stop_token stop) {
    const std::string selector = QueryString({{"labelSelector", std::string(kManagedBy) + "=paddlecloud"}});
    auto backoff = std::chrono::milliseconds(100);
    std::string resource_version;
    while (!stop.stop_requested()) {
      Status status = Status::Ok();
      if (resource_version.empty()) {
        auto listed = client_->Get("/api/v1/pods", selector);
        if (listed) {
          resource_version = Str(At(*listed, {"metadata", "resourceVersion"}));
          std::map<std::string, json::object> fresh;
          if (const json::value* items = At(*listed, {"items"}); items && items->is_array())
            for (const auto& item : items->as_array())
              if (item.is_object()) fresh[Uid(item.as_object())] = item.as_object();
          Replace(std::move(fresh));
          SetHealth(Status::Ok());
          backoff = std::chrono::milliseconds(100);
        } else {
          status = listed.error();
        }
      }
      if (status.ok()) {
        status = client_->Watch(
            "/api/v1/pods",
            selector + "&" + QueryString({{"resourceVersion", resource_version}, {"allowWatchBookmarks", "true"},
                                          {"timeoutSeconds", "300"}}),
            [&](std::string_view type, json::value& object) {
              if (!object.is_object()) return true;
              std::string rv = Str(At(object, {"metadata", "resourceVersion"}));
              if (!rv.empty()) resource_version = rv;
              if (type == "BOOKMARK") return true;
              Apply(type, std::move(object.as_object()));
              return true;
            },
            stop);
        if (status.ok()) backoff = std::chrono::milliseconds(100);
      }
      if (stop.stop_requested()) break;
      if (!status.ok()) {
        if (IsGone(status)) {
          resource_version.clear();  // the history we had is gone: list again
          continue;
        }
        resource_version.clear();
        SetHealth(Status::Unavailable("the Kubernetes API server cannot be watched: " + status.message()));
        spdlog::warn("kubernetes: watching pods failed (again in {} ms): {}", backoff.count(), status.message());
        std::mutex m;
        std::condition_variable_any cv;
        std::unique_lock lock(m);
        cv.wait_for(lock, stop, backoff, [] { return false; });
        backoff = std::min(backoff * 2, options_.max_backoff);
      }
    }
  }

  // A change of health wakes the observer: jobs waiting for the cluster are admitted when it is back.
  void SetHealth(Status status) {
    {
      std::lock_guard lock(mutex_);
      if (health_.ok() == status.ok() && health_.message() == status.message()) return;
      health_ = std::move(status);
    }
    Notify();
  }

  void Replace(std::map<std::string, json::object> fresh) {
    std::vector<std::pair<std::string, json::object>> gone;
    {
      std::lock_guard lock(mutex_);
      for (auto& [uid, pod] : pods_)
        if (!fresh.contains(uid)) gone.emplace_back(uid, pod);
    }
    for (auto& [uid, pod] : gone) Apply("DELETED", std::move(pod));
    for (auto& [uid, pod] : fresh) Apply("MODIFIED", std::move(pod));
  }

  void Apply(std::string_view type, json::object pod) {
    std::string uid = Uid(pod);
    std::function<void()> observer;
    {
      std::lock_guard lock(mutex_);
      if (type == "DELETED") {
        Forget(uid, pod);
      } else {
        pods_[uid] = pod;
        Track(uid, pod);
      }
      observer = observer_;
    }
    changed_.notify_all();
    if (observer) observer();
  }

  void Notify() {
    std::function<void()> observer;
    {
      std::lock_guard lock(mutex_);
      observer = observer_;
    }
    if (observer) observer();
  }

  // A pod seen (again): its replica index, its log copy.
  void Track(const std::string& uid, const json::object& pod) {
    std::string ns = AccountOf(Str(At(pod, {"metadata", "namespace"})));
    std::string logs_dir, log_name;
    bool past_limit = false;
    if (std::string service = Label(pod, kServiceLabel); !service.empty()) {
      Key key{ns, service};
      auto record = services_.find(key);
      if (record == services_.end()) return;
      auto& indexes = replica_index_[key];
      if (!indexes.contains(uid)) {
        std::set<int> taken;
        for (const auto& [other, index] : indexes) taken.insert(index);
        int index = 0;
        while (taken.contains(index)) ++index;
        indexes[uid] = index;
      }
      logs_dir = record->second.logs_dir;
      log_name = ReplicaName(service, indexes[uid]);
    } else if (std::string job = Label(pod, kJobLabel); !job.empty()) {
      auto record = jobs_.find({ns, job});
      if (record == jobs_.end()) return;
      logs_dir = record->second.logs_dir;
      // A PaddleJob's pod restarted in place past the job's limit is no attempt of the job's.
      past_limit = options_.mapping.job_kind == JobKind::kPaddleJob && Restarts(pod) > record->second.max_restarts;
      log_name = JobPodStatus(pod, false).name;
    }
    if (logs_dir.empty() || PodPhaseOf(pod) == "Pending" || PodPhaseOf(pod).empty()) return;
    auto follower = followers_.find(uid);
    if (follower == followers_.end()) {
      std::string api_path = ObjectPath("v1", "Pod", Str(At(pod, {"metadata", "namespace"})),
                                        Str(At(pod, {"metadata", "name"}))) + "/log";
      follower = followers_.emplace(uid, std::make_shared<LogFollower>(
                                             client_, (fs::path(logs_dir) / (log_name + ".log")).string(), api_path,
                                             (fs::path(options_.state_dir) / "logs" / uid).string(),
                                             past_limit ? jobs_.at({ns, Label(pod, kJobLabel)}).max_restarts : Restarts(pod),
                                             [this] { Notify(); })).first;
    }
    if (!past_limit) follower->second->SetInstance(Restarts(pod));
    if (Terminal(pod) || past_limit) follower->second->Finish();
  }

  // Pods the watch showed before their job's or service's record existed get their log copies now.
  void TrackPodsLabelled(const std::string& ns, std::string_view label, const std::string& value) {
    std::string kns = NamespaceOf(ns);
    for (const auto& [uid, pod] : pods_)
      if (Str(At(pod, {"metadata", "namespace"})) == kns && Label(pod, label) == value) Track(uid, pod);
  }

  // A pod gone from the cluster: a job pod's last status is kept.
  void Forget(const std::string& uid, const json::object& deleted) {
    auto it = pods_.find(uid);
    json::object pod = it != pods_.end() ? std::move(it->second) : deleted;
    if (it != pods_.end()) pods_.erase(it);
    if (auto follower = followers_.find(uid); follower != followers_.end()) {
      follower->second->Gone();
      std::erase_if(draining_, [](const auto& f) { return f->Done(); });
      draining_.push_back(std::move(follower->second));
      followers_.erase(follower);
    }
    cpu_counters_.erase(uid);
    std::string ns = AccountOf(Str(At(pod, {"metadata", "namespace"})));
    if (std::string service = Label(pod, kServiceLabel); !service.empty()) {
      replica_index_[{ns, service}].erase(uid);
      return;
    }
    std::string job = Label(pod, kJobLabel);
    auto record = jobs_.find({ns, job});
    if (job.empty() || record == jobs_.end()) return;
    bool stopped = record->second.stopped_roles.contains(Label(pod, kRoleLabel));
    PodStatus s = JobPodStatus(pod, stopped);
    if (!stopped && s.phase != PodPhase::kSucceeded && s.phase != PodPhase::kFailed) {
      // Deleted under the platform while it ran: it failed.
      s.phase = PodPhase::kFailed;
      s.reason = "Deleted";
    }
    auto& ended = record->second.ended;
    if (auto previous = ended.find(s.name); previous != ended.end() && previous->second.phase == PodPhase::kFailed)
      ++record->second.failed_pods[s.name];
    ended[s.name] = s;
    SaveJob({ns, job});
  }

  // ---- records ------------------------------------------------------------------------------

  fs::path RecordPath(std::string_view kind, const Key& key) const {
    return fs::path(options_.state_dir) / kind / key.ns / (key.name + ".json");
  }

  void SaveJob(const Key& key) {
    const JobRecord& r = jobs_.at(key);
    json::object o{{"trainers", r.trainers}, {"pservers", r.pservers}, {"max_restarts", r.max_restarts},
                   {"logs_dir", r.logs_dir}};
    json::array stopped, ended;
    for (const auto& role : r.stopped_roles) stopped.push_back(json::value(role));
    for (const auto& [name, s] : r.ended) ended.push_back(PodStatusJson(s));
    json::object failed;
    for (const auto& [name, n] : r.failed_pods) failed[name] = n;
    o["stopped_roles"] = std::move(stopped);
    o["ended"] = std::move(ended);
    o["failed_pods"] = std::move(failed);
    Write(RecordPath("jobs", key), json::serialize(o));
  }

  void SaveService(const Key& key) {
    const ServiceRecord& r = services_.at(key);
    Write(RecordPath("services", key), json::serialize(json::object{
                                           {"spec", r.spec}, {"replicas", r.replicas}, {"port", r.port}, {"logs_dir", r.logs_dir}}));
  }

  static void Write(const fs::path& path, const std::string& text) {
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    Status written = fsutil::WriteFileAtomic(path.string(), text);
    if (!written.ok()) spdlog::error("kubernetes: {} was not saved: {}", path.string(), written.message());
  }

  void LoadRecords() {
    std::error_code ec;
    for (std::string_view kind : {"jobs", "services"}) {
      fs::path root = fs::path(options_.state_dir) / kind;
      for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file() || it->path().extension() != ".json") continue;
        std::ifstream in(it->path());
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        boost::system::error_code parse_error;
        json::value v = json::parse(text, parse_error);
        if (parse_error || !v.is_object()) continue;
        const json::object& o = v.as_object();
        Key key{it->path().parent_path().filename().string(), it->path().stem().string()};
        if (kind == "jobs") {
          JobRecord r{.trainers = static_cast<int>(o.at("trainers").to_number<std::int64_t>()),
                      .pservers = static_cast<int>(o.at("pservers").to_number<std::int64_t>()),
                      .max_restarts = o.contains("max_restarts") ? static_cast<int>(o.at("max_restarts").to_number<std::int64_t>()) : 0,
                      .logs_dir = Str(o.if_contains("logs_dir"))};
          for (const auto& role : o.at("stopped_roles").as_array()) r.stopped_roles.insert(Str(&role));
          for (const auto& s : o.at("ended").as_array()) {
            PodStatus status = PodStatusFromJson(s.as_object());
            r.ended[status.name] = status;
          }
          for (const auto& [name, n] : o.at("failed_pods").as_object()) r.failed_pods[name] = static_cast<int>(n.to_number<std::int64_t>());
          jobs_[key] = std::move(r);
        } else {
          services_[key] = ServiceRecord{.spec = Str(o.if_contains("spec")),
                                         .replicas = static_cast<int>(o.at("replicas").to_number<std::int64_t>()),
                                         .port = static_cast<int>(o.at("port").to_number<std::int64_t>()),
                                         .logs_dir = Str(o.if_contains("logs_dir"))};
        }
      }
    }
  }

  std::shared_ptr<KubeClient> client_;
  KubernetesBackendOptions options_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::function<void()> observer_;
  Status health_ = Status::Unavailable("the Kubernetes API server has not been reached yet");
  std::map<std::string, json::object> pods_;  // by uid
  std::map<Key, JobRecord> jobs_;
  std::map<Key, ServiceRecord> services_;
  std::map<Key, std::map<std::string, int>> replica_index_;  // service → pod uid → replica index
  std::map<std::string, std::shared_ptr<LogFollower>> followers_;  // by pod uid
  std::vector<std::shared_ptr<LogFollower>> draining_;  // of pods gone, finishing their copies
  std::map<std::string, std::pair<std::uint64_t, std::chrono::steady_clock::time_point>> cpu_counters_;
  std::map<std::string, std::string> ensured_;  // account → the quota its namespace was given
  Resources nodes_total_;
  std::chrono::steady_clock::time_point nodes_read_at_;
  std::jthread watcher_;
};

}  // namespace

Result<std::unique_ptr<ClusterBackend>> MakeKubernetesBackend(std::shared_ptr<KubeClient> client,
                                                              KubernetesBackendOptions options) {
  std::error_code ec;
  fs::create_directories(options.state_dir, ec);
  if (ec) return Err(Status::InvalidArgument("state dir " + options.state_dir + ": " + ec.message(), "data_dir"));
  return std::unique_ptr<ClusterBackend>(std::make_unique<KubernetesBackend>(std::move(client), std::move(options)));
}

}  // namespace paddlecloud::cluster::kubernetes
