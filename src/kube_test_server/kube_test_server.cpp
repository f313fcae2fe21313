#include "kube_test_server/kube_test_server.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "kube_test_server/impl.h"
#include "pki/certificate_authority.h"

namespace paddlecloud::kube_test {
namespace json = boost::json;
namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------------------------------------
// Resources and errors

namespace {
const std::vector<ResourceInfo>& Resources() {
  static const std::vector<ResourceInfo> kResources = {
      {"", "v1", "namespaces", "Namespace", false, true},
      {"", "v1", "pods", "Pod", true, true},
      {"", "v1", "services", "Service", true, true},
      {"", "v1", "serviceaccounts", "ServiceAccount", true, false},
      {"", "v1", "resourcequotas", "ResourceQuota", true, true},
      {"", "v1", "limitranges", "LimitRange", true, false},
      {"", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", true, true},
      {"", "v1", "persistentvolumes", "PersistentVolume", false, true},
      {"", "v1", "nodes", "Node", false, true},
      {"", "v1", "events", "Event", true, false},
      {"", "v1", "configmaps", "ConfigMap", true, false},
      {"", "v1", "secrets", "Secret", true, false},
      {"apps", "v1", "deployments", "Deployment", true, true},
      {"batch", "v1", "jobs", "Job", true, true},
      {"networking.k8s.io", "v1", "networkpolicies", "NetworkPolicy", true, false},
      {"kubeflow.org", "v1", "paddlejobs", "PaddleJob", true, true},
  };
  return kResources;
}
}  // namespace

const ResourceInfo* FindResource(std::string_view group, std::string_view version, std::string_view plural) {
  for (const auto& r : Resources()) {
    if (r.group == group && r.version == version && r.plural == plural) return &r;
  }
  return nullptr;
}

const ResourceInfo* FindResourceByPlural(std::string_view plural) {
  for (const auto& r : Resources()) {
    if (r.plural == plural) return &r;
  }
  return nullptr;
}

const ResourceInfo* FindResourceByKind(std::string_view api_version, std::string_view kind) {
  for (const auto& r : Resources()) {
    if (r.ApiVersion() == api_version && r.kind == kind) return &r;
  }
  return nullptr;
}

namespace {
std::string ReasonFor(int code) {
  switch (code) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 410: return "Expired";
    case 415: return "UnsupportedMediaType";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    case 503: return "ServiceUnavailable";
    case 504: return "Timeout";
    default: return "InternalError";
  }
}

ApiError Error(int code, std::string message, json::object details = {}) {
  return ApiError{code, ReasonFor(code), std::move(message), std::move(details)};
}

json::object Details(const ResourceInfo& r, const std::string& name) {
  json::object d;
  if (!name.empty()) d["name"] = name;
  if (!r.group.empty()) d["group"] = r.group;
  d["kind"] = r.plural;
  return d;
}

ApiError ConflictError(const ResourceInfo& r, const std::string& name) {
  return Error(409, "Operation cannot be fulfilled on " + r.Qualified() + " \"" + name +
                        "\": the object has been modified; please apply your changes to the latest version and try again",
               Details(r, name));
}

ApiError InvalidError(const ResourceInfo& r, const std::string& name, const std::vector<std::string>& problems) {
  std::string joined;
  json::array causes;
  for (const auto& p : problems) {
    if (!joined.empty()) joined += ", ";
    joined += p;
    json::object cause{{"reason", "FieldValueInvalid"}, {"message", p}};
    if (auto colon = p.find(':'); colon != std::string::npos && p.find(' ') > colon) cause["field"] = p.substr(0, colon);
    causes.push_back(std::move(cause));
  }
  json::object details = Details(r, name);
  details["kind"] = r.kind;
  details["causes"] = std::move(causes);
  std::string message = r.kind + " \"" + name + "\" is invalid: " + (problems.size() == 1 ? joined : "[" + joined + "]");
  return Error(422, std::move(message), std::move(details));
}

std::string NextRv(std::int64_t& rv) { return std::to_string(++rv); }

}  // namespace

ApiError NotFoundError(const ResourceInfo& r, const std::string& name) {
  return Error(404, r.Qualified() + " \"" + name + "\" not found", Details(r, name));
}

json::object StatusObject(const ApiError& e) {
  json::object s{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Failure"},
                 {"message", e.message}, {"reason", e.reason}, {"code", e.code}};
  if (!e.details.empty()) s["details"] = e.details;
  return s;
}

// ---------------------------------------------------------------------------------------------
// Store

std::string KubernetesTestApiServer::Impl::Key(const ResourceInfo& r, const std::string& ns, const std::string& name) {
  return r.group + "|" + r.plural + "|" + (r.namespaced ? ns : "") + "|" + name;
}

const json::object* KubernetesTestApiServer::Impl::Lookup(const ResourceInfo& r, const std::string& ns,
                                                          const std::string& name) const {
  auto it = objects.find(Key(r, ns, name));
  return it == objects.end() ? nullptr : &it->second;
}

std::vector<const json::object*> KubernetesTestApiServer::Impl::ListLocked(const ResourceInfo& r,
                                                                         const std::string& ns) const {
  std::string prefix = r.group + "|" + r.plural + "|";
  if (r.namespaced && !ns.empty()) prefix += ns + "|";
  std::vector<const json::object*> out;
  for (auto it = objects.lower_bound(prefix); it != objects.end() && it->first.starts_with(prefix); ++it) {
    out.push_back(&it->second);
  }
  return out;
}

namespace {
bool WatcherMatches(const Watcher& w, const json::object& o) {
  return Matches(w.labels, o) && Matches(w.fields, o);
}

// The events a watcher sees for one store event (selector transitions become ADDED/DELETED).
std::optional<std::string> EventLineFor(const Watcher& w, const ResourceInfo& r, const std::string& type,
                                        const json::object& object, const json::object* old) {
  if (w.resource != &r) return std::nullopt;
  if (!w.ns.empty() && StringAt(object, {"metadata", "namespace"}) != w.ns) return std::nullopt;
  bool now = WatcherMatches(w, object);
  bool before = old != nullptr && WatcherMatches(w, *old);
  std::string out_type;
  if (type == "ADDED") {
    if (!now) return std::nullopt;
    out_type = "ADDED";
  } else if (type == "MODIFIED") {
    if (now && before) out_type = "MODIFIED";
    else if (now) out_type = "ADDED";
    else if (before) out_type = "DELETED";
    else return std::nullopt;
  } else {
    if (!now) return std::nullopt;
    out_type = "DELETED";
  }
  return json::serialize(json::object{{"type", out_type}, {"object", object}}) + "\n";
}
}  // namespace

void KubernetesTestApiServer::Impl::Emit(const ResourceInfo& r, const std::string& type, const json::object& object,
                                         const json::object* old) {
  if (options.on_event) options.on_event(type, object);
  history.push_back(Event{rv, &r, type, object, old ? std::optional<json::object>(*old) : std::nullopt});
  while (history.size() > options.history_limit) {
    compacted_rv = history.front().rv;
    history.pop_front();
  }
  for (auto& w : watchers) {
    auto line = EventLineFor(*w, r, type, object, old);
    std::lock_guard<std::mutex> lock(w->mu);
    if (line) {
      w->lines.push_back(std::move(*line));
      w->Wake();
    }
    w->rv_seen = rv;
  }
  cv.notify_all();
}

std::vector<std::string> KubernetesTestApiServer::Impl::ValidateLocked(const json::object& obj, bool strict) {
  std::vector<std::string> problems;
  json::value v(obj);
  std::string kind = StringAt(v, {"kind"});
  if (kind == "Pod") {
    const json::value* containers = Find(v, {"spec", "containers"});
    if (containers == nullptr || !containers->is_array() || containers->as_array().empty()) {
      problems.push_back("spec.containers: Required value");
    } else {
      for (std::size_t i = 0; i < containers->as_array().size(); ++i) {
        const auto& c = containers->as_array()[i];
        std::string at = "spec.containers[" + std::to_string(i) + "]";
        if (StringAt(c, {"name"}).empty()) problems.push_back(at + ".name: Required value");
        if (StringAt(c, {"image"}).empty()) problems.push_back(at + ".image: Required value");
      }
    }
  }
  // Bounds that keep the simulated controllers' loops small (the real limits are larger).
  auto bounded = [&](std::initializer_list<std::string_view> path, const std::string& field, std::int64_t max) {
    const json::value* f = Find(v, path);
    if (f == nullptr) return;
    if (!f->is_int64() && !f->is_uint64()) {
      problems.push_back(field + ": Invalid value: must be an integer");
    } else if (IntAt(v, path, -1) < 0 || IntAt(v, path, -1) > max) {
      problems.push_back(field + ": Invalid value: " + json::serialize(*f) + ": must be between 0 and " + std::to_string(max));
    }
  };
  if (kind == "Job") {
    bounded({"spec", "completions"}, "spec.completions", 10000);
    bounded({"spec", "parallelism"}, "spec.parallelism", 10000);
    bounded({"spec", "backoffLimit"}, "spec.backoffLimit", 2147483647);
  }
  if (kind == "Deployment") bounded({"spec", "replicas"}, "spec.replicas", 10000);
  if (kind == "PaddleJob") {
    if (const json::value* specs = Find(v, {"spec", "paddleReplicaSpecs"}); specs && specs->is_object()) {
      for (const auto& [type, rs] : specs->as_object()) {
        json::value wrapped{{"r", rs}};
        const json::value* r = Find(wrapped, {"r", "replicas"});
        if (r != nullptr && (!(r->is_int64() || r->is_uint64()) || IntAt(wrapped, {"r", "replicas"}, -1) < 0 ||
                             IntAt(wrapped, {"r", "replicas"}, -1) > 10000)) {
          problems.push_back("spec.paddleReplicaSpecs." + std::string(type) + ".replicas: Invalid value: must be between 0 and 10000");
        }
      }
    }
  }
  if (kind == "Deployment") {
    const json::value* selector = Find(v, {"spec", "selector"});
    const json::value* labels = Find(v, {"spec", "template", "metadata", "labels"});
    json::object fake{{"metadata", json::object{{"labels", labels && labels->is_object() ? *labels : json::object()}}}};
    if (selector == nullptr) {
      problems.push_back("spec.selector: Required value");
    } else if (!MatchesLabelSelectorObject(*selector, fake)) {
      problems.push_back("spec.template.metadata.labels: Invalid value: `selector` does not match template `labels`");
    }
  }
  if (strict && options.validate) {
    for (auto& p : options.validate(v)) problems.push_back(std::move(p));
  }
  return problems;
}

namespace {
void ApplyDefaults(const ResourceInfo& r, json::object& obj, std::int64_t* service_ip_counter) {
  auto& meta = ObjectAt(obj, "metadata");
  std::string name(meta["name"].as_string());
  std::string uid(meta["uid"].as_string());
  if (r.plural == "namespaces") {
    ObjectAt(meta, "labels")["kubernetes.io/metadata.name"] = name;
    auto& spec = ObjectAt(obj, "spec");
    if (!spec.contains("finalizers")) spec["finalizers"] = json::array{"kubernetes"};
    auto& status = ObjectAt(obj, "status");
    if (!status.contains("phase")) status["phase"] = "Active";
  } else if (r.plural == "pods") {
    auto& spec = ObjectAt(obj, "spec");
    if (!spec.contains("restartPolicy")) spec["restartPolicy"] = "Always";
    if (!spec.contains("terminationGracePeriodSeconds")) spec["terminationGracePeriodSeconds"] = 30;
    if (!spec.contains("dnsPolicy")) spec["dnsPolicy"] = "ClusterFirst";
    if (!spec.contains("schedulerName")) spec["schedulerName"] = "default-scheduler";
    auto& status = ObjectAt(obj, "status");
    if (!status.contains("phase")) status["phase"] = "Pending";
  } else if (r.plural == "jobs") {
    auto& spec = ObjectAt(obj, "spec");
    if (!spec.contains("parallelism")) spec["parallelism"] = 1;
    if (!spec.contains("completions")) spec["completions"] = 1;
    if (!spec.contains("completionMode")) spec["completionMode"] = "NonIndexed";
    if (!spec.contains("backoffLimit")) spec["backoffLimit"] = spec.contains("backoffLimitPerIndex") ? 2147483647 : 6;
    if (!spec.contains("suspend")) spec["suspend"] = false;
    auto& tmeta = ObjectAt(ObjectAt(spec, "template"), "metadata");
    auto& tlabels = ObjectAt(tmeta, "labels");
    tlabels["batch.kubernetes.io/controller-uid"] = uid;
    tlabels["batch.kubernetes.io/job-name"] = name;
    tlabels["controller-uid"] = uid;
    tlabels["job-name"] = name;
    if (!spec.contains("selector")) {
      spec["selector"] = json::object{{"matchLabels", json::object{{"batch.kubernetes.io/controller-uid", uid}}}};
    }
    ObjectAt(obj, "status");
  } else if (r.plural == "deployments") {
    auto& spec = ObjectAt(obj, "spec");
    if (!spec.contains("replicas")) spec["replicas"] = 1;
    if (!spec.contains("strategy")) spec["strategy"] = json::object{{"type", "RollingUpdate"}};
    ObjectAt(obj, "status");
  } else if (r.plural == "services") {
    auto& spec = ObjectAt(obj, "spec");
    if (!spec.contains("type")) spec["type"] = "ClusterIP";
    if (!spec.contains("clusterIP")) {
      std::int64_t n = ++*service_ip_counter;
      spec["clusterIP"] = "10.96." + std::to_string((n / 250) % 250) + "." + std::to_string(n % 250 + 1);
    }
    ObjectAt(obj, "status");
  } else if (r.plural == "persistentvolumeclaims") {
    auto& status = ObjectAt(obj, "status");
    if (!status.contains("phase")) status["phase"] = "Pending";
  } else if (r.plural == "persistentvolumes") {
    auto& status = ObjectAt(obj, "status");
    if (!status.contains("phase")) status["phase"] = "Available";
  }
}

std::int64_t service_ips = 0;
}  // namespace

ApiResult<json::object> KubernetesTestApiServer::Impl::CreateLocked(const ResourceInfo& r, const std::string& ns,
                                                                    json::object obj, bool strict) {
  json::value kind = obj.contains("kind") ? obj["kind"] : json::value();
  if (kind.is_string() && kind.as_string() != r.kind) {
    return std::unexpected(Error(400, "the kind of the object (" + std::string(kind.as_string()) +
                                          ") does not match the resource (" + r.Qualified() + ")"));
  }
  obj["kind"] = r.kind;
  obj["apiVersion"] = r.ApiVersion();
  auto& meta = ObjectAt(obj, "metadata");
  std::string name = meta.contains("name") && meta["name"].is_string() ? std::string(meta["name"].as_string()) : "";
  if (name.empty() && meta.contains("generateName") && meta["generateName"].is_string()) {
    name = std::string(meta["generateName"].as_string()) + RandomSuffix(5);
  }
  if (name.empty()) {
    return std::unexpected(InvalidError(r, "", {"metadata.name: Required value: name or generateName is required"}));
  }
  bool label_name = r.plural == "namespaces" || r.plural == "services";
  if (label_name ? !IsDnsLabel(name) : !IsDnsSubdomain(name)) {
    return std::unexpected(InvalidError(
        r, name,
        {"metadata.name: Invalid value: \"" + name + "\": a lowercase RFC 1123 " +
         (label_name ? "label" : "subdomain") +
         " must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an "
         "alphanumeric character"}));
  }
  meta["name"] = name;
  if (r.namespaced) {
    if (meta.contains("namespace") && meta["namespace"].is_string() && !meta["namespace"].as_string().empty() &&
        meta["namespace"].as_string() != ns) {
      return std::unexpected(
          Error(400, "the namespace of the provided object does not match the namespace sent on the request"));
    }
    meta["namespace"] = ns;
    const json::object* nso = Lookup(*FindResource("", "v1", "namespaces"), "", ns);
    if (nso == nullptr) {
      return std::unexpected(Error(404, "namespaces \"" + ns + "\" not found",
                                   json::object{{"name", ns}, {"kind", "namespaces"}}));
    }
    if (Find(*nso, {"metadata", "deletionTimestamp"}) != nullptr) {
      return std::unexpected(Error(403, r.Qualified() + " \"" + name +
                                            "\" is forbidden: unable to create new content in namespace " + ns +
                                            " because it is being terminated",
                                   Details(r, name)));
    }
  } else {
    meta.erase("namespace");
  }
  if (Lookup(r, ns, name) != nullptr) {
    ApiError exists = Error(409, r.Qualified() + " \"" + name + "\" already exists", Details(r, name));
    exists.reason = "AlreadyExists";
    return std::unexpected(std::move(exists));
  }
  meta["uid"] = NewUid();
  meta["creationTimestamp"] = NowRfc3339();
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  meta.erase("resourceVersion");
  if (obj.contains("spec")) meta["generation"] = 1;
  if (r.has_status && r.plural != "pods" && r.plural != "namespaces" && r.plural != "persistentvolumes" &&
      r.plural != "persistentvolumeclaims") {
    obj.erase("status");  // status comes from controllers
  }
  ApplyDefaults(r, obj, &service_ips);
  auto problems = ValidateLocked(obj, strict);
  if (!problems.empty()) return std::unexpected(InvalidError(r, name, problems));
  if (r.plural == "pods") {
    if (auto denied = AdmitPodLocked(ns, obj)) return std::unexpected(std::move(*denied));
  }
  ObjectAt(obj, "metadata")["resourceVersion"] = NextRv(rv);
  created_seq[std::string(obj["metadata"].as_object()["uid"].as_string())] = rv;
  objects[Key(r, ns, name)] = obj;
  Emit(r, "ADDED", obj, nullptr);
  return obj;
}

json::object KubernetesTestApiServer::Impl::WriteLocked(const ResourceInfo& r, json::object obj) {
  json::value v(obj);
  std::string key = Key(r, StringAt(v, {"metadata", "namespace"}), StringAt(v, {"metadata", "name"}));
  auto it = objects.find(key);
  if (it == objects.end()) return obj;
  json::object old = it->second;
  ObjectAt(obj, "metadata")["resourceVersion"] = old["metadata"].as_object()["resourceVersion"];
  if (obj == old) return old;
  ObjectAt(obj, "metadata")["resourceVersion"] = NextRv(rv);
  it->second = obj;
  Emit(r, "MODIFIED", obj, &old);
  return obj;
}

ApiResult<json::object> KubernetesTestApiServer::Impl::UpdateLocked(const ResourceInfo& r, const std::string& ns,
                                                                    const std::string& name, json::object obj,
                                                                    bool status_only, bool strict) {
  const json::object* existing_ptr = Lookup(r, ns, name);
  if (existing_ptr == nullptr) return std::unexpected(NotFoundError(r, name));
  json::object existing = *existing_ptr;
  json::value ev(existing);
  json::value nv(obj);
  std::string body_name = StringAt(nv, {"metadata", "name"});
  if (!body_name.empty() && body_name != name) {
    return std::unexpected(Error(400, "the name of the object (" + body_name +
                                          ") does not match the name on the URL (" + name + ")"));
  }
  std::string body_rv = StringAt(nv, {"metadata", "resourceVersion"});
  if (!body_rv.empty() && body_rv != StringAt(ev, {"metadata", "resourceVersion"})) {
    return std::unexpected(ConflictError(r, name));
  }
  std::string body_uid = StringAt(nv, {"metadata", "uid"});
  if (!body_uid.empty() && body_uid != StringAt(ev, {"metadata", "uid"})) {
    return std::unexpected(Error(409, "Precondition failed: UID in precondition: " + body_uid +
                                          ", UID in object meta: " + StringAt(ev, {"metadata", "uid"}),
                                 Details(r, name)));
  }
  json::object updated;
  if (status_only) {
    updated = existing;
    if (obj.contains("status")) updated["status"] = obj["status"];
  } else {
    updated = std::move(obj);
    updated["kind"] = r.kind;
    updated["apiVersion"] = r.ApiVersion();
    auto& meta = ObjectAt(updated, "metadata");
    const auto& old_meta = existing["metadata"].as_object();
    for (const char* field : {"name", "namespace", "uid", "creationTimestamp", "generation", "deletionTimestamp",
                              "deletionGracePeriodSeconds"}) {
      if (auto f = old_meta.if_contains(field)) {
        meta[field] = *f;
      } else {
        meta.erase(field);
      }
    }
    if (r.has_status) {
      if (auto s = existing.if_contains("status")) {
        updated["status"] = *s;
      } else {
        updated.erase("status");
      }
    }
    json::value old_spec = existing.contains("spec") ? existing["spec"] : json::value();
    json::value new_spec = updated.contains("spec") ? updated["spec"] : json::value();
    ApplyDefaults(r, updated, &service_ips);
    new_spec = updated.contains("spec") ? updated["spec"] : json::value();
    if (old_spec != new_spec) meta["generation"] = IntAt(ev, {"metadata", "generation"}, 0) + 1;
  }
  auto problems = ValidateLocked(updated, strict);
  if (!problems.empty()) return std::unexpected(InvalidError(r, name, problems));
  auto written = WriteLocked(r, std::move(updated));
  // An object waiting for its finalizers to go is removed once they have.
  if (Find(written, {"metadata", "deletionTimestamp"}) && r.plural != "pods" && r.plural != "namespaces") {
    const json::value* fin = Find(written, {"metadata", "finalizers"});
    if (fin == nullptr || !fin->is_array() || fin->as_array().empty()) RemoveLocked(r, ns, name);
  }
  return written;
}

void KubernetesTestApiServer::Impl::RemoveLocked(const ResourceInfo& r, const std::string& ns, const std::string& name) {
  auto it = objects.find(Key(r, ns, name));
  if (it == objects.end()) return;
  json::object last = std::move(it->second);
  objects.erase(it);
  created_seq.erase(StringAt(last, {"metadata", "uid"}));
  if (r.plural == "jobs") job_lost.erase(StringAt(last, {"metadata", "uid"}));
  if (r.plural == "pods") {
    std::string phase = StringAt(last, {"status", "phase"});
    const json::value* refs = Find(last, {"metadata", "ownerReferences"});
    if (phase != "Succeeded" && phase != "Failed" && refs != nullptr && refs->is_array()) {
      for (const auto& ref : refs->as_array()) {
        if (StringAt(ref, {"kind"}) != "Job") continue;
        std::int64_t index = -1;
        try {
          index = std::stoll(StringAt(last, {"metadata", "annotations", "batch.kubernetes.io/job-completion-index"}, "-1"));
        } catch (...) {
        }
        job_lost[StringAt(ref, {"uid"})][index]++;
      }
    }
  }
  ObjectAt(last, "metadata")["resourceVersion"] = NextRv(rv);
  Emit(r, "DELETED", last, nullptr);
}

ApiResult<json::object> KubernetesTestApiServer::Impl::DeleteLocked(const ResourceInfo& r, const std::string& ns,
                                                                    const std::string& name, int grace,
                                                                    const std::string& policy,
                                                                    const json::object& preconditions) {
  const json::object* existing_ptr = Lookup(r, ns, name);
  if (existing_ptr == nullptr) return std::unexpected(NotFoundError(r, name));
  json::object existing = *existing_ptr;
  json::value ev(existing);
  std::string uid = StringAt(ev, {"metadata", "uid"});
  if (auto p = preconditions.if_contains("uid"); p && p->is_string() && p->as_string() != uid) {
    return std::unexpected(Error(409, "Precondition failed: UID in precondition: " + std::string(p->as_string()) +
                                          ", UID in object meta: " + uid,
                                 Details(r, name)));
  }
  if (auto p = preconditions.if_contains("resourceVersion");
      p && p->is_string() && p->as_string() != StringAt(ev, {"metadata", "resourceVersion"})) {
    return std::unexpected(Error(409, "Precondition failed: ResourceVersion in precondition: " +
                                          std::string(p->as_string()) + ", ResourceVersion in object meta: " +
                                          StringAt(ev, {"metadata", "resourceVersion"}),
                                 Details(r, name)));
  }
  if (policy != "" && policy != "Background" && policy != "Foreground" && policy != "Orphan") {
    return std::unexpected(Error(422, "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"" +
                                          policy + "\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\""));
  }
  if (r.plural == "namespaces") {
    if (Find(ev, {"metadata", "deletionTimestamp"}) == nullptr) {
      existing["metadata"].as_object()["deletionTimestamp"] = NowRfc3339();
      existing["status"].as_object()["phase"] = "Terminating";
      existing = WriteLocked(r, existing);
      cv.notify_all();
    }
    return existing;
  }
  // Dependents (objects in the same namespace naming this one as owner).
  std::vector<std::pair<const ResourceInfo*, std::string>> dependents;
  for (const auto& [key, obj] : objects) {
    json::value ov(obj);
    if (StringAt(ov, {"metadata", "namespace"}) != ns) continue;
    const json::value* refs = Find(ov, {"metadata", "ownerReferences"});
    if (refs == nullptr || !refs->is_array()) continue;
    for (const auto& ref : refs->as_array()) {
      if (StringAt(ref, {"uid"}) == uid) {
        dependents.emplace_back(FindResourceByKind(StringAt(ov, {"apiVersion"}), StringAt(ov, {"kind"})),
                                StringAt(ov, {"metadata", "name"}));
      }
    }
  }
  for (auto& [dr, dname] : dependents) {
    if (dr == nullptr) continue;
    if (policy == "Orphan") {
      json::object d = *Lookup(*dr, ns, dname);
      auto& refs = d["metadata"].as_object()["ownerReferences"].as_array();
      json::array kept;
      for (auto& ref : refs) {
        if (StringAt(ref, {"uid"}) != uid) kept.push_back(ref);
      }
      if (kept.empty()) {
        d["metadata"].as_object().erase("ownerReferences");
      } else {
        d["metadata"].as_object()["ownerReferences"] = std::move(kept);
      }
      WriteLocked(*dr, std::move(d));
    } else {
      (void)DeleteLocked(*dr, ns, dname, grace, "Background", {});
    }
  }
  if (r.plural == "pods") {
    auto rt = pods.find(Key(r, ns, name));
    bool running = rt != pods.end() && rt->second.pid > 0;
    if (running && grace != 0) {
      if (Find(ev, {"metadata", "deletionTimestamp"}) != nullptr) return existing;
      int g = grace > 0 ? grace : static_cast<int>(IntAt(ev, {"spec", "terminationGracePeriodSeconds"}, 30));
      auto& meta = existing["metadata"].as_object();
      meta["deletionTimestamp"] = Rfc3339(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count() +
                                          g);
      meta["deletionGracePeriodSeconds"] = g;
      existing = WriteLocked(r, existing);
      cv.notify_all();
      return existing;
    }
    RemoveLocked(r, ns, name);
    cv.notify_all();
    return existing;
  }
  if (policy == "Foreground" && !dependents.empty()) {
    auto& meta = existing["metadata"].as_object();
    if (!meta.contains("deletionTimestamp")) {
      meta["deletionTimestamp"] = NowRfc3339();
      json::array fin;
      if (auto f = meta.if_contains("finalizers"); f && f->is_array()) fin = f->as_array();
      fin.push_back("foregroundDeletion");
      meta["finalizers"] = std::move(fin);
      existing = WriteLocked(r, existing);
    }
    return existing;
  }
  const json::value* fin = Find(ev, {"metadata", "finalizers"});
  if (fin != nullptr && fin->is_array() && !fin->as_array().empty()) {
    if (Find(ev, {"metadata", "deletionTimestamp"}) == nullptr) {
      existing["metadata"].as_object()["deletionTimestamp"] = NowRfc3339();
      existing = WriteLocked(r, existing);
    }
    return existing;
  }
  RemoveLocked(r, ns, name);
  return existing;
}

// ---------------------------------------------------------------------------------------------
// HTTP API

namespace {

struct ApiPath {
  const ResourceInfo* resource = nullptr;
  std::string ns;
  std::string name;
  std::string sub;
};

std::vector<std::string> SplitPath(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    if (slash > start) parts.emplace_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

ApiResult<ApiPath> ParseApiPath(std::string_view path) {
  auto parts = SplitPath(path);
  auto not_found = [] { return std::unexpected(Error(404, "the server could not find the requested resource")); };
  std::string group, version;
  std::size_t i;
  if (parts.size() >= 2 && parts[0] == "api") {
    version = parts[1];
    i = 2;
  } else if (parts.size() >= 3 && parts[0] == "apis") {
    group = parts[1];
    version = parts[2];
    i = 3;
  } else {
    return not_found();
  }
  std::vector<std::string> rest(parts.begin() + static_cast<long>(i), parts.end());
  ApiPath out;
  if (rest.empty()) return not_found();
  if (rest[0] == "namespaces" && rest.size() >= 3 && FindResource(group, version, rest[2]) != nullptr) {
    out.ns = rest[1];
    out.resource = FindResource(group, version, rest[2]);
    if (!out.resource->namespaced) return not_found();
    if (rest.size() >= 4) out.name = rest[3];
    if (rest.size() >= 5) out.sub = rest[4];
    if (rest.size() > 5) return not_found();
    return out;
  }
  out.resource = FindResource(group, version, rest[0]);
  if (out.resource == nullptr) return not_found();
  if (rest.size() >= 2) {
    if (out.resource->namespaced) return not_found();
    out.name = rest[1];
  }
  if (rest.size() >= 3) out.sub = rest[2];
  if (rest.size() > 3) return not_found();
  return out;
}

// The discovery documents (/api, /apis, /api/v1, /apis/GROUP/VERSION) for clients that look first.
std::optional<json::value> Discovery(const std::string& method, const std::string& path) {
  if (method != "GET") return std::nullopt;
  auto parts = SplitPath(path);
  if (parts.size() == 1 && parts[0] == "api") {
    return json::object{{"kind", "APIVersions"}, {"versions", json::array{"v1"}},
                        {"serverAddressByClientCIDRs", json::array{}}};
  }
  if (parts.size() == 1 && parts[0] == "apis") {
    std::map<std::string, std::string> groups;
    for (const auto& r : Resources()) {
      if (!r.group.empty()) groups[r.group] = r.version;
    }
    json::array list;
    for (const auto& [g, v] : groups) {
      json::object gv{{"groupVersion", g + "/" + v}, {"version", v}};
      list.push_back(json::object{{"name", g}, {"versions", json::array{gv}}, {"preferredVersion", gv}});
    }
    return json::object{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(list)}};
  }
  std::string group, version;
  if (parts.size() == 2 && parts[0] == "api") {
    version = parts[1];
  } else if (parts.size() == 3 && parts[0] == "apis") {
    group = parts[1];
    version = parts[2];
  } else {
    return std::nullopt;
  }
  json::array resources;
  for (const auto& r : Resources()) {
    if (r.group != group || r.version != version) continue;
    std::string singular = r.kind;
    for (auto& ch : singular) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    resources.push_back(json::object{
        {"name", r.plural}, {"singularName", singular}, {"namespaced", r.namespaced}, {"kind", r.kind},
        {"verbs", json::array{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"}}});
    if (r.has_status) {
      resources.push_back(json::object{{"name", r.plural + "/status"}, {"singularName", ""}, {"namespaced", r.namespaced},
                                       {"kind", r.kind}, {"verbs", json::array{"get", "patch", "update"}}});
    }
    if (r.plural == "deployments") {
      resources.push_back(json::object{{"name", "deployments/scale"}, {"singularName", ""}, {"namespaced", true},
                                       {"group", "autoscaling"}, {"version", "v1"}, {"kind", "Scale"},
                                       {"verbs", json::array{"get", "patch", "update"}}});
    }
    if (r.plural == "pods") {
      resources.push_back(json::object{{"name", "pods/log"}, {"singularName", ""}, {"namespaced", true},
                                       {"kind", "Pod"}, {"verbs", json::array{"get"}}});
    }
  }
  if (resources.empty()) return std::nullopt;
  return json::object{{"kind", "APIResourceList"}, {"apiVersion", "v1"},
                      {"groupVersion", group.empty() ? version : group + "/" + version},
                      {"resources", std::move(resources)}};
}

http::Response JsonResponse(int status, const json::value& body) {
  http::Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = json::serialize(body);
  return r;
}

http::Response ErrorResponse(const ApiError& e) { return JsonResponse(e.code, StatusObject(e)); }

std::string QueryOr(const http::Request& req, const std::string& name, std::string fallback = "") {
  auto q = req.Query(name);
  return q ? std::string(*q) : fallback;
}

bool QueryTrue(const http::Request& req, const std::string& name) {
  std::string v = QueryOr(req, name);
  return v == "1" || v == "true" || v == "True";
}

json::object ScaleOf(const json::object& deployment) {
  json::value d(deployment);
  json::object labels;
  if (auto ml = Find(d, {"spec", "selector", "matchLabels"}); ml && ml->is_object()) labels = ml->as_object();
  return json::object{
      {"kind", "Scale"},
      {"apiVersion", "autoscaling/v1"},
      {"metadata",
       json::object{{"name", StringAt(d, {"metadata", "name"})},
                    {"namespace", StringAt(d, {"metadata", "namespace"})},
                    {"uid", StringAt(d, {"metadata", "uid"})},
                    {"resourceVersion", StringAt(d, {"metadata", "resourceVersion"})},
                    {"creationTimestamp", StringAt(d, {"metadata", "creationTimestamp"})}}},
      {"spec", json::object{{"replicas", IntAt(d, {"spec", "replicas"}, 1)}}},
      {"status", json::object{{"replicas", IntAt(d, {"status", "replicas"}, 0)}, {"selector", SelectorString(labels)}}}};
}

std::string ReadFileAll(const std::string& path, bool* ok) {
  std::ifstream in(path, std::ios::binary);
  *ok = static_cast<bool>(in);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TailLines(const std::string& text, std::int64_t n) {
  if (n < 0) return text;
  if (n == 0) return "";
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  std::int64_t count = 0;
  while (pos > 0) {
    --pos;
    if (text[pos] == '\n' && ++count == n) return text.substr(pos + 1);
  }
  return text;
}

std::string Verb(const std::string& method, const ApiPath& p, bool watch) {
  if (method == "GET" || method == "HEAD") return p.name.empty() ? (watch ? "watch" : "list") : "get";
  if (method == "POST") return "create";
  if (method == "PUT") return "update";
  if (method == "PATCH") return "patch";
  if (method == "DELETE") return p.name.empty() ? "deletecollection" : "delete";
  return "";
}

}  // namespace

asio::awaitable<http::Response> KubernetesTestApiServer::Impl::Handle(http::Request& req) {
  if (req.path == "/version") {
    co_return JsonResponse(200, json::object{{"major", "1"}, {"minor", "30"}, {"gitVersion", "v1.30.0-paddlecloud-test"},
                                             {"platform", "linux/amd64"}});
  }
  if (req.path == "/healthz" || req.path == "/readyz" || req.path == "/livez") co_return http::Response::Text(200, "ok");
  if (auto discovery = Discovery(req.method, req.path)) co_return JsonResponse(200, *discovery);
  auto parsed = ParseApiPath(req.path);
  if (!parsed) co_return ErrorResponse(parsed.error());
  ApiPath p = *parsed;
  const ResourceInfo& r = *p.resource;
  bool watch = QueryTrue(req, "watch");
  std::string verb = Verb(req.method, p, watch);
  bool strict = QueryOr(req, "fieldValidation") == "Strict";
  {
    std::lock_guard<std::mutex> lock(mu);
    std::string sub_resource = p.sub.empty() ? r.plural : r.plural + "/" + p.sub;
    if (forbidden.contains({verb, r.plural}) || forbidden.contains({verb, sub_resource})) {
      std::string message = r.Qualified() + (p.name.empty() ? "" : " \"" + p.name + "\"") +
                            " is forbidden: User \"" + options.user + "\" cannot " + verb + " resource \"" +
                            sub_resource + "\" in API group \"" + r.group + "\"" +
                            (r.namespaced && !p.ns.empty() ? " in the namespace \"" + p.ns + "\"" : " at the cluster scope");
      co_return ErrorResponse(Error(403, message, Details(r, p.name)));
    }
  }
  if (!p.sub.empty() && p.sub != "status" && !(p.sub == "scale" && r.plural == "deployments") &&
      !(p.sub == "log" && r.plural == "pods")) {
    co_return ErrorResponse(Error(404, "the server could not find the requested resource"));
  }
  json::value body;
  if (req.method == "POST" || req.method == "PUT" || req.method == "PATCH" ||
      (req.method == "DELETE" && !req.body.empty())) {
    boost::system::error_code ec;
    body = json::parse(req.body, ec);
    if (ec || !body.is_object()) {
      co_return ErrorResponse(Error(400, "the request body is not a JSON object: " + (ec ? ec.message() : "not an object")));
    }
  }

  // Pod logs.
  if (p.sub == "log") {
    if (req.method != "GET") co_return ErrorResponse(Error(405, "the server does not allow this method on the requested resource"));
    co_return HandleLog(req, p.ns, p.name);
  }

  // Watch.
  if (verb == "watch") co_return HandleWatch(req, r, p.ns);

  std::unique_lock<std::mutex> lock(mu);
  if (verb == "list") {
    std::string error;
    auto labels = ParseLabelSelector(QueryOr(req, "labelSelector"), &error);
    if (!labels) co_return ErrorResponse(Error(400, error));
    auto fields = ParseFieldSelector(QueryOr(req, "fieldSelector"), &error);
    if (!fields) co_return ErrorResponse(Error(400, error));
    json::array items;
    for (const auto* o : ListLocked(r, p.ns)) {
      if (Matches(*labels, *o) && Matches(*fields, *o)) items.push_back(*o);
    }
    json::object meta{{"resourceVersion", std::to_string(rv)}};
    std::int64_t limit = 0;
    std::int64_t offset = 0;
    try {
      limit = std::stoll(QueryOr(req, "limit", "0"));
      offset = std::stoll(QueryOr(req, "continue", "0"));
    } catch (...) {
      co_return ErrorResponse(Error(400, "invalid limit or continue"));
    }
    if (offset < 0 || offset > static_cast<std::int64_t>(items.size())) {
      co_return ErrorResponse(Error(410, "The provided continue parameter is too old to display a consistent list result."));
    }
    if (limit > 0 || offset > 0) {
      json::array page;
      std::int64_t end = limit > 0 ? std::min<std::int64_t>(offset + limit, items.size()) : items.size();
      for (std::int64_t i = offset; i < end; ++i) page.push_back(items[static_cast<std::size_t>(i)]);
      if (end < static_cast<std::int64_t>(items.size())) {
        meta["continue"] = std::to_string(end);
        meta["remainingItemCount"] = static_cast<std::int64_t>(items.size()) - end;
      }
      items = std::move(page);
    }
    co_return JsonResponse(200, json::object{{"kind", r.kind + "List"}, {"apiVersion", r.ApiVersion()},
                                             {"metadata", meta}, {"items", std::move(items)}});
  }
  if (verb == "get") {
    const json::object* o = Lookup(r, p.ns, p.name);
    if (o == nullptr) co_return ErrorResponse(NotFoundError(r, p.name));
    if (p.sub == "scale") co_return JsonResponse(200, ScaleOf(*o));
    co_return JsonResponse(200, *o);
  }
  if (verb == "create") {
    if (!p.sub.empty()) co_return ErrorResponse(Error(405, "the server does not allow this method on the requested resource"));
    auto created = CreateLocked(r, p.ns, body.as_object(), strict);
    if (!created) co_return ErrorResponse(created.error());
    co_return JsonResponse(201, *created);
  }
  if (verb == "update" || verb == "patch") {
    const json::object* existing = Lookup(r, p.ns, p.name);
    std::string content_type(req.headers.Get("Content-Type").value_or("application/json"));
    if (auto semi = content_type.find(';'); semi != std::string::npos) content_type.resize(semi);
    bool apply = verb == "patch" && content_type == "application/apply-patch+yaml";
    if (verb == "patch" && !apply && content_type != "application/merge-patch+json" &&
        content_type != "application/strategic-merge-patch+json") {
      co_return ErrorResponse(Error(415, "the body of the request was in an unknown format - accepted media types include: "
                                         "application/merge-patch+json, application/strategic-merge-patch+json, "
                                         "application/apply-patch+yaml"));
    }
    if (apply && QueryOr(req, "fieldManager").empty()) {
      co_return ErrorResponse(Error(400, "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch"));
    }
    if (existing == nullptr) {
      if (apply && p.sub.empty()) {
        json::object obj = body.as_object();
        ObjectAt(obj, "metadata")["name"] = p.name;
        auto created = CreateLocked(r, p.ns, std::move(obj), strict);
        if (!created) co_return ErrorResponse(created.error());
        co_return JsonResponse(201, *created);
      }
      co_return ErrorResponse(NotFoundError(r, p.name));
    }
    if (p.sub == "scale") {
      json::object scale = ScaleOf(*existing);
      json::value target(scale);
      if (verb == "update") {
        std::string body_rv = StringAt(body, {"metadata", "resourceVersion"});
        if (!body_rv.empty() && body_rv != StringAt(target, {"metadata", "resourceVersion"})) {
          co_return ErrorResponse(ConflictError(r, p.name));
        }
        target = body;
      } else {
        std::string body_rv = StringAt(body, {"metadata", "resourceVersion"});
        if (!body_rv.empty() && body_rv != StringAt(target, {"metadata", "resourceVersion"})) {
          co_return ErrorResponse(ConflictError(r, p.name));
        }
        MergePatch(target, body);
      }
      std::int64_t replicas = IntAt(target, {"spec", "replicas"}, -1);
      if (replicas < 0) {
        co_return ErrorResponse(InvalidError(*FindResource("apps", "v1", "deployments"), p.name,
                                             {"spec.replicas: Invalid value: must be greater than or equal to 0"}));
      }
      json::object d = *existing;
      d["spec"].as_object()["replicas"] = replicas;
      d["metadata"].as_object().erase("resourceVersion");
      auto updated = UpdateLocked(r, p.ns, p.name, std::move(d), false, strict);
      if (!updated) co_return ErrorResponse(updated.error());
      co_return JsonResponse(200, ScaleOf(*updated));
    }
    json::value target = *existing;
    if (verb == "update") {
      target = body;
    } else {
      std::string body_rv = StringAt(body, {"metadata", "resourceVersion"});
      if (!body_rv.empty() && body_rv != StringAt(target, {"metadata", "resourceVersion"})) {
        co_return ErrorResponse(ConflictError(r, p.name));
      }
      MergePatch(target, body);
      if (body_rv.empty()) target.as_object()["metadata"].as_object().erase("resourceVersion");
    }
    if (!target.is_object()) co_return ErrorResponse(Error(400, "the patched object is not a JSON object"));
    auto updated = UpdateLocked(r, p.ns, p.name, std::move(target.as_object()), p.sub == "status", strict);
    if (!updated) co_return ErrorResponse(updated.error());
    co_return JsonResponse(200, *updated);
  }
  if (verb == "delete" || verb == "deletecollection") {
    int grace = -1;
    std::string policy = QueryOr(req, "propagationPolicy");
    json::object preconditions;
    try {
      if (auto g = req.Query("gracePeriodSeconds")) grace = std::stoi(std::string(*g));
    } catch (...) {
      co_return ErrorResponse(Error(400, "gracePeriodSeconds is not an integer"));
    }
    if (body.is_object()) {
      const auto& o = body.as_object();
      if (auto g = o.if_contains("gracePeriodSeconds"); g && g->is_int64()) grace = static_cast<int>(g->as_int64());
      if (auto pp = o.if_contains("propagationPolicy"); pp && pp->is_string()) policy = std::string(pp->as_string());
      if (auto pc = o.if_contains("preconditions"); pc && pc->is_object()) preconditions = pc->as_object();
    }
    if (policy.empty()) policy = "Background";
    if (verb == "delete") {
      auto deleted = DeleteLocked(r, p.ns, p.name, grace, policy, preconditions);
      if (!deleted) co_return ErrorResponse(deleted.error());
      co_return JsonResponse(200, *deleted);
    }
    std::string error;
    auto labels = ParseLabelSelector(QueryOr(req, "labelSelector"), &error);
    if (!labels) co_return ErrorResponse(Error(400, error));
    auto fields = ParseFieldSelector(QueryOr(req, "fieldSelector"), &error);
    if (!fields) co_return ErrorResponse(Error(400, error));
    std::vector<std::pair<std::string, std::string>> names;
    json::array items;
    for (const auto* o : ListLocked(r, p.ns)) {
      if (Matches(*labels, *o) && Matches(*fields, *o)) {
        json::value ov(*o);
        names.emplace_back(StringAt(ov, {"metadata", "namespace"}), StringAt(ov, {"metadata", "name"}));
      }
    }
    for (auto& [ns, name] : names) {
      auto deleted = DeleteLocked(r, ns, name, grace, policy, {});
      if (deleted) items.push_back(*deleted);
    }
    co_return JsonResponse(200, json::object{{"kind", r.kind + "List"}, {"apiVersion", r.ApiVersion()},
                                             {"metadata", json::object{{"resourceVersion", std::to_string(rv)}}},
                                             {"items", std::move(items)}});
  }
  co_return ErrorResponse(Error(405, "the server does not allow this method on the requested resource"));
}

http::Response KubernetesTestApiServer::Impl::HandleWatch(http::Request& req, const ResourceInfo& r,
                                                          const std::string& ns) {
  std::string error;
  auto labels = ParseLabelSelector(QueryOr(req, "labelSelector"), &error);
  if (!labels) return ErrorResponse(Error(400, error));
  auto fields = ParseFieldSelector(QueryOr(req, "fieldSelector"), &error);
  if (!fields) return ErrorResponse(Error(400, error));
  std::int64_t timeout_seconds = 1800;
  std::int64_t from = -1;
  try {
    if (auto t = req.Query("timeoutSeconds")) timeout_seconds = std::stoll(std::string(*t));
    std::string rv_text = QueryOr(req, "resourceVersion");
    if (!rv_text.empty() && rv_text != "0") from = std::stoll(rv_text);
  } catch (...) {
    return ErrorResponse(Error(400, "invalid timeoutSeconds or resourceVersion"));
  }
  bool bookmarks = QueryTrue(req, "allowWatchBookmarks");
  auto w = std::make_shared<Watcher>();
  w->resource = &r;
  w->ns = ns;
  w->labels = std::move(*labels);
  w->fields = std::move(*fields);
  {
    std::lock_guard<std::mutex> lock(mu);
    if (from >= 0 && from < compacted_rv) {
      ApiError gone = Error(410, "too old resource version: " + std::to_string(from) + " (" +
                                     std::to_string(compacted_rv) + ")");
      w->lines.push_back(json::serialize(json::object{{"type", "ERROR"}, {"object", StatusObject(gone)}}) + "\n");
      w->closed = true;
    } else if (from >= 0) {
      for (const auto& ev : history) {
        if (ev.rv <= from) continue;
        auto line = EventLineFor(*w, *ev.resource, ev.type, ev.object, ev.old ? &*ev.old : nullptr);
        if (line) w->lines.push_back(std::move(*line));
      }
    } else {
      for (const auto* o : ListLocked(r, ns)) {
        if (WatcherMatches(*w, *o)) {
          w->lines.push_back(json::serialize(json::object{{"type", "ADDED"}, {"object", *o}}) + "\n");
        }
      }
    }
    w->rv_seen = std::max<std::int64_t>(rv, from);
    if (!w->closed) watchers.push_back(w);
  }
  http::Response response;
  response.status = 200;
  response.headers.Set("Content-Type", "application/json");
  auto deadline = Clock::now() + std::chrono::seconds(std::max<std::int64_t>(timeout_seconds, 0));
  auto interval = options.bookmark_interval;
  std::string bookmark_kind = r.kind;
  std::string api_version = r.ApiVersion();
  response.stream = [this, w, deadline, bookmarks, interval, bookmark_kind,
                     api_version](http::ResponseStream& out) -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    auto timer = std::make_shared<asio::steady_timer>(executor);
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->wake = [executor, weak = std::weak_ptr(timer)] {
        asio::post(executor, [weak] {
          if (auto t = weak.lock()) t->cancel();
        });
      };
    }
    auto next_bookmark = Clock::now() + interval;
    std::int64_t last_bookmark = -1;
    while (true) {
      std::deque<std::string> batch;
      bool closed;
      std::int64_t seen;
      {
        std::lock_guard<std::mutex> lock(w->mu);
        batch.swap(w->lines);
        closed = w->closed;
        seen = w->rv_seen;
      }
      bool gone = false;
      for (const auto& line : batch) {
        if (!co_await out.Write(line)) {
          gone = true;
          break;
        }
      }
      if (gone || closed || out.stopping() || Clock::now() >= deadline) break;
      if (bookmarks && Clock::now() >= next_bookmark && seen != last_bookmark) {
        json::object bm{{"type", "BOOKMARK"},
                        {"object", json::object{{"kind", bookmark_kind},
                                                {"apiVersion", api_version},
                                                {"metadata", json::object{{"resourceVersion", std::to_string(seen)}}}}}};
        if (!co_await out.Write(json::serialize(bm) + "\n")) break;
        last_bookmark = seen;
        next_bookmark = Clock::now() + interval;
      }
      {
        std::lock_guard<std::mutex> lock(w->mu);
        if (!w->lines.empty() || w->closed) continue;
      }
      // Woken by Wake(); the short period bounds a wake-up that raced the start of the wait.
      timer->expires_after(std::chrono::milliseconds(20));
      boost::system::error_code ec;
      co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    {
      std::lock_guard<std::mutex> lock(w->mu);
      w->wake = nullptr;
    }
    std::lock_guard<std::mutex> lock(mu);
    std::erase(watchers, w);
  };
  return response;
}

namespace {

// The time a log byte offset was first seen written (the kubelet samples the log's size each tick).
std::string TimeOfOffset(const std::vector<std::pair<std::uint64_t, std::string>>& marks, std::uint64_t end) {
  for (const auto& [size, time] : marks) {
    if (size >= end) return time;
  }
  return NowRfc3339Nano();
}

// Splits `text` (starting at file offset `base`) into lines, drops those before `since`, prefixes
// timestamps when asked. A final line without '\n' is kept whole only when `final`; otherwise it
// is left in `rest` for the next read.
std::string FormatLog(const std::string& text, std::uint64_t base,
                      const std::vector<std::pair<std::uint64_t, std::string>>& marks, const std::string& since,
                      bool timestamps, bool final, std::string* rest) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string::npos && !final) {
      if (rest) *rest = text.substr(pos);
      return out;
    }
    std::size_t end = nl == std::string::npos ? text.size() : nl + 1;
    std::string time = TimeOfOffset(marks, base + end);
    if (since.empty() || time >= since) {
      if (timestamps) out += time + " ";
      out.append(text, pos, end - pos);
    }
    pos = end;
  }
  if (rest) rest->clear();
  return out;
}

}  // namespace

http::Response KubernetesTestApiServer::Impl::HandleLog(http::Request& req, const std::string& ns,
                                                        const std::string& name) {
  const ResourceInfo& pr = PodsResource();
  std::string key = Key(pr, ns, name);
  std::string log_file;
  std::chrono::steady_clock::time_point instance;
  std::vector<std::pair<std::uint64_t, std::string>> marks;
  bool previous = QueryTrue(req, "previous");
  {
    std::lock_guard<std::mutex> lock(mu);
    const json::object* pod = Lookup(pr, ns, name);
    if (pod == nullptr) return ErrorResponse(NotFoundError(pr, name));
    const json::value* containers = Find(*pod, {"spec", "containers"});
    std::vector<std::string> names;
    if (containers && containers->is_array()) {
      for (const auto& c : containers->as_array()) names.push_back(StringAt(c, {"name"}));
    }
    std::string container = QueryOr(req, "container");
    if (container.empty()) {
      if (names.size() != 1) {
        std::string list;
        for (auto& n : names) list += (list.empty() ? "" : " ") + n;
        return ErrorResponse(Error(400, "a container name must be specified for pod " + name +
                                            ", choose one of: [" + list + "]"));
      }
      container = names[0];
    } else if (names.empty() || container != names[0]) {
      return ErrorResponse(Error(400, "container " + container + " is not valid for pod " + name));
    }
    auto rt = pods.find(key);
    if (rt == pods.end() || !rt->second.started_once) {
      std::string why = "ContainerCreating";
      if (rt != pods.end() &&
          (rt->second.waiting_reason == "ErrImagePull" || rt->second.waiting_reason == "ImagePullBackOff")) {
        why = "trying and failing to pull image";
      }
      return ErrorResponse(Error(400, "container \"" + container + "\" in pod \"" + name +
                                          "\" is waiting to start: " + why));
    }
    if (rt->second.pid > 0) MarkLog(rt->second);
    log_file = rt->second.log_file;
    instance = rt->second.instance;
    marks = rt->second.log_marks;
    if (previous) {
      log_file += ".previous";
      marks = rt->second.previous_log_marks;
      if (!std::filesystem::exists(log_file)) {
        return ErrorResponse(Error(400, "previous terminated container \"" + container + "\" in pod \"" + name +
                                            "\" not found"));
      }
    }
  }
  std::int64_t tail = -1;
  std::int64_t limit_bytes = -1;
  std::string since = QueryOr(req, "sinceTime");
  bool timestamps = QueryTrue(req, "timestamps");
  try {
    if (auto t = req.Query("tailLines")) tail = std::stoll(std::string(*t));
    if (auto l = req.Query("limitBytes")) limit_bytes = std::stoll(std::string(*l));
    if (auto s = req.Query("sinceSeconds")) {
      std::int64_t seconds = std::stoll(std::string(*s));
      since = Rfc3339(std::chrono::duration_cast<std::chrono::seconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count() - seconds);
    }
  } catch (...) {
    return ErrorResponse(Error(400, "tailLines, limitBytes and sinceSeconds must be integers"));
  }
  if (!since.empty()) {
    auto normalized = NormalizeRfc3339Nano(since);
    if (!normalized) return ErrorResponse(Error(400, "sinceTime is not an RFC 3339 time: " + since));
    since = *normalized;  // compared as text with the marks, which have the same form
  }
  bool ok;
  std::string raw = ReadFileAll(log_file, &ok);
  std::size_t offset = raw.size();
  bool follow = QueryTrue(req, "follow") && !previous;
  std::string rest;
  std::string text = FormatLog(raw, 0, marks, since, timestamps, !follow, follow ? &rest : nullptr);
  offset -= rest.size();
  text = TailLines(text, tail);
  if (limit_bytes >= 0 && static_cast<std::int64_t>(text.size()) > limit_bytes) text.resize(static_cast<std::size_t>(limit_bytes));
  if (!follow) return http::Response::Text(200, text);
  http::Response response;
  response.status = 200;
  response.headers.Set("Content-Type", "text/plain");
  response.stream = [this, key, log_file, instance, offset, text, limit_bytes, since,
                     timestamps](http::ResponseStream& out) mutable -> asio::awaitable<void> {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::int64_t sent = static_cast<std::int64_t>(text.size());
    if (!text.empty() && !co_await out.Write(text)) co_return;
    while (!out.stopping()) {
      bool running;
      std::vector<std::pair<std::uint64_t, std::string>> marks;
      {
        std::lock_guard<std::mutex> lock(mu);
        auto rt = pods.find(key);
        running = rt != pods.end() && rt->second.instance == instance && rt->second.pid > 0;
        if (running) MarkLog(rt->second);
        if (rt != pods.end() && rt->second.instance == instance) marks = rt->second.log_marks;
      }
      std::string more;
      {
        std::ifstream in(log_file, std::ios::binary);
        if (in) {
          in.seekg(static_cast<std::streamoff>(offset));
          std::stringstream ss;
          ss << in.rdbuf();
          more = ss.str();
        }
      }
      std::string rest;
      std::string formatted = FormatLog(more, offset, marks, since, timestamps, !running, &rest);
      offset += more.size() - rest.size();
      if (limit_bytes >= 0 && sent + static_cast<std::int64_t>(formatted.size()) > limit_bytes) {
        formatted.resize(static_cast<std::size_t>(limit_bytes - sent));
      }
      if (!formatted.empty()) {
        sent += static_cast<std::int64_t>(formatted.size());
        if (!co_await out.Write(formatted)) co_return;
      }
      if (!running || (limit_bytes >= 0 && sent >= limit_bytes)) co_return;
      timer.expires_after(std::chrono::milliseconds(50));
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  };
  return response;
}

void KubernetesTestApiServer::Impl::InstallRoutes(http::Router& r) {
  http::Handler handler = [this](http::Request& req) { return Handle(req); };
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    r.Add(method, "/api/{rest...}", "Kubernetes core API", handler, http::RouteOptions::Public().WithBodyLimit(16 << 20));
    r.Add(method, "/apis/{rest...}", "Kubernetes API groups", handler, http::RouteOptions::Public().WithBodyLimit(16 << 20));
  }
  for (const char* path : {"/version", "/api", "/apis", "/healthz", "/readyz", "/livez"}) {
    r.Add("GET", path, "discovery and health", handler, http::RouteOptions::Public());
  }
}

// ---------------------------------------------------------------------------------------------
// Lifecycle and public methods

namespace {
std::string CpuText(std::int64_t milli) {
  return milli % 1000 == 0 ? std::to_string(milli / 1000) : std::to_string(milli) + "m";
}
std::string MemoryText(std::int64_t bytes) {
  if (bytes % (1LL << 30) == 0) return std::to_string(bytes >> 30) + "Gi";
  if (bytes % (1LL << 20) == 0) return std::to_string(bytes >> 20) + "Mi";
  if (bytes % (1LL << 10) == 0) return std::to_string(bytes >> 10) + "Ki";
  return std::to_string(bytes);
}
}  // namespace

// The one Node, kept in step with `allocatable`.
void KubernetesTestApiServer::Impl::SyncNodeLocked() {
  const ResourceInfo& node_res = *FindResource("", "v1", "nodes");
  json::object resources{{"cpu", CpuText(allocatable.cpu_milli)},
                         {"memory", MemoryText(allocatable.memory_bytes)},
                         {"nvidia.com/gpu", std::to_string(allocatable.gpus)},
                         {"pods", "110"}};
  json::object status{
      {"capacity", resources},
      {"allocatable", resources},
      {"addresses", json::array{json::object{{"type", "InternalIP"}, {"address", "127.0.0.1"}},
                                json::object{{"type", "Hostname"}, {"address", options.node_name}}}},
      {"conditions", json::array{json::object{{"type", "Ready"}, {"status", "True"}, {"reason", "KubeletReady"},
                                              {"message", "kubelet is posting ready status"}}}},
      {"nodeInfo", json::object{{"kubeletVersion", "v1.30.0-paddlecloud-test"}, {"operatingSystem", "linux"},
                                {"architecture", "amd64"}}}};
  const json::object* existing = Lookup(node_res, "", options.node_name);
  if (existing == nullptr) {
    json::object node{{"apiVersion", "v1"},
                      {"kind", "Node"},
                      {"metadata", json::object{{"name", options.node_name},
                                                {"labels", json::object{{"kubernetes.io/hostname", options.node_name},
                                                                        {"kubernetes.io/os", "linux"}}}}},
                      {"spec", json::object()}};
    auto created = CreateLocked(node_res, "", std::move(node), false);
    if (!created) return;
    existing = Lookup(node_res, "", options.node_name);
  }
  json::object updated = *existing;
  updated["status"] = std::move(status);
  WriteLocked(node_res, std::move(updated));
}

KubernetesTestApiServer::KubernetesTestApiServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<KubernetesTestApiServer>> KubernetesTestApiServer::Start(KubernetesTestApiServerOptions options) {
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->allocatable = impl->options.allocatable;
  if (impl->options.work_dir.empty()) {
    char tmpl[] = "/tmp/kube-test-apiserver-XXXXXX";
    if (mkdtemp(tmpl) == nullptr) return Err(Status::Internal("mkdtemp failed"));
    impl->work_dir = tmpl;
    impl->own_work_dir = true;
  } else {
    impl->work_dir = impl->options.work_dir;
    std::error_code ec;
    std::filesystem::create_directories(impl->work_dir, ec);
    if (ec) return Err(Status::Unavailable("cannot create " + impl->work_dir + ": " + ec.message()));
  }
  std::filesystem::create_directories(impl->work_dir + "/pods");
  { std::ofstream(impl->HostsFile()) << "127.0.0.1 localhost\n"; }

  http::HttpServerOptions http_options;
  http_options.listen = "127.0.0.1:0";
  http_options.io_threads = 2;
  http_options.max_body_bytes = 16 << 20;
  http_options.shutdown_timeout = std::chrono::milliseconds(3000);
  http_options.idle_timeout = std::chrono::milliseconds(300'000);
  if (impl->options.tls) {
    auto ca = pki::CertificateAuthority::OpenOrCreate(impl->work_dir + "/ca");
    if (!ca) return Err(ca.error());
    auto cert = (*ca)->IssueServerCertificate("127.0.0.1", {"127.0.0.1"}, {"localhost"}, 30);
    if (!cert) return Err(cert.error());
    impl->ca_pem = (*ca)->ca_certificate_pem();
    impl->ca_file = impl->work_dir + "/ca/ca.crt";
    http_options.tls_cert_file = impl->work_dir + "/server.crt";
    http_options.tls_key_file = impl->work_dir + "/server.key";
    { std::ofstream(http_options.tls_cert_file) << cert->certificate_pem << impl->ca_pem; }
    int fd = ::open(http_options.tls_key_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return Err(Status::Unavailable("cannot write " + http_options.tls_key_file));
    bool written = ::write(fd, cert->private_key_pem.data(), cert->private_key_pem.size()) ==
                   static_cast<ssize_t>(cert->private_key_pem.size());
    ::close(fd);
    if (!written) return Err(Status::Unavailable("cannot write " + http_options.tls_key_file));
  }
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    impl->SyncNodeLocked();
  }
  impl->InstallRoutes(impl->router);
  impl->server = std::make_unique<http::HttpServer>(http_options, impl->router);
  Impl* raw = impl.get();
  impl->server->Use([raw](http::Request& req, const http::Handler& next) -> asio::awaitable<http::Response> {
    std::size_t index;
    std::chrono::milliseconds latency;
    int fail_code = 0;
    {
      std::lock_guard<std::mutex> lock(raw->mu);
      index = raw->requests.size();
      raw->requests.push_back(RecordedRequest{req.method, req.path, req.query, 0});
      latency = raw->latency;
    }
    auto finish = [raw, index](http::Response r) {
      std::lock_guard<std::mutex> lock(raw->mu);
      if (index < raw->requests.size()) raw->requests[index].status = r.status;
      return r;
    };
    if (latency.count() > 0) {
      asio::steady_timer timer(co_await asio::this_coro::executor, latency);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
    auto auth = req.headers.Get("Authorization");
    if (!auth || *auth != "Bearer " + raw->options.token) {
      co_return finish(JsonResponse(401, json::object{{"kind", "Status"}, {"apiVersion", "v1"},
                                                      {"metadata", json::object()}, {"status", "Failure"},
                                                      {"message", "Unauthorized"}, {"reason", "Unauthorized"},
                                                      {"code", 401}}));
    }
    {
      std::lock_guard<std::mutex> lock(raw->mu);
      if (raw->fail_next > 0) {
        --raw->fail_next;
        fail_code = raw->fail_code;
      }
    }
    if (fail_code != 0) {
      co_return finish(ErrorResponse(Error(fail_code, fail_code == 500 ? "Internal error occurred: injected failure"
                                                                       : "injected failure")));
    }
    co_return finish(co_await next(req));
  });
  PC_RETURN_IF_ERROR(impl->server->Start());
  for (int block = 1; block <= 250 && impl->ip_block_lock < 0; ++block) {
    std::string lock = (std::filesystem::temp_directory_path() / ("paddlecloud-kube-test-ips-" + std::to_string(block))).string();
    int fd = ::open(lock.c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) continue;
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
      impl->ip_block = block;
      impl->ip_block_lock = fd;
    } else {
      ::close(fd);
    }
  }
  impl->server_thread = std::thread([raw] { raw->server->Run(); });
  impl->cluster_thread = std::thread([raw] { raw->ClusterLoop(); });
  return std::unique_ptr<KubernetesTestApiServer>(new KubernetesTestApiServer(std::move(impl)));
}

KubernetesTestApiServer::~KubernetesTestApiServer() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (auto& w : impl_->watchers) {
      std::lock_guard<std::mutex> wl(w->mu);
      w->closed = true;
      w->Wake();
    }
  }
  impl_->server->Shutdown();
  if (impl_->server_thread.joinable()) impl_->server_thread.join();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  if (impl_->cluster_thread.joinable()) impl_->cluster_thread.join();
  impl_->KillAllChildren();
  impl_->server.reset();
  if (impl_->own_work_dir) {
    std::error_code ec;
    std::filesystem::remove_all(impl_->work_dir, ec);
  }
  if (impl_->ip_block_lock >= 0) ::close(impl_->ip_block_lock);
}

std::string KubernetesTestApiServer::address() const { return impl_->server->bound_address(); }
std::string KubernetesTestApiServer::url() const {
  return std::string(impl_->options.tls ? "https://" : "http://") + address();
}
std::string KubernetesTestApiServer::ca_certificate_pem() const { return impl_->ca_pem; }
std::string KubernetesTestApiServer::ca_certificate_file() const { return impl_->ca_file; }
const std::string& KubernetesTestApiServer::token() const { return impl_->options.token; }

namespace {
std::string Base64(std::string_view in) {
  static constexpr char kChars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  while (i + 2 < in.size()) {
    unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8) |
                 static_cast<unsigned char>(in[i + 2]);
    out += kChars[(n >> 18) & 63];
    out += kChars[(n >> 12) & 63];
    out += kChars[(n >> 6) & 63];
    out += kChars[n & 63];
    i += 3;
  }
  if (i + 1 == in.size()) {
    unsigned n = static_cast<unsigned char>(in[i]) << 16;
    out += kChars[(n >> 18) & 63];
    out += kChars[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    unsigned n = (static_cast<unsigned char>(in[i]) << 16) | (static_cast<unsigned char>(in[i + 1]) << 8);
    out += kChars[(n >> 18) & 63];
    out += kChars[(n >> 12) & 63];
    out += kChars[(n >> 6) & 63];
    out += '=';
  }
  return out;
}
}  // namespace

std::string KubernetesTestApiServer::Kubeconfig(const std::string& file, const std::string& context) const {
  std::string yaml;
  yaml += "apiVersion: v1\nkind: Config\n";
  yaml += "clusters:\n- name: " + context + "\n  cluster:\n    server: " + url() + "\n";
  if (!impl_->ca_pem.empty()) yaml += "    certificate-authority-data: " + Base64(impl_->ca_pem) + "\n";
  yaml += "users:\n- name: " + context + "\n  user:\n    token: " + impl_->options.token + "\n";
  yaml += "contexts:\n- name: " + context + "\n  context:\n    cluster: " + context + "\n    user: " + context +
          "\n    namespace: default\n";
  yaml += "current-context: " + context + "\n";
  if (!file.empty()) {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
      ssize_t n = ::write(fd, yaml.data(), yaml.size());
      (void)n;
      ::close(fd);
    }
  }
  return yaml;
}

