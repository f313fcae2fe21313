#include "kube_test_server/kube_test_server.h"

#include <curl/curl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include <boost/json.hpp>

namespace paddlecloud::kube_test {
namespace {
namespace json = boost::json;
using namespace std::chrono_literals;

struct Reply {
  long status = 0;
  std::string body;
  json::value Json() const {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    return ec ? json::value() : v;
  }
};

size_t Append(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

class Client {
 public:
  explicit Client(const KubernetesTestApiServer& server) : url_(server.url()), ca_(server.ca_certificate_file()), token_(server.token()) {}
  Reply Call(const std::string& method, const std::string& path, const std::string& body = "",
             const std::string& content_type = "application/json", std::optional<std::string> token = std::nullopt) {
    CURL* curl = curl_easy_init();
    Reply reply;
    std::string url = url_ + path;
    curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_.c_str());
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method.c_str());
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, Append);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &reply.body);
    if (!body.empty()) {
      curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    }
    curl_slist* headers = nullptr;
    std::string auth = "Authorization: Bearer " + token.value_or(token_);
    if (!token || !token->empty()) headers = curl_slist_append(headers, auth.c_str());
    std::string ct = "Content-Type: " + content_type;
    headers = curl_slist_append(headers, ct.c_str());
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    CURLcode rc = curl_easy_perform(curl);
    EXPECT_EQ(rc, CURLE_OK) << curl_easy_strerror(rc) << " " << method << " " << path;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &reply.status);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    return reply;
  }
  Reply Get(const std::string& path) { return Call("GET", path); }
  Reply Post(const std::string& path, const json::value& body) { return Call("POST", path, json::serialize(body)); }
  Reply Put(const std::string& path, const json::value& body) { return Call("PUT", path, json::serialize(body)); }
  Reply Patch(const std::string& path, const json::value& body) {
    return Call("PATCH", path, json::serialize(body), "application/merge-patch+json");
  }
  Reply Delete(const std::string& path) { return Call("DELETE", path); }

  const std::string& url() const { return url_; }
  const std::string& ca() const { return ca_; }
  const std::string& token() const { return token_; }

 private:
  std::string url_, ca_, token_;
};

// A streaming GET (watch or log follow) read on its own thread.
class Stream {
 public:
  Stream(const Client& client, const std::string& path) {
    thread_ = std::thread([this, url = client.url() + path, ca = client.ca(), token = client.token()] {
      CURL* curl = curl_easy_init();
      curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
      curl_easy_setopt(curl, CURLOPT_CAINFO, ca.c_str());
      curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &Stream::OnData);
      curl_easy_setopt(curl, CURLOPT_WRITEDATA, this);
      curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
      curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &Stream::OnProgress);
      curl_easy_setopt(curl, CURLOPT_XFERINFODATA, this);
      std::string auth = "Authorization: Bearer " + token;
      curl_slist* headers = curl_slist_append(nullptr, auth.c_str());
      curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
      curl_easy_perform(curl);
      long status = 0;
      curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
      curl_slist_free_all(headers);
      curl_easy_cleanup(curl);
      std::lock_guard<std::mutex> lock(mu_);
      status_ = status;
      done_ = true;
      cv_.notify_all();
    });
  }
  ~Stream() {
    abort_ = true;
    thread_.join();
  }
  // The next complete line, or nullopt at the deadline or end of stream.
  std::optional<std::string> NextLine(std::chrono::milliseconds timeout = 20s) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return buffer_.find('\n') != std::string::npos || done_; });
    auto nl = buffer_.find('\n');
    if (nl == std::string::npos) return std::nullopt;
    std::string line = buffer_.substr(0, nl);
    buffer_.erase(0, nl + 1);
    return line;
  }
  std::optional<json::value> NextEvent(std::chrono::milliseconds timeout = 20s) {
    auto line = NextLine(timeout);
    if (!line) return std::nullopt;
    return json::parse(*line);
  }
  // Next event of one of `types` (others skipped).
  std::optional<json::value> NextOf(const std::set<std::string>& types, std::chrono::milliseconds timeout = 20s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto ev = NextEvent(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
      if (!ev) return std::nullopt;
      if (types.contains(std::string(ev->at("type").as_string()))) return ev;
    }
    return std::nullopt;
  }
  bool WaitDone(std::chrono::milliseconds timeout = 20s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return done_; });
  }
  std::string All() {
    std::lock_guard<std::mutex> lock(mu_);
    return buffer_;
  }

 private:
  static size_t OnData(char* data, size_t size, size_t n, void* user) {
    auto* self = static_cast<Stream*>(user);
    std::lock_guard<std::mutex> lock(self->mu_);
    self->buffer_.append(data, size * n);
    self->cv_.notify_all();
    return size * n;
  }
  static int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<Stream*>(user)->abort_ ? 1 : 0;
  }
  std::thread thread_;
  std::atomic<bool> abort_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::string buffer_;
  bool done_ = false;
  long status_ = 0;
};

template <typename Pred>
bool WaitFor(Pred pred, std::chrono::milliseconds timeout = 30s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

std::string S(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto k : path) {
    if (!cur->is_object() || !cur->as_object().contains(k)) return "";
    cur = &cur->as_object().at(k);
  }
  if (cur->is_string()) return std::string(cur->as_string());
  if (cur->is_int64()) return std::to_string(cur->as_int64());
  if (cur->is_bool()) return cur->as_bool() ? "true" : "false";
  return json::serialize(*cur);
}

json::value Namespace(const std::string& name) {
  return json::object{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", json::object{{"name", name}}}};
}

json::value ConfigMap(const std::string& name, json::object labels = {}) {
  return json::object{{"apiVersion", "v1"},
                      {"kind", "ConfigMap"},
                      {"metadata", json::object{{"name", name}, {"labels", std::move(labels)}}},
                      {"data", json::object{{"k", "v"}}}};
}

json::value Pod(const std::string& name, const std::string& script, json::object extra_spec = {}) {
  json::object container{{"name", "paddle"},
                         {"image", "busybox"},
                         {"command", json::array{"/bin/sh", "-c", script}}};
  json::object spec{{"restartPolicy", "Never"}, {"containers", json::array{container}}};
  for (auto& [k, v] : extra_spec) spec[k] = v;
  return json::object{{"apiVersion", "v1"}, {"kind", "Pod"}, {"metadata", json::object{{"name", name}}}, {"spec", spec}};
}

// The reasons of the Events about the object named `name`.
std::set<std::string> EventReasons(KubernetesTestApiServer& server, const std::string& ns, const std::string& name) {
  std::set<std::string> reasons;
  for (const auto& e : server.List("events", ns)) {
    if (S(e, {"involvedObject", "name"}) == name) reasons.insert(S(e, {"reason"}));
  }
  return reasons;
}

class KubeTestServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer({}); }
  void StartServer(KubernetesTestApiServerOptions options) {
    server_.reset();
    nfs_dir_ = std::filesystem::temp_directory_path() / ("kube-nfs-" + std::to_string(::getpid()));
    std::filesystem::create_directories(nfs_dir_);
    options.nfs_root = [dir = nfs_dir_](const std::string& path) { return (dir / path.substr(1)).string(); };
    options.bookmark_interval = 200ms;
    auto started = KubernetesTestApiServer::Start(std::move(options));
    ASSERT_TRUE(started) << started.error().message();
    server_ = std::move(*started);
    client_ = std::make_unique<Client>(*server_);
    ASSERT_EQ(client_->Post("/api/v1/namespaces", Namespace("pc-x")).status, 201);
  }
  void TearDown() override {
    server_.reset();
    std::error_code ec;
    std::filesystem::remove_all(nfs_dir_, ec);
  }
  json::value PodObject(const std::string& name, const std::string& ns = "pc-x") {
    auto p = server_->Get("/api/v1/namespaces/" + ns + "/pods/" + name);
    return p ? *p : json::value();
  }
  std::string Phase(const std::string& name) { return S(PodObject(name), {"status", "phase"}); }

  std::unique_ptr<KubernetesTestApiServer> server_;
  std::unique_ptr<Client> client_;
  std::filesystem::path nfs_dir_;
};

TEST_F(KubeTestServerTest, RequiresTheBearerToken) {
  auto none = client_->Call("GET", "/api/v1/namespaces", "", "application/json", "");
  EXPECT_EQ(none.status, 401);
  EXPECT_EQ(S(none.Json(), {"kind"}), "Status");
  EXPECT_EQ(S(none.Json(), {"reason"}), "Unauthorized");
  EXPECT_EQ(client_->Call("GET", "/api/v1/namespaces", "", "application/json", "wrong").status, 401);
  EXPECT_EQ(client_->Get("/api/v1/namespaces").status, 200);
  auto requests = server_->Requests();
  ASSERT_GE(requests.size(), 3u);
  EXPECT_EQ(requests.back().path, "/api/v1/namespaces");
  EXPECT_EQ(requests.back().status, 200);
}

