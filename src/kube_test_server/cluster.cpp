// The simulated one-node cluster: garbage collector, Job and Deployment controllers, scheduler and a
// kubelet that runs each pod's container as a real process under bwrap.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <tuple>

#include "common/base64.h"
#include "kube_test_server/impl.h"

namespace paddlecloud::kube_test {
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

namespace {

std::string NameOf(const json::object& o) { return StringAt(o, {"metadata", "name"}); }
std::string NsOf(const json::object& o) { return StringAt(o, {"metadata", "namespace"}); }
std::string UidOf(const json::object& o) { return StringAt(o, {"metadata", "uid"}); }
bool Deleting(const json::object& o) { return Find(o, {"metadata", "deletionTimestamp"}) != nullptr; }
bool PodTerminal(const json::object& pod) {
  std::string phase = StringAt(pod, {"status", "phase"});
  return phase == "Succeeded" || phase == "Failed";
}
bool PodReady(const json::object& pod) {
  const json::value* conds = Find(pod, {"status", "conditions"});
  if (conds == nullptr || !conds->is_array()) return false;
  for (const auto& c : conds->as_array()) {
    if (StringAt(c, {"type"}) == "Ready") return StringAt(c, {"status"}) == "True";
  }
  return false;
}
// The ReplicaSet controller's order of pods to remove on a scale-down, first to go first: unscheduled,
// then Pending before Running, not ready before ready, lower controller.kubernetes.io/pod-deletion-cost,
// more container restarts, newer. (The real one also weighs pods doubled up on a node and how long
// they have been ready; with one node and no recorded ready time, those do not separate pods here.)
std::tuple<bool, int, bool, std::int64_t, std::int64_t, std::int64_t> DeletionRank(const json::object& pod, std::int64_t created) {
  std::string phase = StringAt(pod, {"status", "phase"});
  std::int64_t cost = 0;
  std::string annotated = StringAt(pod, {"metadata", "annotations", "controller.kubernetes.io/pod-deletion-cost"});
  if (!annotated.empty()) std::from_chars(annotated.data(), annotated.data() + annotated.size(), cost);
  std::int64_t restarts = 0;
  if (const json::value* cs = Find(pod, {"status", "containerStatuses"}); cs && cs->is_array())
    for (const auto& c : cs->as_array()) restarts += IntAt(c, {"restartCount"}, 0);
  return {!StringAt(pod, {"spec", "nodeName"}).empty(), phase == "Pending" ? 0 : phase == "Running" ? 2 : 1,
          PodReady(pod), cost, -restarts, -created};
}
bool OwnedBy(const json::object& o, const std::string& uid) {
  const json::value* refs = Find(o, {"metadata", "ownerReferences"});
  if (refs == nullptr || !refs->is_array()) return false;
  for (const auto& ref : refs->as_array()) {
    if (StringAt(ref, {"uid"}) == uid) return true;
  }
  return false;
}

struct Demand {
  std::int64_t cpu = 0, memory = 0, gpu = 0;
};
Demand PodDemand(const json::object& pod) {
  Demand d;
  const json::value* containers = Find(pod, {"spec", "containers"});
  if (containers == nullptr || !containers->is_array()) return d;
  for (const auto& c : containers->as_array()) {
    auto amount = [&](const char* name, bool milli) -> std::int64_t {
      for (const char* kind : {"requests", "limits"}) {
        const json::value* q = Find(c, {"resources", kind, name});
        if (q != nullptr) return (milli ? QuantityMilli(*q) : QuantityUnits(*q)).value_or(0);
      }
      return 0;
    };
    d.cpu += amount("cpu", true);
    d.memory += amount("memory", false);
    d.gpu += amount("nvidia.com/gpu", false);
  }
  return d;
}

std::string Ranges(const std::set<std::int64_t>& indexes) {
  std::string out;
  for (auto it = indexes.begin(); it != indexes.end();) {
    std::int64_t start = *it, end = *it;
    auto next = std::next(it);
    while (next != indexes.end() && *next == end + 1) {
      end = *next;
      ++next;
    }
    if (!out.empty()) out += ",";
    out += start == end ? std::to_string(start) : std::to_string(start) + "-" + std::to_string(end);
    it = next;
  }
  return out;
}

json::object Condition(const std::string& type, bool status, const std::string& reason = "",
                       const std::string& message = "") {
  json::object c{{"type", type}, {"status", status ? "True" : "False"}, {"lastTransitionTime", NowRfc3339()}};
  if (!reason.empty()) c["reason"] = reason;
  if (!message.empty()) c["message"] = message;
  return c;
}

// Replaces or adds a condition, keeping lastTransitionTime when nothing but the time differs.
void SetCondition(json::object& status, json::object condition) {
  json::array& conds = [&]() -> json::array& {
    json::value& v = status["conditions"];
    if (!v.is_array()) v = json::array();
    return v.as_array();
  }();
  for (auto& existing : conds) {
    if (StringAt(existing, {"type"}) != StringAt(condition, {"type"})) continue;
    json::object a = existing.as_object(), b = condition;
    a.erase("lastTransitionTime");
    a.erase("lastProbeTime");
    b.erase("lastTransitionTime");
    b.erase("lastProbeTime");
    if (a == b) return;
    if (StringAt(existing, {"status"}) == StringAt(condition, {"status"})) {
      if (auto t = existing.as_object().if_contains("lastTransitionTime")) condition["lastTransitionTime"] = *t;
    }
    existing = std::move(condition);
    return;
  }
  conds.push_back(std::move(condition));
}

bool HasTrueCondition(const json::object& o, const std::string& type) {
  const json::value* conds = Find(o, {"status", "conditions"});
  if (conds == nullptr || !conds->is_array()) return false;
  for (const auto& c : conds->as_array()) {
    if (StringAt(c, {"type"}) == type && StringAt(c, {"status"}) == "True") return true;
  }
  return false;
}

std::string TemplateHash(const json::value& tmpl) {
  std::uint64_t h = 1469598103934665603ULL;
  for (char c : json::serialize(tmpl)) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  static constexpr std::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
  std::string out;
  for (int i = 0; i < 10; ++i) {
    out += kAlphabet[h % kAlphabet.size()];
    h /= kAlphabet.size();
  }
  return out;
}

// Expands $(VAR) from `env`; $$ escapes; unknown references stay as written (as Kubernetes does).
std::string Expand(const std::string& s, const std::map<std::string, std::string>& env) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '$') {
      out += '$';
      ++i;
    } else if (s[i] == '$' && i + 1 < s.size() && s[i + 1] == '(') {
      auto close = s.find(')', i + 2);
      if (close == std::string::npos) {
        out += s.substr(i);
        break;
      }
      std::string name = s.substr(i + 2, close - i - 2);
      auto it = env.find(name);
      out += it != env.end() ? it->second : s.substr(i, close - i + 1);
      i = close;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string FieldRef(const json::object& pod, const std::string& path, const std::string& ip) {
  json::value p(pod);
  if (path == "metadata.name") return NameOf(pod);
  if (path == "metadata.namespace") return NsOf(pod);
  if (path == "metadata.uid") return UidOf(pod);
  if (path == "status.podIP") return ip;
  if (path == "status.hostIP") return "127.0.0.1";
  if (path == "spec.nodeName") return StringAt(p, {"spec", "nodeName"});
  if (path == "spec.serviceAccountName") return StringAt(p, {"spec", "serviceAccountName"});
  for (const char* map : {"labels", "annotations"}) {
    std::string prefix = std::string("metadata.") + map + "['";
    if (path.starts_with(prefix) && path.ends_with("']")) {
      std::string key = path.substr(prefix.size(), path.size() - prefix.size() - 2);
      return StringAt(p, {"metadata", map, key});
    }
  }
  return "";
}

// `headers`: "Name: value\r\n" lines (the probe's httpHeaders).
bool HttpProbe(const std::string& host, int port, const std::string& path, const std::string& headers, int timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = false;
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) == 1) {
    int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    pollfd pfd{fd, POLLOUT, 0};
    if (rc == 0 || (errno == EINPROGRESS && ::poll(&pfd, 1, timeout_ms) == 1)) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err == 0) {
        std::string request = "GET " + (path.empty() ? "/" : path) + " HTTP/1.0\r\nHost: " + host + "\r\nUser-Agent: kube-probe/1.30\r\n" + headers + "\r\n";
        if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
          std::string reply;
          auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
          while (reply.find("\r\n") == std::string::npos && Clock::now() < deadline) {
            pollfd in{fd, POLLIN, 0};
            int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
            if (::poll(&in, 1, std::max(left, 1)) != 1) break;
            char buf[512];
            ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) break;
            reply.append(buf, static_cast<std::size_t>(n));
          }
          auto space = reply.find(' ');
          if (reply.starts_with("HTTP/") && space != std::string::npos) {
            int code = std::atoi(reply.c_str() + space + 1);
            ok = code >= 200 && code < 400;
          }
        }
      }
    }
  }
  ::close(fd);
  return ok;
}

std::vector<pid_t> ChildrenOf(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/children");
  std::vector<pid_t> out;
  pid_t child;
  while (in >> child) out.push_back(child);
  return out;
}