std::optional<json::value> KubernetesTestApiServer::Get(const std::string& object_path) const {
  auto p = ParseApiPath(object_path);
  if (!p || p->name.empty()) return std::nullopt;
  std::lock_guard<std::mutex> lock(impl_->mu);
  const json::object* o = impl_->Lookup(*p->resource, p->ns, p->name);
  if (o == nullptr) return std::nullopt;
  return json::value(*o);
}

std::vector<json::value> KubernetesTestApiServer::List(const std::string& resource, const std::string& ns) const {
  const ResourceInfo* r = FindResourceByPlural(resource);
  std::vector<json::value> out;
  if (r == nullptr) return out;
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (const auto* o : impl_->ListLocked(*r, ns)) out.emplace_back(*o);
  return out;
}

std::vector<RecordedRequest> KubernetesTestApiServer::Requests() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->requests;
}

std::size_t KubernetesTestApiServer::CountRequests(const std::string& method, const std::string& path_prefix) const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::size_t n = 0;
  for (const auto& r : impl_->requests) {
    if ((method.empty() || r.method == method) && r.path.starts_with(path_prefix)) ++n;
  }
  return n;
}

std::vector<RecordedRequest> KubernetesTestApiServer::WritesWithoutStrictFieldValidation() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::vector<RecordedRequest> out;
  for (const auto& r : impl_->requests) {
    if (r.method != "POST" && r.method != "PUT" && r.method != "PATCH") continue;
    auto it = r.query.find("fieldValidation");
    if (it == r.query.end() || it->second != "Strict") out.push_back(r);
  }
  return out;
}