TEST_F(KubeTestServerTest, KubeconfigNamesServerCaAndToken) {
  std::string file = (nfs_dir_ / "kubeconfig").string();
  std::string yaml = server_->Kubeconfig(file);
  EXPECT_NE(yaml.find("server: " + server_->url()), std::string::npos);
  EXPECT_NE(yaml.find("certificate-authority-data: LS0t"), std::string::npos);
  EXPECT_NE(yaml.find("token: " + server_->token()), std::string::npos);
  EXPECT_NE(yaml.find("current-context: test"), std::string::npos);
  std::ifstream in(file);
  std::string read((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(read, yaml);
  EXPECT_TRUE(server_->url().starts_with("https://127.0.0.1:"));
}

TEST_F(KubeTestServerTest, CrudWithConflictsAndSelectors) {
  const std::string base = "/api/v1/namespaces/pc-x/configmaps";
  auto created = client_->Post(base, ConfigMap("a", {{"app", "x"}, {"tier", "1"}}));
  ASSERT_EQ(created.status, 201) << created.body;
  auto obj = created.Json();
  EXPECT_FALSE(S(obj, {"metadata", "uid"}).empty());
  EXPECT_FALSE(S(obj, {"metadata", "creationTimestamp"}).empty());
  std::string rv1 = S(obj, {"metadata", "resourceVersion"});
  ASSERT_EQ(client_->Post(base, ConfigMap("b", {{"app", "y"}})).status, 201);

  auto dup = client_->Post(base, ConfigMap("a"));
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(S(dup.Json(), {"reason"}), "AlreadyExists");
  EXPECT_EQ(S(dup.Json(), {"message"}), "configmaps \"a\" already exists");

  auto got = client_->Get(base + "/a");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(S(got.Json(), {"data", "k"}), "v");
  auto missing = client_->Get(base + "/zz");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(S(missing.Json(), {"reason"}), "NotFound");
  EXPECT_EQ(S(missing.Json(), {"details", "name"}), "zz");

  auto list = client_->Get(base + "?labelSelector=app%3Dx");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(S(list.Json(), {"kind"}), "ConfigMapList");
  EXPECT_EQ(list.Json().at("items").as_array().size(), 1u);
  EXPECT_FALSE(S(list.Json(), {"metadata", "resourceVersion"}).empty());
  auto in_list = client_->Get(base + "?labelSelector=app%20in%20(x%2Cy)");
  EXPECT_EQ(in_list.Json().at("items").as_array().size(), 2u);
  auto by_name = client_->Get(base + "?fieldSelector=metadata.name%3Db");
  EXPECT_EQ(by_name.Json().at("items").as_array().size(), 1u);
  EXPECT_EQ(client_->Get(base + "?labelSelector=a%20in%20(x").status, 400);
  auto paged = client_->Get(base + "?limit=1");
  EXPECT_EQ(paged.Json().at("items").as_array().size(), 1u);
  std::string cont = S(paged.Json(), {"metadata", "continue"});
  ASSERT_FALSE(cont.empty());
  EXPECT_EQ(client_->Get(base + "?limit=1&continue=" + cont).Json().at("items").as_array().size(), 1u);

  // Replace with the current resourceVersion, then again with the stale one.
  json::value update = obj;
  update.as_object()["data"] = json::object{{"k", "v2"}};
  auto replaced = client_->Put(base + "/a", update);
  ASSERT_EQ(replaced.status, 200) << replaced.body;
  EXPECT_NE(S(replaced.Json(), {"metadata", "resourceVersion"}), rv1);
  auto stale = client_->Put(base + "/a", update);
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(S(stale.Json(), {"reason"}), "Conflict");
  EXPECT_NE(S(stale.Json(), {"message"}).find("the object has been modified"), std::string::npos);

  auto patched = client_->Patch(base + "/a", json::object{{"data", json::object{{"k2", "x"}}}});
  ASSERT_EQ(patched.status, 200);
  EXPECT_EQ(S(patched.Json(), {"data", "k"}), "v2");
  EXPECT_EQ(S(patched.Json(), {"data", "k2"}), "x");
  EXPECT_EQ(client_->Call("PATCH", base + "/a", "{}", "application/json-patch+json").status, 415);

  auto applied = client_->Call("PATCH", base + "/c?fieldManager=pc&force=true", json::serialize(ConfigMap("c")),
                               "application/apply-patch+yaml");
  EXPECT_EQ(applied.status, 201) << applied.body;
  EXPECT_EQ(client_->Call("PATCH", base + "/c", json::serialize(ConfigMap("c")), "application/apply-patch+yaml").status,
            400);

  EXPECT_EQ(client_->Delete(base + "/a").status, 200);
  EXPECT_EQ(client_->Get(base + "/a").status, 404);
  EXPECT_EQ(client_->Delete(base + "/a").status, 404);
}

TEST_F(KubeTestServerTest, HostileInput) {
  EXPECT_EQ(client_->Call("POST", "/api/v1/namespaces/pc-x/configmaps", "{not json").status, 400);
  EXPECT_EQ(client_->Call("POST", "/api/v1/namespaces/pc-x/configmaps", "[1,2]").status, 400);
  EXPECT_EQ(client_->Get("/api/v1/widgets").status, 404);
  EXPECT_EQ(client_->Get("/apis/batch/v9/jobs").status, 404);
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/a/b/c/d").status, 404);
  auto bad_name = client_->Post("/api/v1/namespaces/pc-x/configmaps", ConfigMap("Bad_Name"));
  EXPECT_EQ(bad_name.status, 422);
  EXPECT_EQ(S(bad_name.Json(), {"reason"}), "Invalid");
  auto no_ns = client_->Post("/api/v1/namespaces/nope/configmaps", ConfigMap("a"));
  EXPECT_EQ(no_ns.status, 404);
  EXPECT_EQ(S(no_ns.Json(), {"message"}), "namespaces \"nope\" not found");
  json::value other_ns = ConfigMap("a");
  other_ns.as_object()["metadata"].as_object()["namespace"] = "other";
  EXPECT_EQ(client_->Post("/api/v1/namespaces/pc-x/configmaps", other_ns).status, 400);
  json::value wrong_kind = ConfigMap("a");
  wrong_kind.as_object()["kind"] = "Secret";
  EXPECT_EQ(client_->Post("/api/v1/namespaces/pc-x/configmaps", wrong_kind).status, 400);
  EXPECT_EQ(client_->Delete("/api/v1/namespaces/pc-x/configmaps/zz?gracePeriodSeconds=abc").status, 400);
  EXPECT_EQ(client_->Get("/api/v1/pods?watch=1&labelSelector=a%20in%20(").status, 400);
  EXPECT_EQ(client_->Get("/api/v1/pods?watch=1&timeoutSeconds=soon").status, 400);
  EXPECT_EQ(client_->Get("/api/v1/pods?fieldSelector=spec.secret%3Dx").status, 400);
  EXPECT_EQ(client_->Get("/api/v1/pods?limit=x").status, 400);
  EXPECT_EQ(client_->Call("PATCH", "/api/v1/namespaces/pc-x/configmaps/zz", "[1]", "application/merge-patch+json").status, 400);
  auto huge = client_->Post("/apis/batch/v1/namespaces/pc-x/jobs", json::parse(R"({"apiVersion":"batch/v1","kind":"Job",
    "metadata":{"name":"huge"},"spec":{"completions":1000000000,"parallelism":-1,"template":{"spec":{"restartPolicy":"Never",
    "containers":[{"name":"c","image":"i"}]}}}})"));
  EXPECT_EQ(huge.status, 422);
  EXPECT_NE(S(huge.Json(), {"message"}).find("spec.completions"), std::string::npos);
  EXPECT_NE(S(huge.Json(), {"message"}).find("spec.parallelism"), std::string::npos);
  json::value no_containers = Pod("empty", "true");
  no_containers.as_object()["spec"].as_object()["containers"] = json::array{};
  EXPECT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", no_containers).status, 422);
  EXPECT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", json::object{{"metadata", "x"}}).status, 422);
}

TEST_F(KubeTestServerTest, StrictValidationRunsTheHook) {
  KubernetesTestApiServerOptions options;
  options.validate = [](const json::value& v) -> std::vector<std::string> {
    if (S(v, {"data", "k"}) == "bad") return {"data.k: Invalid value: \"bad\"", "second problem"};
    return {};
  };
  StartServer(options);
  json::value bad = ConfigMap("a");
  bad.as_object()["data"] = json::object{{"k", "bad"}};
  auto rejected = client_->Post("/api/v1/namespaces/pc-x/configmaps?fieldValidation=Strict", bad);
  EXPECT_EQ(rejected.status, 422);
  EXPECT_EQ(S(rejected.Json(), {"reason"}), "Invalid");
  EXPECT_NE(S(rejected.Json(), {"message"}).find("second problem"), std::string::npos);
  EXPECT_EQ(rejected.Json().at("details").at("causes").as_array().size(), 2u);
  EXPECT_EQ(client_->Post("/api/v1/namespaces/pc-x/configmaps?fieldValidation=Strict", ConfigMap("a")).status, 201);
  auto patched = client_->Call("PATCH", "/api/v1/namespaces/pc-x/configmaps/a?fieldValidation=Strict",
                               R"({"data":{"k":"bad"}})", "application/merge-patch+json");
  EXPECT_EQ(patched.status, 422);
  // Without Strict the hook is not consulted (the real server only warns).
  EXPECT_EQ(client_->Post("/api/v1/namespaces/pc-x/configmaps", [&] {
              json::value b = bad;
              b.as_object()["metadata"].as_object()["name"] = "b";
              return b;
            }()).status, 201);
  int strict_writes = 0;
  for (const auto& r : server_->Requests()) {
    if (r.method != "GET" && r.query.contains("fieldValidation") && r.query.at("fieldValidation") == "Strict") ++strict_writes;
  }
  EXPECT_EQ(strict_writes, 3);
}

TEST_F(KubeTestServerTest, WatchStreamsEventsBookmarksAndGone) {
  const std::string base = "/api/v1/namespaces/pc-x/configmaps";
  ASSERT_EQ(client_->Post(base, ConfigMap("pre", {{"w", "1"}})).status, 201);
  auto list = client_->Get(base + "?labelSelector=w%3D1");
  std::string rv = S(list.Json(), {"metadata", "resourceVersion"});
  Stream watch(*client_, base + "?watch=1&labelSelector=w%3D1&allowWatchBookmarks=true&resourceVersion=" + rv);
  ASSERT_TRUE(WaitFor([&] { return server_->OpenWatches() == 1; }));
  ASSERT_EQ(client_->Post(base, ConfigMap("a", {{"w", "1"}})).status, 201);
  ASSERT_EQ(client_->Post(base, ConfigMap("other")).status, 201);  // not selected
  ASSERT_EQ(client_->Patch(base + "/a", json::object{{"data", json::object{{"k", "2"}}}}).status, 200);
  ASSERT_EQ(client_->Patch(base + "/pre", json::object{{"metadata", json::object{{"labels", json::object{{"w", "0"}}}}}}).status, 200);
  ASSERT_EQ(client_->Delete(base + "/a").status, 200);
  auto e1 = watch.NextOf({"ADDED", "MODIFIED", "DELETED"});
  ASSERT_TRUE(e1);
  EXPECT_EQ(S(*e1, {"type"}), "ADDED");
  EXPECT_EQ(S(*e1, {"object", "metadata", "name"}), "a");
  auto e2 = watch.NextOf({"ADDED", "MODIFIED", "DELETED"});
  ASSERT_TRUE(e2);
  EXPECT_EQ(S(*e2, {"type"}), "MODIFIED");
  auto e3 = watch.NextOf({"ADDED", "MODIFIED", "DELETED"});
  ASSERT_TRUE(e3);
  EXPECT_EQ(S(*e3, {"type"}), "DELETED");  // "pre" left the selector
  EXPECT_EQ(S(*e3, {"object", "metadata", "name"}), "pre");
  auto e4 = watch.NextOf({"ADDED", "MODIFIED", "DELETED"});
  ASSERT_TRUE(e4);
  EXPECT_EQ(S(*e4, {"type"}), "DELETED");
  EXPECT_EQ(S(*e4, {"object", "metadata", "name"}), "a");
  auto bookmark = watch.NextOf({"BOOKMARK"});
  ASSERT_TRUE(bookmark);
  EXPECT_EQ(S(*bookmark, {"object", "kind"}), "ConfigMap");
  EXPECT_EQ(S(*bookmark, {"object", "metadata", "resourceVersion"}), std::to_string(server_->ResourceVersion()));

  // A watch without resourceVersion starts with the current state.
  Stream fresh(*client_, base + "?watch=true");
  std::set<std::string> names;
  for (int i = 0; i < 2; ++i) {
    auto ev = fresh.NextEvent();
    ASSERT_TRUE(ev);
    EXPECT_EQ(S(*ev, {"type"}), "ADDED");
    names.insert(S(*ev, {"object", "metadata", "name"}));
  }
  EXPECT_EQ(names, (std::set<std::string>{"other", "pre"}));

  // DropWatches ends the streams; an old resourceVersion after compaction is 410 Gone.
  server_->DropWatches();
  EXPECT_TRUE(watch.WaitDone());
  EXPECT_TRUE(fresh.WaitDone());
  server_->CompactHistory();
  Stream old(*client_, base + "?watch=1&resourceVersion=" + rv);
  auto err = old.NextEvent();
  ASSERT_TRUE(err);
  EXPECT_EQ(S(*err, {"type"}), "ERROR");
  EXPECT_EQ(S(*err, {"object", "code"}), "410");
  EXPECT_EQ(S(*err, {"object", "reason"}), "Expired");
  EXPECT_NE(S(*err, {"object", "message"}).find("too old resource version"), std::string::npos);
  EXPECT_TRUE(old.WaitDone());
  // The current resourceVersion is still fine.
  Stream current(*client_, base + "?watch=1&resourceVersion=" + std::to_string(server_->ResourceVersion()));
  ASSERT_EQ(client_->Post(base, ConfigMap("after")).status, 201);
  auto after = current.NextOf({"ADDED"});
  ASSERT_TRUE(after);
  EXPECT_EQ(S(*after, {"object", "metadata", "name"}), "after");
}

TEST_F(KubeTestServerTest, WatchTimeoutEndsTheStream) {
  Stream watch(*client_, "/api/v1/pods?watch=1&timeoutSeconds=1");
  EXPECT_TRUE(watch.WaitDone(10s));
}

TEST_F(KubeTestServerTest, ForbiddenVerbAndInjectedFailures) {
  server_->ForbidVerb("create", "jobs");
  auto job = json::object{{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", json::object{{"name", "j"}}},
                          {"spec", json::object{{"template", json::parse(R"({"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"i","command":["true"]}]}})")}}}};
  auto denied = client_->Post("/apis/batch/v1/namespaces/pc-x/jobs", job);
  EXPECT_EQ(denied.status, 403);
  EXPECT_EQ(S(denied.Json(), {"reason"}), "Forbidden");
  EXPECT_EQ(S(denied.Json(), {"message"}),
            "jobs.batch is forbidden: User \"system:serviceaccount:paddlecloud:paddlecloud\" cannot create resource "
            "\"jobs\" in API group \"batch\" in the namespace \"pc-x\"");
  EXPECT_EQ(client_->Get("/apis/batch/v1/namespaces/pc-x/jobs").status, 200);
  server_->AllowAll();

  server_->FailNextRequests(2, 503);
  EXPECT_EQ(client_->Get("/api/v1/namespaces").status, 503);
  auto second = client_->Get("/api/v1/namespaces");
  EXPECT_EQ(second.status, 503);
  EXPECT_EQ(S(second.Json(), {"reason"}), "ServiceUnavailable");
  EXPECT_EQ(client_->Get("/api/v1/namespaces").status, 200);

  server_->SetLatency(200ms);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(client_->Get("/api/v1/namespaces").status, 200);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 200ms);
  server_->SetLatency(0ms);
}

// ---------------------------------------------------------------------------------------------
// Kubelet

bool ProcessWithMarkerAlive(const std::string& marker) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    std::ifstream in(entry.path() / "cmdline");
    std::string cmd((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmd.find(marker) != std::string::npos && cmd.find("gtest") == std::string::npos) {
      std::ifstream st(entry.path() / "stat");
      std::string stat((std::istreambuf_iterator<char>(st)), std::istreambuf_iterator<char>());
      auto close = stat.rfind(')');
      if (close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z') continue;
      return true;
    }
  }
  return false;
}

TEST_F(KubeTestServerTest, PodRunsARealProcessWithEnvAndLogs) {
  json::value pod = Pod("p1", "echo hello $MY_NAME $MY_NS $POD_IP $(MY_NAME)-x; echo oops >&2; hostname; pwd",
                        json::object{{"hostname", "host-a"}});
  auto& c = pod.as_object()["spec"].as_object()["containers"].as_array()[0].as_object();
  c["workingDir"] = "/tmp";
  c["env"] = json::array{
      json::object{{"name", "MY_NAME"}, {"valueFrom", json::object{{"fieldRef", json::object{{"fieldPath", "metadata.name"}}}}}},
      json::object{{"name", "MY_NS"}, {"valueFrom", json::object{{"fieldRef", json::object{{"fieldPath", "metadata.namespace"}}}}}},
      json::object{{"name", "POD_IP"}, {"valueFrom", json::object{{"fieldRef", json::object{{"fieldPath", "status.podIP"}}}}}}};
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", pod).status, 201);
  ASSERT_TRUE(WaitFor([&] { return Phase("p1") == "Succeeded"; })) << json::serialize(PodObject("p1"));
  json::value p = PodObject("p1");
  std::string ip = S(p, {"status", "podIP"});
  EXPECT_TRUE(ip.starts_with("127.") && !ip.starts_with("127.0.")) << ip;
  auto& cs = p.at("status").at("containerStatuses").at(0);
  EXPECT_EQ(S(cs, {"state", "terminated", "reason"}), "Completed");
  EXPECT_EQ(S(cs, {"state", "terminated", "exitCode"}), "0");
  auto log = client_->Get("/api/v1/namespaces/pc-x/pods/p1/log?container=paddle");
  EXPECT_EQ(log.status, 200);
  EXPECT_EQ(log.body, "hello p1 pc-x " + ip + " p1-x\noops\nhost-a\n/tmp\n");
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/p1/log?tailLines=2").body, "host-a\n/tmp\n");
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/p1/log?limitBytes=5").body, "hello");
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/p1/log?container=nope").status, 400);
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/zz/log").status, 404);

  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", Pod("p2", "exit 3")).status, 201);
  ASSERT_TRUE(WaitFor([&] { return Phase("p2") == "Failed"; }));
  json::value cs2 = PodObject("p2").at("status").at("containerStatuses").at(0);
  EXPECT_EQ(S(cs2, {"state", "terminated", "reason"}), "Error");
  EXPECT_EQ(S(cs2, {"state", "terminated", "exitCode"}), "3");
}

TEST_F(KubeTestServerTest, LogsWaitForTheContainerAndFollowUntilItEnds) {
  server_->SetAllocatable({1000, 1LL << 30, 0});
  json::value pod = Pod("p", "for i in 1 2 3; do echo line$i; sleep 0.2; done");
  pod.as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["resources"] =
      json::object{{"requests", json::object{{"cpu", "2"}}}};
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", pod).status, 201);
  ASSERT_TRUE(WaitFor([&] { return S(PodObject("p"), {"status", "conditions"}).find("Unschedulable") != std::string::npos; }));
  auto waiting = client_->Get("/api/v1/namespaces/pc-x/pods/p/log");
  EXPECT_EQ(waiting.status, 400);
  EXPECT_EQ(S(waiting.Json(), {"message"}), "container \"paddle\" in pod \"p\" is waiting to start: ContainerCreating");
  server_->SetAllocatable({4000, 1LL << 30, 0});
  ASSERT_TRUE(WaitFor([&] { return Phase("p") == "Running"; }));
  Stream follow(*client_, "/api/v1/namespaces/pc-x/pods/p/log?follow=true");
  EXPECT_TRUE(follow.WaitDone());
  EXPECT_EQ(follow.All(), "line1\nline2\nline3\n");
}

TEST_F(KubeTestServerTest, UnschedulablePodStaysPendingUntilRoomFrees) {
  server_->SetAllocatable({2000, 4LL << 30, 1});
  auto with_requests = [&](const std::string& name, json::object requests) {
    json::value pod = Pod(name, "sleep 30");
    pod.as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["resources"] =
        json::object{{"requests", requests}, {"limits", requests}};
    return pod;
  };
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", with_requests("big", {{"cpu", "1500m"}, {"memory", "1Gi"}})).status, 201);
  ASSERT_TRUE(WaitFor([&] { return Phase("big") == "Running"; }));
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", with_requests("second", {{"cpu", "1"}, {"memory", "8Gi"}, {"nvidia.com/gpu", "2"}})).status, 201);
  std::string message;
  ASSERT_TRUE(WaitFor([&] {
    json::value p = PodObject("second");
    const json::value* conds = p.is_object() ? p.as_object().at("status").as_object().if_contains("conditions") : nullptr;
    if (conds == nullptr) return false;
    for (const auto& c : conds->as_array()) {
      if (S(c, {"type"}) == "PodScheduled" && S(c, {"status"}) == "False") {
        message = S(c, {"message"});
        return S(c, {"reason"}) == "Unschedulable";
      }
    }
    return false;
  }));
  EXPECT_EQ(message, "0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, 1 Insufficient nvidia.com/gpu.");
  ASSERT_TRUE(WaitFor([&] { return EventReasons(*server_, "pc-x", "second").contains("FailedScheduling"); }));
  EXPECT_TRUE(EventReasons(*server_, "pc-x", "big").contains("Scheduled"));
  EXPECT_EQ(Phase("second"), "Pending");
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", with_requests("third", {{"cpu", "1"}})).status, 201);
  ASSERT_TRUE(WaitFor([&] { return S(PodObject("third"), {"status", "conditions"}).find("0/1 nodes are available: 1 Insufficient cpu.") != std::string::npos; }));
  ASSERT_EQ(client_->Call("DELETE", "/api/v1/namespaces/pc-x/pods/big?gracePeriodSeconds=0").status, 200);
  ASSERT_TRUE(WaitFor([&] { return Phase("third") == "Running"; }));
  EXPECT_EQ(Phase("second"), "Pending");
}

TEST_F(KubeTestServerTest, PersistentVolumeClaimMountsTheNfsDirectory) {
  json::value pv = json::parse(R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"pc-x-data"},
    "spec":{"accessModes":["ReadWriteMany"],"capacity":{"storage":"1Ti"},"nfs":{"server":"nfs","path":"/exports/data"},
            "persistentVolumeReclaimPolicy":"Retain"}})");
  json::value pvc = json::parse(R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"paddlecloud-data"},
    "spec":{"accessModes":["ReadWriteMany"],"volumeName":"pc-x-data","resources":{"requests":{"storage":"1Ti"}}}})");
  ASSERT_EQ(client_->Post("/api/v1/persistentvolumes", pv).status, 201);
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/persistentvolumeclaims", pvc).status, 201);
  ASSERT_TRUE(WaitFor([&] {
    auto c = server_->Get("/api/v1/namespaces/pc-x/persistentvolumeclaims/paddlecloud-data");
    return c && S(*c, {"status", "phase"}) == "Bound";
  }));
  std::filesystem::create_directories(nfs_dir_ / "exports/data/u1/in");
  std::ofstream(nfs_dir_ / "exports/data/u1/in/input.txt") << "data-in\n";
  json::value pod = Pod("p", "cat /in/input.txt; echo out > /work/out.txt; (echo x > /in/denied) 2>/dev/null || echo read-only; echo scratch > /scratch/s && cat /scratch/s");
  auto& spec = pod.as_object()["spec"].as_object();
  spec["volumes"] = json::array{
      json::object{{"name", "data"}, {"persistentVolumeClaim", json::object{{"claimName", "paddlecloud-data"}}}},
      json::object{{"name", "scratch"}, {"emptyDir", json::object{}}}};
  spec["containers"].as_array()[0].as_object()["volumeMounts"] = json::array{
      json::object{{"name", "data"}, {"mountPath", "/in"}, {"subPath", "u1/in"}, {"readOnly", true}},
      json::object{{"name", "data"}, {"mountPath", "/work"}, {"subPath", "u1/jobs/j1"}},
      json::object{{"name", "scratch"}, {"mountPath", "/scratch"}}};
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", pod).status, 201);
  ASSERT_TRUE(WaitFor([&] { return Phase("p") == "Succeeded" || Phase("p") == "Failed"; }));
  EXPECT_EQ(server_->PodLog("pc-x", "p"), "data-in\nread-only\nscratch\n");
  std::ifstream out(nfs_dir_ / "exports/data/u1/jobs/j1/out.txt");
  std::string text((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "out\n");
  EXPECT_FALSE(std::filesystem::exists(nfs_dir_ / "exports/data/u1/in/denied"));
}

