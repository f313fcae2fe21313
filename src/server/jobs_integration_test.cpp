// Training jobs end to end: the real binary, the local backend's real processes, HTTP from outside.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

#include "testing/cluster_under_test.h"
#include "testing/http_client.h"
#include "testing/server_process.h"
#include "testing/platform_fixture.h"
#include "testing/smtp_server.h"

#include <cstdlib>

#ifndef PADDLECLOUD_SOURCE_DIR
#define PADDLECLOUD_SOURCE_DIR "."
#endif

namespace paddlecloud {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::HttpReply;

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) ++n;
  return n;
}

class JobsTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    StartServer();
    // A verified user with an API token.
    ASSERT_EQ(Call("POST", "/api/v1/auth/register",
                   {{"email", "ann@example.com"}, {"password", "correct horse battery"}, {"account_id", "ann-lab"}})
                  ->status,
              201);
    ASSERT_TRUE(smtp_->WaitForMessages(1));
    std::smatch m;
    std::string mail = smtp_->DecodedMessage(1);
    ASSERT_TRUE(std::regex_search(mail, m, std::regex("token=([A-Za-z0-9_-]+)")));
    ASSERT_EQ(Call("POST", "/api/v1/auth/verify", {{"token", m[1].str()}})->status, 200);
    auto token = Call("POST", "/api/v1/auth/tokens",
                      {{"email", "ann@example.com"}, {"password", "correct horse battery"}, {"name", "test"}});
    ASSERT_EQ(token->status, 201);
    token_ = std::string(json::parse(token->body).at("token").as_string());
  }
  // Pods outlive the server by design: stop every unfinished job so no process outlives the test.
  void TearDown() override {
    StopUnfinishedJobs();
    PlatformTest::TearDown();
  }
  void StopUnfinishedJobs() {
    if (!server_ || !server_->running()) return;
    auto list = Call("GET", "/api/v1/jobs?status=running&limit=500");
    if (!list || list->status != 200) return;
    json::value jobs = json::parse(list->body);
    for (const auto& job : jobs.at("items").as_array()) {
      std::int64_t id = job.at("id").as_int64();
      Call("POST", "/api/v1/jobs/" + std::to_string(id) + "/stop");
      testing::WaitFor([&] {
        std::string state(GetJob(id).at("state").as_string());
        return state == "Stopped" || state == "Succeeded" || state == "Failed";
      }, 30s);
    }
  }
  std::optional<HttpReply> Call(const std::string& method, const std::string& target, const json::value& body = nullptr) {
    std::string headers = token_.empty() ? "" : "Authorization: Bearer " + token_ + "\r\n";
    std::string text = body.is_null() ? "" : json::serialize(body);
    if (!text.empty()) headers += "Content-Type: application/json\r\n";
    return testing::Request(addr_, method, target, text, headers);
  }
  json::object Submit(const json::object& spec, int expected_status = 201) {
    auto r = Call("POST", "/api/v1/jobs", spec);
    EXPECT_EQ(r->status, expected_status) << r->body;
    return json::parse(r->body).as_object();
  }
  json::object GetJob(std::int64_t id) { return json::parse(Call("GET", "/api/v1/jobs/" + std::to_string(id))->body).as_object(); }
  // Waits until the job reaches `state`; returns the job (or the last seen one).
  json::object WaitForState(std::int64_t id, const std::string& state, std::chrono::seconds timeout = 90s) {
    json::object job;
    testing::WaitFor([&] {
      job = GetJob(id);
      return job.at("state").as_string() == state;
    }, timeout);
    EXPECT_EQ(job.at("state").as_string(), state) << json::serialize(job) << "\n" << server_->Log();
    return job;
  }
  std::string Log(std::int64_t id, const std::string& pod, int tail = 1000) {
    auto r = Call("GET", "/api/v1/jobs/" + std::to_string(id) + "/pods/" + pod + "/logs?tail=" + std::to_string(tail));
    EXPECT_EQ(r->status, 200) << r->body;
    return std::string(json::parse(r->body).at("text").as_string());
  }
  std::string AccountFiles() const { return dir_.path() + "/data/files/ann-lab"; }

  std::string token_;
};

// The promises every cluster backend keeps: the same tests on the local machine and on Kubernetes
// (the test API server; native objects and PaddleJobs).
class JobsOnEveryClusterTest : public JobsTest, public ::testing::WithParamInterface<testing::ClusterKind> {
 protected:
  void SetUp() override {
    cluster_kind_ = GetParam();
    JobsTest::SetUp();
  }
};

INSTANTIATE_TEST_SUITE_P(Clusters, JobsOnEveryClusterTest,
                         ::testing::Values(testing::ClusterKind::kLocal, testing::ClusterKind::kKubernetesNative,
                                           testing::ClusterKind::kKubernetesPaddleJob),
                         testing::ClusterKindName);

