// `paddlecloud serve`, `serving list|scale|deactivate|activate|delete|logs` and `predict` end to end:
// the CLI as a child process against the real server binary, whose local backend runs the replicas
// (the ONNX model server, the Python worker). The models come from make_test_models.py (Debian's
// python3-onnx) with numpy reference answers.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "client/cli_test_support.h"
#include "testing/platform_fixture.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using test::Outcome;

constexpr char kMakeModels[] = PADDLECLOUD_SOURCE_DIR "/src/model_server/make_test_models.py";

class ServingCliTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    models_ = dir_.path() + "/models";
    fs::create_directories(models_);
    std::string made = testing::RunCommand("/usr/bin/python3 " + std::string(kMakeModels) + " " + models_ + " 2>&1");
    if (!fs::exists(models_ + "/fit_a_line.onnx")) GTEST_SKIP() << "cannot build the test models (python3-onnx?): " << made;
    StartServer();
    token_ = RegisterUser("sam@example.com", "sam-lab");
    home_ = dir_.path() + "/sam";
    fs::create_directories(home_);
  }

  // Replicas are pods, which outlive the server by design: delete every instance.
  void TearDown() override {
    if (!server_ || !server_->running()) return;
    for (const auto& token : {token_, other_token_}) {
      if (token.empty()) continue;
      auto list = CallWith(token, "GET", "/api/v1/serving");
      if (!list || list->status != 200) continue;
      json::value instances = json::parse(list->body);
      for (const auto& instance : instances.at("instances").as_array())
        CallWith(token, "DELETE", "/api/v1/serving/" + std::string(instance.at("name").as_string()));
    }
  }

  // The CLI signed in by the environment (`token`, default the first user's), run in `cwd`.
  Outcome Cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s, std::string token = "",
              const std::string& input = "") {
    args.insert(args.begin(), testing::PaddlecloudBinary());
    return test::RunProgram(args, home_, input,
                            {{"PADDLE_CLOUD_URL", "http://" + addr_}, {"PADDLE_CLOUD_TOKEN", token.empty() ? token_ : token}},
                            timeout);
  }

  // The fit-a-line reference request (4 rows) as a v2 body in a file; `expected` gets its answer.
  std::string FitRequest(std::vector<double>& expected) {
    json::value reference = json::parse(testing::ReadFile(models_ + "/expected.json")).at("fit_a_line");
    const json::value& x = reference.at("inputs").at("x");
    for (const auto& v : reference.at("outputs").at("y").at("data").as_array()) expected.push_back(v.to_number<double>());
    json::object body{{"inputs", json::array{json::object{{"name", "x"}, {"shape", x.at("shape")}, {"datatype", "FP32"},
                                                          {"data", x.at("data")}}}}};
    std::string path = dir_.path() + "/request.json";
    std::ofstream(path) << json::serialize(body);
    return path;
  }

  static void ExpectAnswer(const Outcome& predicted, const std::vector<double>& expected) {
    ASSERT_EQ(predicted.exit_code, 0) << predicted;
    json::value answer = json::parse(predicted.out);
    const json::value& y = answer.at("outputs").at(0);
    EXPECT_EQ(y.at("name").as_string(), "y");
    const auto& data = y.at("data").as_array();
    ASSERT_EQ(data.size(), expected.size()) << predicted;
    for (std::size_t i = 0; i < data.size(); ++i) EXPECT_NEAR(data[i].to_number<double>(), expected[i], 1e-5) << i;
  }

  std::string models_;
  std::string token_, other_token_;
  std::string home_;
};

