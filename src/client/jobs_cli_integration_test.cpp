// The job commands end to end: `paddlecloud login`, then submit (packing and uploading a directory),
// jobs, logs, describe and kill, as child processes against the real server binary with its local
// backend (real pods) and a real SMTP server for the verification mail.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "client/api_client.h"
#include "client/cli_test_support.h"
#include "testing/http_client.h"
#include "testing/server_process.h"
#include "testing/platform_fixture.h"
#include "testing/smtp_server.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;
using test::Outcome;

constexpr char kPassword[] = "correct horse battery";

std::vector<double> Costs(const std::string& log) {
  std::regex cost("pass (\\d+) cost ([0-9.]+)");
  std::vector<double> costs;
  for (std::sregex_iterator it(log.begin(), log.end(), cost), end; it != end; ++it) costs.push_back(std::stod((*it)[2]));
  return costs;
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string::npos; start = end + 1)
    lines.push_back(text.substr(start, end - start));
  if (start < text.size()) lines.push_back(text.substr(start));
  return lines;
}

class JobsCliTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    StartServer(ServerArgs());
    server_url_ = "http://" + addr_;

    auto anonymous = ApiClient::Create({.server = server_url_});
    ASSERT_TRUE(anonymous);
    auto reg = anonymous->Call("POST", "/api/v1/auth/register",
                               json::object{{"email", "ann@example.com"}, {"password", kPassword},
                                            {"account_id", "ann-lab"}, {"display_name", "Ann Example"}});
    ASSERT_TRUE(reg) << reg.error().ToString();
    ASSERT_TRUE(smtp_->WaitForMessages(1)) << server_->Log();
    std::smatch m;
    std::string mail = smtp_->DecodedMessage(1);
    ASSERT_TRUE(std::regex_search(mail, m, std::regex("/verify\\?token=([A-Za-z0-9_-]+)"))) << mail;
    ASSERT_TRUE(anonymous->Call("POST", "/api/v1/auth/verify", json::object{{"token", m[1].str()}}));

    home_ = dir_.path() + "/ann";
    fs::create_directories(home_);
    Outcome login = Cli({"login", "--server", server_url_, "--email", "ann@example.com"}, std::string(kPassword) + "\n");
    ASSERT_EQ(login.exit_code, 0) << login;
    token_ = std::string(json::parse(testing::ReadFile(home_ + "/.paddlecloud/config")).at("token").as_string());
  }

  virtual std::vector<std::string> ServerArgs() { return {}; }

  // Pods outlive the server by design: stop every unfinished job so no process outlives the test.
  void TearDown() override {
    if (!server_ || !server_->running() || token_.empty()) return;
    std::string bearer = "Authorization: Bearer " + token_ + "\r\n";
    auto list = testing::Request(addr_, "GET", "/api/v1/jobs?status=running&limit=500", "", bearer);
    if (!list || list->status != 200) return;
    json::value running = json::parse(list->body);  // outlives the loop over its items
    for (const auto& job : running.at("items").as_array()) {
      std::string path = "/api/v1/jobs/" + std::to_string(job.at("id").as_int64());
      testing::Request(addr_, "POST", path + "/stop", "", bearer);
      testing::WaitFor([&] {
        auto r = testing::Request(addr_, "GET", path, "", bearer);
        if (!r || r->status != 200) return true;
        std::string state(json::parse(r->body).at("state").as_string());
        return state == "Stopped" || state == "Succeeded" || state == "Failed";
      }, 30s);
    }
  }

  Outcome Cli(std::vector<std::string> args, const std::string& input = "", std::chrono::milliseconds timeout = 60s) {
    args.insert(args.begin(), testing::PaddlecloudBinary());
    return test::RunProgram(args, home_, input, {}, timeout);
  }
  std::unique_ptr<test::Running> Start(std::vector<std::string> args) {
    args.insert(args.begin(), testing::PaddlecloudBinary());
    return std::make_unique<test::Running>(args, home_, "");
  }
  json::value Api(const std::string& method, const std::string& target) {
    auto r = testing::Request(addr_, method, target, "", "Authorization: Bearer " + token_ + "\r\n");
    EXPECT_TRUE(r.has_value());
    return r ? json::parse(r->body) : json::value();
  }

  std::string server_url_;
  std::string home_;
  std::string token_;
};