TEST_P(JobsOnEveryClusterTest, TheDistributedExampleRunsToSuccessWithFallingCost) {
  std::string workspace = AccountFiles() + "/workspace/" + std::to_string(json::parse(Call("GET", "/api/v1/me")->body).at("user").at("id").as_int64());
  fs::create_directories(workspace);
  fs::copy(std::string(PADDLECLOUD_SOURCE_DIR) + "/examples/fit_a_line", workspace + "/fit_a_line",
           fs::copy_options::recursive);
  auto job = Submit({{"name", "fit-a-line"}, {"entry", "python3 train.py"}, {"workdir", "workspace/fit_a_line"},
                     {"num_trainer", 2}, {"cpu_per_trainer", "200m"}, {"mem_per_trainer", "256Mi"},
                     {"num_ps", 1}, {"cpu_per_ps", "200m"}, {"mem_per_ps", "256Mi"}});
  std::int64_t id = job.at("id").as_int64();
  auto done = WaitForState(id, "Succeeded", 120s);
  EXPECT_EQ(done.at("succeeded").as_int64(), 2);
  EXPECT_EQ(done.at("failed").as_int64(), 0);
  EXPECT_EQ(done.at("user").as_string(), "ann@example.com");  // from the accounts service
  auto listed = json::parse(Call("GET", "/api/v1/jobs?limit=5")->body);
  EXPECT_EQ(listed.at("items").at(0).at("user").as_string(), "ann@example.com") << listed;
  std::string log = Log(id, "fit-a-line-" + std::to_string(id) + "-trainer-0");
  std::regex cost("pass (\\d+) cost ([0-9.]+)");
  std::vector<double> costs;
  for (std::sregex_iterator it(log.begin(), log.end(), cost), end; it != end; ++it) costs.push_back(std::stod((*it)[2]));
  ASSERT_GE(costs.size(), 5u) << log;
  EXPECT_LT(costs.back(), costs.front() / 5) << log;

  auto pods = done.at("pods").as_array();
  ASSERT_EQ(pods.size(), 3u);
  // The pserver ends by itself after the trainers' "done", or the platform stops it: either way it
  // completed its part and is not shown as failed.
  for (const auto& pod : pods) EXPECT_EQ(pod.at("phase").as_string(), "Succeeded") << pod;
  std::string events = Call("GET", "/api/v1/jobs/" + std::to_string(id) + "/events")->body;
  for (const char* type : {"Submitted", "Scheduled", "Started", "Exited", "Succeeded"})
    EXPECT_NE(events.find(std::string("\"type\":\"") + type + "\""), std::string::npos) << type << "\n" << events;
  EXPECT_TRUE(fs::exists(dir_.path() + "/data/jobs/ann-lab/" + std::to_string(id) + "/model/fit_a_line.npz"));
}

TEST_P(JobsOnEveryClusterTest, ParameterServersStoppedAfterTrainingAreShownCompleted) {
  auto job = Submit({{"name", "served"}, {"entry", "if [ \"$TRAINING_ROLE\" = PSERVER ]; then exec sleep 300; fi; true"},
                     {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "64Mi"}, {"num_ps", 1}, {"cpu_per_ps", "100m"},
                     {"mem_per_ps", "64Mi"}});
  std::int64_t id = job.at("id").as_int64();
  auto done = WaitForState(id, "Succeeded", 60s);
  auto pserver = done.at("pods").as_array().at(1).as_object();
  EXPECT_EQ(pserver.at("role").as_string(), "pserver");
  EXPECT_EQ(pserver.at("phase").as_string(), "Succeeded") << json::serialize(pserver);
  EXPECT_EQ(pserver.at("reason").as_string(), "Completed");
  std::string events = Call("GET", "/api/v1/jobs/" + std::to_string(id) + "/events")->body;
  EXPECT_NE(events.find("stopped once the trainers had finished"), std::string::npos) << events;
}

TEST_P(JobsOnEveryClusterTest, AWorkdirThroughAPlantedLinkIsRefused) {
  std::string workspace = AccountFiles() + "/workspace/" + std::to_string(json::parse(Call("GET", "/api/v1/me")->body).at("user").at("id").as_int64());
  fs::create_directories(workspace);
  fs::create_symlink("/etc", workspace + "/etc-link");
  for (const char* workdir : {"workspace/etc-link", "workspace/etc-link/ssl", "../ann-lab/workspace", "code"}) {
    auto r = Call("POST", "/api/v1/jobs", json::object{{"name", "linked"}, {"entry", "true"}, {"workdir", workdir}});
    EXPECT_EQ(r->status, 400) << workdir << ": " << r->body;
    EXPECT_NE(r->body.find("\"field\":\"workdir\""), std::string::npos) << r->body;
  }
}

// What the training code of a job may do with its PADDLE_CLOUD_TOKEN, and what it may not.
constexpr char kJobTokenProbe[] = R"py(
import json, os, urllib.request, urllib.error
base, token = os.environ["PADDLE_CLOUD_URL"], os.environ["PADDLE_CLOUD_TOKEN"]
def call(method, path, body=None, headers=None):
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    h = {"Authorization": "Bearer " + token, "Content-Type": "application/json", **(headers or {})}
    try:
        with urllib.request.urlopen(urllib.request.Request(base + path, data=data, method=method, headers=h)) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")
def report(name, status):
    print("%s=%d" % (name, status), flush=True)
