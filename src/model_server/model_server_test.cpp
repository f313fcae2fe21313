// The real paddlecloud-model-server binary as a child process on 127.0.0.1 port 0, serving models
// that make_test_models.py builds with Debian's python3-onnx (with numpy reference answers).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <fstream>
#include <sstream>
#include <thread>

#include <boost/json.hpp>

#include "testing/http_client.h"
#include "testing/server_process.h"

namespace paddlecloud::model_server {
namespace {
namespace json = boost::json;
using testing::HttpReply;
using testing::TempDir;
using testing::WaitFor;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// paddlecloud-model-server with `args`, its stdout and stderr in `log_path`.
class ModelServerProcess {
 public:
  ModelServerProcess(std::vector<std::string> args, std::string log_path) : log_path_(std::move(log_path)) {
    args.insert(args.begin(), PC_MODEL_SERVER_BINARY);
    pid_ = fork();
    if (pid_ == 0) {
      FILE* log = std::fopen(log_path_.c_str(), "w");
      dup2(fileno(log), 1);
      dup2(fileno(log), 2);
      std::vector<char*> argv;
      for (auto& arg : args) argv.push_back(arg.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~ModelServerProcess() {
    if (exit_code_ < 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  // The address from "... ready on HOST:PORT"; empty when it did not get ready.
  std::string WaitReady() {
    const std::string marker = " ready on ";
    std::string log;
    bool ready = WaitFor([&] {
      log = ReadAll(log_path_);
      return log.find(marker) != std::string::npos && log.back() == '\n';
    }, std::chrono::seconds(20));
    if (!ready) return "";
    auto start = log.find(marker) + marker.size();
    return log.substr(start, log.find('\n', start) - start);
  }
  int WaitExit() {
    int status = 0;
    WaitFor([&] { return waitpid(pid_, &status, WNOHANG) == pid_; }, std::chrono::seconds(20));
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return exit_code_;
  }
  std::string Log() const { return ReadAll(log_path_); }
  void Signal(int signal) { kill(pid_, signal); }

 private:
  std::string log_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

class ModelServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    models_ = new TempDir();
    // Debian's interpreter: python3-onnx and python3-numpy are installed for it.
    std::string out = testing::RunCommand("/usr/bin/python3 " PC_MAKE_TEST_MODELS " " + models_->path());
    expected_ = new json::object(json::parse(ReadAll(models_->path() + "/expected.json")).as_object());
    ASSERT_TRUE(out.empty()) << out;
  }
  static void TearDownTestSuite() {
    delete expected_;
    delete models_;
  }

  // Serves models_/<file>.onnx as `name`; the server's address.
  std::string Serve(const std::string& file, const std::string& name, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--model", models_->path() + "/" + file + ".onnx", "--name", name, "--port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ModelServerProcess>(args, logs_.path() + "/server.log");
    std::string address = server_->WaitReady();
    EXPECT_FALSE(address.empty()) << server_->Log();
    return address;
  }

  static HttpReply Call(const std::string& address, const std::string& method, const std::string& target,
                        const std::string& body = "") {
    auto reply = testing::Request(address, method, target, body, body.empty() ? "" : "Content-Type: application/json\r\n");
    EXPECT_TRUE(reply.has_value()) << method << " " << target;
    return reply.value_or(HttpReply{});
  }

  static json::object Expected(std::string_view model) { return expected_->at(model).as_object(); }

  static void ExpectTensorNear(const json::value& actual, const json::value& expected, double tolerance) {
    EXPECT_EQ(actual.at("datatype"), "FP32");
    EXPECT_EQ(actual.at("shape"), expected.at("shape"));
    const auto& got = actual.at("data").as_array();
    const auto& want = expected.at("data").as_array();
    ASSERT_EQ(got.size(), want.size());
    for (std::size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i].to_number<double>(), want[i].to_number<double>(), tolerance) << "element " << i;
  }

  static std::string InferBody(const json::object& inputs) {
    json::array list;
    for (const auto& [name, tensor] : inputs) {
      list.push_back(json::object{{"name", name}, {"datatype", "FP32"}, {"shape", tensor.at("shape")},
                                  {"data", tensor.at("data")}});
    }
    return json::serialize(json::object{{"inputs", std::move(list)}});
  }

  static TempDir* models_;
  static json::object* expected_;
  TempDir logs_;
  std::unique_ptr<ModelServerProcess> server_;
};
TempDir* ModelServerTest::models_ = nullptr;
json::object* ModelServerTest::expected_ = nullptr;

TEST_F(ModelServerTest, FitALineMetadataAndPredictionsMatchNumpy) {
  std::string address = Serve("fit_a_line", "fit");
  EXPECT_EQ(Call(address, "GET", "/v2/health/live").status, 200);
  EXPECT_EQ(Call(address, "GET", "/v2/health/ready").status, 200);
  EXPECT_EQ(Call(address, "GET", "/v2/models/fit/ready").status, 200);
  EXPECT_EQ(json::parse(Call(address, "GET", "/v2").body).at("name"), "paddlecloud-model-server");
  auto metadata = json::parse(Call(address, "GET", "/v2/models/fit").body);
  EXPECT_EQ(metadata, json::parse(R"({"name":"fit","versions":[],"platform":"onnx",
      "inputs":[{"name":"x","datatype":"FP32","shape":[-1,13]}],
      "outputs":[{"name":"y","datatype":"FP32","shape":[-1,1]}]})"));

  auto expected = Expected("fit_a_line");
  json::object request = json::parse(InferBody(expected.at("inputs").as_object())).as_object();
  request["id"] = "batch-of-4";
  auto reply = Call(address, "POST", "/v2/models/fit/infer", json::serialize(request));
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.header("content-type"), "application/json");
  auto answer = json::parse(reply.body);
  EXPECT_EQ(answer.at("model_name"), "fit");
  EXPECT_EQ(answer.at("id"), "batch-of-4");
  ASSERT_EQ(answer.at("outputs").as_array().size(), 1u);
  EXPECT_EQ(answer.at("outputs").at(0).at("name"), "y");
  ExpectTensorNear(answer.at("outputs").at(0), expected.at("outputs").at("y"), 1e-5);
}

TEST_F(ModelServerTest, MnistConvNetMatchesNumpyAndIsDeterministic) {
  std::string address = Serve("mnist", "mnist");
  auto metadata = json::parse(Call(address, "GET", "/v2/models/mnist").body);
  EXPECT_EQ(metadata.at("inputs").at(0).at("shape"), json::parse("[1,1,28,28]"));
  EXPECT_EQ(metadata.at("outputs").at(0).at("shape"), json::parse("[1,10]"));

  auto expected = Expected("mnist");
  std::string body = InferBody(expected.at("inputs").as_object());
  auto first = Call(address, "POST", "/v2/models/mnist/infer", body);
  ASSERT_EQ(first.status, 200) << first.body;
  ExpectTensorNear(json::parse(first.body).at("outputs").at(0), expected.at("outputs").at("logits"), 1e-4);
  EXPECT_EQ(Call(address, "POST", "/v2/models/mnist/infer", body).body, first.body);
}

TEST_F(ModelServerTest, KServeDocumentedRequestIsAnsweredInTheDocumentedShape) {
  std::string address = Serve("iris", "sklearn-v2-iris");
  auto expected = Expected("iris");
  auto reply = Call(address, "POST", "/v2/models/sklearn-v2-iris/infer", json::serialize(expected.at("request")));
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto answer = json::parse(reply.body).as_object();
  EXPECT_EQ(answer.at("model_name"), "sklearn-v2-iris");
  ASSERT_EQ(answer.at("outputs").as_array().size(), 1u);
  const auto& output = answer.at("outputs").at(0).as_object();
  EXPECT_EQ(output.at("name"), "predict");
  EXPECT_TRUE(output.at("data").as_array().at(0).is_number()) << "data is answered flat";
  ExpectTensorNear(output, expected.at("outputs").at("predict"), 1e-5);
}

struct BadRequest {
  std::string method, target, body;
  int status;
  std::string error_mentions;
};

TEST_F(ModelServerTest, BadRequestsAreNamedAndTheServerKeepsServing) {
  std::string address = Serve("fit_a_line", "fit", {"--max-body", "4096"});
  auto tensor = [](std::string name, std::string shape, std::string datatype, std::string data) {
    return R"({"name":")" + name + R"(","shape":)" + shape + R"(,"datatype":")" + datatype + R"(","data":)" + data + "}";
  };
  std::string ones13 = "[1,1,1,1,1,1,1,1,1,1,1,1,1]";
  auto infer = [](std::string inputs, std::string extra = "") { return R"({"inputs":[)" + inputs + "]" + extra + "}"; };
  std::vector<BadRequest> cases = {
      {"POST", "/v2/models/fit/infer", infer(tensor("z", "[1,13]", "FP32", ones13)), 400, "input 'z': the model has no such input"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[1,12]", "FP32", ones13)), 400, "shape [1,12] does not match the model's [-1,13]"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[2,13]", "FP32", ones13)), 400, "data has 13 elements but the shape needs 26"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[1,13]", "INT64", ones13)), 400, "datatype INT64 does not match the model's FP32"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[1,13]", "FP32", R"([1,1,1,1,1,1,"a",1,1,1,1,1,1])")), 400, "not a number"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[1,13]", "FP32", "[1e400,1,1,1,1,1,1,1,1,1,1,1,1]")), 400, "not a finite FP32 number"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[1,13]", "FP32", "[1e39,1,1,1,1,1,1,1,1,1,1,1,1]")), 400, "not a finite FP32 number"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[0,13]", "FP32", "[]")), 400, "dimensions must be at least 1"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[4294967296,13]", "FP32", ones13)), 400, "shape [4294967296,13] is too large"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[1,13]", "FP32", ones13) + "," + tensor("x", "[1,13]", "FP32", ones13)), 400, "given twice"},
      {"POST", "/v2/models/fit/infer", R"({"inputs":[]})", 400, "inputs must be a non-empty array"},
      {"POST", "/v2/models/fit/infer", R"({"id":"1"})", 400, "inputs must be a non-empty array"},
      {"POST", "/v2/models/fit/infer", "{not json", 400, "must be a JSON object"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[1,13]", "FP32", ones13), R"(,"outputs":[{"name":"q"}])"), 400, "output 'q'"},
      {"POST", "/v2/models/other/infer", infer(tensor("x", "[1,13]", "FP32", ones13)), 404, "model 'other' is not served here"},
      {"GET", "/v2/models/other", "", 404, "model 'other' is not served here"},
      {"GET", "/v2/models/other/ready", "", 404, "model 'other'"},
      {"GET", "/v2/models/fit/infer", "", 405, "not allowed"},
      {"DELETE", "/v2/health/live", "", 405, "not allowed"},
      {"GET", "/v2/nothing", "", 404, "no such route"},
      {"POST", "/v2/models/fit/infer", infer(tensor("x", "[1,13]", "FP32", "[" + std::string(5000, ' ') + "1]")), 413, "over the limit of 4096 bytes"},
  };
  for (const auto& c : cases) {
    auto reply = Call(address, c.method, c.target, c.body);
    EXPECT_EQ(reply.status, c.status) << c.method << " " << c.target << " " << c.body.substr(0, 200) << " -> " << reply.body;
    auto body = json::parse(reply.body);
    ASSERT_TRUE(body.is_object() && body.as_object().contains("error") && body.at("error").is_string()) << reply.body;
    EXPECT_NE(std::string(body.at("error").as_string()).find(c.error_mentions), std::string::npos)
        << c.body.substr(0, 200) << " -> " << reply.body;
  }
  auto good = Call(address, "POST", "/v2/models/fit/infer", infer(tensor("x", "[1,13]", "FP32", ones13)));
  EXPECT_EQ(good.status, 200) << good.body;
}