TEST_F(ServingCliTest, ServeUploadsALocalOnnxModelWaitsPredictsScalesDeactivatesAndDeletes) {
  Outcome served = Cli({"serve", models_ + "/fit_a_line.onnx", "--name", "fit", "--cpu", "200m", "--mem", "256Mi", "--wait"}, 180s);
  ASSERT_EQ(served.exit_code, 0) << served << server_->Log();
  EXPECT_NE(served.err.find("Uploading " + models_ + "/fit_a_line.onnx to models/fit/fit_a_line.onnx\n"), std::string::npos)
      << served;
  EXPECT_NE(served.out.find("Launched fit from models/fit/fit_a_line.onnx (onnx, 1 replica of "), std::string::npos) << served;
  EXPECT_NE(served.out.find("Serving fit: ready, 1 replica of "), std::string::npos) << served;
  std::string url = "http://" + addr_ + "/serving/sam-lab/fit";
  EXPECT_NE(served.out.find("URL:   " + url + "\nInfer: POST " + url + "/v2/models/fit/infer\n"), std::string::npos)
      << served;

  std::vector<double> expected;
  std::string request = FitRequest(expected);
  ExpectAnswer(Cli({"predict", "fit", "--json", request}), expected);
  ExpectAnswer(Cli({"predict", "sam-lab/fit", "--json", "-"}, 60s, "", testing::ReadFile(request)), expected);

  Outcome list = Cli({"serving", "list"});
  ASSERT_EQ(list.exit_code, 0) << list;
  EXPECT_EQ(list.out.rfind("NAME  RUNTIME  REPLICAS  QPS", 0), 0u) << list;
  EXPECT_NE(list.out.find("fit   onnx     1/1"), std::string::npos) << list;
  EXPECT_NE(list.out.find("ready  " + url + "\n"), std::string::npos) << list;

  Outcome scaled = Cli({"serving", "scale", "fit", "2", "--wait"}, 120s);
  ASSERT_EQ(scaled.exit_code, 0) << scaled;
  EXPECT_NE(scaled.out.find("Serving fit: ready, 2 replicas of "), std::string::npos) << scaled;
  Outcome logs = Cli({"serving", "logs", "fit", "--replica", "1"});
  ASSERT_EQ(logs.exit_code, 0) << logs;
  EXPECT_NE(logs.out.find("paddlecloud-model-server: model fit ready on "), std::string::npos) << logs;

  Outcome deactivated = Cli({"serving", "deactivate", "fit"}, 60s);
  ASSERT_EQ(deactivated.exit_code, 0) << deactivated;
  EXPECT_EQ(deactivated.out.rfind("Deactivated fit: inactive; it stays listed.", 0), 0u) << deactivated;
  Outcome refused = Cli({"predict", "fit", "--json", request});
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_EQ(refused.err.rfind("paddlecloud: ", 0), 0u) << refused;
  EXPECT_NE(Cli({"serving", "list"}).out.find("inactive"), std::string::npos);

  Outcome activated = Cli({"serving", "activate", "fit", "--wait"}, 120s);
  ASSERT_EQ(activated.exit_code, 0) << activated;
  EXPECT_NE(activated.out.find("Serving fit: ready, 2 replicas of "), std::string::npos) << activated;
  ExpectAnswer(Cli({"predict", "fit", "--json", request}), expected);

  Outcome deleted = Cli({"serving", "delete", "fit"}, 60s);
  ASSERT_EQ(deleted.exit_code, 0) << deleted;
  EXPECT_EQ(deleted.out, "Deleted serving instance fit\n");
  EXPECT_EQ(Cli({"serving", "list"}).out, "No serving instances.\n");
}

