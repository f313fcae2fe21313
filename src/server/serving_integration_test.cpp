// Serving end to end with the real binary, the real model server and Python worker as sandboxed
// replicas, and HTTP from outside: launch, infer through the gateway, scale, deactivate, delete;
// who may call; bad models and bad requests; quota.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>
#include <filesystem>
#include <fstream>

#include "testing/http_client.h"
#include "testing/platform_fixture.h"
#include "testing/server_process.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class ServingTest : public testing::PlatformTest {
 protected:
  static void SetUpTestSuite() {
    models_ = new testing::TempDir();
    std::string out = testing::RunCommand("/usr/bin/python3 " PC_MAKE_TEST_MODELS " " + models_->path());
    ASSERT_TRUE(out.empty()) << out;
    expected_ = new json::object(json::parse(ReadAll(models_->path() + "/expected.json")).as_object());
  }
  static void TearDownTestSuite() {
    delete expected_;
    delete models_;
  }
  void SetUp() override {
    PlatformTest::SetUp();
    StartServer({"--quota-cpu", "2"});
    ann_ = RegisterUser("ann@example.com", "ann-lab");
    eve_ = RegisterUser("eve@example.com", "eve-lab");
  }
  void TearDown() override {
    if (server_ && server_->running())
      for (const auto& name : launched_) CallWith(ann_, "DELETE", "/api/v1/serving/" + name);
    PlatformTest::TearDown();
  }

  json::value Json(const std::string& token, const std::string& method, const std::string& target,
                   const json::value& body = nullptr, int expected = 200) {
    auto r = CallWith(token, method, target, body);
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, expected) << method << " " << target << ": " << r->body;
    return r->body.empty() ? json::value(nullptr) : json::parse(r->body);
  }
  void Upload(const std::string& path, const std::string& content) {
    auto r = UploadFile(ann_, path, content);
    ASSERT_TRUE(r);
    ASSERT_LT(r->status, 300) << r->body;
  }
  json::value Launch(json::object spec, int expected = 201) {
    if (expected == 201) launched_.push_back(std::string(spec.at("name").as_string()));
    return Json(ann_, "POST", "/api/v1/serving", spec, expected);
  }
  json::value Instance(const std::string& name) { return Json(ann_, "GET", "/api/v1/serving/" + name); }
  bool WaitState(const std::string& name, const std::string& state, std::int64_t ready, std::chrono::seconds timeout = 60s) {
    bool ok = testing::WaitFor(
        [&] {
          auto in = Instance(name);
          return in.is_object() && in.at("state").as_string() == state &&
                 in.at("replicas").at("ready").as_int64() == ready;
        },
        timeout);
    if (!ok) ADD_FAILURE() << json::serialize(Instance(name)) << server_->Log();
    return ok;
  }
  std::string ErrorField(const json::value& error) {
    const auto& details = error.at("error").as_object();
    auto d = details.find("details");
    return d == details.end() || !d->value().as_object().contains("field")
               ? ""
               : std::string(d->value().at("field").as_string());
  }
  // The fit-a-line request of expected.json as a KServe v2 body, and its answer checked.
  json::object FitRequest() {
    const auto& x = expected_->at("fit_a_line").at("inputs").at("x");
    return {{"inputs", json::array{json::object{{"name", "x"}, {"shape", x.at("shape")}, {"datatype", "FP32"},
                                                {"data", x.at("data")}}}}};
  }
  void ExpectFitAnswer(const json::value& answer, double tolerance) {
    const auto& want = expected_->at("fit_a_line").at("outputs").at("y").at("data").as_array();
    const auto& got = answer.at("outputs").at(0).at("data").as_array();
    ASSERT_EQ(got.size(), want.size()) << answer;
    for (std::size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i].to_number<double>(), want[i].to_number<double>(), tolerance);
  }

  static testing::TempDir* models_;
  static json::object* expected_;
  std::string ann_, eve_;
  std::vector<std::string> launched_;
};

testing::TempDir* ServingTest::models_ = nullptr;
json::object* ServingTest::expected_ = nullptr;

// The promises every cluster backend keeps (Kubernetes: a Deployment and a Service per instance,
// scaled through the scale subresource, on the test API server).
class ServingOnEveryClusterTest : public ServingTest, public ::testing::WithParamInterface<testing::ClusterKind> {
 protected:
  void SetUp() override {
    cluster_kind_ = GetParam();
    ServingTest::SetUp();
  }
};