TEST_F(ModelServerTest, ChunkedBodyOverTheLimitIs413) {
  std::string address = Serve("fit_a_line", "fit", {"--max-body", "4096"});
  testing::RawConnection connection(address);
  std::string chunk(1000, ' ');
  std::string request = "POST /v2/models/fit/infer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 5; ++i) request += "3e8\r\n" + chunk + "\r\n";
  connection.Send(request);
  auto reply = connection.ReadReply();
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(json::parse(reply->body), json::parse(R"({"error":"request body is over the limit of 4096 bytes"})"));
  EXPECT_EQ(Call(address, "GET", "/v2/health/ready").status, 200);
}

TEST_F(ModelServerTest, NestedDataIsAcceptedAndAnsweredFlat) {
  std::string address = Serve("fit_a_line", "fit");
  std::string row = "[1,1,1,1,1,1,1,1,1,1,1,1,1]";
  auto reply = Call(address, "POST", "/v2/models/fit/infer",
                    R"({"inputs":[{"name":"x","shape":[2,13],"datatype":"FP32","data":[)" + row + "," + row + "]}]}");
  ASSERT_EQ(reply.status, 200) << reply.body;
  auto output = json::parse(reply.body).at("outputs").at(0);
  EXPECT_EQ(output.at("shape"), json::parse("[2,1]"));
  EXPECT_EQ(output.at("data"), json::parse("[0.5,0.5]"));  // sum(linspace(-1,1,13)) + 0.5
}