TEST_F(JobsCliTest, SubmitTheExampleFollowItThenListLogAndDescribeIt) {
  std::string example = std::string(PADDLECLOUD_SOURCE_DIR) + "/examples/fit_a_line";
  // --env takes one value per use: DIR after it is still DIR.
  Outcome submit = Cli({"submit", "--env", "FIT_SEED=1", example, "--name", "fit-a-line", "--trainers", "2", "--ps", "1",
                        "--cpu", "200m", "--mem", "256Mi", "--ps-cpu", "200m", "--ps-mem", "256Mi", "--entry",
                        "python3 train.py", "--env", "FIT_PASSES=20", "--follow"},
                       "", 180s);
  ASSERT_EQ(submit.exit_code, 0) << submit << server_->Log();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(submit.out, m, std::regex("Submitted job fit-a-line \\(id (\\d+)\\)\n"))) << submit;
  std::string id = m[1].str();
  EXPECT_NE(submit.out.find("Dashboard: " + server_url_ + "/jobs/" + id + "\n"), std::string::npos) << submit;
  auto costs = Costs(submit.out);
  ASSERT_GE(costs.size(), 5u) << submit;
  EXPECT_LT(costs.back(), costs.front() / 5) << submit;
  EXPECT_NE(submit.out.find("final cost"), std::string::npos) << submit;
  // stderr is not a terminal: no progress redraws, one line at the end.
  EXPECT_TRUE(std::regex_search(submit.err, std::regex("Packed .*fit_a_line: 4 files, "))) << submit;
  EXPECT_TRUE(std::regex_search(submit.err, std::regex("\nUploaded [0-9.]+ KiB in [0-9.]+ s.*: package pkg_\\S+\n")))
      << submit;
  EXPECT_EQ(submit.err.find('\r'), std::string::npos) << submit;
  EXPECT_NE(submit.err.find("Job fit-a-line (id " + id + ") Succeeded\n"), std::string::npos) << submit;
  auto job = Api("GET", "/api/v1/jobs/" + id);
  EXPECT_TRUE(job.at("spec").at("package").as_string().starts_with("pkg_")) << json::serialize(job);
  EXPECT_EQ(job.at("spec").at("env").at("FIT_SEED").as_string(), "1");
  EXPECT_EQ(job.at("spec").at("env").at("FIT_PASSES").as_string(), "20");

  Outcome jobs = Cli({"jobs"});
  ASSERT_EQ(jobs.exit_code, 0) << jobs;
  EXPECT_TRUE(jobs.out.starts_with("NAME")) << jobs;
  for (const char* column : {"ID", "STATE", "STARTED", "AGE", "SUCCESS", "FAILS"})
    EXPECT_NE(jobs.out.find(column), std::string::npos) << column << "\n" << jobs;
  EXPECT_TRUE(std::regex_search(jobs.out, std::regex("\nfit-a-line +" + id + " +Succeeded +\\d{4}-\\d\\d-\\d\\d [0-9:]+ +\\d+[smhd] +2 +0\n")))
      << jobs;
  Outcome succeeded = Cli({"jobs", "--status", "succeeded", "--name", "fit"});
  EXPECT_NE(succeeded.out.find("fit-a-line"), std::string::npos) << succeeded;
  Outcome running = Cli({"jobs", "--status", "running"});
  EXPECT_EQ(running.exit_code, 0) << running;
  EXPECT_EQ(running.out, "No jobs match.\n") << running;

  std::string trainer1 = "fit-a-line-" + id + "-trainer-1";
  Outcome whole = Cli({"logs", "fit-a-line", "--pod", trainer1, "-n", "1000"});
  ASSERT_EQ(whole.exit_code, 0) << whole;
  Outcome tail = Cli({"logs", "fit-a-line", "--pod", trainer1, "-n", "5"});
  ASSERT_EQ(tail.exit_code, 0) << tail;
  auto all_lines = Lines(whole.out), last = Lines(tail.out);
  ASSERT_EQ(last.size(), 5u) << tail;
  ASSERT_GE(all_lines.size(), 5u);
  EXPECT_EQ(last, std::vector<std::string>(all_lines.end() - 5, all_lines.end())) << tail;
  EXPECT_NE(whole.out.find("pass 0 cost"), std::string::npos) << whole;
  Outcome short_pod = Cli({"logs", id, "--pod", "trainer-1", "-n", "5"});  // by id, pod by its end
  EXPECT_EQ(short_pod.out, tail.out) << short_pod;
  Outcome first_trainer = Cli({"logs", id});
  EXPECT_NE(first_trainer.out.find("final cost"), std::string::npos) << first_trainer;
  Outcome follow_ended = Cli({"logs", "fit-a-line", "-f", "-n", "3"});  // an ended job: the tail, then done
  EXPECT_EQ(follow_ended.exit_code, 0) << follow_ended;
  EXPECT_EQ(Lines(follow_ended.out).size(), 3u) << follow_ended;

  Outcome describe = Cli({"describe", "fit-a-line"});
  ASSERT_EQ(describe.exit_code, 0) << describe;
  for (std::string text : {"Name:", "fit-a-line", "State:", "Succeeded", "Entry:", "python3 train.py",
                           "2 x (cpu 200m, memory 256Mi, gpu 0)", "1 x (cpu 200m, memory 256Mi)", "Package:", "pkg_",
                           "FIT_PASSES=20 FIT_SEED=1", "Pods:", "ENDPOINT", "Events:", "Submitted", "Started"})
    EXPECT_NE(describe.out.find(text), std::string::npos) << text << "\n" << describe;
  for (std::string pod : {"fit-a-line-" + id + "-trainer-0", trainer1, "fit-a-line-" + id + "-pserver-0"})
    EXPECT_NE(describe.out.find(pod), std::string::npos) << pod << "\n" << describe;
  EXPECT_TRUE(std::regex_search(describe.out, std::regex("fit-a-line-" + id + "-trainer-0 +trainer +0 +Succeeded +0 +0 ")))
      << describe;

  Outcome no_pod = Cli({"logs", "fit-a-line", "--pod", "nope"});
  EXPECT_EQ(no_pod.exit_code, 1) << no_pod;
  EXPECT_NE(no_pod.err.find("has no pod 'nope'; its pods: fit-a-line-" + id + "-trainer-0"), std::string::npos) << no_pod;
  Outcome no_job = Cli({"describe", "fit-a-lin"});  // a name is matched exactly, not as a substring
  EXPECT_EQ(no_job.exit_code, 1) << no_job;
  EXPECT_NE(no_job.err.find("no job named 'fit-a-lin'"), std::string::npos) << no_job;
  EXPECT_EQ(Cli({"kill", "999999"}).exit_code, 1);
}