INSTANTIATE_TEST_SUITE_P(Clusters, ServingOnEveryClusterTest,
                         ::testing::Values(testing::ClusterKind::kLocal, testing::ClusterKind::kKubernetesNative),
                         testing::ClusterKindName);

TEST_P(ServingOnEveryClusterTest, OnnxInstanceServesScalesAndDeactivatesThroughTheGateway) {
  Upload("models/fit/model.onnx", ReadAll(models_->path() + "/fit_a_line.onnx"));
  auto launched = Launch({{"name", "fit"}, {"model", "models/fit"}, {"runtime", "onnx"}, {"replicas", 2}, {"cpu", "500m"},
                          {"memory", "256Mi"}});
  EXPECT_EQ(launched.at("model_file").as_string(), "model.onnx");
  EXPECT_EQ(launched.at("url").as_string(), "/serving/ann-lab/fit");
  ASSERT_TRUE(WaitState("fit", "ready", 2));

  std::string infer = "/serving/ann-lab/fit/v2/models/fit/infer";
  ExpectFitAnswer(Json(ann_, "POST", infer, FitRequest()), 1e-4);
  auto metadata = Json(ann_, "GET", "/serving/ann-lab/fit/v2/models/fit");
  EXPECT_EQ(metadata.at("inputs").at(0).at("name").as_string(), "x");
  // A bad tensor is the runtime's 400, passed through.
  auto bad = CallWith(ann_, "POST", infer, json::object{{"inputs", json::array{json::object{
                                                {"name", "x"}, {"shape", json::array{1, 3}}, {"datatype", "FP32"},
                                                {"data", json::array{1, 2, 3}}}}}});
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400) << bad->body;

  // The gateway saw the requests.
  ASSERT_TRUE(testing::WaitFor([&] { return Instance("fit").at("stats").at("qps").is_number(); }, 15s));
  auto metrics = Json(ann_, "GET", "/api/v1/serving/fit/metrics");
  EXPECT_TRUE(metrics.at("series").as_object().contains("p99_ms"));

  // Scale up and down; the new replica joins once ready, the leaving one drains.
  EXPECT_EQ(Json(ann_, "POST", "/api/v1/serving/fit/scale", json::object{{"replicas", 3}}).at("replicas").at("desired"), 3);
  ASSERT_TRUE(WaitState("fit", "ready", 3));
  EXPECT_EQ(Json(ann_, "POST", "/api/v1/serving/fit/scale", json::object{{"replicas", 1}}).at("replicas").at("desired"), 1);
  ASSERT_TRUE(WaitState("fit", "ready", 1));
  ExpectFitAnswer(Json(ann_, "POST", infer, FitRequest()), 1e-4);
  // Above the quota of 2 CPUs (4 x 500m beside nothing else is fine, 5 is not).
  auto over = Json(ann_, "POST", "/api/v1/serving/fit/scale", json::object{{"replicas", 5}}, 403);
  EXPECT_EQ(over.at("error").at("code").as_string(), "quota_exceeded") << over;
  auto zero = Json(ann_, "POST", "/api/v1/serving/fit/scale", json::object{{"replicas", 0}}, 400);
  EXPECT_EQ(ErrorField(zero), "replicas");

  // Logs of a replica.
  auto log = Json(ann_, "GET", "/api/v1/serving/fit/replicas/0/logs?tail=20");
  EXPECT_NE(log.at("text").as_string().find("ready"), std::string::npos) << log;

  // Deactivated: listed, inactive, 503 at the gateway; activated again: serves.
  EXPECT_EQ(Json(ann_, "POST", "/api/v1/serving/fit/deactivate").at("state").as_string(), "inactive");
  auto inactive = CallWith(ann_, "POST", infer, FitRequest());
  ASSERT_TRUE(inactive);
  EXPECT_EQ(inactive->status, 503) << inactive->body;
  EXPECT_EQ(Json(ann_, "GET", "/api/v1/serving").at("instances").at(0).at("state").as_string(), "inactive");
  Json(ann_, "POST", "/api/v1/serving/fit/activate");
  ASSERT_TRUE(WaitState("fit", "ready", 1));
  ExpectFitAnswer(Json(ann_, "POST", infer, FitRequest()), 1e-4);

  // /metrics exports the instance under Triton's and KServe's names.
  auto exported = CallWith("", "GET", "/metrics");
  ASSERT_TRUE(exported);
  EXPECT_NE(exported->body.find("nv_inference_request_success"), std::string::npos);
  EXPECT_NE(exported->body.find("request_predict_seconds"), std::string::npos);

  Json(ann_, "DELETE", "/api/v1/serving/fit", nullptr, 204);
  Json(ann_, "GET", "/api/v1/serving/fit", nullptr, 404);
  auto gone = CallWith(ann_, "POST", infer, FitRequest());
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
}