report("create_token", call("POST", "/api/v1/me/tokens", {"name": "escape"})[0])
report("list_tokens", call("GET", "/api/v1/me/tokens")[0])
report("certificate", call("POST", "/api/v1/me/certificates", {"name": "escape"})[0])
report("invite", call("POST", "/api/v1/account/invitations", {"email": "mallory@example.com"})[0])
report("password", call("POST", "/api/v1/me/password", {"current_password": "x", "new_password": "y" * 12})[0])
report("share", call("POST", "/api/v1/shares", {"path": "datasets", "account": "other"})[0])
report("members", call("GET", "/api/v1/account/members")[0])
status, child = call("POST", "/api/v1/jobs", {"name": "child", "entry": "true", "cpu_per_trainer": "100m", "mem_per_trainer": "64Mi"})
report("create_cloud_job", status)
if status == 201:
    report("read_child", call("GET", "/api/v1/jobs/%d" % child["id"])[0])
    report("stop_child", call("POST", "/api/v1/jobs/%d/stop" % child["id"])[0])
model = b"weights"
status, upload = call("POST", "/api/v1/uploads", {"path": "models/from-job/model.bin", "size": len(model)})
if status == 201:
    status = call("PUT", "/api/v1/uploads/" + upload["id"], model, {"Content-Range": "bytes 0-%d/%d" % (len(model) - 1, len(model)), "Content-Type": "application/octet-stream"})[0]
report("write_model", status)
print("token=" + token, flush=True)
)py";

TEST_P(JobsOnEveryClusterTest, AJobTokenActsOnlyForTheJobsWork) {
  std::string workspace = AccountFiles() + "/workspace/" + std::to_string(json::parse(Call("GET", "/api/v1/me")->body).at("user").at("id").as_int64());
  fs::create_directories(workspace);
  std::ofstream(workspace + "/probe.py") << kJobTokenProbe;
  auto job = Submit({{"name", "probe"}, {"entry", "python3 /data/workspace/probe.py"}, {"cpu_per_trainer", "100m"},
                     {"mem_per_trainer", "128Mi"}});
  std::int64_t id = job.at("id").as_int64();
  WaitForState(id, "Succeeded");
  std::string log = Log(id, "probe-" + std::to_string(id) + "-trainer-0");
  for (const char* refused : {"create_token", "list_tokens", "certificate", "invite", "password", "share", "members"})
    EXPECT_NE(log.find(std::string(refused) + "=403"), std::string::npos) << refused << "\n" << log;
  EXPECT_NE(log.find("create_cloud_job=201"), std::string::npos) << log;
  EXPECT_NE(log.find("read_child=200"), std::string::npos) << log;
  EXPECT_NE(log.find("stop_child=403"), std::string::npos) << "a job may stop only itself\n" << log;
  EXPECT_NE(log.find("write_model=200"), std::string::npos) << log;
  EXPECT_EQ(Call("GET", "/api/v1/download/models/from-job/model.bin")->body, "weights");
  // The token is not among the user's tokens, and it died with the job.
  EXPECT_EQ(Call("GET", "/api/v1/me/tokens")->body.find("job "), std::string::npos);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex("token=(pct_[A-Za-z0-9_-]+)")));
  auto after = testing::Request(addr_, "GET", "/api/v1/me", "", "Authorization: Bearer " + m[1].str() + "\r\n");
  EXPECT_EQ(after->status, 401) << after->body;
}

// Every pod imports the platform's own SDK (mounted read-only, first on PYTHONPATH), and draws.
constexpr char kSdkProbe[] = R"py(
import os
import paddlecloud
from paddlecloud import draw_board
print("sdk=" + paddlecloud.__file__, flush=True)
print("pythonpath=" + os.environ["PYTHONPATH"], flush=True)
cost = 0.25
draw_board(cost)
paddlecloud.board.flush()
for target in (os.path.join(os.path.dirname(paddlecloud.__file__), "planted.py"), paddlecloud.__file__):
    try:
        with open(target, "a") as f:
            f.write("planted = True\n")
        print("sdk_write=allowed", target, flush=True)
    except OSError as e:
        print("sdk_write=refused", target, e.strerror, flush=True)
# A job may also record to a standalone run of its own, with its token.
run = paddlecloud.board_run("from-trainer-" + os.environ["PADDLE_TRAINER_ID"])
my_metric = 0.75
draw_board(my_metric)
paddlecloud.board.flush()
print("run=" + run["source"], flush=True)
)py";