// A folder with a model.py given apart: the Python runtime, chosen by --model-py.
TEST_F(ServingCliTest, AFolderIsUploadedAndModelPyChoosesThePythonRuntime) {
  std::string model = dir_.path() + "/doubler";
  fs::create_directories(model);
  std::ofstream(model + "/factor.txt") << "2\n";
  std::string model_py = dir_.path() + "/model.py";
  std::ofstream(model_py) << "import os\nimport numpy as np\n"
                             "INPUTS = [{'name': 'x', 'datatype': 'FP32', 'shape': [-1]}]\n"
                             "OUTPUTS = [{'name': 'y', 'datatype': 'FP32', 'shape': [-1]}]\n"
                             "def load(model_dir):\n"
                             "    return float(open(os.path.join(model_dir, 'factor.txt')).read())\n"
                             "def predict(factor, inputs):\n"
                             "    return inputs['x'] * factor\n";
  Outcome served = Cli({"serve", model, "--name", "dbl", "--model-py", model_py, "--cpu", "200m", "--mem", "256Mi", "--wait"},
                       180s);
  ASSERT_EQ(served.exit_code, 0) << served << server_->Log();
  EXPECT_NE(served.err.find("Uploading " + model + " to models/dbl/\n"), std::string::npos) << served;
  EXPECT_NE(served.out.find("Launched dbl from models/dbl (python, "), std::string::npos) << served;
  Outcome predicted = Cli({"predict", "dbl", "--json", "-"}, 60s, "",
                          R"({"inputs": [{"name": "x", "shape": [3], "datatype": "FP32", "data": [1, 2.5, -4]}]})");
  ASSERT_EQ(predicted.exit_code, 0) << predicted;
  EXPECT_EQ(json::parse(predicted.out).at("outputs").at(0).at("data"), json::parse("[2.0, 5.0, -8.0]")) << predicted;
  Outcome bad = Cli({"predict", "dbl", "--json", "-"}, 60s, "",
                    R"({"inputs": [{"name": "x", "shape": [2], "datatype": "FP32", "data": [1]}]})");
  EXPECT_EQ(bad.exit_code, 1) << bad;
  EXPECT_EQ(bad.err.rfind("paddlecloud: HTTP 400: ", 0), 0u) << bad;  // the worker's message
}

// --wait ends when the instance fails, with the server's reason and the end of the replica's log.
TEST_F(ServingCliTest, WaitReportsAModelTheRuntimeCannotLoad) {
  std::ofstream(home_ + "/broken.onnx") << "not a model";
  Outcome served = Cli({"serve", home_ + "/broken.onnx", "--name", "broken", "--cpu", "100m", "--mem", "128Mi", "--wait"},
                       120s);
  EXPECT_EQ(served.exit_code, 1) << served;
  EXPECT_NE(served.err.find("paddlecloud: serving instance broken did not get ready: failed"), std::string::npos) << served;
  EXPECT_NE(served.err.find("OpenCV cannot load /model/broken.onnx"), std::string::npos) << served;
  EXPECT_EQ(served.out.find("URL:"), std::string::npos) << served;
}

// A client application's invoke-only token calls the gateway by ACCOUNT/NAME, and nothing else.
TEST_F(ServingCliTest, AnInvokeOnlyTokenPredictsByAccountSlashName) {
  ASSERT_EQ(Cli({"serve", models_ + "/fit_a_line.onnx", "--name", "fit", "--cpu", "100m", "--mem", "128Mi", "--wait"}, 180s)
                .exit_code,
            0);
  auto created = CallWith(token_, "POST", "/api/v1/me/tokens", json::object{{"name", "client app"}, {"scope", "invoke"}});
  ASSERT_EQ(created->status, 201) << created->body;
  std::string invoke(json::parse(created->body).at("token").as_string());
  std::vector<double> expected;
  std::string request = FitRequest(expected);
  ExpectAnswer(Cli({"predict", "sam-lab/fit", "--json", request}, 60s, invoke), expected);
  Outcome by_name = Cli({"predict", "fit", "--json", request}, 60s, invoke);
  EXPECT_EQ(by_name.exit_code, 1) << by_name;
  EXPECT_NE(by_name.err.find("an invoke-only token calls the instance as ACCOUNT/fit"), std::string::npos) << by_name;
  Outcome list = Cli({"serving", "list"}, 60s, invoke);
  EXPECT_EQ(list.exit_code, 1) << list;
}