// Kubernetes ends a replica that is not ready first on a scale-down, whatever index the platform
// asked to go: the one left, whatever its index, serves.
TEST_P(ServingOnEveryClusterTest, AScaleDownWhileAReplicaHangsLeavesTheOtherServing) {
  if (!cluster_) GTEST_SKIP() << "the local backend always stops the highest index";
  Upload("models/fit/model.onnx", ReadAll(models_->path() + "/fit_a_line.onnx"));
  Launch({{"name", "fit"}, {"model", "models/fit"}, {"replicas", 2}, {"cpu", "500m"}, {"memory", "256Mi"}});
  ASSERT_TRUE(WaitState("fit", "ready", 2));
  // Replica 0's pod, by the address its log says it listens on.
  std::string log(Json(ann_, "GET", "/api/v1/serving/fit/replicas/0/logs?tail=20").at("text").as_string());
  auto at = log.find(" ready on ");
  ASSERT_NE(at, std::string::npos) << log;
  std::string ip = log.substr(at + 10, log.find(':', at + 10) - (at + 10));
  std::string pod;
  for (const auto& p : cluster_->api()->List("pods", "pc-ann-lab"))
    if (p.at("status").at("podIP").as_string() == ip) pod = std::string(p.at("metadata").at("name").as_string());
  ASSERT_FALSE(pod.empty()) << ip;

  ASSERT_TRUE(cluster_->api()->FreezeContainer("pc-ann-lab", pod, true).ok());
  ASSERT_TRUE(WaitState("fit", "degraded", 1));
  Json(ann_, "POST", "/api/v1/serving/fit/scale", json::object{{"replicas", 1}});
  auto ending = [&] {
    auto p = cluster_->api()->Get("/api/v1/namespaces/pc-ann-lab/pods/" + pod);
    return !p || p->at("metadata").as_object().contains("deletionTimestamp");
  };
  ASSERT_TRUE(testing::WaitFor(ending, 30s));  // the hung one, though it has the lower index
  (void)cluster_->api()->FreezeContainer("pc-ann-lab", pod, false);  // its pending SIGTERM ends it
  ASSERT_TRUE(WaitState("fit", "ready", 1));
  ASSERT_TRUE(testing::WaitFor([&] { return Instance("fit").at("replica_list").as_array().size() == 1; }, 40s));
  json::array left = Instance("fit").at("replica_list").as_array();
  EXPECT_EQ(left.at(0).at("index").as_int64(), 1) << left;
  EXPECT_FALSE(left.at(0).at("draining").as_bool());
  ExpectFitAnswer(Json(ann_, "POST", "/serving/ann-lab/fit/v2/models/fit/infer", FitRequest()), 1e-4);
}

