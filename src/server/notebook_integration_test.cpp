// Notebooks end to end with the real binary and Debian's real Jupyter Notebook: started through the
// API, reached only through the notebook origin after a one-time handoff, by its owner alone; its
// token scoped; culled when idle with its files kept; its kernel surviving a restart of the
// platform; its resources counted in the account's quota.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "common/base64.h"
#include "testing/http_client.h"
#include "testing/platform_fixture.h"
#include "testing/server_process.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool JupyterInstalled() { return fs::exists("/usr/lib/python3/dist-packages/notebook/__init__.py"); }

class NotebookTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    if (!JupyterInstalled()) GTEST_SKIP() << "python3-notebook is not installed (scripts/install-deps installs it)";
    PlatformTest::SetUp();
  }
  void TearDown() override {
    if (server_ && server_->running())
      for (const auto& token : {ann_, eve_})
        if (!token.empty()) CallWith(token, "POST", "/api/v1/notebook/stop");
    PlatformTest::TearDown();
  }
  void Start(std::vector<std::string> extra = {}) {
    StartServer(std::move(extra));
    if (ann_.empty()) {
      ann_ = RegisterUser("ann@example.com", "ann-lab");
      eve_ = RegisterUser("eve@example.com", "eve-lab");
      ann_id_ = UserId(ann_);
    }
  }
  std::int64_t UserId(const std::string& token) {
    return json::parse(CallWith(token, "GET", "/api/v1/me")->body).at("user").at("id").as_int64();
  }
  json::value Json(const std::string& token, const std::string& method, const std::string& target,
                   const json::value& body = nullptr, int expected = 200) {
    auto r = CallWith(token, method, target, body);
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, expected) << method << " " << target << ": " << r->body;
    return r->body.empty() ? json::value(nullptr) : json::parse(r->body);
  }
  std::string State(const std::string& token) {
    return std::string(Json(token, "GET", "/api/v1/notebook").at("state").as_string());
  }
  void StartAndWaitRunning(const std::string& token, const json::value& body = json::object()) {
    auto started = CallWith(token, "POST", "/api/v1/notebook/start", body);
    ASSERT_TRUE(started);
    ASSERT_EQ(started->status, 202) << started->body;
    ASSERT_TRUE(testing::WaitFor([&] { return State(token) == "running"; }, 60s))
        << boost::json::serialize(Json(token, "GET", "/api/v1/notebook")) << server_->Log();
  }
  std::string Prefix() const { return "/user/" + std::to_string(ann_id_) + "/"; }

  // One request to the notebook origin at `origin` ("http://localhost:P"), reached on 127.0.0.1.
  std::optional<testing::HttpReply> AtOrigin(const std::string& origin, const std::string& method,
                                             const std::string& target, const std::string& cookie = "",
                                             const std::string& body = "", const std::string& extra_headers = "") {
    std::string authority = origin.substr(origin.find("://") + 3);
    std::string port = authority.substr(authority.rfind(':') + 1);
    testing::RawConnection connection("127.0.0.1:" + port);
    std::string request = method + " " + target + " HTTP/1.1\r\nHost: " + authority + "\r\nConnection: close\r\n";
    if (!cookie.empty()) request += "Cookie: " + cookie + "\r\n";
    request += extra_headers;
    if (!body.empty()) request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
    request += "\r\n" + body;
    if (!connection.Send(request)) return std::nullopt;
    return connection.ReadReply(30s);
  }

  struct Origin {
    std::string url;     // "http://localhost:P"
    std::string cookie;  // "pc_user_content=..."
  };
  // Signs `token`'s user in to the notebook origin through the handoff, for `next`.
  Origin Handoff(const std::string& token, const std::string& next) {
    auto start = CallWith(token, "GET", "/api/v1/notebook/handoff?next=" + next);
    EXPECT_TRUE(start);
    EXPECT_EQ(start->status, 302) << start->body;
    std::string location = start->header("location");
    std::smatch m;
    EXPECT_TRUE(std::regex_match(location, m, std::regex("(http://[^/]+)(/hub/handoff\\?.*)"))) << location;
    if (m.empty()) return {};
    Origin origin{m[1].str(), ""};
    auto signed_in = AtOrigin(origin.url, "GET", m[2].str());
    EXPECT_TRUE(signed_in);
    EXPECT_EQ(signed_in->status, 302) << signed_in->body;
    EXPECT_EQ(signed_in->header("location"), next);
    std::string set_cookie = signed_in->header("set-cookie");
    origin.cookie = set_cookie.substr(0, set_cookie.find(';'));
    EXPECT_TRUE(origin.cookie.starts_with("pc_user_content=")) << set_cookie;
    // The handoff token works once.
    auto replayed = AtOrigin(origin.url, "GET", m[2].str());
    EXPECT_TRUE(replayed);
    EXPECT_GE(replayed->status, 400);
    return origin;
  }
  // The notebook's own API token, as its pod's environment holds it.
  std::string NotebookToken() {
    std::string name = "notebook-" + std::to_string(ann_id_);
    if (cluster_) {
      // In the notebook's Secret; the Deployment, which whoever may read workloads sees, holds no token.
      auto deployment = cluster_->api()->Get("/apis/apps/v1/namespaces/pc-ann-lab/deployments/" + name);
      EXPECT_TRUE(deployment);
      std::string spec = deployment ? json::serialize(*deployment) : "";
      EXPECT_EQ(spec.find("pct_"), std::string::npos) << spec;
      EXPECT_EQ(spec.find("JUPYTER_TOKEN\",\"value\":"), std::string::npos) << spec;
      auto secret = cluster_->api()->Get("/api/v1/namespaces/pc-ann-lab/secrets/" + name + "-credentials");
      if (!secret) {
        ADD_FAILURE() << "no Secret " << name << "-credentials";
        return "";
      }
      return Base64Decode(secret->at("data").at("PADDLE_CLOUD_TOKEN").as_string()).value_or("");
    }
    std::ifstream in(dir_.path() + "/data/cluster/.services/ann-lab/" + name + "/service.json");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::smatch m;
    EXPECT_TRUE(std::regex_search(text, m, std::regex("\"PADDLE_CLOUD_TOKEN\":\"(pct_[A-Za-z0-9_-]+)\""))) << text;
    return m.empty() ? "" : m[1].str();
  }
  std::string Workspace() const {
    return dir_.path() + "/data/files/ann-lab/workspace/" + std::to_string(ann_id_);
  }

  std::string ann_, eve_;
  std::int64_t ann_id_ = 0;
};