// The sandbox is bwrap -> bwrap's reaper (pid 1 of the pod's PID namespace) -> the container's
// command. SIGTERM goes to the command: bwrap and its reaper would not pass it on. Killing bwrap
// (SIGKILL to its group) ends the whole PID namespace, daemons included.
void TerminateContainer(pid_t bwrap_pid) {
  bool sent = false;
  for (pid_t reaper : ChildrenOf(bwrap_pid)) {
    for (pid_t command : ChildrenOf(reaper)) {
      ::kill(command, SIGTERM);
      sent = true;
    }
  }
  if (!sent) ::kill(-bwrap_pid, SIGTERM);
}

std::tuple<std::string, std::string, std::string, std::string> SplitKey(const std::string& key) {
  std::string parts[4];
  std::size_t start = 0;
  for (int i = 0; i < 3; ++i) {
    auto bar = key.find('|', start);
    parts[i] = key.substr(start, bar - start);
    start = bar + 1;
  }
  parts[3] = key.substr(start);
  return {parts[0], parts[1], parts[2], parts[3]};
}

const ResourceInfo* ResourceOfKey(const std::string& key) {
  auto [group, plural, ns, name] = SplitKey(key);
  return FindResourceByPlural(plural);
}

}  // namespace

// ---------------------------------------------------------------------------------------------

void KubernetesTestApiServer::Impl::ClusterLoop() {
  std::unique_lock<std::mutex> lock(mu);
  while (!stopping) {
    std::vector<std::function<void()>> after;
    TickLocked(&after);
    if (!after.empty()) {
      lock.unlock();
      for (auto& f : after) f();
      lock.lock();
    }
    cv.wait_for(lock, std::chrono::milliseconds(20));
  }
}

void KubernetesTestApiServer::Impl::TickLocked(std::vector<std::function<void()>>* after_unlock) {
  GarbageCollectLocked();
  JobControllerLocked();
  DeploymentControllerLocked();
  PaddleJobControllerLocked();
  SchedulerLocked();
  KubeletLocked(after_unlock);
  QuotaStatusLocked();
}

void KubernetesTestApiServer::Impl::GarbageCollectLocked() {
  std::set<std::string> uids;
  for (const auto& [key, o] : objects) uids.insert(UidOf(o));
  std::vector<std::string> keys;
  for (const auto& [key, o] : objects) keys.push_back(key);
  const ResourceInfo& ns_res = *FindResource("", "v1", "namespaces");
  for (const auto& key : keys) {
    auto it = objects.find(key);
    if (it == objects.end()) continue;
    const ResourceInfo* r = ResourceOfKey(key);
    if (r == nullptr) continue;
    json::object o = it->second;
    std::string ns = NsOf(o), name = NameOf(o);
    // Dependents whose owners are all gone.
    const json::value* refs = Find(o, {"metadata", "ownerReferences"});
    if (refs != nullptr && refs->is_array() && !refs->as_array().empty() && !Deleting(o)) {
      bool any_owner = false;
      for (const auto& ref : refs->as_array()) any_owner = any_owner || uids.contains(StringAt(ref, {"uid"}));
      if (!any_owner) {
        (void)DeleteLocked(*r, ns, name, -1, "Background", {});
        continue;
      }
    }
    // Foreground deletion finishes once no dependents remain.
    if (Deleting(o) && r->plural != "pods" && r->plural != "namespaces") {
      std::string uid = UidOf(o);
      bool has_dependents = false;
      for (const auto& [k2, o2] : objects) has_dependents = has_dependents || OwnedBy(o2, uid);
      if (!has_dependents) {
        json::object copy = o;
        auto& meta = copy["metadata"].as_object();
        if (auto f = meta.if_contains("finalizers"); f && f->is_array()) {
          json::array kept;
          for (auto& v : f->as_array()) {
            if (!(v.is_string() && v.as_string() == "foregroundDeletion")) kept.push_back(v);
          }
          if (kept.empty()) {
            RemoveLocked(*r, ns, name);
          } else if (kept.size() != f->as_array().size()) {
            meta["finalizers"] = std::move(kept);
            WriteLocked(*r, copy);
          }
        }
      }
    }
    // Namespaces being deleted: delete their content, then themselves.
    if (r == &ns_res && Deleting(o)) {
      bool empty = true;
      std::vector<std::string> content;
      for (const auto& [k2, o2] : objects) {
        const ResourceInfo* r2 = ResourceOfKey(k2);
        if (r2 != nullptr && r2->namespaced && NsOf(o2) == name) {
          empty = false;
          if (!Deleting(o2)) content.push_back(k2);
        }
      }
      for (const auto& k2 : content) {
        auto found = objects.find(k2);
        if (found == objects.end()) continue;
        const ResourceInfo* r2 = ResourceOfKey(k2);
        (void)DeleteLocked(*r2, name, NameOf(found->second), -1, "Background", {});
      }
      if (empty) RemoveLocked(*r, "", name);
    }
    // Claims bind to their named volume.
    if (r->plural == "persistentvolumeclaims") {
      std::string volume = StringAt(o, {"spec", "volumeName"});
      const ResourceInfo& pv_res = *FindResource("", "v1", "persistentvolumes");
      const json::object* pv = volume.empty() ? nullptr : Lookup(pv_res, "", volume);
      if (pv != nullptr && StringAt(o, {"status", "phase"}) != "Bound") {
        json::object copy = o;
        auto& status = ObjectAt(copy, "status");
        status["phase"] = "Bound";
        if (auto modes = Find(*pv, {"spec", "accessModes"})) status["accessModes"] = *modes;
        if (auto cap = Find(*pv, {"spec", "capacity"})) status["capacity"] = *cap;
        WriteLocked(*r, copy);
        json::object pv_copy = *pv;
        ObjectAt(pv_copy, "status")["phase"] = "Bound";
        WriteLocked(pv_res, pv_copy);
      }
    }
  }
}