// 64 clients call the instance without pause while it scales 1 -> 4 -> 1 and a replica is killed:
// not one request fails (new replicas join when ready, leaving ones drain, a dead one's requests are
// retried on another).
TEST_P(ServingOnEveryClusterTest, NoRequestFailsUnderLoadWhileScalingAndWhenAReplicaIsKilled) {
  Upload("models/fit/model.onnx", ReadAll(models_->path() + "/fit_a_line.onnx"));
  // A name of this process's own: the replica killed below is found by it, and the same test may run
  // at once in another process (on the other database engine).
  const std::string load = "load" + std::to_string(::getpid());
  Launch({{"name", load}, {"model", "models/fit"}, {"cpu", "500m"}, {"memory", "256Mi"}});
  ASSERT_TRUE(WaitState(load, "ready", 1));
  std::string infer = "/serving/ann-lab/" + load + "/v2/models/" + load + "/infer";
  json::value request = FitRequest();
  std::atomic<bool> stop{false};
  std::atomic<int> succeeded{0}, failed{0};
  std::atomic<const char*> phase{"steady"};
  std::mutex mutex;
  std::string first_failure;
  std::vector<std::thread> clients;
  for (int i = 0; i < 64; ++i)
    clients.emplace_back([&] {
      while (!stop) {
        auto sent = std::chrono::steady_clock::now();
        auto r = CallWith(ann_, "POST", infer, request);
        if (r && r->status == 200) {
          ++succeeded;
          continue;
        }
        if (++failed == 1) {
          auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
          std::lock_guard lock(mutex);
          first_failure = (r ? std::to_string(r->status) + " " + r->body : "no answer") + " after " +
                          std::to_string(ms.count()) + " ms, while " + phase.load();
        }
      }
    });
  auto served_more = [&](int more) {
    int target = succeeded + more;
    return testing::WaitFor([&] { return succeeded >= target; }, 60s);
  };
  EXPECT_TRUE(served_more(200));
  phase = "scaling up";
  Json(ann_, "POST", "/api/v1/serving/" + load + "/scale", json::object{{"replicas", 4}});
  EXPECT_TRUE(WaitState(load, "ready", 4, 90s));
  EXPECT_TRUE(served_more(300));
  // One replica's model server dies mid-traffic; the backend restarts it.
  // (the bracket keeps the pattern from matching the shell that runs pgrep)
  const std::string pattern = "--name " + load.substr(0, load.size() - 1) + "[" + load.back() + "] --listen";
  std::string pid = testing::RunCommand("pgrep -f -- '" + pattern + "' | head -n 1");
  ASSERT_FALSE(pid.empty());
  phase = "a replica was killed";
  testing::RunCommand("kill -KILL " + pid);
  EXPECT_TRUE(served_more(300));
  EXPECT_TRUE(WaitState(load, "ready", 4, 90s));
  phase = "scaling down";
  Json(ann_, "POST", "/api/v1/serving/" + load + "/scale", json::object{{"replicas", 1}});
  EXPECT_TRUE(WaitState(load, "ready", 1));
  EXPECT_TRUE(served_more(200));
  stop = true;
  for (auto& c : clients) c.join();
  EXPECT_EQ(failed, 0) << "first failure: " << first_failure;
  EXPECT_GT(succeeded, 1000);
}

// KServe's documented v2 example (sklearn-v2-iris, iris-input-v2.json) sent unchanged through the
// gateway gets the documented answer.
TEST_P(ServingOnEveryClusterTest, KServesDocumentedRequestThroughTheGateway) {
  Upload("models/iris/model.onnx", ReadAll(models_->path() + "/iris.onnx"));
  Launch({{"name", "sklearn-v2-iris"}, {"model", "models/iris"}, {"cpu", "500m"}, {"memory", "256Mi"}});
  ASSERT_TRUE(WaitState("sklearn-v2-iris", "ready", 1));
  const auto& iris = expected_->at("iris");
  auto answer = Json(ann_, "POST", "/serving/ann-lab/sklearn-v2-iris/v2/models/sklearn-v2-iris/infer", iris.at("request"));
  EXPECT_EQ(answer.at("model_name").as_string(), "sklearn-v2-iris");
  const auto& output = answer.at("outputs").at(0);
  EXPECT_EQ(output.at("name").as_string(), "predict");
  const auto& want = iris.at("outputs").at("predict").at("data").as_array();
  ASSERT_EQ(output.at("data").as_array().size(), want.size()) << answer;
  for (std::size_t i = 0; i < want.size(); ++i)
    EXPECT_NEAR(output.at("data").at(i).to_number<double>(), want[i].to_number<double>(), 1e-5);
}