TEST_F(KubeTestServerTest, OomKillAndRestartPolicies) {
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", Pod("oom", "sleep 30")).status, 201);
  ASSERT_TRUE(WaitFor([&] { return Phase("oom") == "Running"; }));
  EXPECT_FALSE(server_->OomKill("pc-x", "nope").ok());
  ASSERT_TRUE(server_->OomKill("pc-x", "oom").ok());
  ASSERT_TRUE(WaitFor([&] { return Phase("oom") == "Failed"; }));
  json::value cs = PodObject("oom").at("status").at("containerStatuses").at(0);
  EXPECT_EQ(S(cs, {"state", "terminated", "reason"}), "OOMKilled");
  EXPECT_EQ(S(cs, {"state", "terminated", "exitCode"}), "137");

  // OnFailure restarts in place until the command succeeds (a file on an emptyDir counts attempts).
  json::value pod = Pod("retry", "n=$(cat /state/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /state/n; echo attempt $n; [ $n -ge 3 ]",
                        json::object{{"restartPolicy", "OnFailure"},
                                     {"volumes", json::array{json::object{{"name", "state"}, {"emptyDir", json::object{}}}}}});
  pod.as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["volumeMounts"] =
      json::array{json::object{{"name", "state"}, {"mountPath", "/state"}}};
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", pod).status, 201);
  ASSERT_TRUE(WaitFor([&] { return Phase("retry") == "Succeeded"; })) << json::serialize(PodObject("retry"));
  json::value rcs = PodObject("retry").at("status").at("containerStatuses").at(0);
  EXPECT_EQ(S(rcs, {"restartCount"}), "2");
  EXPECT_EQ(S(rcs, {"lastState", "terminated", "exitCode"}), "1");
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/retry/log").body, "attempt 3\n");
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/retry/log?previous=true").body, "attempt 2\n");
}