void KubernetesTestApiServer::Impl::JobControllerLocked() {
  const ResourceInfo& job_res = *FindResource("batch", "v1", "jobs");
  const ResourceInfo& pod_res = PodsResource();
  std::vector<json::object> jobs;
  for (const auto* j : ListLocked(job_res, "")) jobs.push_back(*j);
  for (json::object job : jobs) {
    if (Deleting(job)) continue;
    json::value jv(job);
    std::string ns = NsOf(job), name = NameOf(job), uid = UidOf(job);
    bool indexed = StringAt(jv, {"spec", "completionMode"}) == "Indexed";
    std::int64_t completions = IntAt(jv, {"spec", "completions"}, 1);
    std::int64_t parallelism = IntAt(jv, {"spec", "parallelism"}, 1);
    std::int64_t backoff_limit = IntAt(jv, {"spec", "backoffLimit"}, 6);
    std::int64_t per_index = IntAt(jv, {"spec", "backoffLimitPerIndex"}, -1);
    std::int64_t max_failed_indexes = IntAt(jv, {"spec", "maxFailedIndexes"}, -1);
    bool finished = HasTrueCondition(job, "Complete") || HasTrueCondition(job, "Failed");
    const bool was_finished = finished;

    std::map<std::int64_t, int> failures, active_by_index, present_by_index, failed_present;
    std::set<std::int64_t> succeeded_indexes;
    std::int64_t succeeded = 0, failed = 0, active = 0, ready = 0, terminating = 0;
    std::vector<json::object> active_pods;
    if (auto lost = job_lost.find(uid); lost != job_lost.end()) {
      for (const auto& [index, n] : lost->second) {
        failures[index] += n;
        failed += n;
      }
    }
    for (const auto* p : ListLocked(pod_res, ns)) {
      if (!OwnedBy(*p, uid)) continue;
      json::value pv(*p);
      std::int64_t index = -1;
      if (indexed) {
        try {
          index = std::stoll(StringAt(pv, {"metadata", "annotations", "batch.kubernetes.io/job-completion-index"}, "-1"));
        } catch (...) {
        }
      }
      std::string phase = StringAt(pv, {"status", "phase"});
      present_by_index[index]++;
      if (phase == "Succeeded") {
        ++succeeded;
        succeeded_indexes.insert(index);
      } else if (phase == "Failed") {
        ++failed;
        failures[index]++;
        failed_present[index]++;
      } else if (Deleting(*p)) {
        ++terminating;
      } else {
        ++active;
        active_by_index[index]++;
        active_pods.push_back(*p);
        if (PodReady(*p)) ++ready;
      }
    }
    std::set<std::int64_t> failed_indexes;
    std::string fail_reason, fail_message;
    bool complete = false;
    std::vector<std::int64_t> to_create;
    if (indexed) {
      std::int64_t done = 0;
      for (std::int64_t i = 0; i < completions; ++i) {
        if (succeeded_indexes.contains(i)) {
          ++done;
        } else if (per_index >= 0 && failures[i] > per_index) {
          failed_indexes.insert(i);
          ++done;
        } else if (active_by_index[i] == 0 && present_by_index[i] - failed_present[i] == 0) {
          to_create.push_back(i);
        }
      }
      if (per_index >= 0) {
        if (max_failed_indexes >= 0 && static_cast<std::int64_t>(failed_indexes.size()) > max_failed_indexes) {
          fail_reason = "MaxFailedIndexesExceeded";
          fail_message = "Job has exceeded the specified maximal number of failed indexes";
        } else if (done == completions && !failed_indexes.empty()) {
          fail_reason = "FailedIndexes";
          fail_message = "Job has failed indexes";
        }
      } else if (failed > backoff_limit) {
        fail_reason = "BackoffLimitExceeded";
        fail_message = "Job has reached the specified backoff limit";
      }
      complete = fail_reason.empty() && static_cast<std::int64_t>(succeeded_indexes.size()) == completions;
    } else {
      if (failed > backoff_limit) {
        fail_reason = "BackoffLimitExceeded";
        fail_message = "Job has reached the specified backoff limit";
      }
      complete = fail_reason.empty() && succeeded >= completions;
      std::int64_t want = std::min(parallelism, completions - succeeded) - active - terminating;
      for (std::int64_t i = 0; i < want; ++i) to_create.push_back(-1);
    }

    json::object status = job.contains("status") && job["status"].is_object() ? job["status"].as_object() : json::object();
    if (!status.contains("startTime")) status["startTime"] = NowRfc3339();
    std::int64_t deadline = IntAt(jv, {"spec", "activeDeadlineSeconds"}, -1);
    if (fail_reason.empty() && !complete && deadline >= 0) {
      auto started = ParseRfc3339(StringAt(job, {"status", "startTime"}));
      std::int64_t now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
      if (started && *started + deadline <= now_unix) {
        fail_reason = "DeadlineExceeded";
        fail_message = "Job was active longer than specified deadline";
      }
    }
    bool suspended = Find(jv, {"spec", "suspend"}) && Find(jv, {"spec", "suspend"})->is_bool() &&
                     Find(jv, {"spec", "suspend"})->as_bool();
    if (suspended && !finished) {
      for (auto& p : active_pods) (void)DeleteLocked(pod_res, ns, NameOf(p), -1, "Background", {});
      to_create.clear();
    }
    if (!finished && !fail_reason.empty()) {
      for (auto& p : active_pods) (void)DeleteLocked(pod_res, ns, NameOf(p), -1, "Background", {});
      SetCondition(status, Condition("FailureTarget", true, fail_reason, fail_message));
      SetCondition(status, Condition("Failed", true, fail_reason, fail_message));
      RecordEventLocked(job, "Warning", fail_reason, fail_message, "job-controller");
      finished = true;
    } else if (!finished && complete) {
      SetCondition(status, Condition("SuccessCriteriaMet", true, "CompletionsReached", "Reached expected number of succeeded pods"));
      SetCondition(status, Condition("Complete", true, "CompletionsReached", "Reached expected number of succeeded pods"));
      status["completionTime"] = NowRfc3339();
      RecordEventLocked(job, "Normal", "Completed", "Job completed", "job-controller");
      finished = true;
    }
    if (was_finished) {
      std::int64_t ttl = IntAt(jv, {"spec", "ttlSecondsAfterFinished"}, -1);
      std::string finished_at = StringAt(status, {"completionTime"});
      if (const json::value* conds = Find(status, {"conditions"}); finished_at.empty() && conds && conds->is_array()) {
        for (const auto& cond : conds->as_array()) {
          if (StringAt(cond, {"type"}) == "Failed") finished_at = StringAt(cond, {"lastTransitionTime"});
        }
      }
      auto at = ParseRfc3339(finished_at);
      std::int64_t now_unix = std::chrono::duration_cast<std::chrono::seconds>(
                                  std::chrono::system_clock::now().time_since_epoch()).count();
      if (ttl >= 0 && at && *at + ttl <= now_unix) {
        (void)DeleteLocked(job_res, ns, name, -1, "Background", {});
        continue;
      }
    }
    if (!finished) {
      std::int64_t room = parallelism - active;
      for (std::int64_t index : to_create) {
        if (room-- <= 0) break;
        json::object pod;
        json::value tmpl = job["spec"].as_object()["template"];
        if (tmpl.is_object()) pod = tmpl.as_object();
        pod["apiVersion"] = "v1";
        pod["kind"] = "Pod";
        auto& meta = ObjectAt(pod, "metadata");
        std::string base = index >= 0 ? name + "-" + std::to_string(index) : name;
        meta["name"] = base + "-" + RandomSuffix(5);
        meta["namespace"] = ns;
        if (index >= 0) {
          ObjectAt(meta, "labels")["batch.kubernetes.io/job-completion-index"] = std::to_string(index);
          ObjectAt(meta, "annotations")["batch.kubernetes.io/job-completion-index"] = std::to_string(index);
          auto& spec = ObjectAt(pod, "spec");
          if (!spec.contains("hostname")) spec["hostname"] = base;
        }
        meta["ownerReferences"] = json::array{json::object{{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"name", name},
                                                           {"uid", uid}, {"controller", true},
                                                           {"blockOwnerDeletion", true}}};
        auto created = CreateLocked(pod_res, ns, std::move(pod), false);
        if (created) {
          ++active;
          RecordEventLocked(job, "Normal", "SuccessfulCreate", "Created pod: " + NameOf(*created), "job-controller");
        } else {
          RecordEventLocked(job, "Warning", "FailedCreate", "Error creating: " + created.error().message, "job-controller");
        }
      }
    }
    status["active"] = finished ? 0 : active;
    status["succeeded"] = succeeded;
    status["failed"] = failed;
    status["ready"] = finished ? 0 : ready;
    status["terminating"] = terminating;
    if (indexed) {
      status["completedIndexes"] = Ranges(succeeded_indexes);
      if (per_index >= 0) status["failedIndexes"] = Ranges(failed_indexes);
    }
    if (!job.contains("status") || job["status"] != json::value(status)) {
      job["status"] = std::move(status);
      WriteLocked(job_res, std::move(job));
    }
  }
}

void KubernetesTestApiServer::Impl::DeploymentControllerLocked() {
  const ResourceInfo& dep_res = *FindResource("apps", "v1", "deployments");
  const ResourceInfo& pod_res = PodsResource();
  std::vector<json::object> deployments;
  for (const auto* d : ListLocked(dep_res, "")) deployments.push_back(*d);
  for (json::object d : deployments) {
    if (Deleting(d)) continue;
    json::value dv(d);
    std::string ns = NsOf(d), name = NameOf(d), uid = UidOf(d);
    std::int64_t replicas = IntAt(dv, {"spec", "replicas"}, 1);
    const json::value* tmpl = Find(dv, {"spec", "template"});
    if (tmpl == nullptr || !tmpl->is_object()) continue;
    std::string hash = TemplateHash(*tmpl);
    std::vector<json::object> current;
    bool old_present = false;
    std::int64_t ready = 0, total = 0;
    for (const auto* p : ListLocked(pod_res, ns)) {
      if (!OwnedBy(*p, uid)) continue;
      json::value pv(*p);
      bool same = StringAt(pv, {"metadata", "labels", "pod-template-hash"}) == hash;
      if (!same) {
        old_present = true;
        if (!Deleting(*p)) (void)DeleteLocked(pod_res, ns, NameOf(*p), -1, "Background", {});
        continue;
      }
      if (PodTerminal(*p)) {
        (void)DeleteLocked(pod_res, ns, NameOf(*p), 0, "Background", {});
        continue;
      }
      if (Deleting(*p)) continue;
      ++total;
      if (PodReady(*p)) ++ready;
      current.push_back(*p);
    }
    if (!old_present && static_cast<std::int64_t>(current.size()) < replicas) {
      for (std::int64_t i = static_cast<std::int64_t>(current.size()); i < replicas; ++i) {
        json::object pod = tmpl->as_object();
        pod["apiVersion"] = "v1";
        pod["kind"] = "Pod";
        auto& meta = ObjectAt(pod, "metadata");
        meta["name"] = name + "-" + hash + "-" + RandomSuffix(5);
        meta["namespace"] = ns;
        ObjectAt(meta, "labels")["pod-template-hash"] = hash;
        meta["ownerReferences"] = json::array{json::object{{"apiVersion", "apps/v1"}, {"kind", "Deployment"},
                                                           {"name", name}, {"uid", uid}, {"controller", true},
                                                           {"blockOwnerDeletion", true}}};
        auto created = CreateLocked(pod_res, ns, std::move(pod), false);
        if (created) {
          ++total;
        } else {
          RecordEventLocked(d, "Warning", "FailedCreate", "Error creating: " + created.error().message,
                            "replicaset-controller");
        }
      }
    } else if (static_cast<std::int64_t>(current.size()) > replicas) {
      std::sort(current.begin(), current.end(), [&](const json::object& a, const json::object& b) {
        return DeletionRank(a, created_seq[UidOf(a)]) < DeletionRank(b, created_seq[UidOf(b)]);
      });
      for (std::size_t i = 0; i < current.size() - static_cast<std::size_t>(replicas); ++i) {
        if (PodReady(current[i])) --ready;
        --total;
        (void)DeleteLocked(pod_res, ns, NameOf(current[i]), -1, "Background", {});
      }
    }
    json::object status = d.contains("status") && d["status"].is_object() ? d["status"].as_object() : json::object();
    status["observedGeneration"] = IntAt(dv, {"metadata", "generation"}, 1);
    status["replicas"] = total;
    status["updatedReplicas"] = total;
    status["readyReplicas"] = ready;
    status["availableReplicas"] = ready;
    status["unavailableReplicas"] = std::max<std::int64_t>(replicas - ready, 0);
    bool available = ready >= replicas;
    SetCondition(status, Condition("Available", available, available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                                   available ? "Deployment has minimum availability."
                                             : "Deployment does not have minimum availability."));
    if (!d.contains("status") || d["status"] != json::value(status)) {
      d["status"] = std::move(status);
      WriteLocked(dep_res, std::move(d));
    }
  }
}