TEST_P(JobsOnEveryClusterTest, EveryPodImportsThePlatformsSdkReadOnly) {
  std::string workspace = AccountFiles() + "/workspace/" + std::to_string(json::parse(Call("GET", "/api/v1/me")->body).at("user").at("id").as_int64());
  fs::create_directories(workspace);
  std::ofstream(workspace + "/sdk_probe.py") << kSdkProbe;
  auto job = Submit({{"name", "sdk"}, {"entry", "python3 /data/workspace/sdk_probe.py"}, {"num_trainer", 2},
                     {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "128Mi"},
                     {"env", {{"PYTHONPATH", "/data/workspace/lib"}}}});
  std::int64_t id = job.at("id").as_int64();
  WaitForState(id, "Succeeded");
  for (const char* trainer : {"trainer-0", "trainer-1"}) {
    std::string log = Log(id, "sdk-" + std::to_string(id) + "-" + trainer);
    EXPECT_NE(log.find("sdk=/paddlecloud/python/paddlecloud/__init__.py"), std::string::npos) << log;
    EXPECT_NE(log.find("pythonpath=/paddlecloud/python:/data/workspace/lib\n"), std::string::npos) << log;
    EXPECT_EQ(Count(log, "sdk_write=refused"), 2) << log;
    EXPECT_EQ(log.find("sdk_write=allowed"), std::string::npos) << log;
  }
  // Each trainer drew its point into a board file of its own.
  std::string board = dir_.path() + "/data/jobs/ann-lab/" + std::to_string(id) + "/board";
  int files = 0;
  for (const auto& entry : fs::directory_iterator(board))
    if (entry.path().filename().string().starts_with("events.out.tfevents.")) ++files;
  EXPECT_EQ(files, 2);
  // Each trainer's run holds its point.
  json::value runs = json::parse(Call("GET", "/api/v1/board/runs")->body);
  std::vector<std::string> names;
  for (const auto& run : runs.at("runs").as_array()) {
    names.emplace_back(run.at("name").as_string());
    std::string exported = Call("GET", "/api/v1/board/runs/" + std::to_string(run.at("id").as_int64()) +
                                           "/board/export?format=csv")->body;
    EXPECT_NE(exported.find("my_metric,my_metric,,0,"), std::string::npos) << exported;
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"from-trainer-0", "from-trainer-1"})) << runs;
  // The installed SDK is untouched.
  ASSERT_TRUE(fs::is_directory(dir_.path() + "/data/sdk/python"));
  for (const auto& version : fs::directory_iterator(dir_.path() + "/data/sdk/python"))
    EXPECT_FALSE(fs::exists(version.path() / "paddlecloud/planted.py")) << version.path();
}

TEST_P(JobsOnEveryClusterTest, UploadedPackageRunsAndServesOneJob) {
  std::string archive = dir_.path() + "/code.tar.gz";
  ASSERT_EQ(std::system(("tar -czf " + archive + " -C " + PADDLECLOUD_SOURCE_DIR + "/examples/fit_a_line train.py").c_str()), 0);
  std::string bytes = testing::ReadFile(archive);
  auto uploaded = testing::Request(addr_, "POST", "/api/v1/jobs/packages", bytes,
                                   "Authorization: Bearer " + token_ + "\r\nContent-Type: application/gzip\r\n");
  ASSERT_EQ(uploaded->status, 201) << uploaded->body;
  std::string package(json::parse(uploaded->body).at("package").as_string());
  auto job = Submit({{"name", "packaged"}, {"entry", "python3 train.py --passes 5"}, {"package", package},
                     {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "256Mi"}, {"num_ps", 1},
                     {"cpu_per_ps", "100m"}, {"mem_per_ps", "256Mi"}});
  std::int64_t id = job.at("id").as_int64();
  WaitForState(id, "Succeeded", 90s);
  EXPECT_NE(Log(id, "packaged-" + std::to_string(id) + "-trainer-0").find("pass 4 cost"), std::string::npos);
  auto reused = Call("POST", "/api/v1/jobs", {{"name", "again"}, {"entry", "true"}, {"package", package}});
  EXPECT_EQ(reused->status, 404);
  EXPECT_EQ(json::parse(reused->body).at("error").at("details").at("field").as_string(), "package");
  auto garbage = testing::Request(addr_, "POST", "/api/v1/jobs/packages", "not a tar at all",
                                  "Authorization: Bearer " + token_ + "\r\n");
  EXPECT_EQ(garbage->status, 400) << garbage->body;
}