TEST_F(KubeTestServerTest, UnpullableImageNeverRuns) {
  server_->SetUnpullableImages({"registry.invalid/nope:1"});
  json::value pod = Pod("p", "echo ran");
  pod.as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["image"] = "registry.invalid/nope:1";
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", pod).status, 201);
  std::set<std::string> reasons;
  ASSERT_TRUE(WaitFor([&] {
    reasons.insert(S(PodObject("p"), {"status", "containerStatuses"}).find("ErrImagePull") != std::string::npos ? "ErrImagePull" : "");
    return S(PodObject("p"), {"status", "containerStatuses"}).find("ImagePullBackOff") != std::string::npos;
  }));
  EXPECT_NE(S(PodObject("p"), {"status", "containerStatuses"}).find("Back-off pulling image"), std::string::npos);
  EXPECT_EQ(Phase("p"), "Pending");
  EXPECT_EQ(server_->RunningProcesses(), 0u);
  EXPECT_TRUE(EventReasons(*server_, "pc-x", "p").contains("Failed"));
  auto log = client_->Get("/api/v1/namespaces/pc-x/pods/p/log");
  EXPECT_EQ(log.status, 400);
  EXPECT_NE(S(log.Json(), {"message"}).find("is waiting to start"), std::string::npos);
}