// The promises every cluster backend keeps (Kubernetes: a Deployment of one replica and a Service,
// on the test API server).
class NotebookOnEveryClusterTest : public NotebookTest, public ::testing::WithParamInterface<testing::ClusterKind> {
 protected:
  void SetUp() override {
    cluster_kind_ = GetParam();
    NotebookTest::SetUp();
  }
};

INSTANTIATE_TEST_SUITE_P(Clusters, NotebookOnEveryClusterTest,
                         ::testing::Values(testing::ClusterKind::kLocal, testing::ClusterKind::kKubernetesNative),
                         testing::ClusterKindName);

TEST_P(NotebookOnEveryClusterTest, RunsProxiedOnItsOwnOriginForItsOwnerAloneAndStopsKeepingItsFiles) {
  Start();
  json::value nb = Json(ann_, "GET", "/api/v1/notebook");
  EXPECT_EQ(nb.at("state").as_string(), "stopped");
  EXPECT_EQ(nb.at("reason").as_string(), "");
  EXPECT_EQ(nb.at("url").as_string(), Prefix() + "tree");

  // Bad input names the field and starts nothing.
  auto bad = Json(ann_, "POST", "/api/v1/notebook/start", {{"cpu", "lots"}}, 400);
  EXPECT_EQ(bad.at("error").at("details").at("field").as_string(), "cpu");
  bad = Json(ann_, "POST", "/api/v1/notebook/start", {{"memory", "64Pi"}}, 400);
  EXPECT_EQ(bad.at("error").at("details").at("field").as_string(), "memory");
  bad = Json(ann_, "POST", "/api/v1/notebook/start", {{"disk", "1Gi"}}, 400);
  EXPECT_EQ(bad.at("error").at("details").at("field").as_string(), "disk");
  EXPECT_EQ(State(ann_), "stopped");

  StartAndWaitRunning(ann_, {{"cpu", "500m"}, {"memory", "1Gi"}});
  nb = Json(ann_, "GET", "/api/v1/notebook");
  EXPECT_EQ(nb.at("resources").at("cpu").as_string(), "500m");
  EXPECT_FALSE(nb.at("ready_at").is_null());
  // Again with the same resources: nothing changes; with others: a conflict.
  Json(ann_, "POST", "/api/v1/notebook/start", {{"cpu", "500m"}, {"memory", "1Gi"}}, 200);
  Json(ann_, "POST", "/api/v1/notebook/start", {{"cpu", "2"}}, 409);
  EXPECT_TRUE(fs::is_directory(Workspace()));

  // The owner reaches Jupyter's API on the notebook origin, under another host name.
  Origin origin = Handoff(ann_, Prefix() + "api/status");
  EXPECT_TRUE(origin.url.starts_with("http://localhost:")) << origin.url;
  auto status = AtOrigin(origin.url, "GET", Prefix() + "api/status", origin.cookie + "; pc_session=platform-secret");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200) << status->body;
  EXPECT_NE(status->body.find("last_activity"), std::string::npos) << status->body;
  // Without the cookie: sent to the platform's handoff (GET) or refused.
  auto anonymous = AtOrigin(origin.url, "GET", Prefix() + "tree");
  EXPECT_EQ(anonymous->status, 302);
  EXPECT_NE(anonymous->header("location").find("/api/v1/notebook/handoff?next="), std::string::npos);
  EXPECT_EQ(AtOrigin(origin.url, "POST", Prefix() + "api/kernels", "", "{}")->status, 401);
  // A forged handoff token is refused.
  EXPECT_GE(AtOrigin(origin.url, "GET", "/hub/handoff?token=forged&next=" + Prefix() + "tree")->status, 400);

  // Another account's user: cannot hand off into ann's prefix, and gets 404 there with their own cookie.
  auto foreign = CallWith(eve_, "GET", "/api/v1/notebook/handoff?next=" + Prefix() + "tree");
  EXPECT_EQ(foreign->status, 400) << foreign->body;
  Origin eve_origin = Handoff(eve_, "/user/" + std::to_string(UserId(eve_)) + "/tree");
  EXPECT_EQ(AtOrigin(eve_origin.url, "GET", Prefix() + "api/status", eve_origin.cookie)->status, 404);
  EXPECT_EQ(AtOrigin(eve_origin.url, "GET", "/user/" + std::to_string(UserId(eve_)) + "/../" +
                                                std::to_string(ann_id_) + "/api/status", eve_origin.cookie)->status,
            400);  // dot segments are refused before any route
  // Eve has no notebook running: her own prefix says so.
  EXPECT_EQ(AtOrigin(eve_origin.url, "GET", "/user/" + std::to_string(UserId(eve_)) + "/api/status",
                     eve_origin.cookie)->status, 404);

  // The notebook's token acts for its work only.
  std::string token = NotebookToken();
  ASSERT_FALSE(token.empty());
  Json(token, "GET", "/api/v1/files?path=workspace");
  auto scoped = Json(token, "GET", "/api/v1/me/tokens", nullptr, 403);
  EXPECT_EQ(scoped.at("error").at("details").at("reason").as_string(), "notebook_token_scope");
  Json(token, "POST", "/api/v1/notebook/stop", nullptr, 403);
  json::value tokens = Json(ann_, "GET", "/api/v1/me/tokens");
  for (const auto& t : tokens.at("items").as_array())
    EXPECT_NE(t.at("name").as_string(), "notebook");  // not listed among the user's tokens

  // The master sees the account's notebooks; eve sees only her own.
  auto list = Json(ann_, "GET", "/api/v1/account/notebooks").at("items").as_array();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0].at("notebook").at("state").as_string(), "running");
  auto eve_list = Json(eve_, "GET", "/api/v1/account/notebooks").at("items").as_array();
  ASSERT_EQ(eve_list.size(), 1u);
  EXPECT_EQ(eve_list[0].at("notebook").at("state").as_string(), "stopped");

  // A file written through Jupyter lands in the workspace.
  auto saved = AtOrigin(origin.url, "PUT", Prefix() + "api/contents/hello.txt", origin.cookie,
                        R"({"type":"file","format":"text","content":"from jupyter"})");
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->status, 201) << saved->body;
  EXPECT_TRUE(fs::exists(Workspace() + "/hello.txt"));

  nb = Json(ann_, "POST", "/api/v1/notebook/stop");
  EXPECT_EQ(nb.at("state").as_string(), "stopped");
  EXPECT_EQ(nb.at("reason").as_string(), "user");
  EXPECT_TRUE(fs::exists(Workspace() + "/hello.txt"));
  EXPECT_EQ(CallWith(token, "GET", "/api/v1/files?path=workspace")->status, 401);  // revoked with the notebook
  EXPECT_EQ(AtOrigin(origin.url, "GET", Prefix() + "api/status", origin.cookie)->status, 404);
  // A page of the stopped notebook sends the browser to the platform's notebook page.
  auto page = AtOrigin(origin.url, "GET", Prefix() + "tree", origin.cookie, "", "Accept: text/html\r\n");
  EXPECT_EQ(page->status, 302);
  EXPECT_EQ(page->header("location"), "http://" + addr_ + "/notebook");
  Json(ann_, "POST", "/api/v1/notebook/stop");  // stopping a stopped notebook is fine
}