void KubernetesTestApiServer::ClearRequests() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->requests.clear();
}

std::int64_t KubernetesTestApiServer::ResourceVersion() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->rv;
}

std::size_t KubernetesTestApiServer::OpenWatches() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->watchers.size();
}

std::size_t KubernetesTestApiServer::RunningProcesses() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  std::size_t n = 0;
  for (const auto& [k, rt] : impl_->pods) n += rt.pid > 0 ? 1 : 0;
  return n;
}

std::string KubernetesTestApiServer::PodLog(const std::string& ns, const std::string& pod) const {
  std::string file;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    auto it = impl_->pods.find(Impl::Key(PodsResource(), ns, pod));
    if (it == impl_->pods.end()) return "";
    file = it->second.log_file;
  }
  bool ok;
  return ReadFileAll(file, &ok);
}

Status KubernetesTestApiServer::Create(const json::value& object) {
  if (!object.is_object()) return Status::InvalidArgument("not an object");
  const ResourceInfo* r = FindResourceByKind(StringAt(object, {"apiVersion"}), StringAt(object, {"kind"}));
  if (r == nullptr) return Status::InvalidArgument("unknown kind");
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto created = impl_->CreateLocked(*r, StringAt(object, {"metadata", "namespace"}), object.as_object(), false);
  if (!created) return Status::InvalidArgument(created.error().message);
  return Status::Ok();
}