TEST_F(JobsCliTest, KillFollowAndWorkdirlessJobs) {
  Outcome submit = Cli({"submit", "--name", "sleeper", "--cpu", "100m", "--mem", "64Mi", "--entry",
                        "echo up from $PADDLE_TRAINING_ROLE; exec sleep 600"});
  ASSERT_EQ(submit.exit_code, 0) << submit;
  EXPECT_EQ(submit.err, "") << submit;  // nothing to pack or upload without DIR
  std::smatch m;
  ASSERT_TRUE(std::regex_search(submit.out, m, std::regex("id (\\d+)")));
  std::string id = m[1].str();
  EXPECT_TRUE(Api("GET", "/api/v1/jobs/" + id).at("spec").at("package").as_string().empty());

  auto follower = Start({"logs", "sleeper", "-f"});
  ASSERT_TRUE(testing::WaitFor([&] { return follower->Out().find("up from TRAINER") != std::string::npos; }, 60s))
      << follower->Out() << follower->Err();

  Outcome same_name = Cli({"submit", "--name", "sleeper", "--cpu", "100m", "--mem", "64Mi", "--entry", "true"});
  EXPECT_EQ(same_name.exit_code, 1) << same_name;
  EXPECT_NE(same_name.err.find("already pending or running"), std::string::npos) << same_name;

  Outcome kill = Cli({"kill", "sleeper"});
  ASSERT_EQ(kill.exit_code, 0) << kill;
  EXPECT_EQ(kill.out, "Job sleeper (id " + id + "): Stopped\n") << kill;
  Outcome followed = follower->Wait(30s);  // the follower ends with the job
  EXPECT_EQ(followed.exit_code, 0) << followed;
  EXPECT_NE(followed.out.find("up from TRAINER"), std::string::npos) << followed;
  EXPECT_NE(followed.err.find("Stopped"), std::string::npos) << followed;

  Outcome again = Cli({"kill", id});
  EXPECT_EQ(again.exit_code, 1) << again;
  EXPECT_EQ(again.err, "paddlecloud: job " + id + " has already ended (Stopped)\n") << again;
  Outcome stopped = Cli({"jobs", "--status", "stopped"});
  EXPECT_NE(stopped.out.find("sleeper"), std::string::npos) << stopped;

  // A job that fails: --follow exits 1 and says so.
  Outcome failing = Cli({"submit", "--name", "crash", "--cpu", "100m", "--mem", "64Mi", "--entry", "echo oops; exit 3",
                         "--follow"},
                        "", 90s);
  EXPECT_EQ(failing.exit_code, 1) << failing;
  EXPECT_NE(failing.out.find("oops"), std::string::npos) << failing;
  EXPECT_NE(failing.err.find(") Failed"), std::string::npos) << failing;

  // The server's validation errors are API errors (1), naming the field.
  Outcome invalid = Cli({"submit", "--name", "x", "--mem", "lots", "--entry", "true"});
  EXPECT_EQ(invalid.exit_code, 1) << invalid;
  EXPECT_NE(invalid.err.find("mem_per_trainer"), std::string::npos) << invalid;
}