TEST_P(JobsOnEveryClusterTest, UploadedCodeRunsAgainAsACopyOnlyForItsOwner) {
  std::string src = dir_.path() + "/again-src";
  fs::create_directories(src);
  std::ofstream(src + "/run.py") << "print('uploaded code ran')\n";
  std::string archive = dir_.path() + "/again.tar";
  ASSERT_EQ(std::system(("tar -cf " + archive + " -C " + src + " run.py").c_str()), 0);
  auto uploaded = testing::Request(addr_, "POST", "/api/v1/jobs/packages", testing::ReadFile(archive),
                                   "Authorization: Bearer " + token_ + "\r\n");
  ASSERT_EQ(uploaded->status, 201) << uploaded->body;
  std::string package(json::parse(uploaded->body).at("package").as_string());
  json::object spec{{"name", "once"}, {"entry", "python3 run.py"}, {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "128Mi"}};
  spec["package"] = package;
  std::int64_t first = Submit(spec).at("id").as_int64();
  auto done = WaitForState(first, "Succeeded");
  // Its only pod exited at once, between two reconcile passes, but it did start.
  EXPECT_FALSE(done.at("started_at").is_null()) << json::serialize(done);
  // The first job's pods may have planted a link in its code: the copy leaves it out.
  fs::path code = dir_.path() + "/data/jobs/ann-lab/" + std::to_string(first) + "/code";
  fs::create_symlink("/etc", code / "planted");

  spec.erase("package");
  spec["code_from_job"] = first;
  std::int64_t again = Submit(spec).at("id").as_int64();
  WaitForState(again, "Succeeded");
  std::string again_log = Log(again, "once-" + std::to_string(again) + "-trainer-0");
  EXPECT_NE(again_log.find("uploaded code ran"), std::string::npos) << again_log << json::serialize(GetJob(again));
  fs::path copy = dir_.path() + "/data/jobs/ann-lab/" + std::to_string(again) + "/code";
  EXPECT_TRUE(fs::exists(copy / "run.py"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(copy / "planted")));
  EXPECT_TRUE(fs::exists(code / "run.py")) << "the earlier job keeps its code";
  // A copy of a copy: "Submit again" of the re-run.
  spec["code_from_job"] = again;
  EXPECT_EQ(Call("POST", "/api/v1/jobs", spec)->status, 201);

  auto refused = [&](const std::string& token, std::int64_t from, int status) {
    json::object bad = spec;
    bad["name"] = "thief";
    bad["code_from_job"] = from;
    auto r = testing::Request(addr_, "POST", "/api/v1/jobs", json::serialize(bad),
                              "Authorization: Bearer " + token + "\r\nContent-Type: application/json\r\n");
    EXPECT_EQ(r->status, status) << r->body;
    EXPECT_EQ(json::parse(r->body).at("error").at("details").at("field").as_string(), "code_from_job") << r->body;
    EXPECT_EQ(r->body.find("run.py"), std::string::npos);
  };
  // Another account cannot run (and so read) this account's code; an unknown job is the same 404.
  std::string mallory = RegisterUser("mallory@example.com", "mallory-lab");
  refused(mallory, first, 404);
  refused(mallory, 999999, 404);
  EXPECT_FALSE(fs::exists(dir_.path() + "/data/jobs/mallory-lab"));
  // A job that ran no uploaded code has none to run again.
  std::int64_t plain = Submit({{"name", "plain"}, {"entry", "true"}, {"cpu_per_trainer", "100m"},
                               {"mem_per_trainer", "64Mi"}}).at("id").as_int64();
  refused(token_, plain, 400);
  // Four jobs ran with tokens of their own: the audit log has only the token the test created.
  auto tokens = json::parse(Call("GET", "/api/v1/account/audit?kind=token")->body).at("items").as_array();
  EXPECT_EQ(tokens.size(), 1u) << json::serialize(tokens);
}

TEST_P(JobsOnEveryClusterTest, AJobIsRunningAsSoonAsItsPodsAre) {
  auto job = Submit({{"name", "quick"}, {"entry", "exec sleep 600"}, {"cpu_per_trainer", "100m"},
                     {"mem_per_trainer", "64Mi"}, {"num_ps", 1}, {"cpu_per_ps", "100m"}, {"mem_per_ps", "64Mi"}});
  std::string id = std::to_string(job.at("id").as_int64());
  json::object seen;
  ASSERT_TRUE(testing::WaitFor([&] {
    seen = json::parse(Call("GET", "/api/v1/jobs/" + id)->body).as_object();
    for (const auto& pod : seen.at("pods").as_array())
      if (pod.at("phase").as_string() != "Running") return false;
    return true;
  }, 30s));
  // The same answer that shows every pod Running does not call the job Pending.
  EXPECT_EQ(seen.at("state").as_string(), "Running") << json::serialize(seen);
  EXPECT_FALSE(seen.at("started_at").is_null());

  // The capacity the submit form shows: its two pods' requests are in use; another account sees
  // the same totals and nothing of whose they are.
  auto capacity = json::parse(Call("GET", "/api/v1/cluster/capacity")->body);
  long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
  // On Kubernetes the total is what the nodes can allocate.
  EXPECT_EQ(capacity.at("total").at("cpu_milli").as_int64(),
            cluster_ ? kube_test::NodeAllocatable{}.cpu_milli : cores * 1000);
  EXPECT_GE(capacity.at("in_use").at("cpu_milli").as_int64(), 200);
  EXPECT_EQ(capacity.at("free").at("cpu_milli").as_int64(),
            capacity.at("total").at("cpu_milli").as_int64() - capacity.at("in_use").at("cpu_milli").as_int64());
  EXPECT_GE(capacity.at("in_use").at("memory_bytes").as_int64(), 128 << 20);
  std::string mallory = RegisterUser("mallory@example.com", "mallory-lab");
  auto seen_by_other = testing::Request(addr_, "GET", "/api/v1/cluster/capacity", "",
                                        "Authorization: Bearer " + mallory + "\r\n");
  ASSERT_EQ(seen_by_other->status, 200);
  EXPECT_EQ(json::parse(seen_by_other->body).at("total"), capacity.at("total"));
  for (const char* secret : {"quick", "ann-lab", "ann@"}) EXPECT_EQ(seen_by_other->body.find(secret), std::string::npos);
  EXPECT_EQ(testing::Request(addr_, "GET", "/api/v1/cluster/capacity")->status, 401);
}