Status KubernetesTestApiServer::Delete(const std::string& object_path, int grace_period_seconds,
                                       const std::string& propagation_policy) {
  auto p = ParseApiPath(object_path);
  if (!p || p->name.empty()) return Status::InvalidArgument("not an object path: " + object_path);
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto deleted = impl_->DeleteLocked(*p->resource, p->ns, p->name, grace_period_seconds, propagation_policy, {});
  if (!deleted) return Status::NotFound(deleted.error().message);
  return Status::Ok();
}

void KubernetesTestApiServer::DropWatches() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& w : impl_->watchers) {
    std::lock_guard<std::mutex> wl(w->mu);
    w->closed = true;
    w->Wake();
  }
}

void KubernetesTestApiServer::FailNextRequests(int n, int code) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->fail_next = n;
  impl_->fail_code = code;
}

void KubernetesTestApiServer::SetLatency(std::chrono::milliseconds latency) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->latency = latency;
}

void KubernetesTestApiServer::CompactHistory() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->history.clear();
  impl_->compacted_rv = impl_->rv;
}

Status KubernetesTestApiServer::DeletePodBehindTheBackOfThePlatform(const std::string& ns, const std::string& pod) {
  return Delete("/api/v1/namespaces/" + ns + "/pods/" + pod);
}

void KubernetesTestApiServer::SetAllocatable(NodeAllocatable allocatable) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->allocatable = allocatable;
  impl_->SyncNodeLocked();
  impl_->cv.notify_all();
}

void KubernetesTestApiServer::SetUnpullableImages(std::set<std::string> images) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->unpullable = std::move(images);
}

void KubernetesTestApiServer::ForbidVerb(const std::string& verb, const std::string& resource) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->forbidden.insert({verb, resource});
}

void KubernetesTestApiServer::AllowAll() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->forbidden.clear();
}

}  // namespace paddlecloud::kube_test