// kubeflow.org/v1 PaddleJob, the way Kubeflow's training operator runs one: a pod per replica named
// <job>-<type>-<index> (type lowercased) with a headless Service of the same name, labelled
// training.kubeflow.org/{job-name,replica-type,replica-index}; the job succeeds when every Worker
// has, fails when a pod fails for good or the containers' restarts exceed runPolicy.backoffLimit;
// runPolicy.cleanPodPolicy says which pods are deleted when it ends.
void KubernetesTestApiServer::Impl::PaddleJobControllerLocked() {
  const ResourceInfo& pj_res = *FindResource("kubeflow.org", "v1", "paddlejobs");
  const ResourceInfo& pod_res = PodsResource();
  std::vector<json::object> jobs;
  for (const auto* j : ListLocked(pj_res, "")) jobs.push_back(*j);
  for (json::object job : jobs) {
    if (Deleting(job)) continue;
    std::string ns = NsOf(job), name = NameOf(job), uid = UidOf(job);
    const json::value* specs = Find(job, {"spec", "paddleReplicaSpecs"});
    if (specs == nullptr || !specs->is_object()) continue;
    bool finished = HasTrueCondition(job, "Succeeded") || HasTrueCondition(job, "Failed");
    std::int64_t backoff_limit = IntAt(job, {"spec", "runPolicy", "backoffLimit"}, -1);
    // runPolicy.cleanPodPolicy: which pods go when the job ends (Running by default, None, All).
    std::string clean_policy = StringAt(job, {"spec", "runPolicy", "cleanPodPolicy"}, "Running");
    json::object replica_statuses;
    std::int64_t restarts = 0, workers = 0, workers_succeeded = 0, total = 0, running = 0;
    bool failed_for_good = false;
    std::string failed_type;
    std::vector<std::string> active_pods;
    for (const auto& [type_key, rs] : specs->as_object()) {
      std::string type(type_key);
      std::string lower = type;
      for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      std::int64_t replicas = IntAt(rs, {"replicas"}, 1);
      std::string restart_policy = StringAt(rs, {"restartPolicy"}, "Never");
      if (restart_policy == "ExitCode") restart_policy = "Never";
      std::int64_t active = 0, succeeded = 0, failed = 0;
      for (std::int64_t i = 0; i < replicas; ++i) {
        std::string pod_name = name + "-" + lower + "-" + std::to_string(i);
        const json::object* pod = Lookup(pod_res, ns, pod_name);
        ++total;
        // The operator's headless Service per pod, named as the pod: <pod>.<ns>.svc resolves to it.
        const ResourceInfo& svc_res = *FindResource("", "v1", "services");
        if (!finished && Lookup(svc_res, ns, pod_name) == nullptr) {
          json::array ports;
          if (const json::value* cports = Find(rs, {"template", "spec", "containers"}); cports && cports->is_array()) {
            for (const auto& container : cports->as_array()) {
              if (const json::value* ps = Find(container, {"ports"}); ps && ps->is_array()) {
                for (const auto& port : ps->as_array()) {
                  std::int64_t number = IntAt(port, {"containerPort"}, 0);
                  if (number > 0) {
                    ports.push_back(json::object{{"name", StringAt(port, {"name"}, "port-" + std::to_string(number))},
                                                 {"port", number}, {"targetPort", number}});
                  }
                }
              }
            }
          }
          json::object svc{
              {"apiVersion", "v1"},
              {"kind", "Service"},
              {"metadata", json::object{{"name", pod_name},
                                        {"namespace", ns},
                                        {"labels", json::object{{"training.kubeflow.org/job-name", name}}},
                                        {"ownerReferences", json::array{json::object{
                                                                {"apiVersion", "kubeflow.org/v1"}, {"kind", "PaddleJob"},
                                                                {"name", name}, {"uid", uid}, {"controller", true},
                                                                {"blockOwnerDeletion", true}}}}}},
              {"spec", json::object{{"clusterIP", "None"},
                                    {"selector", json::object{{"training.kubeflow.org/job-name", name},
                                                              {"training.kubeflow.org/replica-type", lower},
                                                              {"training.kubeflow.org/replica-index", std::to_string(i)}}},
                                    {"ports", std::move(ports)}}}};
          (void)CreateLocked(svc_res, ns, std::move(svc), false);
        }
        if (pod == nullptr) {
          if (finished) continue;
          json::object p;
          if (const json::value* tmpl = Find(rs, {"template"}); tmpl && tmpl->is_object()) p = tmpl->as_object();
          p["apiVersion"] = "v1";
          p["kind"] = "Pod";
          auto& meta = ObjectAt(p, "metadata");
          meta["name"] = pod_name;
          meta["namespace"] = ns;
          auto& labels = ObjectAt(meta, "labels");
          labels["training.kubeflow.org/job-name"] = name;
          labels["training.kubeflow.org/operator-name"] = "paddlejob-controller";
          labels["training.kubeflow.org/replica-type"] = lower;
          labels["training.kubeflow.org/replica-index"] = std::to_string(i);
          meta["ownerReferences"] = json::array{json::object{{"apiVersion", "kubeflow.org/v1"}, {"kind", "PaddleJob"},
                                                             {"name", name}, {"uid", uid}, {"controller", true},
                                                             {"blockOwnerDeletion", true}}};
          ObjectAt(p, "spec")["restartPolicy"] = restart_policy;
          auto created = CreateLocked(pod_res, ns, std::move(p), false);
          if (created) {
            ++active;
            RecordEventLocked(job, "Normal", "SuccessfulCreatePod", "Created pod: " + pod_name, "paddlejob-controller");
          } else {
            RecordEventLocked(job, "Warning", "FailedCreatePod", "Error creating: " + created.error().message,
                              "paddlejob-controller");
          }
          continue;
        }
        std::string phase = StringAt(*pod, {"status", "phase"});
        if (const json::value* cs = Find(*pod, {"status", "containerStatuses"}); cs && cs->is_array()) {
          for (const auto& s : cs->as_array()) restarts += IntAt(s, {"restartCount"}, 0);
        }
        if (phase == "Succeeded") {
          ++succeeded;
          if (clean_policy == "All") active_pods.push_back(pod_name);
        } else if (phase == "Failed") {
          ++failed;
          failed_for_good = true;
          failed_type = type;
          if (clean_policy == "All") active_pods.push_back(pod_name);
        } else {
          ++active;
          if (!Deleting(*pod) && clean_policy != "None") active_pods.push_back(pod_name);
          if (phase == "Running") ++running;
        }
      }
      if (type == "Worker") {
        workers += replicas;
        workers_succeeded += succeeded;
      }
      replica_statuses[type] = json::object{{"active", active}, {"succeeded", succeeded}, {"failed", failed}};
    }
    json::object status = job.contains("status") && job["status"].is_object() ? job["status"].as_object() : json::object();
    if (!status.contains("startTime")) status["startTime"] = NowRfc3339();
    SetCondition(status, Condition("Created", true, "PaddleJobCreated", "PaddleJob " + name + " is created."));
    if (!finished) {
      std::string fail_message;
      if (failed_for_good) {
        fail_message = "PaddleJob " + name + " is failed because a " + failed_type + " replica failed.";
      } else if (backoff_limit >= 0 && restarts > backoff_limit) {
        fail_message = "PaddleJob " + name + " has failed because it has reached the specified backoff limit";
      }
      if (!fail_message.empty()) {
        SetCondition(status, Condition("Running", false, "PaddleJobFailed", fail_message));
        SetCondition(status, Condition("Failed", true, "PaddleJobFailed", fail_message));
        status["completionTime"] = NowRfc3339();
        RecordEventLocked(job, "Warning", "PaddleJobFailed", fail_message, "paddlejob-controller");
        for (const auto& p : active_pods) (void)DeleteLocked(pod_res, ns, p, -1, "Background", {});
      } else if (workers > 0 && workers_succeeded == workers) {
        std::string message = "PaddleJob " + name + " is successfully completed.";
        SetCondition(status, Condition("Running", false, "PaddleJobSucceeded", message));
        SetCondition(status, Condition("Succeeded", true, "PaddleJobSucceeded", message));
        status["completionTime"] = NowRfc3339();
        RecordEventLocked(job, "Normal", "PaddleJobSucceeded", message, "paddlejob-controller");
        for (const auto& p : active_pods) (void)DeleteLocked(pod_res, ns, p, -1, "Background", {});
      } else if (running == total && total > 0) {
        SetCondition(status, Condition("Running", true, "PaddleJobRunning", "PaddleJob " + name + " is running."));
      }
    }
    status["replicaStatuses"] = std::move(replica_statuses);
    if (!job.contains("status") || job["status"] != json::value(status)) {
      job["status"] = std::move(status);
      WriteLocked(pj_res, std::move(job));
    }
  }
}