// A workspace that became a link (to another account's files) is never mounted: the notebook fails
// to start, and says why with the end of its log.
TEST_P(NotebookOnEveryClusterTest, AWorkspaceReplacedByALinkFailsToStartAndSaysWhy) {
  Start();
  std::string eve_space = dir_.path() + "/data/files/eve-lab/workspace/" + std::to_string(UserId(eve_));
  fs::create_directories(eve_space);
  std::ofstream(eve_space + "/secret.txt") << "eve's\n";
  fs::create_directories(fs::path(Workspace()).parent_path());
  fs::remove_all(Workspace());
  fs::create_directory_symlink(eve_space, Workspace());
  auto started = CallWith(ann_, "POST", "/api/v1/notebook/start");
  if (cluster_) {
    // On Kubernetes the platform refuses to create the Deployment at once and says why.
    EXPECT_EQ(started->status, 400) << started->body;
    EXPECT_NE(started->body.find("symbolic link"), std::string::npos) << started->body;
    EXPECT_TRUE(cluster_->api()->List("deployments", "pc-ann-lab").empty());
    EXPECT_EQ(std::vector<fs::path>(fs::directory_iterator(eve_space), fs::directory_iterator()),
              std::vector<fs::path>{eve_space + "/secret.txt"});
    return;
  }
  ASSERT_EQ(started->status, 202) << started->body;
  json::value nb;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        nb = Json(ann_, "GET", "/api/v1/notebook");
        return nb.at("state").as_string() == "failed";
      },
      30s))
      << boost::json::serialize(nb);
  EXPECT_FALSE(nb.at("reason").as_string().empty());
  EXPECT_FALSE(nb.at("log_tail").as_string().empty()) << boost::json::serialize(nb);  // the supervisor's why
  EXPECT_EQ(std::vector<fs::path>(fs::directory_iterator(eve_space), fs::directory_iterator()),
            std::vector<fs::path>{eve_space + "/secret.txt"});  // nothing of ann's notebook went there
  Json(ann_, "POST", "/api/v1/notebook/stop");
}