TEST_F(ModelServerTest, NonFiniteOutputsAreAnsweredAsNull) {
  std::string address = Serve("fit_a_line", "fit");
  json::array huge(13, json::value(0.0));
  for (int i = 0; i < 6; ++i) huge[i] = 3e38;  // where W < 0: x . W is below -FLT_MAX
  json::object input{{"name", "x"}, {"shape", {1, 13}}, {"datatype", "FP32"}, {"data", huge}};
  auto reply = Call(address, "POST", "/v2/models/fit/infer", json::serialize(json::object{{"inputs", json::array{input}}}));
  ASSERT_EQ(reply.status, 200) << reply.body;
  boost::system::error_code ec;
  auto answer = json::parse(reply.body, ec);
  ASSERT_FALSE(ec) << "not JSON: " << reply.body;
  EXPECT_TRUE(answer.at("outputs").at(0).at("data").at(0).is_null()) << reply.body;
}

TEST_F(ModelServerTest, SigtermExitsCleanly) {
  std::string address = Serve("fit_a_line", "fit");
  ASSERT_EQ(Call(address, "GET", "/v2/health/live").status, 200);
  server_->Signal(SIGTERM);
  EXPECT_EQ(server_->WaitExit(), 0) << server_->Log();
}

TEST_F(ModelServerTest, UnloadableModelExitsWithOpenCvsReason) {
  std::string garbage = models_->path() + "/garbage.onnx";
  std::ofstream(garbage) << "this is not a protobuf \x01\x02\x03";
  ModelServerProcess server({"--model", garbage, "--name", "bad", "--port", "0"}, logs_.path() + "/bad.log");
  EXPECT_EQ(server.WaitExit(), 1);
  std::string log = server.Log();
  EXPECT_NE(log.find("OpenCV cannot load " + garbage), std::string::npos) << log;
  EXPECT_NE(log.find("Failed to parse onnx model"), std::string::npos) << log;
  EXPECT_EQ(log.find(" ready on "), std::string::npos) << log;
}