TEST_F(ServingCliTest, BadArgumentsAreRefusedBeforeAnythingIsSentOrGetTheServersMessage) {
  std::ofstream(home_ + "/notes.txt") << "x";
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {{"serve", "models/fit", "--name", "Fit"}, "--name 'Fit': use 1 to 40 lower-case letters"},
           {{"serve", "./no-such-model", "--name", "fit"}, "./no-such-model: no such local file or folder"},
           {{"serve", home_ + "/notes.txt", "--name", "fit"}, "is not a folder, an .onnx file or a .tar.gz archive"},
           {{"serve", "models/fit", "--name", "fit", "--model-py", home_ + "/none.py"}, "--model-py: cannot read the file"},
           {{"serve", "models/fit", "--name", "fit", "--runtime", "tensorflow"}, "--runtime"},
           {{"predict", "fit", "--json", home_ + "/notes.txt"}, "is not a JSON object"},
           {{"predict", "fit", "--json", home_ + "/none.json"}, "--json: cannot read the file"},
           {{"serving", "scale", "fit", "many"}, "replicas"}}) {
    Outcome refused = Cli(c.args);
    EXPECT_EQ(refused.exit_code, 2) << c.args[0] << " " << c.args[1] << "\n" << refused;
    EXPECT_NE(refused.err.find(c.message), std::string::npos) << refused;
  }
  EXPECT_EQ(CallWith(token_, "GET", "/api/v1/serving")->body, R"({"instances":[]})");

  Outcome missing = Cli({"serve", "models/nothing-here", "--name", "fit"});
  EXPECT_EQ(missing.exit_code, 1) << missing;
  EXPECT_NE(missing.err.find("model"), std::string::npos) << missing;

  ASSERT_EQ(Cli({"serve", models_ + "/fit_a_line.onnx", "--name", "fit", "--cpu", "100m", "--mem", "128Mi"}).exit_code, 0);
  Outcome again = Cli({"serve", models_ + "/fit_a_line.onnx", "--name", "fit"});
  EXPECT_EQ(again.exit_code, 1) << again;
  EXPECT_NE(again.err.find("paddlecloud: a serving instance named fit exists already"), std::string::npos) << again;
  EXPECT_EQ(again.err.find("Uploading"), std::string::npos) << again;  // refused before the upload
  Outcome clash = Cli({"serve", "pc:models/fit", "--name", "fit"});
  EXPECT_EQ(clash.exit_code, 1) << clash;
  EXPECT_NE(clash.err.find("name"), std::string::npos) << clash;

  Outcome zero = Cli({"serving", "scale", "fit", "0"});
  EXPECT_EQ(zero.exit_code, 1) << zero;
  EXPECT_NE(zero.err.find("replicas"), std::string::npos) << zero;
  EXPECT_NE(zero.err.find("deactivate"), std::string::npos) << zero;  // the server says how to stop every replica
  Outcome many = Cli({"serving", "scale", "fit", "65"});
  EXPECT_EQ(many.exit_code, 1) << many;
  EXPECT_NE(many.err.find("replicas"), std::string::npos) << many;
}

TEST_F(ServingCliTest, AnotherAccountsInstanceIsNotFoundAndStaysAsItWas) {
  ASSERT_EQ(Cli({"serve", models_ + "/fit_a_line.onnx", "--name", "fit", "--cpu", "100m", "--mem", "128Mi"}).exit_code, 0);
  other_token_ = RegisterUser("eve@example.com", "eve-lab");
  std::vector<double> expected;
  std::string request = FitRequest(expected);
  for (const auto& args : std::vector<std::vector<std::string>>{{"serving", "scale", "fit", "3"},
                                                                {"serving", "deactivate", "fit"},
                                                                {"serving", "delete", "fit"},
                                                                {"serving", "logs", "fit"},
                                                                {"predict", "fit", "--json", request},
                                                                {"predict", "sam-lab/fit", "--json", request}}) {
    Outcome refused = Cli(args, 60s, other_token_);
    EXPECT_EQ(refused.exit_code, 1) << args[0] << " " << args[1] << "\n" << refused;
    EXPECT_EQ(refused.err.rfind("paddlecloud: ", 0), 0u) << refused;
    EXPECT_EQ(refused.out, "") << refused;
  }
  EXPECT_EQ(Cli({"serving", "list"}, 60s, other_token_).out, "No serving instances.\n");
  json::value instance = json::parse(CallWith(token_, "GET", "/api/v1/serving/fit")->body);
  EXPECT_EQ(instance.at("replicas").at("desired").as_int64(), 1);
  EXPECT_NE(instance.at("state").as_string(), "inactive");
}

}  // namespace
}  // namespace paddlecloud::client