TEST_P(ServingOnEveryClusterTest, WhoMayCallAnInstance) {
  Upload("models/fit.onnx", ReadAll(models_->path() + "/fit_a_line.onnx"));
  Launch({{"name", "fit"}, {"model", "models/fit.onnx"}, {"cpu", "500m"}, {"memory", "256Mi"}});
  ASSERT_TRUE(WaitState("fit", "ready", 1));
  std::string infer = "/serving/ann-lab/fit/v2/models/fit/infer";

  auto anonymous = CallWith("", "POST", infer, FitRequest());
  ASSERT_TRUE(anonymous);
  EXPECT_EQ(anonymous->status, 401) << anonymous->body;
  // Another account: its token, the API and the gateway alike answer not found.
  auto other = CallWith(eve_, "POST", infer, FitRequest());
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404) << other->body;
  Json(eve_, "GET", "/api/v1/serving/fit", nullptr, 404);
  Json(eve_, "POST", "/api/v1/serving/fit/scale", json::object{{"replicas", 2}}, 404);
  Json(eve_, "GET", "/api/v1/serving/fit/replicas/0/logs", nullptr, 404);
  Json(eve_, "DELETE", "/api/v1/serving/fit", nullptr, 404);

  // An invoke-only token calls the instance and nothing else.
  auto created = Json(ann_, "POST", "/api/v1/me/tokens", json::object{{"name", "client app"}, {"scope", "invoke"}}, 201);
  EXPECT_EQ(created.at("scope").as_string(), "invoke");
  std::string invoke(created.at("token").as_string());
  ExpectFitAnswer(Json(invoke, "POST", infer, FitRequest()), 1e-4);
  auto refused = Json(invoke, "GET", "/api/v1/serving", nullptr, 403);
  EXPECT_EQ(refused.at("error").at("details").at("reason").as_string(), "token_scope");
  Json(invoke, "POST", "/api/v1/me/tokens", json::object{{"name", "escalate"}}, 403);
  Json(ann_, "POST", "/api/v1/me/tokens", json::object{{"name", "x"}, {"scope", "root"}}, 400);

  // Public: anyone may call it.
  EXPECT_TRUE(Json(ann_, "PATCH", "/api/v1/serving/fit", json::object{{"public", true}}).at("public").as_bool());
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        auto r = CallWith("", "POST", infer, FitRequest());
        return r && r->status == 200;
      },
      10s));

  // A body over the gateway's limit is refused from its Content-Length, before it is sent.
  testing::RawConnection connection(addr_);
  ASSERT_TRUE(connection.Send("POST " + infer + " HTTP/1.1\r\nHost: " + addr_ + "\r\nAuthorization: Bearer " + ann_ +
                              "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(100 << 20) +
                              "\r\n\r\n{\"inputs\": ["));
  auto too_big = connection.ReadReply(10s);
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413) << too_big->body;
  ExpectFitAnswer(Json(ann_, "POST", infer, FitRequest()), 1e-4);
}

TEST_P(ServingOnEveryClusterTest, PythonRuntimeServesTheEditorsModelAndSurvivesAFailingPredict) {
  Upload("models/echo/weights.txt", "2.0\n");
  std::string model_py = R"(import os
import numpy as np
INPUTS = [{"name": "x", "datatype": "FP32", "shape": [-1, 2]}]
OUTPUTS = [{"name": "y", "datatype": "FP32", "shape": [-1, 2]}]
def load(model_dir):
    return float(open(os.path.join(model_dir, "weights.txt")).read())
def predict(scale, inputs):
    if inputs["x"][0, 0] < 0:
        raise ValueError("negative input")
    return inputs["x"] * scale
)";
  Launch({{"name", "echo"}, {"model", "models/echo"}, {"runtime", "python"}, {"model_py", model_py},
          {"cpu", "500m"}, {"memory", "256Mi"}});
  ASSERT_TRUE(WaitState("echo", "ready", 1, 90s));
  std::string infer = "/serving/ann-lab/echo/v2/models/echo/infer";
  auto body = [](double first) {
    return json::object{{"inputs", json::array{json::object{{"name", "x"}, {"shape", json::array{1, 2}},
                                                            {"datatype", "FP32"}, {"data", json::array{first, 3.0}}}}}};
  };
  auto answer = Json(ann_, "POST", infer, body(1.5));
  EXPECT_EQ(answer.at("outputs").at(0).at("data").at(0).to_number<double>(), 3.0) << answer;
  auto failed = CallWith(ann_, "POST", infer, body(-1));
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  EXPECT_NE(failed->body.find("negative input"), std::string::npos) << failed->body;
  EXPECT_EQ(Json(ann_, "POST", infer, body(1)).at("outputs").at(0).at("data").at(1).to_number<double>(), 6.0);
}