TEST_F(KubeTestServerTest, GracefulDeletionSendsTermThenRemovesThePod) {
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods",
                          Pod("p", "trap 'echo got-term; exit 0' TERM; echo up; while true; do sleep 0.05; done")).status, 201);
  ASSERT_TRUE(WaitFor([&] { return server_->PodLog("pc-x", "p").find("up") != std::string::npos; }));
  Stream watch(*client_, "/api/v1/namespaces/pc-x/pods?watch=1&resourceVersion=" + std::to_string(server_->ResourceVersion()));
  auto deleted = client_->Call("DELETE", "/api/v1/namespaces/pc-x/pods/p?gracePeriodSeconds=5");
  ASSERT_EQ(deleted.status, 200);
  EXPECT_FALSE(S(deleted.Json(), {"metadata", "deletionTimestamp"}).empty());
  auto gone = watch.NextOf({"DELETED"});
  ASSERT_TRUE(gone);
  EXPECT_FALSE(server_->Get("/api/v1/namespaces/pc-x/pods/p"));
  EXPECT_EQ(server_->RunningProcesses(), 0u);

  // A process ignoring SIGTERM is killed after the grace period.
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", Pod("stubborn", "trap '' TERM; echo up; while true; do sleep 0.05; done")).status, 201);
  ASSERT_TRUE(WaitFor([&] { return server_->PodLog("pc-x", "stubborn").find("up") != std::string::npos; }));
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(client_->Call("DELETE", "/api/v1/namespaces/pc-x/pods/stubborn", R"({"gracePeriodSeconds":1})").status, 200);
  ASSERT_TRUE(WaitFor([&] { return !server_->Get("/api/v1/namespaces/pc-x/pods/stubborn"); }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(KubeTestServerTest, DestructorKillsEveryChild) {
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", Pod("p", "sleep 1000 # marker-" + std::to_string(::getpid()))).status, 201);
  ASSERT_TRUE(WaitFor([&] { return Phase("p") == "Running"; }));
  ASSERT_TRUE(WaitFor([&] { return ProcessWithMarkerAlive("marker-" + std::to_string(::getpid())); }));
  server_.reset();
  EXPECT_FALSE(ProcessWithMarkerAlive("marker-" + std::to_string(::getpid())));
}

// ---------------------------------------------------------------------------------------------
// Controllers

json::value IndexedJob(const std::string& name, int completions, const std::string& script, json::object extra_spec = {},
                       json::object extra_pod_spec = {}) {
  json::object pod_spec{{"restartPolicy", "Never"},
                        {"subdomain", "j"},
                        {"containers", json::array{json::object{{"name", "paddle"},
                                                                {"image", "paddle:latest"},
                                                                {"command", json::array{"/bin/sh", "-c", script}}}}}};
  for (auto& [k, v] : extra_pod_spec) pod_spec[k] = v;
  json::object spec{{"completionMode", "Indexed"},
                    {"completions", completions},
                    {"parallelism", completions},
                    {"template", json::object{{"metadata", json::object{{"labels", json::object{{"app.kubernetes.io/managed-by", "paddlecloud"}}}}},
                                              {"spec", pod_spec}}}};
  for (auto& [k, v] : extra_spec) spec[k] = v;
  return json::object{{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", json::object{{"name", name}}}, {"spec", spec}};
}

bool HasCondition(const json::value& o, const std::string& type, const std::string& reason = "") {
  const json::value* conds = nullptr;
  if (o.is_object() && o.as_object().contains("status") && o.at("status").is_object()) {
    conds = o.at("status").as_object().if_contains("conditions");
  }
  if (conds == nullptr || !conds->is_array()) return false;
  for (const auto& c : conds->as_array()) {
    if (S(c, {"type"}) == type && S(c, {"status"}) == "True" && (reason.empty() || S(c, {"reason"}) == reason)) return true;
  }
  return false;
}

TEST_F(KubeTestServerTest, IndexedJobRunsPodsToCompletion) {
  std::filesystem::path shared = nfs_dir_ / "shared";
  std::filesystem::create_directories(shared);
  // Index 1 resolves index 0's DNS name through the generated /etc/hosts, then lets it finish.
  std::string script =
      "echo index=$JOB_COMPLETION_INDEX host=$(hostname); "
      "if [ $JOB_COMPLETION_INDEX = 1 ]; then "
      "  for i in $(seq 100); do getent hosts j-0.j.pc-x.svc && break; sleep 0.1; done; touch /shared/done; "
      "else for i in $(seq 300); do [ -e /shared/done ] && break; sleep 0.1; done; fi";
  json::value job = IndexedJob("j", 2, script, {},
                               {{"volumes", json::array{json::object{{"name", "shared"},
                                                                     {"hostPath", json::object{{"path", shared.string()}}}}}}});
  job.as_object()["spec"].as_object()["template"].as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["volumeMounts"] =
      json::array{json::object{{"name", "shared"}, {"mountPath", "/shared"}}};
  auto created = client_->Post("/apis/batch/v1/namespaces/pc-x/jobs?fieldValidation=Strict", job);
  ASSERT_EQ(created.status, 201) << created.body;
  ASSERT_TRUE(WaitFor([&] { return HasCondition(*server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/j"), "Complete"); }))
      << json::serialize(*server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/j"));
  json::value j = *server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/j");
  EXPECT_EQ(S(j, {"status", "succeeded"}), "2");
  EXPECT_EQ(S(j, {"status", "completedIndexes"}), "0-1");
  auto pods = server_->List("pods", "pc-x");
  ASSERT_EQ(pods.size(), 2u);
  std::set<std::string> logs;
  for (const auto& p : pods) {
    std::string index = S(p, {"metadata", "labels", "batch.kubernetes.io/job-completion-index"});
    EXPECT_EQ(S(p, {"metadata", "annotations", "batch.kubernetes.io/job-completion-index"}), index);
    std::string name = S(p, {"metadata", "name"});
    EXPECT_TRUE(name.starts_with("j-" + index + "-")) << name;
    EXPECT_EQ(name.size(), std::string("j-0-").size() + 5);
    EXPECT_EQ(S(p, {"spec", "hostname"}), "j-" + index);
    EXPECT_EQ(S(p, {"metadata", "ownerReferences"}).find(S(j, {"metadata", "uid"})) != std::string::npos, true);
    auto log = client_->Get("/api/v1/namespaces/pc-x/pods/" + name + "/log");
    EXPECT_EQ(log.status, 200);
    logs.insert(log.body.substr(0, log.body.find('\n')));
    if (index == "1") {
      std::string ip0;
      for (const auto& q : pods) {
        if (S(q, {"metadata", "labels", "batch.kubernetes.io/job-completion-index"}) == "0") ip0 = S(q, {"status", "podIP"});
      }
      EXPECT_NE(log.body.find(ip0 + " "), std::string::npos) << log.body;
    }
  }
  EXPECT_EQ(logs, (std::set<std::string>{"index=0 host=j-0", "index=1 host=j-1"}));
  // Pods listed across namespaces with a label selector.
  auto all = client_->Get("/api/v1/pods?labelSelector=app.kubernetes.io%2Fmanaged-by%3Dpaddlecloud");
  EXPECT_EQ(all.Json().at("items").as_array().size(), 2u);
}

TEST_F(KubeTestServerTest, FailingIndexIsRetriedUpToItsBackoffLimit) {
  json::value job = IndexedJob("f", 2, "echo try; if [ $JOB_COMPLETION_INDEX = 1 ]; then exit 2; fi; sleep 60",
                               {{"backoffLimitPerIndex", 1}, {"maxFailedIndexes", 0}, {"podReplacementPolicy", "Failed"}});
  ASSERT_EQ(client_->Post("/apis/batch/v1/namespaces/pc-x/jobs", job).status, 201);
  ASSERT_TRUE(WaitFor([&] { return HasCondition(*server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/f"), "Failed"); }));
  json::value j = *server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/f");
  EXPECT_TRUE(HasCondition(j, "Failed", "MaxFailedIndexesExceeded")) << json::serialize(j);
  EXPECT_EQ(S(j, {"status", "failedIndexes"}), "1");
  EXPECT_EQ(S(j, {"status", "failed"}), "2");
  int index1_pods = 0;
  for (const auto& p : server_->List("pods", "pc-x")) {
    if (S(p, {"metadata", "labels", "batch.kubernetes.io/job-completion-index"}) == "1") {
      ++index1_pods;
      EXPECT_EQ(S(p, {"status", "phase"}), "Failed");
    }
  }
  EXPECT_EQ(index1_pods, 2);  // the first try and one retry
  // The index still running is stopped once the Job has failed.
  ASSERT_TRUE(WaitFor([&] {
    for (const auto& p : server_->List("pods", "pc-x")) {
      if (S(p, {"metadata", "labels", "batch.kubernetes.io/job-completion-index"}) == "0") return false;
    }
    return true;
  }));
  EXPECT_EQ(server_->RunningProcesses(), 0u);
}

TEST_F(KubeTestServerTest, DeploymentScalesWithReadinessProbes) {
  json::value deployment = json::parse(R"({
    "apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},
    "spec":{"replicas":1,"strategy":{"type":"Recreate"},
      "selector":{"matchLabels":{"paddlecloud.io/service":"web"}},
      "template":{"metadata":{"labels":{"paddlecloud.io/service":"web"}},
        "spec":{"restartPolicy":"Always","containers":[{"name":"paddle","image":"python",
          "command":["/bin/sh","-c","exec python3 -m http.server 8000 --bind $POD_IP"],
          "env":[{"name":"POD_IP","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}}],
          "ports":[{"name":"http","containerPort":8000}],
          "readinessProbe":{"httpGet":{"path":"/","port":"http"},"periodSeconds":1,"failureThreshold":1}}]}}}})");
  ASSERT_EQ(client_->Post("/apis/apps/v1/namespaces/pc-x/deployments", deployment).status, 201);
  auto ready = [&](int n) {
    return WaitFor([&] {
      auto d = server_->Get("/apis/apps/v1/namespaces/pc-x/deployments/web");
      return d && S(*d, {"status", "readyReplicas"}) == std::to_string(n) && S(*d, {"status", "replicas"}) == std::to_string(n);
    });
  };
  ASSERT_TRUE(ready(1)) << json::serialize(*server_->Get("/apis/apps/v1/namespaces/pc-x/deployments/web"));
  std::string first = S(server_->List("pods", "pc-x").at(0), {"metadata", "name"});
  EXPECT_TRUE(first.starts_with("web-"));

  auto scale = client_->Get("/apis/apps/v1/namespaces/pc-x/deployments/web/scale");
  ASSERT_EQ(scale.status, 200);
  EXPECT_EQ(S(scale.Json(), {"kind"}), "Scale");
  EXPECT_EQ(S(scale.Json(), {"apiVersion"}), "autoscaling/v1");
  EXPECT_EQ(S(scale.Json(), {"status", "selector"}), "paddlecloud.io/service=web");
  json::value up = scale.Json();
  up.as_object()["spec"].as_object()["replicas"] = 3;
  auto put = client_->Put("/apis/apps/v1/namespaces/pc-x/deployments/web/scale", up);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(S(put.Json(), {"spec", "replicas"}), "3");
  EXPECT_EQ(client_->Put("/apis/apps/v1/namespaces/pc-x/deployments/web/scale", up).status, 409);  // stale
  ASSERT_TRUE(ready(3));
  std::set<std::string> ips;
  for (const auto& p : server_->List("pods", "pc-x")) ips.insert(S(p, {"status", "podIP"}));
  EXPECT_EQ(ips.size(), 3u);

  auto names = [&] {
    std::set<std::string> out;
    for (const auto& p : server_->List("pods", "pc-x")) out.insert(S(p, {"metadata", "name"}));
    return out;
  };
  auto scale_to = [&](int replicas) {
    auto down = client_->Patch("/apis/apps/v1/namespaces/pc-x/deployments/web/scale",
                               json::object{{"spec", json::object{{"replicas", replicas}}}});
    EXPECT_EQ(down.status, 200) << down.body;
  };
  auto cost = [&](const std::string& pod, const std::string& value) {
    auto patched = client_->Patch("/api/v1/namespaces/pc-x/pods/" + pod,
                                  json::object{{"metadata", {{"annotations", {{"controller.kubernetes.io/pod-deletion-cost", value}}}}}});
    EXPECT_EQ(patched.status, 200) << patched.body;
  };
  // Scaling down removes the pods of the lowest pod-deletion-cost first, the oldest here...
  cost(first, "-1000");
  scale_to(2);
  ASSERT_TRUE(ready(2));
  ASSERT_TRUE(WaitFor([&] { return names().size() == 2; }));
  EXPECT_FALSE(names().contains(first));
  // ...but a pod that is not ready before any ready one, whatever its cost.
  std::string hung = *names().begin(), kept = *names().rbegin();
  ASSERT_TRUE(server_->FreezeContainer("pc-x", hung, true).ok());
  ASSERT_TRUE(WaitFor([&] {
    auto d = server_->Get("/apis/apps/v1/namespaces/pc-x/deployments/web");
    return d && S(*d, {"status", "readyReplicas"}) == "1";
  }));
  cost(kept, "-1000");
  scale_to(1);
  ASSERT_TRUE(WaitFor([&] {
    auto pod = server_->Get("/api/v1/namespaces/pc-x/pods/" + hung);
    return !pod || !S(*pod, {"metadata", "deletionTimestamp"}).empty();
  }));
  ASSERT_TRUE(server_->FreezeContainer("pc-x", hung, false).ok());
  ASSERT_TRUE(WaitFor([&] { return names() == std::set<std::string>{kept}; }));
  ASSERT_TRUE(ready(1));
  auto bad = client_->Patch("/apis/apps/v1/namespaces/pc-x/deployments/web/scale",
                            json::object{{"spec", json::object{{"replicas", -1}}}});
  EXPECT_EQ(bad.status, 422);
}

TEST_F(KubeTestServerTest, DeletionPropagatesToDependents) {
  ASSERT_EQ(client_->Post("/apis/batch/v1/namespaces/pc-x/jobs", IndexedJob("bg", 2, "sleep 60")).status, 201);
  ASSERT_TRUE(WaitFor([&] { return server_->RunningProcesses() == 2; }));
  auto deleted = client_->Call("DELETE", "/apis/batch/v1/namespaces/pc-x/jobs/bg?propagationPolicy=Background&gracePeriodSeconds=1");
  ASSERT_EQ(deleted.status, 200);
  EXPECT_FALSE(server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/bg"));
  ASSERT_TRUE(WaitFor([&] { return server_->List("pods", "pc-x").empty(); }));
  EXPECT_EQ(server_->RunningProcesses(), 0u);

  // Foreground: the Job stays (with a deletionTimestamp) until its pods are gone.
  ASSERT_EQ(client_->Post("/apis/batch/v1/namespaces/pc-x/jobs", IndexedJob("fg", 1, "sleep 60")).status, 201);
  ASSERT_TRUE(WaitFor([&] { return server_->RunningProcesses() == 1; }));
  auto fg = client_->Call("DELETE", "/apis/batch/v1/namespaces/pc-x/jobs/fg",
                          R"({"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Foreground","gracePeriodSeconds":1})");
  ASSERT_EQ(fg.status, 200);
  EXPECT_FALSE(S(fg.Json(), {"metadata", "deletionTimestamp"}).empty());
  ASSERT_TRUE(WaitFor([&] { return !server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/fg"); }));
  EXPECT_TRUE(server_->List("pods", "pc-x").empty());

  // Orphan: the pods stay, without the owner reference.
  ASSERT_EQ(client_->Post("/apis/batch/v1/namespaces/pc-x/jobs", IndexedJob("or", 1, "sleep 60")).status, 201);
  ASSERT_TRUE(WaitFor([&] { return server_->RunningProcesses() == 1; }));
  ASSERT_EQ(client_->Call("DELETE", "/apis/batch/v1/namespaces/pc-x/jobs/or?propagationPolicy=Orphan").status, 200);
  EXPECT_FALSE(server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/or"));
  auto pods = server_->List("pods", "pc-x");
  ASSERT_EQ(pods.size(), 1u);
  EXPECT_EQ(S(pods[0], {"metadata", "ownerReferences"}), "");
  EXPECT_EQ(server_->RunningProcesses(), 1u);
  EXPECT_EQ(client_->Call("DELETE", "/apis/batch/v1/namespaces/pc-x/jobs/or?propagationPolicy=Sideways").status, 404);

  // A namespace delete removes everything in it; nothing new may be created meanwhile.
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/configmaps", ConfigMap("cm")).status, 201);
  auto ns = client_->Call("DELETE", "/api/v1/namespaces/pc-x?gracePeriodSeconds=1");
  ASSERT_EQ(ns.status, 200);
  EXPECT_EQ(S(ns.Json(), {"status", "phase"}), "Terminating");
  auto refused = client_->Post("/api/v1/namespaces/pc-x/configmaps", ConfigMap("late"));
  if (refused.status != 404) {
    EXPECT_EQ(refused.status, 403);
    EXPECT_NE(S(refused.Json(), {"message"}).find("because it is being terminated"), std::string::npos);
  }
  ASSERT_TRUE(WaitFor([&] { return !server_->Get("/api/v1/namespaces/pc-x"); }));
  EXPECT_TRUE(server_->List("pods", "pc-x").empty());
  EXPECT_TRUE(server_->List("configmaps", "pc-x").empty());
  EXPECT_EQ(server_->RunningProcesses(), 0u);
}

TEST_F(KubeTestServerTest, DiscoveryAndHealth) {
  EXPECT_EQ(client_->Get("/healthz").body, "ok");
  EXPECT_EQ(S(client_->Get("/version").Json(), {"major"}), "1");
  EXPECT_EQ(S(client_->Get("/api").Json(), {"kind"}), "APIVersions");
  auto groups = client_->Get("/apis").Json();
  EXPECT_NE(json::serialize(groups).find("\"batch/v1\""), std::string::npos);
  auto core = client_->Get("/api/v1").Json();
  EXPECT_EQ(S(core, {"kind"}), "APIResourceList");
  EXPECT_NE(json::serialize(core).find("\"pods/log\""), std::string::npos);
  EXPECT_NE(json::serialize(client_->Get("/apis/apps/v1").Json()).find("\"deployments/scale\""), std::string::npos);
  EXPECT_EQ(client_->Get("/apis/nope/v1").status, 404);
  auto nodes = client_->Get("/api/v1/nodes").Json();
  ASSERT_EQ(nodes.at("items").as_array().size(), 1u);
  server_->SetAllocatable({4500, 8LL << 30, 2});
  auto node = client_->Get("/api/v1/nodes/test-node").Json();
  EXPECT_EQ(S(node, {"status", "allocatable", "cpu"}), "4500m");
  EXPECT_EQ(S(node, {"status", "allocatable", "memory"}), "8Gi");
  EXPECT_EQ(S(node, {"status", "allocatable", "nvidia.com/gpu"}), "2");
  EXPECT_EQ(server_->CountRequests("GET", "/api/v1/nodes"), 2u);
  EXPECT_EQ(server_->WritesWithoutStrictFieldValidation().size(), 1u);  // the fixture's namespace
}

TEST_F(KubeTestServerTest, QuotaAndLimitRangeApplyToPods) {
  KubernetesTestApiServerOptions options;
  options.enforce_resource_quota = true;
  StartServer(options);
  json::value lr = json::parse(R"({"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"paddlecloud-defaults"},
    "spec":{"limits":[{"type":"Container","default":{"cpu":"1","memory":"1Gi"},"defaultRequest":{"cpu":"1","memory":"1Gi"}}]}})");
  json::value quota = json::parse(R"({"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"paddlecloud-quota"},
    "spec":{"hard":{"requests.cpu":"2","requests.memory":"4Gi","limits.cpu":"2"}}})");
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/limitranges", lr).status, 201);
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/resourcequotas", quota).status, 201);
  auto first = client_->Post("/api/v1/namespaces/pc-x/pods", Pod("a", "sleep 30"));
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(S(first.Json().at("spec").at("containers").at(0), {"resources", "requests", "cpu"}), "1");
  EXPECT_EQ(S(first.Json().at("spec").at("containers").at(0), {"resources", "limits", "memory"}), "1Gi");
  json::value big = Pod("b", "sleep 30");
  big.as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["resources"] =
      json::object{{"limits", json::object{{"cpu", "1500m"}}}};
  auto refused = client_->Post("/api/v1/namespaces/pc-x/pods", big);
  EXPECT_EQ(refused.status, 403);
  EXPECT_EQ(S(refused.Json(), {"message"}),
            "pods \"b\" is forbidden: exceeded quota: paddlecloud-quota, requested: limits.cpu=1500m,requests.cpu=1500m, "
            "used: limits.cpu=1,requests.cpu=1, limited: limits.cpu=2,requests.cpu=2");
  // A Job whose pods do not fit the quota reports FailedCreate events and creates nothing.
  json::value job = json::parse(R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"toobig"},
    "spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"i","command":["true"],
      "resources":{"requests":{"cpu":"4"},"limits":{"cpu":"4"}}}]}}}})");
  ASSERT_EQ(client_->Post("/apis/batch/v1/namespaces/pc-x/jobs", job).status, 201);
  ASSERT_TRUE(WaitFor([&] { return EventReasons(*server_, "pc-x", "toobig").contains("FailedCreate"); }));
  for (const auto& e : server_->List("events", "pc-x")) {
    if (S(e, {"reason"}) == "FailedCreate") {
      EXPECT_NE(S(e, {"message"}).find("exceeded quota: paddlecloud-quota"), std::string::npos);
    }
  }
  EXPECT_EQ(server_->List("pods", "pc-x").size(), 1u);
  ASSERT_TRUE(WaitFor([&] {
    auto q = server_->Get("/api/v1/namespaces/pc-x/resourcequotas/paddlecloud-quota");
    return q && S(*q, {"status", "used", "requests.cpu"}) == "1" && S(*q, {"status", "used", "requests.memory"}) == "1Gi";
  }));
}

TEST_F(KubeTestServerTest, QuotaIsNotEnforcedByDefault) {
  json::value quota = json::parse(R"({"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q"},
    "spec":{"hard":{"requests.cpu":"1"}}})");
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/resourcequotas", quota).status, 201);
  json::value big = Pod("big", "true");
  big.as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["resources"] =
      json::object{{"requests", json::object{{"cpu", "1000"}}}};
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", big).status, 201);
  ASSERT_TRUE(WaitFor([&] { return S(PodObject("big"), {"status", "conditions"}).find("Insufficient cpu") != std::string::npos; }));
  ASSERT_TRUE(WaitFor([&] {
    auto q = server_->Get("/api/v1/namespaces/pc-x/resourcequotas/q");
    return q && S(*q, {"status", "used", "requests.cpu"}) == "1000";
  }));
}

TEST_F(KubeTestServerTest, PodDeletedBehindTheJobsBackCountsAsAFailure) {
  json::value job = IndexedJob("lost", 1, "sleep 60", {{"backoffLimitPerIndex", 1}, {"maxFailedIndexes", 0}, {"ttlSecondsAfterFinished", 0}});
  ASSERT_EQ(client_->Post("/apis/batch/v1/namespaces/pc-x/jobs", job).status, 201);
  std::string first;
  ASSERT_TRUE(WaitFor([&] {
    auto pods = server_->List("pods", "pc-x");
    if (pods.size() != 1 || S(pods[0], {"status", "phase"}) != "Running") return false;
    first = S(pods[0], {"metadata", "name"});
    return true;
  }));
  ASSERT_TRUE(server_->DeletePodBehindTheBackOfThePlatform("pc-x", first).ok());
  std::string second;
  ASSERT_TRUE(WaitFor([&] {
    auto pods = server_->List("pods", "pc-x");
    if (pods.size() != 1 || S(pods[0], {"metadata", "name"}) == first || S(pods[0], {"status", "phase"}) != "Running") return false;
    second = S(pods[0], {"metadata", "name"});
    return true;
  }));
  EXPECT_TRUE(second.starts_with("lost-0-"));
  Stream watch(*client_, "/apis/batch/v1/namespaces/pc-x/jobs?watch=1&resourceVersion=" + std::to_string(server_->ResourceVersion()));
  ASSERT_TRUE(server_->DeletePodBehindTheBackOfThePlatform("pc-x", second).ok());
  // Two lost pods exceed backoffLimitPerIndex 1: the Job fails, then its TTL removes it.
  bool failed = false;
  while (auto ev = watch.NextEvent()) {
    if (HasCondition(ev->at("object"), "Failed")) failed = true;
    if (S(*ev, {"type"}) == "DELETED") break;
  }
  EXPECT_TRUE(failed);
  EXPECT_FALSE(server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/lost"));
}

TEST_F(KubeTestServerTest, LogTimestampsAndSinceTime) {
  std::filesystem::path gate = nfs_dir_ / "gate";
  std::filesystem::create_directories(gate);
  json::value pod = Pod("p", "echo first; while [ ! -e /gate/go ]; do sleep 0.05; done; echo second; printf partial",
                        json::object{{"volumes", json::array{json::object{{"name", "gate"}, {"hostPath", json::object{{"path", gate.string()}}}}}}});
  pod.as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["volumeMounts"] =
      json::array{json::object{{"name", "gate"}, {"mountPath", "/gate"}}};
  ASSERT_EQ(client_->Post("/api/v1/namespaces/pc-x/pods", pod).status, 201);
  ASSERT_TRUE(WaitFor([&] { return client_->Get("/api/v1/namespaces/pc-x/pods/p/log").body == "first\n"; }));
  auto stamped = client_->Get("/api/v1/namespaces/pc-x/pods/p/log?timestamps=true");
  ASSERT_EQ(stamped.status, 200);
  auto space = stamped.body.find(' ');
  ASSERT_NE(space, std::string::npos);
  std::string first_time = stamped.body.substr(0, space);
  EXPECT_EQ(first_time.size(), std::string("2026-01-02T03:04:05.123456789Z").size()) << stamped.body;
  EXPECT_EQ(stamped.body.substr(space), " first\n");
  // Lines at or after sinceTime only.
  Stream follow(*client_, "/api/v1/namespaces/pc-x/pods/p/log?follow=true&timestamps=true");
  ASSERT_TRUE(follow.NextLine());
  std::ofstream(gate / "go") << "";
  ASSERT_TRUE(WaitFor([&] { return Phase("p") == "Succeeded"; }));
  ASSERT_TRUE(follow.WaitDone());
  std::string all = follow.All();
  EXPECT_NE(all.find(" second\n"), std::string::npos) << all;
  EXPECT_TRUE(all.ends_with(" partial")) << all;
  std::string second_time = all.substr(0, all.find(' '));
  EXPECT_GT(second_time, first_time);
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/p/log?sinceTime=" + second_time).body, "second\npartial");
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/p/log?sinceTime=2000-01-01T00:00:00Z").body, "first\nsecond\npartial");
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/p/log?sinceTime=garbage").status, 400);
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/p/log?sinceSeconds=3600").body, "first\nsecond\npartial");
}

TEST_F(KubeTestServerTest, PaddleJobRunsWorkersAndParameterServers) {
  json::value job = json::parse(R"({"apiVersion":"kubeflow.org/v1","kind":"PaddleJob","metadata":{"name":"pj"},
    "spec":{"runPolicy":{"backoffLimit":2},"paddleReplicaSpecs":{
      "PS":{"replicas":1,"restartPolicy":"OnFailure","template":{"spec":{"containers":[{"name":"paddle","image":"p",
        "command":["/bin/sh","-c","sleep 60"]}]}}},
      "Worker":{"replicas":2,"restartPolicy":"OnFailure","template":{"spec":{"containers":[{"name":"paddle","image":"p",
        "command":["/bin/sh","-c","for i in $(seq 100); do getent hosts pj-ps-0.pc-x.svc >/dev/null && break; sleep 0.05; done; getent hosts pj-ps-0.pc-x.svc >/dev/null && echo worker $POD_NAME"],
        "env":[{"name":"POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]}]}}}}}})");
  ASSERT_EQ(client_->Post("/apis/kubeflow.org/v1/namespaces/pc-x/paddlejobs?fieldValidation=Strict", job).status, 201);
  ASSERT_TRUE(WaitFor([&] { return HasCondition(*server_->Get("/apis/kubeflow.org/v1/namespaces/pc-x/paddlejobs/pj"), "Succeeded"); }))
      << json::serialize(*server_->Get("/apis/kubeflow.org/v1/namespaces/pc-x/paddlejobs/pj"));
  EXPECT_EQ(client_->Get("/api/v1/namespaces/pc-x/pods/pj-worker-1/log").body, "worker pj-worker-1\n");
  auto pod = server_->Get("/api/v1/namespaces/pc-x/pods/pj-worker-0");
  ASSERT_TRUE(pod);
  EXPECT_EQ(S(*pod, {"metadata", "labels", "training.kubeflow.org/replica-type"}), "worker");
  EXPECT_EQ(S(*pod, {"metadata", "labels", "training.kubeflow.org/replica-index"}), "0");
  EXPECT_TRUE(server_->Get("/api/v1/namespaces/pc-x/services/pj-worker-0"));
  EXPECT_TRUE(server_->Get("/api/v1/namespaces/pc-x/services/pj-ps-0"));
  // The parameter server, still running, is stopped once the workers are done (cleanPodPolicy Running).
  ASSERT_TRUE(WaitFor([&] { return !server_->Get("/api/v1/namespaces/pc-x/pods/pj-ps-0"); }));
  EXPECT_EQ(server_->RunningProcesses(), 0u);
  // Deleting the PaddleJob takes its pods and Services along.
  ASSERT_EQ(client_->Delete("/apis/kubeflow.org/v1/namespaces/pc-x/paddlejobs/pj").status, 200);
  ASSERT_TRUE(WaitFor([&] { return server_->List("pods", "pc-x").empty() && server_->List("services", "pc-x").empty(); }));
}

TEST_F(KubeTestServerTest, JobDeadlineAndSuspend) {
  ASSERT_EQ(client_->Post("/apis/batch/v1/namespaces/pc-x/jobs", IndexedJob("dl", 1, "sleep 60", {{"activeDeadlineSeconds", 1}})).status, 201);
  ASSERT_TRUE(WaitFor([&] { return HasCondition(*server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/dl"), "Failed", "DeadlineExceeded"); }));
  ASSERT_TRUE(WaitFor([&] { return server_->RunningProcesses() == 0; }));
  ASSERT_EQ(client_->Post("/apis/batch/v1/namespaces/pc-x/jobs", IndexedJob("sus", 2, "sleep 60", {{"suspend", true}})).status, 201);
  // Once the controller has seen the Job (its status is written), a suspended Job has no pods.
  ASSERT_TRUE(WaitFor([&] { return !S(*server_->Get("/apis/batch/v1/namespaces/pc-x/jobs/sus"), {"status", "startTime"}).empty(); }));
  for (const auto& p : server_->List("pods", "pc-x")) EXPECT_NE(S(p, {"metadata", "labels", "job-name"}), "sus");
  ASSERT_EQ(client_->Patch("/apis/batch/v1/namespaces/pc-x/jobs/sus", json::object{{"spec", json::object{{"suspend", false}}}}).status, 200);
  ASSERT_TRUE(WaitFor([&] { return server_->RunningProcesses() == 2; }));
}

TEST(KubeTestServerPlain, PlainHttpOption) {
  KubernetesTestApiServerOptions options;
  options.tls = false;
  auto server = KubernetesTestApiServer::Start(options);
  ASSERT_TRUE(server);
  EXPECT_TRUE((*server)->url().starts_with("http://127.0.0.1:"));
  EXPECT_EQ((*server)->Kubeconfig().find("certificate-authority-data"), std::string::npos);
  Client client(**server);
  EXPECT_EQ(client.Get("/version").status, 200);
}

}  // namespace
}  // namespace paddlecloud::kube_test