TEST_P(JobsOnEveryClusterTest, InvalidSpecsAreRejectedNamingTheField) {
  struct Case {
    json::object spec;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"name", "x"}, {"entry", "true"}, {"num_trainer", -1}}, "num_trainer"},
      {{{"name", "x"}, {"entry", "true"}, {"mem_per_trainer", "lots"}}, "mem_per_trainer"},
      {{{"name", "Not Valid"}, {"entry", "true"}}, "name"},
      {{{"name", "x"}, {"entry", "true"}, {"trainers", 2}}, "trainers"},
      {{{"name", "x"}, {"entry", "true"}, {"num_trainer", 4}, {"cpu_per_trainer", "64"}}, "cpu_per_trainer"},
      {{{"name", "x"}, {"entry", "true"}, {"workdir", "no/such/folder"}}, "workdir"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", "/api/v1/jobs", c.spec);
    EXPECT_EQ(r->status, 400) << json::serialize(c.spec) << " -> " << r->body;
    EXPECT_EQ(json::parse(r->body).at("error").at("details").at("field").as_string(), c.field) << r->body;
  }
  auto too_big = Call("POST", "/api/v1/jobs", {{"name", "x"}, {"entry", "true"}, {"num_trainer", 4}, {"cpu_per_trainer", "64"}});
  EXPECT_NE(too_big->body.find("needs 256 CPUs"), std::string::npos) << too_big->body;
  EXPECT_TRUE(json::parse(Call("GET", "/api/v1/jobs")->body).at("items").as_array().empty());  // nothing recorded
}

TEST_P(JobsOnEveryClusterTest, CrashingTrainerRestartsThenFailsAndMissingCommandFails) {
  auto crash = Submit({{"name", "crash"}, {"entry", "echo trying; exit 3"}, {"num_trainer", 1},
                       {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "64Mi"}, {"max_restarts", 1}});
  auto typo = Submit({{"name", "typo"}, {"entry", "pythn3 train.py"}, {"cpu_per_trainer", "100m"},
                      {"mem_per_trainer", "64Mi"}});
  std::int64_t crash_id = crash.at("id").as_int64(), typo_id = typo.at("id").as_int64();
  auto crashed = WaitForState(crash_id, "Failed");
  EXPECT_EQ(crashed.at("failed").as_int64(), 2);  // the first run and its one restart
  auto pod = crashed.at("pods").as_array().at(0);
  EXPECT_EQ(pod.at("exit_code").as_int64(), 3);
  EXPECT_EQ(pod.at("restarts").as_int64(), 1);
  EXPECT_EQ(Count(Log(crash_id, "crash-" + std::to_string(crash_id) + "-trainer-0"), "trying"), 2);
  EXPECT_NE(Call("GET", "/api/v1/jobs/" + std::to_string(crash_id) + "/events")->body.find("Restarted"),
            std::string::npos);

  auto failed = WaitForState(typo_id, "Failed");
  EXPECT_EQ(failed.at("pods").as_array().at(0).at("exit_code").as_int64(), 127);
  EXPECT_NE(Log(typo_id, "typo-" + std::to_string(typo_id) + "-trainer-0").find("not found"), std::string::npos);

  auto again = Call("POST", "/api/v1/jobs/" + std::to_string(crash_id) + "/stop");
  EXPECT_EQ(again->status, 409);  // stopping a finished job
}

TEST_P(JobsOnEveryClusterTest, PodOverItsMemoryLimitIsReportedOomKilled) {
  // The test API server's kubelet enforces no memory limit: there the kernel's kill is injected.
  std::string entry = cluster_ ? "echo allocating; exec sleep 300"
                               : "/usr/bin/python3 -c \"b = bytearray(200 * 1024 * 1024); print('survived', len(b))\"";
  auto job = Submit({{"name", "hungry"}, {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "50Mi"}, {"entry", entry}});
  std::int64_t id = job.at("id").as_int64();
  std::string pod = "hungry-" + std::to_string(id) + "-trainer-0";
  if (cluster_) {
    ASSERT_TRUE(testing::WaitFor([&] { return Log(id, pod).find("allocating") != std::string::npos; }, 30s));
    for (const auto& object : cluster_->api()->List("pods", "pc-ann-lab"))
      ASSERT_TRUE(cluster_->api()->OomKill("pc-ann-lab", std::string(object.at("metadata").at("name").as_string())).ok());
  }
  auto failed = WaitForState(id, "Failed", 60s);
  if (!cluster_) {
    std::string status = testing::ReadFile(dir_.path() + "/data/cluster/ann-lab/hungry-" + std::to_string(id) +
                                           "/pods/" + pod + "/status.json");
    if (status.find("\"limits\":\"none") != std::string::npos) GTEST_SKIP() << "cgroups are not writable here: " << status;
  }
  EXPECT_EQ(failed.at("pods").as_array().at(0).at("reason").as_string(), "OOMKilled") << json::serialize(failed);
  EXPECT_NE(Call("GET", "/api/v1/jobs/" + std::to_string(id) + "/events")->body.find("\"type\":\"OOMKilled\""),
            std::string::npos);
  EXPECT_EQ(Log(id, pod).find("survived"), std::string::npos);
}