TEST_P(NotebookOnEveryClusterTest, AnIdleNotebookIsStoppedAndItsFilesStay) {
  Start({"--notebook-idle-timeout", "4s", "--notebook-cull-interval", "500ms"});
  StartAndWaitRunning(ann_);
  std::ofstream(Workspace() + "/keep.py") << "print('kept')\n";
  json::value nb;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        nb = Json(ann_, "GET", "/api/v1/notebook");
        return nb.at("state").as_string() == "stopped";
      },
      30s))
      << server_->Log();
  EXPECT_EQ(nb.at("reason").as_string(), "idle");
  EXPECT_NE(nb.at("message").as_string().find("without activity"), std::string::npos);
  EXPECT_TRUE(fs::exists(Workspace() + "/keep.py"));
  // The CPU Jupyter used from its start to its stop is charged to its user (measured where the
  // cluster has metrics; the test API server has no metrics.k8s.io).
  json::value usage = Json(ann_, "GET", "/api/v1/account/usage?window=1d");
  if (!cluster_) {
    EXPECT_GT(usage.at("cpu_seconds").to_number<double>(), 0.2) << boost::json::serialize(usage);
  }
}

TEST_P(NotebookOnEveryClusterTest, AKernelSurvivesARestartOfThePlatform) {
  Start();
  StartAndWaitRunning(ann_);
  Origin origin = Handoff(ann_, Prefix() + "tree");
  auto kernel = AtOrigin(origin.url, "POST", Prefix() + "api/kernels", origin.cookie, "{}");
  ASSERT_TRUE(kernel);
  ASSERT_EQ(kernel->status, 201) << kernel->body;
  std::string id(json::parse(kernel->body).at("id").as_string());
  // The kernel's WebSocket through the proxy: from the notebook origin's own pages only.
  auto upgrade = [&](const std::string& from) {
    std::string authority = origin.url.substr(origin.url.find("://") + 3);
    testing::RawConnection connection("127.0.0.1:" + authority.substr(authority.rfind(':') + 1));
    connection.Send("GET " + Prefix() + "api/kernels/" + id + "/channels HTTP/1.1\r\nHost: " + authority +
                    "\r\nCookie: " + origin.cookie + "\r\nOrigin: " + from +
                    "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
    std::string head = connection.ReadUntil("\r\n\r\n", 10s);
    return head.substr(0, head.find("\r\n"));
  };
  EXPECT_EQ(upgrade(origin.url), "HTTP/1.1 101 Switching Protocols");
  EXPECT_EQ(upgrade("http://evil.example"), "HTTP/1.1 403 Forbidden");

  ASSERT_EQ(server_->Stop(SIGTERM), 0);
  StartServer();
  // The restarted platform finds the replica and probes it again.
  ASSERT_TRUE(testing::WaitFor([&] { return State(ann_) == "running"; }, 20s)) << server_->Log();
  origin = Handoff(ann_, Prefix() + "tree");
  auto same = AtOrigin(origin.url, "GET", Prefix() + "api/kernels/" + id, origin.cookie);
  ASSERT_TRUE(same);
  EXPECT_EQ(same->status, 200) << same->body;
}

TEST_P(NotebookOnEveryClusterTest, NotebooksCountInTheAccountsQuota) {
  Start({"--quota-cpu", "1"});
  auto over = Json(ann_, "POST", "/api/v1/notebook/start", {{"cpu", "1500m"}}, 403);
  EXPECT_EQ(over.at("error").at("code").as_string(), "quota_exceeded");
  StartAndWaitRunning(ann_, {{"cpu", "500m"}});
  // A job that fits the quota alone waits for what the notebook holds.
  auto job = Json(ann_, "POST", "/api/v1/jobs", {{"name", "after-notebook"}, {"entry", "true"}, {"cpu_per_trainer", "1"}},
                  201);
  std::int64_t job_id = job.at("id").as_int64();
  json::value seen;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        seen = Json(ann_, "GET", "/api/v1/jobs/" + std::to_string(job_id));
        return seen.at("reason").as_string().find("waiting for account quota") != std::string::npos;
      },
      10s))
      << boost::json::serialize(seen);
  // Once the notebook stops, the job runs.
  Json(ann_, "POST", "/api/v1/notebook/stop");
  ASSERT_TRUE(testing::WaitFor(
      [&] { return Json(ann_, "GET", "/api/v1/jobs/" + std::to_string(job_id)).at("state").as_string() == "Succeeded"; },
      30s));
}

}  // namespace
}  // namespace paddlecloud