// On a terminal the upload draws a progress line (percent, bytes, rate) that it redraws in place.
TEST_F(JobsCliTest, ProgressOnATerminal) {
  std::string code = dir_.path() + "/code";
  fs::create_directories(code);
  std::ofstream(code + "/train.py") << "print('hello from the package')\n";
  std::ofstream(code + "/weights.bin", std::ios::binary) << std::string(3 << 20, 'w');
  std::string script = R"PY(
import os, pty, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], ["paddlecloud"] + sys.argv[2:])
seen = b""
while True:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode())
sys.exit(os.waitstatus_to_exitcode(status))
)PY";
  Outcome run = test::RunProgram({"python3", "-c", script, testing::PaddlecloudBinary(), "submit", code, "--name", "tty",
                                  "--cpu", "100m", "--mem", "64Mi", "--entry", "python3 train.py", "--follow"},
                                 home_, "", {}, 90s);
  EXPECT_EQ(run.exit_code, 0) << run;
  EXPECT_TRUE(std::regex_search(run.out, std::regex("\rUploading 100% [0-9.]+ [KMG]?i?B / [0-9.]+ [KMG]?i?B")))
      << run;
  // The rate shows once some time has passed, which a tiny upload may not give it.
  EXPECT_NE(run.out.find("Uploaded "), std::string::npos) << run;
  EXPECT_NE(run.out.find("hello from the package"), std::string::npos) << run;
}