TEST_P(JobsOnEveryClusterTest, StopAndWaitingJobsAndLogsOfAPodThatNeverStarted) {
  long cores = cluster_ ? kube_test::NodeAllocatable{}.cpu_milli / 1000 : ::sysconf(_SC_NPROCESSORS_ONLN);
  std::string all_cpus = std::to_string(cores);
  auto hog = Submit({{"name", "hog"}, {"entry", "echo up; exec sleep 600"}, {"cpu_per_trainer", all_cpus},
                     {"mem_per_trainer", "64Mi"}});
  std::int64_t hog_id = hog.at("id").as_int64();
  WaitForState(hog_id, "Running");
  auto twin = Call("POST", "/api/v1/jobs", {{"name", "hog"}, {"entry", "true"}});  // names are unique among active jobs
  EXPECT_EQ(twin->status, 409);
  EXPECT_EQ(json::parse(twin->body).at("error").at("details").at("field").as_string(), "name");
  auto waiting = Submit({{"name", "waiter"}, {"entry", "echo hello"}, {"cpu_per_trainer", all_cpus},
                         {"mem_per_trainer", "64Mi"}});
  std::int64_t waiting_id = waiting.at("id").as_int64();
  json::object pending;
  ASSERT_TRUE(testing::WaitFor([&] {
    pending = GetJob(waiting_id);
    // On Kubernetes the scheduler may be the one who says why, in its own words.
    std::string_view reason = pending.at("reason").as_string();
    return reason.find("waiting for") != std::string::npos ||
           (cluster_ && reason.find("Unschedulable: 0/1 nodes are available: 1 Insufficient cpu") != std::string::npos);
  }, 20s)) << json::serialize(pending);
  EXPECT_EQ(pending.at("state").as_string(), "Pending");
  auto never = Call("GET", "/api/v1/jobs/" + std::to_string(waiting_id) + "/pods/waiter-" + std::to_string(waiting_id) +
                               "-trainer-0/logs");
  ASSERT_EQ(never->status, 200) << never->body;
  EXPECT_FALSE(json::parse(never->body).at("started").as_bool());
  EXPECT_EQ(Call("GET", "/api/v1/jobs/" + std::to_string(waiting_id) + "/pods/nope/logs")->status, 404);

  auto stop = Call("POST", "/api/v1/jobs/" + std::to_string(hog_id) + "/stop");
  EXPECT_EQ(stop->status, 202);
  auto stopped = WaitForState(hog_id, "Stopped", 30s);
  EXPECT_EQ(stopped.at("pods").as_array().at(0).at("reason").as_string(), "Stopped");
  // The waiting job gets the CPUs and runs.
  WaitForState(waiting_id, "Succeeded", 60s);
  EXPECT_NE(Log(waiting_id, "waiter-" + std::to_string(waiting_id) + "-trainer-0").find("hello"), std::string::npos);

  // Filters and paging.
  auto running = json::parse(Call("GET", "/api/v1/jobs?status=stopped")->body).at("items").as_array();
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running.at(0).at("name").as_string(), "hog");
  auto page = json::parse(Call("GET", "/api/v1/jobs?limit=1")->body);
  EXPECT_EQ(page.at("items").as_array().size(), 1u);
  EXPECT_FALSE(page.at("next_cursor").is_null());
  auto named = json::parse(Call("GET", "/api/v1/jobs?name=wait")->body).at("items").as_array();
  ASSERT_EQ(named.size(), 1u);
  EXPECT_EQ(Call("GET", "/api/v1/jobs?status=everything")->status, 400);
}

// fault_tolerant trainers may fail for good while the others go on and finish the job.
TEST_P(JobsOnEveryClusterTest, AFaultTolerantJobOutlivesATrainerThatFails) {
  if (cluster_ && cluster_->kind() == testing::ClusterKind::kKubernetesPaddleJob)
    GTEST_SKIP() << "the training operator fails a PaddleJob at its first failed replica";
  std::string flag = AccountFiles() + "/datasets/go-on";
  auto job = Submit({{"name", "tolerant"},
                     {"entry", "if [ \"$PADDLE_TRAINER_ID\" = 1 ]; then echo giving-up; exit 3; fi; "
                               "while [ ! -e \"$PADDLE_CLOUD_DATA/datasets/go-on\" ]; do sleep 0.1; done; echo finished"},
                     {"num_trainer", 2}, {"fault_tolerant", 1}, {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "64Mi"}});
  std::int64_t id = job.at("id").as_int64();
  std::string path = "/api/v1/jobs/" + std::to_string(id);
  auto phase = [&](int trainer) {
    auto pods = json::parse(Call("GET", path)->body).at("pods").as_array();
    return pods.size() > static_cast<std::size_t>(trainer) ? std::string(pods[trainer].at("phase").as_string()) : "";
  };
  ASSERT_TRUE(testing::WaitFor([&] { return phase(1) == "Failed"; }, 30s)) << Call("GET", path)->body;
  EXPECT_EQ(phase(0), "Running");  // still, while the failed one is tolerated
  EXPECT_EQ(json::parse(Call("GET", path)->body).at("state").as_string(), "Running");
  std::ofstream(flag) << "go";
  WaitForState(id, "Succeeded", 30s);
  EXPECT_NE(Log(id, "tolerant-" + std::to_string(id) + "-trainer-0").find("finished"), std::string::npos);
}