TEST_P(ServingOnEveryClusterTest, BadLaunchesAreRefusedNamingTheField) {
  Upload("models/fit/model.onnx", ReadAll(models_->path() + "/fit_a_line.onnx"));
  Upload("models/broken.onnx", "this is not a protobuf");
  struct Case {
    json::object spec;
    int status;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"name", "Bad Name"}, {"model", "models/fit"}}, 400, "name"},
      {{{"name", "x"}, {"model", "models/nothing"}}, 404, "model"},
      {{{"name", "x"}, {"model", "../etc/passwd"}}, 400, "model"},
      {{{"name", "x"}, {"model", "models/fit"}, {"runtime", "tensorflow"}}, 400, "runtime"},
      {{{"name", "x"}, {"model", "models/fit"}, {"runtime", "python"}}, 400, "model_py"},
      {{{"name", "x"}, {"model", "models/fit"}, {"runtime", "command"}}, 400, "command"},
      {{{"name", "x"}, {"model", "models/fit"}, {"replicas", 0}}, 400, "replicas"},
      {{{"name", "x"}, {"model", "models/fit"}, {"cpu", "1000"}}, 400, "cpu"},
      {{{"name", "x"}, {"model", "models/fit"}, {"model_file", "other.onnx"}}, 400, "model_file"},
      {{{"name", "x"}, {"model", "models/fit"}, {"replicas", 5}, {"cpu", "500m"}}, 403, ""},
      {{{"name", "x"}, {"model", "models/fit"}, {"typo", 1}}, 400, "typo"},
  };
  for (const auto& c : cases) {
    auto error = Json(ann_, "POST", "/api/v1/serving", c.spec, c.status);
    if (!c.field.empty()) {
      EXPECT_EQ(ErrorField(error), c.field) << json::serialize(c.spec) << " " << error;
    }
  }
  // Another account's model is not found.
  Json(eve_, "POST", "/api/v1/serving", json::object{{"name", "steal"}, {"model", "models/fit"}}, 404);

  // An archive with an unsafe path is refused, and nothing of it stays.
  std::string archive = models_->path() + "/evil.tgz";
  std::string out = testing::RunCommand(
      "/usr/bin/python3 -c \"import io,tarfile; t=tarfile.open('" + archive +
      "','w:gz'); d=b'x'; i=tarfile.TarInfo('../escape.onnx'); i.size=1; t.addfile(i, io.BytesIO(d)); t.close()\"");
  ASSERT_TRUE(out.empty()) << out;
  Upload("models/evil.tgz", ReadAll(archive));
  auto unsafe = Json(ann_, "POST", "/api/v1/serving", json::object{{"name", "evil"}, {"model", "models/evil.tgz"}}, 400);
  EXPECT_EQ(ErrorField(unsafe), "model");
  EXPECT_NE(unsafe.at("error").at("message").as_string().find("unsafe path"), std::string::npos) << unsafe;
  EXPECT_FALSE(fs::exists(dir_.path() + "/data/serving/ann-lab/escape.onnx"));
  EXPECT_FALSE(fs::exists(dir_.path() + "/data/serving/ann-lab/evil"));

  // A name taken.
  Launch({{"name", "fit"}, {"model", "models/fit"}, {"cpu", "500m"}, {"memory", "256Mi"}});
  auto clash = Json(ann_, "POST", "/api/v1/serving", json::object{{"name", "fit"}, {"model", "models/fit"}}, 409);
  EXPECT_EQ(ErrorField(clash), "name");

  // A model OpenCV cannot load: the instance fails with OpenCV's reason, nothing serves.
  Launch({{"name", "broken"}, {"model", "models/broken.onnx"}, {"cpu", "500m"}, {"memory", "256Mi"}});
  ASSERT_TRUE(testing::WaitFor([&] { return Instance("broken").at("state").as_string() == "failed"; }, 60s))
      << json::serialize(Instance("broken"));
  // Its log's end (copied from the cluster's log API on Kubernetes, where it may arrive a moment later).
  EXPECT_TRUE(testing::WaitFor(
      [&] { return Instance("broken").at("message").as_string().find("OpenCV") != std::string::npos; }, 10s))
      << Instance("broken");
  auto none = CallWith(ann_, "POST", "/serving/ann-lab/broken/v2/models/broken/infer", FitRequest());
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 503);
  EXPECT_FALSE(none->header("retry-after").empty());
}

}  // namespace
}  // namespace paddlecloud