TEST_F(JobsCliTest, UsageErrorsExit2) {
  std::string code = dir_.path() + "/code";
  fs::create_directories(code);
  std::ofstream(code + "/train.py") << "print('hi')\n";

  for (std::string sub : {"submit", "jobs", "logs", "kill", "describe", "top", "usage"}) {
    Outcome help = Cli({sub, "--help"});
    EXPECT_EQ(help.exit_code, 0) << sub << "\n" << help;
    EXPECT_NE(help.out.find("--server"), std::string::npos) << help;
  }
  EXPECT_NE(Cli({"submit", "--help"}).out.find("--trainers"), std::string::npos);

  std::vector<std::vector<std::string>> usage = {
      {"submit", code, "--entry", "python3 train.py"},                               // no --name
      {"submit", code, "--name", "x"},                                                // no --entry
      {"submit", dir_.path() + "/missing", "--name", "x", "--entry", "true"},        // no such DIR
      {"submit", code, "--workdir", "code", "--name", "x", "--entry", "true"},       // both
      {"submit", "--name", "x", "--entry", "true", "--env", "NOVALUE"},
      {"submit", "--name", "x", "--entry", "true", "--trainers", "0"},
      {"submit", "--name", "x", "--entry", "true", "--ps", "-1"},
      {"submit", "--name", "x", "--entry", "true", "--bogus"},
      {"jobs", "--status", "sleeping"},
      {"jobs", "-n", "0"},
      {"logs"},
      {"logs", "x", "-n", "many"},
      {"kill"},
      {"describe"},
      {"describe", "a", "b"},
  };
  for (const auto& args : usage) {
    Outcome run = Cli(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(run.exit_code, 2) << shown << "\n" << run;
    EXPECT_FALSE(run.err.empty()) << shown;
  }

  // A link out of DIR is refused before anything is sent.
  fs::create_symlink(dir_.path() + "/mail", code + "/mail");
  Outcome leak = Cli({"submit", code, "--name", "x", "--entry", "true"});
  EXPECT_EQ(leak.exit_code, 2) << leak;
  EXPECT_NE(leak.err.find(code + "/mail is a symbolic link to '" + dir_.path() + "/mail', outside " + code),
            std::string::npos)
      << leak;
  EXPECT_TRUE(Api("GET", "/api/v1/jobs").at("items").as_array().empty());

  // Signed out: 1 with how to sign in.
  std::string stranger = dir_.path() + "/stranger";
  fs::create_directories(stranger);
  Outcome nobody = test::RunProgram({testing::PaddlecloudBinary(), "jobs"}, stranger, "");
  EXPECT_EQ(nobody.exit_code, 1) << nobody;
  EXPECT_EQ(nobody.err, "paddlecloud: not signed in: run paddlecloud login --server URL\n") << nobody;
}

// `top` and `usage` with usage sampled every 500 ms.
class TopCliTest : public JobsCliTest {
 protected:
  std::vector<std::string> ServerArgs() override { return {"--usage-interval", "500ms"}; }

  // The CPU cores `top` shows for `pod` in `table`, or -1 when its row has none.
  static double CpuOf(const std::string& table, const std::string& pod) {
    std::smatch m;
    if (!std::regex_search(table, m, std::regex("\n" + pod + " +([0-9.]+) +\\d+% +\\S+ +\\d+% +- +-\n"))) return -1;
    return std::stod(m[1].str());
  }
};

TEST_F(TopCliTest, TopShowsABusyPodWatchFollowsItToItsEndAndUsageChargesIt) {
  Outcome idle = Cli({"top"});
  EXPECT_EQ(idle.exit_code, 0) << idle;
  EXPECT_EQ(idle.out, "No running jobs.\n") << idle;

  Outcome submit = Cli({"submit", "--name", "spin", "--cpu", "1", "--mem", "256Mi", "--entry", "while :; do :; done"});
  ASSERT_EQ(submit.exit_code, 0) << submit;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(submit.out, m, std::regex("id (\\d+)")));
  std::string id = m[1].str(), pod = "spin-" + id + "-trainer-0";

  Outcome top;
  ASSERT_TRUE(testing::WaitFor([&] {
    top = Cli({"top"});
    return CpuOf(top.out, pod) > 0.5;
  }, 60s)) << top << server_->Log();
  EXPECT_EQ(top.exit_code, 0) << top;
  EXPECT_TRUE(top.out.starts_with("POD" + std::string(pod.size() - 3, ' ') + "  CPU   CPU%  MEMORY  MEM%  GPU%  GPU MEM\n"))
      << top;
  EXPECT_NE(top.out.find("\nNetwork of spin (id " + id + "): "), std::string::npos) << top;
  Outcome by_name = Cli({"top", "spin"});
  EXPECT_EQ(by_name.exit_code, 0) << by_name;
  EXPECT_GT(CpuOf(by_name.out, pod), 0) << by_name;  // busy: above 0.5 once (above), whatever the load now

  Outcome as_json = Cli({"top", id, "--output", "json"});
  ASSERT_EQ(as_json.exit_code, 0) << as_json;
  json::value parsed = json::parse(as_json.out);
  const json::value& row = parsed.at("jobs").at(0).at("pods").at(0);
  EXPECT_EQ(row.at("name").as_string(), pod) << as_json;
  EXPECT_GT(row.at("cpu_cores").to_number<double>(), 0) << as_json;
  EXPECT_GT(row.at("memory_working_set_bytes").to_number<double>(), 0) << as_json;
  EXPECT_GT(row.at("memory_percent_of_limit").to_number<double>(), 0) << as_json;
  EXPECT_TRUE(row.at("gpu_utilization_percent").is_null()) << as_json;  // no GPU: unknown, not 0

  // --watch on a terminal: the table is drawn again in place (the cursor goes back up over it).
  std::string pty_script = R"PY(
import os, pty, signal, sys
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], ["paddlecloud"] + sys.argv[2:])
seen = b""
while seen.count(b"\x1b[") < 2:
    try:
        chunk = os.read(fd, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
os.kill(pid, signal.SIGINT)
os.waitpid(pid, 0)
sys.stdout.write(seen.decode())
)PY";
  Outcome drawn = test::RunProgram({"python3", "-c", pty_script, testing::PaddlecloudBinary(), "top", "spin", "-w"},
                                   home_, "", {}, 30s);
  EXPECT_TRUE(std::regex_search(drawn.out, std::regex("\x1b\\[\\d+A\r\x1b\\[J\\d\\d:\\d\\d:\\d\\d  \\(Ctrl-C to stop\\)\r\nPOD ")))
      << drawn;

  // --watch, stdout not a terminal: a block per sample, no cursor moves; it ends with the job.
  auto watcher = Start({"top", "spin", "--watch"});
  auto blocks = [&] {
    std::string out = watcher->Out();
    std::size_t n = 0;
    for (std::size_t at = out.find("POD "); at != std::string::npos; at = out.find("POD ", at + 1)) ++n;
    return n;
  };
  ASSERT_TRUE(testing::WaitFor([&] { return blocks() >= 3; }, 30s)) << watcher->Out() << watcher->Err();
  Api("POST", "/api/v1/jobs/" + id + "/stop");
  Outcome watched = watcher->Wait(30s);
  EXPECT_EQ(watched.exit_code, 0) << watched;
  EXPECT_EQ(watched.out.find('\x1b'), std::string::npos) << watched;
  EXPECT_NE(watched.err.find("Job spin (id " + id + ") Stopped"), std::string::npos) << watched;

  Outcome usage;
  ASSERT_TRUE(testing::WaitFor([&] {
    usage = Cli({"usage"});
    return std::regex_search(usage.out, m, std::regex("CPU time, last 24 hours: [0-9.]+ h \\((\\d+) core-seconds\\)")) &&
           std::stoi(m[1].str()) > 0;
  }, 30s)) << usage;
  EXPECT_TRUE(std::regex_search(usage.out, std::regex("\nann@example.com +[0-9.]+ +0.00\n"))) << usage;
  EXPECT_NE(usage.out.find("CPU hours per day, last 30 days (UTC):"), std::string::npos) << usage;
  EXPECT_TRUE(usage.out.find("\u2581") != std::string::npos || usage.out.find("\u2588") != std::string::npos) << usage;
  Outcome usage_json = Cli({"usage", "--window", "7d", "-o", "json"});
  ASSERT_EQ(usage_json.exit_code, 0) << usage_json;
  json::value account = json::parse(usage_json.out);
  EXPECT_GT(account.at("cpu_seconds").to_number<double>(), 0) << usage_json;
  EXPECT_EQ(account.at("daily").as_array().size(), 30u) << usage_json;
}