TEST_P(JobsOnEveryClusterTest, KilledServerReadoptsRunningPodsAndNothingStartsTwice) {
  std::string flag = AccountFiles() + "/datasets/go";
  auto job = Submit({{"name", "survivor"}, {"entry", "echo begin; while [ ! -e \"$PADDLE_CLOUD_DATA/datasets/go\" ]; do sleep 0.1; done; echo end"},
                     {"num_trainer", 1}, {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "64Mi"}, {"num_ps", 1},
                     {"cpu_per_ps", "100m"}, {"mem_per_ps", "64Mi"}});
  std::int64_t id = job.at("id").as_int64();
  WaitForState(id, "Running");
  std::string trainer = "survivor-" + std::to_string(id) + "-trainer-0";
  ASSERT_TRUE(testing::WaitFor([&] { return Log(id, trainer).find("begin") != std::string::npos; }, 20s));

  EXPECT_EQ(server_->Stop(SIGKILL), 128 + SIGKILL);
  std::ofstream(flag) << "go";  // the trainer finishes while no server is up
  StartServer();
  auto done = WaitForState(id, "Succeeded", 60s);
  std::string log = Log(id, trainer);
  if (!cluster_) {
    EXPECT_EQ(Count(log, "[paddlecloud] started attempt"), 1) << log;  // the local supervisor's line
  }
  EXPECT_EQ(Count(log, "begin"), 1) << log;
  EXPECT_EQ(Count(log, "end"), 1) << log;
  EXPECT_EQ(done.at("pods").as_array().at(0).at("exit_code").as_int64(), 0);
}


TEST_P(JobsOnEveryClusterTest, LogsOutliveThePodsAndAnotherTenantSeesNothing) {
  auto job = Submit({{"name", "kept"}, {"entry", "echo kept-line; exec sleep 300"}, {"cpu_per_trainer", "100m"},
                     {"mem_per_trainer", "64Mi"}});
  std::int64_t id = job.at("id").as_int64();
  std::string pod = "kept-" + std::to_string(id) + "-trainer-0";
  ASSERT_TRUE(testing::WaitFor([&] { return Log(id, pod).find("kept-line") != std::string::npos; }, 30s));
  std::string credentials = "/api/v1/namespaces/pc-ann-lab/secrets/kept-" + std::to_string(id) + "-credentials";
  if (cluster_) {
    // Its token is in its Secret alone: never in an object that whoever may read workloads sees.
    EXPECT_TRUE(cluster_->api()->Get(credentials));
    for (const char* kind : {"jobs", "paddlejobs", "pods"})
      for (const auto& object : cluster_->api()->List(kind, "pc-ann-lab"))
        EXPECT_EQ(json::serialize(object).find("pct_"), std::string::npos) << json::serialize(object);
    // Deleted under the platform (a drained node, an operator's kubectl): the job fails, its log stays.
    for (const auto& object : cluster_->api()->List("pods", "pc-ann-lab"))
      ASSERT_TRUE(cluster_->api()
                      ->DeletePodBehindTheBackOfThePlatform("pc-ann-lab", std::string(object.at("metadata").at("name").as_string()))
                      .ok());
    WaitForState(id, "Failed", 30s);
    ASSERT_TRUE(testing::WaitFor([&] { return cluster_->api()->List("pods", "pc-ann-lab").empty(); }, 30s));
    EXPECT_TRUE(testing::WaitFor([&] { return !cluster_->api()->Get(credentials); }, 30s));  // gone with the job
  } else {
    ASSERT_EQ(Call("POST", "/api/v1/jobs/" + std::to_string(id) + "/stop")->status, 202);
    WaitForState(id, "Stopped", 30s);
  }
  EXPECT_NE(Log(id, pod).find("kept-line"), std::string::npos);

  std::string bob = RegisterUser("bob@example.com", "bob-lab");
  std::string path = "/api/v1/jobs/" + std::to_string(id);
  EXPECT_EQ(CallWith(bob, "GET", path)->status, 404);
  EXPECT_EQ(CallWith(bob, "GET", path + "/pods/" + pod + "/logs")->status, 404);
  EXPECT_EQ(CallWith(bob, "POST", path + "/stop")->status, 404);
  EXPECT_TRUE(json::parse(CallWith(bob, "GET", "/api/v1/jobs")->body).at("items").as_array().empty());
  // Bob's own job runs in his own namespace, beside nothing of Ann's.
  auto bobs = CallWith(bob, "POST", "/api/v1/jobs",
                       {{"name", "kept"}, {"entry", "ls /data/datasets; echo bob-ran"}, {"cpu_per_trainer", "100m"},
                        {"mem_per_trainer", "64Mi"}});
  ASSERT_EQ(bobs->status, 201) << bobs->body;
  std::int64_t bob_id = json::parse(bobs->body).at("id").as_int64();
  if (cluster_) {
    std::string kind = cluster_->kind() == testing::ClusterKind::kKubernetesPaddleJob ? "paddlejobs" : "jobs";
    ASSERT_TRUE(testing::WaitFor([&] { return !cluster_->api()->List(kind, "pc-bob-lab").empty(); }, 30s));
    for (const auto& object : cluster_->api()->List(kind, "pc-ann-lab"))
      EXPECT_EQ(object.at("metadata").at("labels").at("paddlecloud.io/account").as_string(), "ann-lab");
  }
  EXPECT_EQ(CallWith("", "GET", "/api/v1/jobs/" + std::to_string(bob_id))->status, 401);
  EXPECT_EQ(Call("GET", "/api/v1/jobs/" + std::to_string(bob_id))->status, 404);
}

}  // namespace
}  // namespace paddlecloud
