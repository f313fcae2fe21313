// `paddlecloud notebook start|status|open|stop` end to end: the CLI as a child process against the
// real server binary, whose local backend runs Debian's Jupyter (python3-notebook) as the notebook.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

#include "client/api_client.h"
#include "client/cli_test_support.h"
#include "testing/platform_fixture.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using test::Outcome;

constexpr char kJupyter[] = "/usr/lib/python3/dist-packages/notebook";

class NotebookCliTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    if (!fs::exists(kJupyter)) GTEST_SKIP() << "Jupyter is not installed (" << kJupyter << ": apt-get install python3-notebook)";
    PlatformTest::SetUp();
    StartServer();
    token_ = RegisterUser("nora@example.com", "nora-lab");
    home_ = dir_.path() + "/nora";
    fs::create_directories(home_);
  }

  // The notebook's pod outlives the server by design: stop it so no process outlives the test.
  void TearDown() override {
    if (server_ && server_->running() && !token_.empty()) CallWith(token_, "POST", "/api/v1/notebook/stop");
  }

  // The CLI signed in by the environment, as in a job pod.
  Outcome Cli(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) {
    args.insert(args.begin(), {testing::PaddlecloudBinary(), "notebook"});
    return test::RunProgram(args, home_, "", {{"PADDLE_CLOUD_URL", "http://" + addr_}, {"PADDLE_CLOUD_TOKEN", token_}},
                            timeout);
  }

  std::string token_;
  std::string home_;
};

TEST_F(NotebookCliTest, StartWaitsUntilRunningStatusShowsItOpenPrintsTheHandoffAndStopStopsIt) {
  Outcome started = Cli({"start", "--cpu", "500m", "--memory", "512Mi", "--wait"}, 180s);
  ASSERT_EQ(started.exit_code, 0) << started << server_->Log();
  // The first line names the step the start answered with (it depends on timing), then the resources.
  EXPECT_TRUE(started.out.starts_with("Notebook starting")) << started;
  EXPECT_NE(started.out.find(", with 500m CPU, 512Mi memory, 0 GPUs\n"), std::string::npos) << started;
  EXPECT_NE(started.out.find("Notebook running. Open it with: paddlecloud notebook open\n"), std::string::npos) << started;
  EXPECT_NE(started.err.find("Notebook starting"), std::string::npos) << started;  // the progress, one line per change

  Outcome status = Cli({"status"});
  ASSERT_EQ(status.exit_code, 0) << status;
  EXPECT_NE(status.out.find("State:          running\n"), std::string::npos) << status;
  EXPECT_NE(status.out.find("Resources:      500m CPU, 512Mi memory, 0 GPUs\n"), std::string::npos) << status;
  EXPECT_NE(status.out.find("Open:           paddlecloud notebook open\n"), std::string::npos) << status;

  Outcome as_json = Cli({"status", "-o", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json;
  json::value notebook = json::parse(as_json.out);
  EXPECT_EQ(notebook.at("state").as_string(), "running");
  EXPECT_EQ(notebook.at("resources").at("cpu").as_string(), "500m");
  std::string page(notebook.at("url").as_string());
  EXPECT_EQ(page.rfind("/user/", 0), 0u) << page;

  Outcome other = Cli({"start", "--cpu", "1"});  // running with other resources: restart to change them
  EXPECT_EQ(other.exit_code, 1) << other;
  EXPECT_NE(other.err.find("paddlecloud: "), std::string::npos) << other;

  Outcome open = Cli({"open"});
  ASSERT_EQ(open.exit_code, 0) << open;
  EXPECT_EQ(open.out, "http://" + addr_ + "/api/v1/notebook/handoff?next=" + EncodeComponent(page) + "\n");
  EXPECT_NE(open.err.find("in a browser signed in to the platform at http://" + addr_), std::string::npos) << open;
  EXPECT_EQ(open.err.find("Opening it"), std::string::npos) << open;  // stdout is no terminal: no browser

  Outcome stopped = Cli({"stop"});
  ASSERT_EQ(stopped.exit_code, 0) << stopped;
  EXPECT_EQ(stopped.out, "Notebook stopped (user); its files are kept in workspace/.\n");
  Outcome after = Cli({"status"});
  EXPECT_NE(after.out.find("State:      stopped (user)\n"), std::string::npos) << after;
}

// On a terminal `open` also starts $BROWSER with the link (`script` gives the CLI a terminal).
TEST_F(NotebookCliTest, OpenStartsTheBrowserWhenStdoutIsATerminal) {
  std::string browser = dir_.path() + "/browser.sh";
  std::string opened = dir_.path() + "/opened";
  std::ofstream(browser) << "#!/bin/sh\nprintf '%s' \"$1\" > " << opened << ".tmp && mv " << opened << ".tmp " << opened << "\n";
  fs::permissions(browser, fs::perms::owner_all);
  std::string command = testing::PaddlecloudBinary() + " notebook open";
  Outcome open = test::RunProgram({"script", "-qec", command, "/dev/null"}, home_, "",
                                  {{"PADDLE_CLOUD_URL", "http://" + addr_}, {"PADDLE_CLOUD_TOKEN", token_}, {"BROWSER", browser}});
  ASSERT_EQ(open.exit_code, 0) << open;
  EXPECT_NE(open.out.find("Opening it in your browser."), std::string::npos) << open;
  ASSERT_TRUE(testing::WaitFor([&] { return fs::exists(opened); }, 10s)) << open;
  std::string url = testing::ReadFile(opened);
  EXPECT_EQ(url.rfind("http://" + addr_ + "/api/v1/notebook/handoff?next=%2Fuser%2F", 0), 0u) << url;
  EXPECT_NE(open.out.find(url), std::string::npos) << open;
}

TEST_F(NotebookCliTest, ABadQuantityGetsTheServersMessageNamingTheField) {
  Outcome bad = Cli({"start", "--memory", "lots"});
  EXPECT_EQ(bad.exit_code, 1) << bad;
  EXPECT_EQ(bad.out, "") << bad;
  EXPECT_EQ(bad.err.rfind("paddlecloud: ", 0), 0u) << bad;
  EXPECT_NE(bad.err.find("memory"), std::string::npos) << bad;
  Outcome status = Cli({"status", "-o", "json"});
  ASSERT_EQ(status.exit_code, 0) << status;
  EXPECT_EQ(json::parse(status.out).at("state").as_string(), "stopped");  // nothing was started
}

}  // namespace
}  // namespace paddlecloud::client