TEST_F(TopCliTest, AnotherAccountsJobIsNotFoundAndBadFlagsAreUsageErrors) {
  std::string eve = RegisterUser("eve@example.com", "eve-lab");
  auto submitted = CallWith(eve, "POST", "/api/v1/jobs", {{"name", "eves"}, {"entry", "trap 'exit 0' TERM; sleep 600 & wait"}});
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  std::string eves = std::to_string(json::parse(submitted->body).at("id").as_int64());

  Outcome hidden = Cli({"top", eves});
  Outcome described = Cli({"describe", eves});
  EXPECT_EQ(hidden.exit_code, 1) << hidden;
  EXPECT_EQ(hidden.exit_code, described.exit_code);
  EXPECT_EQ(hidden.err, described.err) << hidden;
  EXPECT_EQ(hidden.err, "paddlecloud: no job with id " + eves + "\n") << hidden;
  EXPECT_EQ(hidden.out, "") << hidden;
  Outcome no_name = Cli({"top", "eves"});
  EXPECT_EQ(no_name.exit_code, 1) << no_name;
  EXPECT_NE(no_name.err.find("no job named 'eves'"), std::string::npos) << no_name;
  // Ann's running job is listed, eve's is not; TearDown stops ann's.
  Outcome mine = Cli({"submit", "--name", "mine", "--cpu", "100m", "--mem", "64Mi", "--entry", "trap 'exit 0' TERM; sleep 600 & wait"});
  ASSERT_EQ(mine.exit_code, 0) << mine;
  Outcome listed = Cli({"top", "-o", "json"});
  ASSERT_EQ(listed.exit_code, 0) << listed;
  json::value listed_json = json::parse(listed.out);
  const json::array& jobs = listed_json.at("jobs").as_array();
  ASSERT_EQ(jobs.size(), 1u) << listed;
  EXPECT_EQ(jobs.at(0).at("name").as_string(), "mine") << listed;

  for (std::vector<std::string> args : {std::vector<std::string>{"top", "-o", "yaml"}, {"usage", "--window", "1y"},
                                        {"usage", "-o", "csv"}, {"top", "a", "b"}}) {
    Outcome run = Cli(args);
    EXPECT_EQ(run.exit_code, 2) << args[0] << " " << args[1] << "\n" << run;
  }
  CallWith(eve, "POST", "/api/v1/jobs/" + eves + "/stop");
  EXPECT_TRUE(testing::WaitFor([&] {
    auto r = CallWith(eve, "GET", "/api/v1/jobs/" + eves);
    std::string state(json::parse(r->body).at("state").as_string());
    return state == "Stopped" || state == "Failed";
  }, 30s));
}