void KubernetesTestApiServer::Impl::SchedulerLocked() {
  const ResourceInfo& pod_res = PodsResource();
  Demand used;
  std::vector<json::object> pending;
  for (const auto* p : ListLocked(pod_res, "")) {
    json::value pv(*p);
    if (StringAt(pv, {"spec", "nodeName"}).empty()) {
      if (!Deleting(*p)) pending.push_back(*p);
    } else if (!PodTerminal(*p)) {
      Demand d = PodDemand(*p);
      used.cpu += d.cpu;
      used.memory += d.memory;
      used.gpu += d.gpu;
    }
  }
  std::sort(pending.begin(), pending.end(), [&](const json::object& a, const json::object& b) {
    return created_seq[UidOf(a)] < created_seq[UidOf(b)];
  });
  for (json::object pod : pending) {
    Demand d = PodDemand(pod);
    std::vector<std::string> missing;
    if (used.cpu + d.cpu > allocatable.cpu_milli) missing.push_back("1 Insufficient cpu");
    if (used.memory + d.memory > allocatable.memory_bytes) missing.push_back("1 Insufficient memory");
    if (used.gpu + d.gpu > allocatable.gpus) missing.push_back("1 Insufficient nvidia.com/gpu");
    auto& status = ObjectAt(pod, "status");
    if (missing.empty()) {
      used.cpu += d.cpu;
      used.memory += d.memory;
      used.gpu += d.gpu;
      ObjectAt(pod, "spec")["nodeName"] = options.node_name;
      SetCondition(status, Condition("PodScheduled", true));
    } else {
      std::string message = "0/1 nodes are available: ";
      for (std::size_t i = 0; i < missing.size(); ++i) message += (i ? ", " : "") + missing[i];
      message += ".";
      SetCondition(status, Condition("PodScheduled", false, "Unschedulable", message));
    }
    std::string before = StringAt(pod, {"metadata", "resourceVersion"});
    json::object written = WriteLocked(pod_res, std::move(pod));
    if (StringAt(written, {"metadata", "resourceVersion"}) != before) {
      if (missing.empty()) {
        RecordEventLocked(written, "Normal", "Scheduled",
                          "Successfully assigned " + NsOf(written) + "/" + NameOf(written) + " to " + options.node_name,
                          "default-scheduler");
      } else {
        const json::value* conds = Find(written, {"status", "conditions"});
        std::string message;
        if (conds && conds->is_array()) {
          for (const auto& cond : conds->as_array()) {
            if (StringAt(cond, {"type"}) == "PodScheduled") message = StringAt(cond, {"message"});
          }
        }
        RecordEventLocked(written, "Warning", "FailedScheduling", message, "default-scheduler");
      }
    }
  }
}

void KubernetesTestApiServer::Impl::RecordEventLocked(const json::object& object, const std::string& type,
                                                      const std::string& reason, const std::string& message,
                                                      const std::string& component) {
  const ResourceInfo& event_res = *FindResource("", "v1", "events");
  std::string ns = NsOf(object).empty() ? "default" : NsOf(object);
  std::string key = UidOf(object) + "|" + reason + "|" + message;
  std::string now = NowRfc3339();
  if (auto it = event_names.find(key); it != event_names.end()) {
    if (const json::object* existing = Lookup(event_res, ns, it->second)) {
      if (StringAt(*existing, {"lastTimestamp"}) == now) return;
      json::object updated = *existing;
      updated["count"] = IntAt(*existing, {"count"}, 1) + 1;
      updated["lastTimestamp"] = now;
      WriteLocked(event_res, std::move(updated));
      return;
    }
  }
  std::string suffix = NewUid();
  std::erase(suffix, '-');
  std::string name = NameOf(object) + "." + suffix.substr(0, 16);
  json::object event{
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata", json::object{{"name", name}, {"namespace", ns}}},
      {"involvedObject", json::object{{"kind", StringAt(object, {"kind"})},
                                      {"apiVersion", StringAt(object, {"apiVersion"})},
                                      {"namespace", NsOf(object)},
                                      {"name", NameOf(object)},
                                      {"uid", UidOf(object)},
                                      {"resourceVersion", StringAt(object, {"metadata", "resourceVersion"})}}},
      {"type", type},
      {"reason", reason},
      {"message", message},
      {"source", json::object{{"component", component}, {"host", options.node_name}}},
      {"reportingComponent", component},
      {"reportingInstance", options.node_name},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1}};
  if (CreateLocked(event_res, ns, std::move(event), false)) event_names[key] = name;
}