TEST_F(ModelServerTest, ConcurrentRequestsGetTheirOwnAnswers) {
  std::string address = Serve("fit_a_line", "fit", {"--threads", "2"});
  // y = x . linspace(-1, 1, 13) + 0.5 with x_i = k * i.
  auto expected_y = [](int k) {
    double y = 0.5;
    for (int i = 0; i < 13; ++i) y += k * i * (-1.0 + i / 6.0);
    return y;
  };
  std::atomic<int> wrong = 0;
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      for (int n = 0; n < 25; ++n) {
        int k = t * 100 + n;
        json::array data;
        for (int i = 0; i < 13; ++i) data.push_back(k * i);
        json::object input{{"name", "x"}, {"shape", {1, 13}}, {"datatype", "FP32"}, {"data", data}};
        auto body = json::serialize(json::object{{"id", std::to_string(k)}, {"inputs", json::array{input}}});
        auto reply = testing::Request(address, "POST", "/v2/models/fit/infer", body);
        if (!reply || reply->status != 200) { ++wrong; continue; }
        auto answer = json::parse(reply->body);
        double y = answer.at("outputs").at(0).at("data").at(0).to_number<double>();
        if (answer.at("id") != json::value(std::to_string(k)) || std::abs(y - expected_y(k)) > 1e-5 * std::max(1.0, std::abs(y))) ++wrong;
      }
    });
  }
  for (auto& client : clients) client.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace paddlecloud::model_server