TEST_F(JobsCliTest, BoardListsTheCurvesAJobDrewAndExportsThem) {
  std::string code = dir_.path() + "/drawn";
  fs::create_directories(code);
  fs::copy(std::string(PADDLECLOUD_SOURCE_DIR) + "/testdata/eventfiles/events.out.tfevents.1700000000.testhost.4242.0",
           code);
  Outcome submit = Cli({"submit", code, "--name", "drawn", "--entry", "cp events.out.* $PADDLE_CLOUD_JOB_DIR/board/"});
  ASSERT_EQ(submit.exit_code, 0) << submit;
  Outcome board;
  ASSERT_TRUE(testing::WaitFor([&] {
    board = Cli({"board", "drawn"});
    return board.out.find("lr ") != std::string::npos;
  }, 60s)) << board;
  EXPECT_TRUE(std::regex_search(board.out, std::regex("\ntrain +loss +testhost +3 +0\\.\\.2 +NaN\n"))) << board;
  EXPECT_TRUE(std::regex_search(board.out, std::regex("\neval +accuracy +testhost +2 +1\\.\\.2 +0.5\n"))) << board;

  Outcome csv = Cli({"board", "drawn", "--export", "csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv;
  EXPECT_EQ(csv.out.rfind("graph,curve,pod,step,wall_time,value\r\n", 0), 0u) << csv;
  EXPECT_NE(csv.out.find("train,loss,testhost,1,1700000002.500,1.25\r\n"), std::string::npos) << csv;
  Outcome as_json = Cli({"board", "drawn", "-o", "json"});
  EXPECT_EQ(json::parse(as_json.out).at("graphs").as_array().size(), 4u) << as_json;

  Outcome missing = Cli({"board", "no-such-job"});
  EXPECT_EQ(missing.exit_code, 1) << missing;
  EXPECT_EQ(Cli({"board", "drawn", "--export", "xml"}).exit_code, 2);
}

}  // namespace
}  // namespace paddlecloud::client
