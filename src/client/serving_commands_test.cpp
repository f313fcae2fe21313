// What `paddlecloud serve`, `serving list` and `predict` decide and print before and after talking
// to the server, from arguments and API answers written by hand (docs/serving.md).
#include "client/serving_commands.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <boost/json/parse.hpp>

#include "testing/server_process.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// Runs `body` with the current directory set to `dir` (restored after, also when an assertion returns early).
template <typename Body>
void InDirectory(const std::string& dir, Body body) {
  struct Restore {
    fs::path before = fs::current_path();
    ~Restore() { fs::current_path(before); }
  } restore;
  fs::current_path(dir);
  body();
}

TEST(ServeModelSourceTest, ALocalFolderOnnxOrArchiveIsUploadedAndAnythingElseIsACloudPath) {
  testing::TempDir dir;
  fs::create_directories(dir.path() + "/my-model");
  fs::create_directories(dir.path() + "/models/fit");
  for (const char* file : {"net.onnx", "model.tar.gz", "model.tgz", "notes.txt"}) std::ofstream(dir.path() + "/" + file) << "x";
  InDirectory(dir.path(), [] {
    for (const char* local : {"my-model", "./my-model/", "net.onnx", "model.tar.gz", "model.tgz"}) {
      auto source = ResolveModelSource(local);
      ASSERT_TRUE(source) << local << ": " << source.error().message();
      EXPECT_TRUE(source->local) << local;
      EXPECT_EQ(source->path, local);
    }
    // A cloud path that also exists here is local, unless written pc:.
    EXPECT_TRUE(ResolveModelSource("models/fit")->local);
    auto cloud = ResolveModelSource("pc:models/fit/");
    ASSERT_TRUE(cloud);
    EXPECT_FALSE(cloud->local);
    EXPECT_EQ(cloud->path, "models/fit");
    auto elsewhere = ResolveModelSource("models/resnet/model.onnx");
    ASSERT_TRUE(elsewhere);
    EXPECT_FALSE(elsewhere->local);
    EXPECT_EQ(elsewhere->path, "models/resnet/model.onnx");
    EXPECT_EQ(ResolveModelSource("public/models/acme/fit/1")->path, "public/models/acme/fit/1");
  });
}

TEST(ServeModelSourceTest, BadModelPathsNameTheProblem) {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/notes.txt") << "x";
  InDirectory(dir.path(), [] {
    auto other = ResolveModelSource("notes.txt");
    ASSERT_FALSE(other);
    EXPECT_EQ(other.error().field(), "model");
    EXPECT_EQ(other.error().message(),
              "notes.txt is not a folder, an .onnx file or a .tar.gz archive (write pc:notes.txt for the cloud path)");
    auto missing = ResolveModelSource("./gone");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().message(), "./gone: no such local file or folder");
    EXPECT_FALSE(ResolveModelSource("/no/such/model.onnx"));
    auto dots = ResolveModelSource("models/../secrets");
    ASSERT_FALSE(dots);
    EXPECT_NE(dots.error().message().find("'..' segments are not allowed"), std::string::npos);
    EXPECT_FALSE(ResolveModelSource("pc:"));
  });
}

TEST(ServeModelSourceTest, AnUploadGoesUnderModelsSlashName) {
  EXPECT_EQ(UploadedModelPath("fit", "./out/fit_a_line/", true), "models/fit");
  EXPECT_EQ(UploadedModelPath("fit", "/tmp/x/net.onnx", false), "models/fit/net.onnx");
  EXPECT_EQ(UploadedModelPath("fit", "model.tar.gz", false), "models/fit/model.tar.gz");
}

TEST(ServeFlagsTest, TheRuntimeFollowsWhatIsGiven) {
  EXPECT_EQ(InferRuntime("", "", ""), "onnx");
  EXPECT_EQ(InferRuntime("", "", "def predict(x): ..."), "python");
  EXPECT_EQ(InferRuntime("", "python3 serve.py", ""), "command");
  EXPECT_EQ(InferRuntime("python", "", ""), "python");
}

TEST(ServeFlagsTest, NamesAreDns1123LabelsOfAtMost40Characters) {
  for (const std::string& good : std::vector<std::string>{"fit", "a", "fit-a-line-2", std::string(40, 'x')})
    EXPECT_TRUE(CheckServingName(good).ok()) << good;
  for (const std::string& bad :
       std::vector<std::string>{"", "Fit", "-fit", "fit-", "fit_a_line", "fit.v1", "a/b", std::string(41, 'x')}) {
    Status s = CheckServingName(bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.field(), "name");
  }
}

TEST(ServingFormatTest, StatesShowTheReplicasWhileStartingAndTheReasonOtherwise) {
  EXPECT_EQ(ServingStateText(json::parse(R"({"state": "starting", "replicas": {"desired": 2, "ready": 0}})")),
            "starting (0/2 replicas ready)");
  EXPECT_EQ(ServingStateText(json::parse(R"({"state": "degraded", "replicas": {"desired": 3, "ready": 2}})")),
            "degraded (2/3 replicas ready)");
  EXPECT_EQ(ServingStateText(json::parse(R"({"state": "ready", "reason": "", "replicas": {"desired": 2, "ready": 2}})")),
            "ready");
  EXPECT_EQ(ServingStateText(json::parse(R"({"state": "failed", "reason": "CrashLoopBackOff"})")),
            "failed (CrashLoopBackOff)");
}

TEST(ServingFormatTest, TheListShowsReplicasTrafficAndAbsoluteUrls) {
  auto list = json::parse(R"({"instances": [
    {"name": "fit", "runtime": "onnx", "replicas": {"desired": 2, "ready": 2}, "state": "ready",
     "url": "/serving/lab/fit", "stats": {"qps": 12.5, "p50_ms": 0.8, "p95_ms": 2.1, "p99_ms": 3, "error_rate": 0.025,
     "in_flight": 1}},
    {"name": "mnist-py", "runtime": "python", "replicas": {"desired": 1, "ready": 0}, "state": "inactive",
     "url": "/serving/lab/mnist-py", "stats": null}]})");
  EXPECT_EQ(FormatServingList(list, "https://cloud.example.com"),
            "NAME      RUNTIME  REPLICAS  QPS   P99     ERRORS  STATE     URL\n"
            "fit       onnx     2/2       12.5  3.0 ms  2.5%    ready     https://cloud.example.com/serving/lab/fit\n"
            "mnist-py  python   0/1       -     -       -       inactive  https://cloud.example.com/serving/lab/mnist-py\n");
  EXPECT_EQ(FormatServingList(json::parse(R"({"instances": []})"), "http://h"), "No serving instances.\n");
}

TEST(PredictTargetTest, AccountSlashNameGoesStraightToTheGateway) {
  EXPECT_EQ(DirectInferTarget("lab/fit"), "/serving/lab/fit/v2/models/fit/infer");
  EXPECT_EQ(DirectInferTarget("fit"), "");
  EXPECT_EQ(DirectInferTarget("lab/a b"), "/serving/lab/a%20b/v2/models/a%20b/infer");
}

}  // namespace
}  // namespace paddlecloud::client