void KubernetesTestApiServer::Impl::WriteHostsLocked() {
  std::string content = "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n";
  const ResourceInfo& pod_res = PodsResource();
  std::vector<const json::object*> running;
  for (const auto* p : ListLocked(pod_res, "")) {
    auto rt = pods.find(Key(pod_res, NsOf(*p), NameOf(*p)));
    if (rt == pods.end() || rt->second.ip.empty() || PodTerminal(*p)) continue;
    json::value pv(*p);
    std::string ns = NsOf(*p);
    std::string hostname = StringAt(pv, {"spec", "hostname"}, NameOf(*p));
    std::string sub = StringAt(pv, {"spec", "subdomain"});
    content += rt->second.ip + "\t" + hostname;
    if (!sub.empty()) {
      content += " " + hostname + "." + sub + "." + ns + ".svc.cluster.local " + hostname + "." + sub + "." + ns +
                 ".svc " + hostname + "." + sub;
    }
    content += "\n";
    running.push_back(p);
  }
  for (const auto* s : ListLocked(*FindResource("", "v1", "services"), "")) {
    const json::value* selector = Find(*s, {"spec", "selector"});
    if (selector == nullptr || !selector->is_object() || selector->as_object().empty()) continue;
    std::string ns = NsOf(*s);
    json::value sel{{"matchLabels", *selector}};
    for (const auto* p : running) {
      if (NsOf(*p) != ns || !MatchesLabelSelectorObject(sel, *p)) continue;
      const auto& rt = pods.at(Key(pod_res, ns, NameOf(*p)));
      content += rt.ip + "\t" + NameOf(*s) + "." + ns + ".svc " + NameOf(*s) + "." + ns + ".svc.cluster.local " +
                 NameOf(*s) + "." + ns + " " + NameOf(*s) + "\n";
      break;
    }
  }
  if (content == hosts_content) return;
  hosts_content = content;
  // Rewritten in place: every sandbox binds this inode.
  int fd = ::open(HostsFile().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  ssize_t n = ::write(fd, content.data(), content.size());
  (void)n;
  ::close(fd);
}

void KubernetesTestApiServer::Impl::StartContainerLocked(PodRuntime& rt, json::object& pod) {
  json::value pv(pod);
  const json::value& container = pv.at("spec").at("containers").at(0);
  std::string container_name = StringAt(container, {"name"});
  if (rt.ip.empty()) {
    std::uint32_t n = next_ip++;
    rt.ip = "127." + std::to_string(ip_block) + "." + std::to_string((n / 250) % 250) + "." + std::to_string(n % 250 + 1);
  }
  std::error_code ec;
  std::filesystem::create_directories(rt.dir, ec);
  rt.log_file = rt.dir + "/" + container_name + ".log";
  if (rt.started_once) {
    std::filesystem::rename(rt.log_file, rt.log_file + ".previous", ec);
    rt.previous_log_marks = std::move(rt.log_marks);
  }
  rt.log_marks.clear();

  auto fail_setup = [&](const std::string& reason, const std::string& message) {
    rt.waiting_reason = reason;
    rt.waiting_message = message;
    rt.next_start = Clock::now() + std::chrono::seconds(1);
  };

  // Volumes.
  struct Mount {
    std::string source, target;
    bool read_only;
  };
  std::vector<Mount> mounts;
  std::map<std::string, json::object> volumes;
  if (auto vs = Find(pv, {"spec", "volumes"}); vs && vs->is_array()) {
    for (const auto& v : vs->as_array()) {
      if (v.is_object()) volumes[StringAt(v, {"name"})] = v.as_object();
    }
  }
  if (auto vms = Find(container, {"volumeMounts"}); vms && vms->is_array()) {
    for (const auto& vm : vms->as_array()) {
      std::string vname = StringAt(vm, {"name"});
      std::string target = StringAt(vm, {"mountPath"});
      std::string sub = StringAt(vm, {"subPath"});
      bool ro = Find(vm, {"readOnly"}) && Find(vm, {"readOnly"})->is_bool() && Find(vm, {"readOnly"})->as_bool();
      auto vit = volumes.find(vname);
      if (vit == volumes.end() || target.empty()) {
        return fail_setup("CreateContainerConfigError", "volume \"" + vname + "\" not found");
      }
      json::value vol(vit->second);
      std::string source;
      if (Find(vol, {"emptyDir"})) {
        source = rt.dir + "/volumes/" + vname;
      } else if (const json::value* hp = Find(vol, {"hostPath", "path"}); hp && hp->is_string()) {
        source = std::string(hp->as_string());
      } else if (const json::value* claim = Find(vol, {"persistentVolumeClaim", "claimName"}); claim && claim->is_string()) {
        const json::object* pvc = Lookup(*FindResource("", "v1", "persistentvolumeclaims"), NsOf(pod),
                                         std::string(claim->as_string()));
        if (pvc == nullptr) {
          return fail_setup("ContainerCreating", "persistentvolumeclaim \"" + std::string(claim->as_string()) + "\" not found");
        }
        std::string volume_name = StringAt(*pvc, {"spec", "volumeName"});
        const json::object* pvo = Lookup(*FindResource("", "v1", "persistentvolumes"), "", volume_name);
        if (pvo == nullptr) {
          return fail_setup("ContainerCreating", "persistentvolume \"" + volume_name + "\" not found");
        }
        json::value pvv(*pvo);
        std::string nfs = StringAt(pvv, {"spec", "nfs", "path"});
        std::string host = StringAt(pvv, {"spec", "hostPath", "path"});
        if (!nfs.empty()) {
          std::string path = sub.empty() ? nfs : (std::filesystem::path(nfs) / sub).lexically_normal().string();
          source = options.nfs_root ? options.nfs_root(path) : path;
          sub.clear();
        } else if (!host.empty()) {
          source = host;
        } else {
          return fail_setup("ContainerCreating", "persistentvolume \"" + volume_name + "\" has no nfs or hostPath source");
        }
        if (const json::value* pro = Find(vol, {"persistentVolumeClaim", "readOnly"}); pro && pro->is_bool() && pro->as_bool()) {
          ro = true;
        }
      } else if (const json::value* cm = Find(vol, {"configMap", "name"}); cm && cm->is_string()) {
        source = rt.dir + "/volumes/" + vname;
        std::filesystem::create_directories(source, ec);
        const json::object* cmo = Lookup(*FindResource("", "v1", "configmaps"), NsOf(pod), std::string(cm->as_string()));
        if (cmo != nullptr) {
          if (auto data = cmo->if_contains("data"); data && data->is_object()) {
            for (const auto& [k, val] : data->as_object()) {
              if (val.is_string()) std::ofstream(source + "/" + std::string(k)) << std::string_view(val.as_string());
            }
          }
        }
        ro = true;
      } else {
        return fail_setup("CreateContainerConfigError", "volume \"" + vname + "\" has an unsupported source");
      }
      if (!sub.empty()) {
        if (sub.find("..") != std::string::npos || sub.starts_with("/")) {
          return fail_setup("CreateContainerConfigError", "subPath \"" + sub + "\" must be a relative path without '..'");
        }
        source = (std::filesystem::path(source) / sub).string();
      }
      if (!std::filesystem::exists(source)) std::filesystem::create_directories(source, ec);
      mounts.push_back({source, target, ro});
    }
  }
  for (const auto& [target, source] : options.image_files) mounts.push_back({source, target, true});
  std::sort(mounts.begin(), mounts.end(), [](const Mount& a, const Mount& b) { return a.target.size() < b.target.size(); });

  // Environment.
  std::vector<std::pair<std::string, std::string>> env_list;
  std::map<std::string, std::string> env;
  auto set_env = [&](const std::string& k, const std::string& v) {
    env[k] = v;
    for (auto& [ek, ev] : env_list) {
      if (ek == k) {
        ev = v;
        return;
      }
    }
    env_list.emplace_back(k, v);
  };
  std::string hostname = StringAt(pv, {"spec", "hostname"}, NameOf(pod)).substr(0, 63);
  set_env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
  set_env("HOSTNAME", hostname);
  set_env("HOME", "/tmp");  // the sandbox root is read-only; /tmp is the pod's own
  std::string index = StringAt(pv, {"metadata", "annotations", "batch.kubernetes.io/job-completion-index"});
  if (!index.empty()) set_env("JOB_COMPLETION_INDEX", index);
  if (auto e = Find(container, {"env"}); e && e->is_array()) {
    for (const auto& item : e->as_array()) {
      std::string k = StringAt(item, {"name"});
      if (k.empty()) continue;
      if (const json::value* val = Find(item, {"value"}); val && val->is_string()) {
        set_env(k, Expand(std::string(val->as_string()), env));
      } else if (const json::value* f = Find(item, {"valueFrom", "fieldRef", "fieldPath"}); f && f->is_string()) {
        set_env(k, FieldRef(pod, std::string(f->as_string()), rt.ip));
      } else if (const json::value* ref = Find(item, {"valueFrom", "secretKeyRef"}); ref && ref->is_object()) {
        // As the kubelet does: the pod waits until its Secret and key exist.
        std::string secret = StringAt(*ref, {"name"}), key = StringAt(*ref, {"key"});
        const json::object* found = Lookup(*FindResource("", "v1", "secrets"), NsOf(pod), secret);
        if (found == nullptr) return fail_setup("CreateContainerConfigError", "secret \"" + secret + "\" not found");
        const json::value* encoded = Find(*found, {"data", key});
        auto value = encoded && encoded->is_string() ? Base64Decode(encoded->as_string()) : std::nullopt;
        if (!value)
          return fail_setup("CreateContainerConfigError", "couldn't find key " + key + " in Secret " + NsOf(pod) + "/" + secret);
        set_env(k, *value);
      } else {
        set_env(k, "");
      }
    }
  }

  std::vector<std::string> command;
  for (const char* field : {"command", "args"}) {
    if (auto c = Find(container, {field}); c && c->is_array()) {
      for (const auto& part : c->as_array()) {
        if (part.is_string()) command.push_back(Expand(std::string(part.as_string()), env));
      }
    }
  }
  if (command.empty()) command = {"/bin/false"};

  WriteHostsLocked();
  std::vector<std::string> argv = {"bwrap", "--die-with-parent", "--unshare-pid", "--unshare-uts", "--hostname", hostname};
  for (const auto& entry : std::filesystem::directory_iterator("/", ec)) {
    std::string name = entry.path().filename().string();
    // An image's /home is its own (a notebook image's /home/jovyan): not the host's.
    if (name == "proc" || name == "dev" || name == "tmp" || name == "home") continue;
    std::string path = "/" + name;
    if (entry.is_symlink(ec)) {
      argv.insert(argv.end(), {"--symlink", std::filesystem::read_symlink(entry.path(), ec).string(), path});
    } else {
      argv.insert(argv.end(), {"--ro-bind", path, path});
    }
  }
  argv.insert(argv.end(), {"--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp", "--ro-bind", HostsFile(), "/etc/hosts"});
  for (const auto& m : mounts) argv.insert(argv.end(), {m.read_only ? "--ro-bind" : "--bind", m.source, m.target});
  std::string working_dir = StringAt(container, {"workingDir"});
  if (!working_dir.empty()) argv.insert(argv.end(), {"--chdir", working_dir});
  argv.push_back("--");
  argv.insert(argv.end(), command.begin(), command.end());

  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (auto& [k, v] : env_list) env_strings.push_back(k + "=" + v);
  std::vector<char*> cenv;
  for (auto& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  int log_fd = ::open(rt.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (log_fd < 0 || null_fd < 0) {
    if (log_fd >= 0) ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return fail_setup("CreateContainerError", "cannot open the container log");
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execve("/usr/bin/bwrap", cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(log_fd);
  ::close(null_fd);
  if (pid < 0) return fail_setup("CreateContainerError", "fork failed");
  ::setpgid(pid, pid);
  if (rt.started_once) ++rt.restart_count;
  rt.pid = pid;
  rt.started_once = true;
  rt.started_steady = Clock::now();
  rt.instance = rt.started_steady;
  rt.started_at = NowRfc3339();
  rt.waiting_reason.clear();
  rt.waiting_message.clear();
  rt.term_sent = false;
  rt.probe_successes = rt.probe_failures = 0;
  rt.ready = Find(container, {"readinessProbe"}) == nullptr;
  rt.next_probe = Clock::now() + std::chrono::seconds(IntAt(container, {"readinessProbe", "initialDelaySeconds"}, 0));
}

void KubernetesTestApiServer::Impl::KubeletLocked(std::vector<std::function<void()>>* after_unlock) {
  const ResourceInfo& pod_res = PodsResource();
  auto now = Clock::now();
  // Runtimes whose pods are gone: the process dies with them.
  for (auto it = pods.begin(); it != pods.end();) {
    auto obj = objects.find(it->first);
    if (obj != objects.end() && UidOf(obj->second) == it->second.uid) {
      ++it;
      continue;
    }
    if (it->second.pid > 0) {
      ::kill(-it->second.pid, SIGKILL);
      ::waitpid(it->second.pid, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(it->second.dir, ec);
    it = pods.erase(it);
    hosts_content.clear();
  }
  std::vector<json::object> node_pods;
  for (const auto* p : ListLocked(pod_res, "")) {
    if (StringAt(*p, {"spec", "nodeName"}) == options.node_name) node_pods.push_back(*p);
  }
  bool hosts_dirty = false;
  for (json::object pod : node_pods) {
    json::value pv(pod);
    std::string ns = NsOf(pod), name = NameOf(pod);
    std::string key = Key(pod_res, ns, name);
    auto [rit, inserted] = pods.try_emplace(key);
    PodRuntime& rt = rit->second;
    if (inserted) {
      rt.ns = ns;
      rt.name = name;
      rt.uid = UidOf(pod);
      rt.dir = work_dir + "/pods/" + ns + "_" + name + "_" + rt.uid;
    }
    const json::value* containers = Find(pv, {"spec", "containers"});
    if (containers == nullptr || !containers->is_array() || containers->as_array().empty()) continue;
    const json::value& container = containers->as_array()[0];
    std::string restart_policy = StringAt(pv, {"spec", "restartPolicy"}, "Always");
    bool deleting = Deleting(pod);

    // Note when the log grew (line timestamps), before reaping so the last lines get a time.
    if (rt.pid > 0) MarkLog(rt);
    // Reap.
    if (rt.pid > 0) {
      int wstatus = 0;
      pid_t r = ::waitpid(rt.pid, &wstatus, WNOHANG);
      if (r == rt.pid) {
        int code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + (WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
        std::string reason = rt.oom ? "OOMKilled" : (code == 0 ? "Completed" : "Error");
        if (rt.oom) code = 137;
        json::object terminated{{"exitCode", code}, {"reason", reason}, {"startedAt", rt.started_at},
                                {"finishedAt", NowRfc3339()}, {"containerID", "sim://" + std::to_string(rt.pid)}};
        rt.pid = -1;
        rt.oom = false;
        rt.ready = false;
        hosts_dirty = true;
        bool restart = !deleting && (restart_policy == "Always" || (restart_policy == "OnFailure" && code != 0));
        if (restart) {
          rt.last_terminated = terminated;
          rt.backoff = rt.backoff.count() == 0 ? options.restart_backoff_initial
                                               : std::min(rt.backoff * 2, options.restart_backoff_max);
          rt.next_start = now + rt.backoff;
          RecordEventLocked(pod, "Warning", "BackOff",
                            "Back-off restarting failed container " + StringAt(container, {"name"}) + " in pod " +
                                name + "_" + ns + "(" + rt.uid + ")",
                            "kubelet");
          rt.waiting_reason = "CrashLoopBackOff";
          rt.waiting_message = "back-off " + std::to_string(rt.backoff.count()) + "ms restarting failed container=" +
                               StringAt(container, {"name"}) + " pod=" + name + "_" + ns + "(" + rt.uid + ")";
        } else {
          rt.terminal = true;
          rt.current_terminated = terminated;
        }
      }
    }
    // Graceful deletion.
    if (deleting) {
      if (rt.pid > 0) {
        if (!rt.term_sent) {
          TerminateContainer(rt.pid);
          RecordEventLocked(pod, "Normal", "Killing", "Stopping container " + StringAt(container, {"name"}), "kubelet");
          rt.term_sent = true;
          rt.kill_at = now + std::chrono::seconds(IntAt(pv, {"metadata", "deletionGracePeriodSeconds"}, 30));
        } else if (now >= rt.kill_at) {
          ::kill(-rt.pid, SIGKILL);
        }
        continue;
      }
      RemoveLocked(pod_res, ns, name);
      continue;
    }
    // Start (or restart) the container.
    if (rt.pid <= 0 && !rt.terminal && now >= rt.next_start) {
      std::string image = StringAt(container, {"image"});
      if (unpullable.contains(image)) {
        ++rt.image_pull_attempts;
        if (rt.image_pull_attempts == 1) {
          RecordEventLocked(pod, "Normal", "Pulling", "Pulling image \"" + image + "\"", "kubelet");
          rt.waiting_reason = "ErrImagePull";
          rt.waiting_message = "failed to pull and unpack image \"" + image + "\": failed to resolve reference \"" +
                               image + "\": not found";
          RecordEventLocked(pod, "Warning", "Failed", "Failed to pull image \"" + image + "\": " + rt.waiting_message,
                            "kubelet");
          rt.next_start = now + options.restart_backoff_initial;
        } else {
          rt.waiting_reason = "ImagePullBackOff";
          RecordEventLocked(pod, "Normal", "BackOff", "Back-off pulling image \"" + image + "\"", "kubelet");
          rt.waiting_message = "Back-off pulling image \"" + image + "\"";
          rt.next_start = now + options.restart_backoff_max;
        }
      } else {
        StartContainerLocked(rt, pod);
        if (rt.pid > 0) {
          RecordEventLocked(pod, "Normal", "Started", "Started container " + StringAt(container, {"name"}), "kubelet");
        } else if (!rt.waiting_message.empty()) {
          RecordEventLocked(pod, "Warning", "Failed", rt.waiting_message, "kubelet");
        }
        hosts_dirty = true;
      }
    }
    // Readiness probe.
    const json::value* probe = Find(container, {"readinessProbe", "httpGet"});
    if (rt.pid > 0 && probe != nullptr && now >= rt.next_probe) {
      json::value rp = *Find(container, {"readinessProbe"});
      rt.next_probe = now + std::chrono::seconds(std::max<std::int64_t>(IntAt(rp, {"periodSeconds"}, 10), 1));
      int port = static_cast<int>(IntAt(*probe, {"port"}, 0));
      if (const json::value* named = Find(*probe, {"port"}); named && named->is_string()) {
        try {
          port = std::stoi(std::string(named->as_string()));
        } catch (...) {
          if (auto ports = Find(container, {"ports"}); ports && ports->is_array()) {
            for (const auto& cp : ports->as_array()) {
              if (StringAt(cp, {"name"}) == named->as_string()) port = static_cast<int>(IntAt(cp, {"containerPort"}, 0));
            }
          }
        }
      }
      std::string host = StringAt(*probe, {"host"}, rt.ip);
      std::string path = StringAt(*probe, {"path"}, "/");
      std::string headers;
      if (const json::value* list = Find(*probe, {"httpHeaders"}); list && list->is_array())
        for (const auto& h : list->as_array()) {
          std::string name = StringAt(h, {"name"}), value = StringAt(h, {"value"});
          if (!name.empty() && name.find_first_of("\r\n:") == std::string::npos && value.find_first_of("\r\n") == std::string::npos)
            headers += name + ": " + value + "\r\n";
        }
      int timeout_ms = static_cast<int>(std::max<std::int64_t>(IntAt(rp, {"timeoutSeconds"}, 1), 1) * 1000);
      std::int64_t success_threshold = IntAt(rp, {"successThreshold"}, 1);
      std::int64_t failure_threshold = IntAt(rp, {"failureThreshold"}, 3);
      auto instance = rt.instance;
      after_unlock->push_back([this, key, instance, host, port, path, headers, timeout_ms, success_threshold,
                               failure_threshold] {
        bool ok = HttpProbe(host, port, path, headers, timeout_ms);
        std::lock_guard<std::mutex> lock(mu);
        auto it = pods.find(key);
        if (it == pods.end() || it->second.instance != instance || it->second.pid <= 0) return;
        PodRuntime& r = it->second;
        if (ok) {
          r.probe_failures = 0;
          if (++r.probe_successes >= success_threshold) r.ready = true;
        } else {
          r.probe_successes = 0;
          if (++r.probe_failures >= failure_threshold) r.ready = false;
        }
        cv.notify_all();
      });
    }

    // Status.
    json::object status = pod.contains("status") && pod["status"].is_object() ? pod["status"].as_object() : json::object();
    std::string phase = "Pending";
    if (rt.terminal) {
      phase = IntAt(rt.current_terminated, {"exitCode"}, 1) == 0 ? "Succeeded" : "Failed";
    } else if (rt.started_once) {
      phase = "Running";
    }
    status["phase"] = phase;
    status["hostIP"] = "127.0.0.1";
    status["hostIPs"] = json::array{json::object{{"ip", "127.0.0.1"}}};
    if (!rt.ip.empty()) {
      status["podIP"] = rt.ip;
      status["podIPs"] = json::array{json::object{{"ip", rt.ip}}};
    }
    if (!status.contains("startTime")) status["startTime"] = NowRfc3339();
    json::object state;
    if (rt.pid > 0) {
      state["running"] = json::object{{"startedAt", rt.started_at}};
    } else if (rt.terminal) {
      state["terminated"] = rt.current_terminated;
    } else {
      json::object waiting{{"reason", rt.waiting_reason.empty() ? "ContainerCreating" : rt.waiting_reason}};
      if (!rt.waiting_message.empty()) waiting["message"] = rt.waiting_message;
      state["waiting"] = std::move(waiting);
    }
    bool ready = rt.pid > 0 && rt.ready;
    json::object cs{{"name", StringAt(container, {"name"})},
                    {"image", StringAt(container, {"image"})},
                    {"imageID", ""},
                    {"ready", ready},
                    {"started", rt.pid > 0},
                    {"restartCount", rt.restart_count},
                    {"state", std::move(state)},
                    {"lastState", rt.last_terminated.empty() ? json::object() : json::object{{"terminated", rt.last_terminated}}}};
    if (rt.started_once) cs["containerID"] = "sim://" + rt.uid;
    status["containerStatuses"] = json::array{std::move(cs)};
    SetCondition(status, Condition("PodScheduled", true));
    SetCondition(status, Condition("Initialized", true));
    SetCondition(status, rt.terminal ? Condition("ContainersReady", false, "PodCompleted")
                                     : Condition("ContainersReady", ready, ready ? "" : "ContainersNotReady"));
    SetCondition(status, rt.terminal ? Condition("Ready", false, "PodCompleted")
                                     : Condition("Ready", ready, ready ? "" : "ContainersNotReady"));
    if (pod["status"] != json::value(status)) {
      pod["status"] = std::move(status);
      WriteLocked(pod_res, std::move(pod));
      hosts_dirty = true;
    }
  }
  if (hosts_dirty) WriteHostsLocked();
}

namespace {

bool IsMilliKey(const std::string& key) { return key == "cpu" || key.ends_with(".cpu"); }
bool IsMemoryKey(const std::string& key) { return key == "memory" || key.ends_with(".memory"); }

// What a pod counts against a quota, per quota key (cpu in milli-units).
std::map<std::string, std::int64_t> PodUsage(const json::object& pod) {
  std::map<std::string, std::int64_t> use{{"pods", 1}};
  const json::value* containers = Find(pod, {"spec", "containers"});
  if (containers == nullptr || !containers->is_array()) return use;
  for (const auto& c : containers->as_array()) {
    for (const char* kind : {"requests", "limits"}) {
      const json::value* m = Find(c, {"resources", kind});
      if (m == nullptr || !m->is_object()) continue;
      for (const auto& [k, v] : m->as_object()) {
        std::string key(k);
        auto amount = IsMilliKey(key) ? QuantityMilli(v) : QuantityUnits(v);
        if (!amount) continue;
        use[std::string(kind) + "." + key] += *amount;
        if (std::string(kind) == "requests" && (key == "cpu" || key == "memory")) use[key] += *amount;
      }
    }
  }
  return use;
}

std::string FormatQuantity(const std::string& key, std::int64_t v) {
  if (IsMilliKey(key)) return v % 1000 == 0 ? std::to_string(v / 1000) : std::to_string(v) + "m";
  if (IsMemoryKey(key) && v != 0) {
    if (v % (1LL << 30) == 0) return std::to_string(v >> 30) + "Gi";
    if (v % (1LL << 20) == 0) return std::to_string(v >> 20) + "Mi";
    if (v % (1LL << 10) == 0) return std::to_string(v >> 10) + "Ki";
  }
  return std::to_string(v);
}

std::optional<std::int64_t> ParseHard(const std::string& key, const json::value& v) {
  return IsMilliKey(key) ? QuantityMilli(v) : QuantityUnits(v);
}

}  // namespace

std::optional<ApiError> KubernetesTestApiServer::Impl::AdmitPodLocked(const std::string& ns, json::object& pod) {
  // LimitRange defaults, then requests default to limits (as the API server's defaulting does).
  json::value* containers = pod.contains("spec") && pod["spec"].is_object() ? pod["spec"].as_object().if_contains("containers") : nullptr;
  if (containers != nullptr && containers->is_array()) {
    for (auto& cv : containers->as_array()) {
      if (!cv.is_object()) continue;
      auto& resources = ObjectAt(cv.as_object(), "resources");
      if (auto limits = resources.if_contains("limits"); limits && limits->is_object()) {
        auto& requests = ObjectAt(resources, "requests");
        for (const auto& [k, v] : limits->as_object()) {
          if (!requests.contains(k)) requests[k] = v;
        }
      }
      for (const auto* lr : ListLocked(*FindResource("", "v1", "limitranges"), ns)) {
        const json::value* limits = Find(*lr, {"spec", "limits"});
        if (limits == nullptr || !limits->is_array()) continue;
        for (const auto& item : limits->as_array()) {
          if (StringAt(item, {"type"}) != "Container") continue;
          for (auto [from, to] : {std::pair{"default", "limits"}, std::pair{"defaultRequest", "requests"}}) {
            const json::value* defaults = Find(item, {from});
            if (defaults == nullptr || !defaults->is_object()) continue;
            auto& target = ObjectAt(resources, to);
            for (const auto& [k, v] : defaults->as_object()) {
              if (!target.contains(k)) target[k] = v;
            }
          }
        }
      }
      if (resources.contains("requests") && resources["requests"].as_object().empty()) resources.erase("requests");
      if (resources.contains("limits") && resources["limits"].is_object() && resources["limits"].as_object().empty()) {
        resources.erase("limits");
      }
    }
  }
  if (!options.enforce_resource_quota) return std::nullopt;
  const ResourceInfo& pod_res = PodsResource();
  std::string name = StringAt(pod, {"metadata", "name"});
  auto wanted = PodUsage(pod);
  for (const auto* q : ListLocked(*FindResource("", "v1", "resourcequotas"), ns)) {
    const json::value* hard = Find(*q, {"spec", "hard"});
    if (hard == nullptr || !hard->is_object()) continue;
    std::string quota = StringAt(*q, {"metadata", "name"});
    std::map<std::string, std::int64_t> used;
    for (const auto* p : ListLocked(pod_res, ns)) {
      std::string phase = StringAt(*p, {"status", "phase"});
      if (phase == "Succeeded" || phase == "Failed") continue;
      for (const auto& [k, v] : PodUsage(*p)) used[k] += v;
    }
    std::string requested, used_text, limited;
    std::map<std::string, json::value> sorted_hard;
    for (const auto& kv : hard->as_object()) sorted_hard.emplace(std::string(kv.key()), kv.value());
    for (const auto& [k, v] : sorted_hard) {
      std::string key(k);
      auto limit = ParseHard(key, v);
      if (!limit) continue;
      bool compute = key.starts_with("requests.") || key.starts_with("limits.") || key == "cpu" || key == "memory";
      if (compute && (key.ends_with("cpu") || key.ends_with("memory")) && !wanted.contains(key)) {
        return ApiError{403, "Forbidden",
                        "pods \"" + name + "\" is forbidden: failed quota: " + quota + ": must specify " + key,
                        json::object{{"name", name}, {"kind", "pods"}}};
      }
      std::int64_t want = wanted.contains(key) ? wanted[key] : 0;
      if (want > 0 && used[key] + want > *limit) {
        auto add = [](std::string& s, const std::string& text) { s += (s.empty() ? "" : ",") + text; };
        add(requested, key + "=" + FormatQuantity(key, want));
        add(used_text, key + "=" + FormatQuantity(key, used[key]));
        add(limited, key + "=" + FormatQuantity(key, *limit));
      }
    }
    if (!requested.empty()) {
      return ApiError{403, "Forbidden",
                      "pods \"" + name + "\" is forbidden: exceeded quota: " + quota + ", requested: " + requested +
                          ", used: " + used_text + ", limited: " + limited,
                      json::object{{"name", name}, {"kind", "pods"}}};
    }
  }
  return std::nullopt;
}

void KubernetesTestApiServer::Impl::QuotaStatusLocked() {
  const ResourceInfo& quota_res = *FindResource("", "v1", "resourcequotas");
  std::vector<json::object> quotas;
  for (const auto* q : ListLocked(quota_res, "")) quotas.push_back(*q);
  for (json::object q : quotas) {
    const json::value* hard = Find(q, {"spec", "hard"});
    if (hard == nullptr || !hard->is_object()) continue;
    std::map<std::string, std::int64_t> used;
    for (const auto* p : ListLocked(PodsResource(), StringAt(q, {"metadata", "namespace"}))) {
      std::string phase = StringAt(*p, {"status", "phase"});
      if (phase == "Succeeded" || phase == "Failed") continue;
      for (const auto& [k, v] : PodUsage(*p)) used[k] += v;
    }
    json::object used_out;
    for (const auto& [k, v] : hard->as_object()) used_out[k] = FormatQuantity(std::string(k), used[std::string(k)]);
    json::object status{{"hard", *hard}, {"used", std::move(used_out)}};
    if (!q.contains("status") || q["status"] != json::value(status)) {
      q["status"] = std::move(status);
      WriteLocked(quota_res, std::move(q));
    }
  }
}

void MarkLog(PodRuntime& rt) {
  if (rt.log_file.empty()) return;
  std::error_code ec;
  auto size = std::filesystem::file_size(rt.log_file, ec);
  if (!ec && (rt.log_marks.empty() || size > rt.log_marks.back().first)) rt.log_marks.emplace_back(size, NowRfc3339Nano());
}

void KubernetesTestApiServer::Impl::KillAllChildren() {
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [key, rt] : pods) {
    if (rt.pid > 0) {
      ::kill(-rt.pid, SIGKILL);
      ::waitpid(rt.pid, nullptr, 0);
      rt.pid = -1;
    }
  }
}

Status KubernetesTestApiServer::OomKill(const std::string& ns, const std::string& pod) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->pods.find(Impl::Key(PodsResource(), ns, pod));
  if (it == impl_->pods.end() || it->second.pid <= 0) return Status::NotFound("pod " + ns + "/" + pod + " is not running");
  it->second.oom = true;
  ::kill(-it->second.pid, SIGKILL);
  impl_->cv.notify_all();
  return Status::Ok();
}

Status KubernetesTestApiServer::FreezeContainer(const std::string& ns, const std::string& pod, bool frozen) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto it = impl_->pods.find(Impl::Key(PodsResource(), ns, pod));
  if (it == impl_->pods.end() || it->second.pid <= 0) return Status::NotFound("pod " + ns + "/" + pod + " is not running");
  ::kill(-it->second.pid, frozen ? SIGSTOP : SIGCONT);
  return Status::Ok();
}

}  // namespace paddlecloud::kube_test
