// Isolation: what a hostile tenant's job tries against the platform and another tenant on the
// same server, each refused. The attacks run as real jobs of account ann-lab (the attacker)
// against bob-lab (the victim); each prints "<attack>=ok" when refused and "<attack>=LEAK"
// otherwise. The suite runs with the server as root (pods as per-account uids) and as an
// unprivileged user (pods in user namespaces); either way each job has a network of its own.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "testing/http_client.h"
#include "testing/platform_fixture.h"
#include "testing/server_process.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kNobody = 65534;
constexpr int kPidsLimit = 64;

// Every attack of the suite: a check in the pod that prints "<name>=ok" when the attack failed.
const char kAttacks[] = R"sh(
check() { name=$1; shift; if "$@" >/dev/null 2>&1; then echo "$name=LEAK"; else echo "$name=ok"; fi; }
check database cat "$HOST_DATA/paddlecloud.db"
check database_anywhere sh -c 'find / -xdev -name paddlecloud.db 2>/dev/null | grep -q .'
check ca_key cat "$HOST_DATA/ca/ca.key"
check other_account_files ls "$HOST_DATA/files/bob-lab/datasets"
check other_account_write sh -c 'echo evil > "$HOST_DATA/files/bob-lab/datasets/victim/evil"'
check data_shows_only_ours sh -c 'test "$(ls /data | tr "\n" " ")" != "datasets models workspace "'
check job_state ls "$HOST_DATA/cluster"
check other_tokens sh -c 'test "$(cat /proc/[0-9]*/environ 2>/dev/null | tr "\0" "\n" | grep "^PADDLE_CLOUD_TOKEN=" | sort -u | wc -l)" -gt 1'
check server_env sh -c 'env | grep -q "^PADDLECLOUD_\|SMTP_PASSWORD" || cat /proc/[0-9]*/environ 2>/dev/null | tr "\0" "\n" | grep -q SMTP_PASSWORD'
check server_proc sh -c 'grep -q paddlecloud "/proc/$SERVER_PID/cmdline" || cat "/proc/$SERVER_PID/maps"'
check process_count sh -c 'test "$(ls /proc | grep -c "^[0-9]*$")" -gt 8'
check share_write touch /shared/bob-lab/datasets/victim/planted
check share_remount mount -o remount,rw /shared/bob-lab/datasets/victim
check share_bind_over mount --bind /tmp /shared/bob-lab/datasets/victim
check sdk_write touch /paddlecloud/python/paddlecloud/planted
check sdk_remount mount -o remount,rw /paddlecloud/python
check cgroup_escape sh -c 'echo $$ > /sys/fs/cgroup/memory/cgroup.procs || echo $$ > /sys/fs/cgroup/cgroup.procs'
check new_user_namespace unshare --user --map-root-user true
check devices sh -c 'ls /dev | grep -qE "^(sd|vd|nvme|xvd|loop|mem|kmem|port)"'
check root_uid sh -c 'test "$(id -u)" = 0'
check planted_log_link ls "$PADDLE_CLOUD_JOB_DIR/../logs" "$PADDLE_CLOUD_JOB_DIR/logs"
check other_job_port python3 -c 'import os, socket; socket.create_connection(("127.0.0.1", int(os.environ["VICTIM_PORT"])), timeout=3)'
python3 -c 'import os, urllib.request; urllib.request.urlopen(os.environ["PADDLE_CLOUD_URL"] + "/api/v1/version", timeout=5)' && echo api-reachable
echo attacks-done
)sh";

class IsolationTest : public testing::PlatformTest, public ::testing::WithParamInterface<bool> {
 protected:
  bool Unprivileged() const { return GetParam(); }

  void SetUp() override {
    if (::geteuid() != 0 && !Unprivileged()) GTEST_SKIP() << "the root variant needs root";
    PlatformTest::SetUp();
    testing::ServerProcessOptions options;
    options.env = {{"SMTP_PASSWORD_OF_THE_SERVER", "smtp-secret-of-the-server"}};
    if (Unprivileged() && ::geteuid() == 0) {
      fs::create_directories(Data());
      ASSERT_EQ(::chown(Data().c_str(), kNobody, kNobody), 0);
      options.uid = options.gid = kNobody;
      // The build may sit in a folder only root can enter (a clone in `mktemp -d`): the server and
      // its pod supervisor run from copies nobody can reach.
      fs::path built = testing::PaddlecloudBinary(), bin = dir_.path() + "/bin";
      fs::create_directories(bin);
      for (const char* name : {"paddlecloud", "paddlecloud-pod-supervisor"})
        fs::copy_file(built.parent_path() / name, bin / name, fs::copy_options::overwrite_existing);
      options.binary = (bin / "paddlecloud").string();
    } else {
      // Like a data dir under /root: pods need no access to the folders above their data.
      ASSERT_EQ(::chmod(dir_.path().c_str(), 0700), 0);
    }
    StartServer({"--pod-pids-limit", std::to_string(kPidsLimit)}, options);
    if (HasFatalFailure()) return;
    ann_ = RegisterUser("ann@example.com", "ann-lab");
    bob_ = RegisterUser("bob@example.com", "bob-lab");
  }

  void TearDown() override {
    for (const auto& token : {ann_, bob_}) {
      if (!server_ || !server_->running() || token.empty()) continue;
      auto list = CallWith(token, "GET", "/api/v1/jobs?status=running&limit=500");
      if (!list || list->status != 200) continue;
      json::value jobs = json::parse(list->body);
      for (const auto& job : jobs.at("items").as_array()) {
        std::string id = std::to_string(job.at("id").as_int64());
        CallWith(token, "POST", "/api/v1/jobs/" + id + "/stop");
        testing::WaitFor([&] { return Finished(token, id); }, 30s);
      }
    }
  }

  std::string Data() const { return dir_.path() + "/data"; }

  bool Finished(const std::string& token, const std::string& id) {
    std::string state(json::parse(CallWith(token, "GET", "/api/v1/jobs/" + id)->body).at("state").as_string());
    return state == "Succeeded" || state == "Failed" || state == "Stopped";
  }

  std::string Submit(const std::string& token, json::object spec) {
    spec.emplace("cpu_per_trainer", "100m");
    spec.emplace("mem_per_trainer", "128Mi");
    auto r = CallWith(token, "POST", "/api/v1/jobs", spec);
    EXPECT_EQ(r->status, 201) << r->body;
    return std::to_string(json::parse(r->body).at("id").as_int64());
  }

  json::object Job(const std::string& token, const std::string& id) {
    return json::parse(CallWith(token, "GET", "/api/v1/jobs/" + id)->body).as_object();
  }

  std::string Log(const std::string& token, const std::string& id, const std::string& pod) {
    auto r = CallWith(token, "GET", "/api/v1/jobs/" + id + "/pods/" + pod + "/logs?tail=1000");
    return r && r->status == 200 ? std::string(json::parse(r->body).at("text").as_string()) : "";
  }

  std::string ann_, bob_;
};

TEST_P(IsolationTest, AHostileJobReachesNothingThatIsNotItsOwn) {
  // The victim: data shared read-only with the attacker, and a job whose parameter server listens.
  ASSERT_EQ(UploadFile(bob_, "datasets/victim/secret.csv", "1,2\n")->status, 200);
  ASSERT_EQ(CallWith(bob_, "POST", "/api/v1/shares", {{"path", "datasets/victim"}, {"account", "ann-lab"}})->status, 201);
  std::string victim = Submit(
      bob_, {{"name", "victim"}, {"num_ps", 1}, {"cpu_per_ps", "100m"}, {"mem_per_ps", "128Mi"},
             {"entry",
              "if [ \"$TRAINING_ROLE\" = PSERVER ]; then exec python3 -c 'import os, socket; s = socket.socket(); "
              "s.bind((os.environ[\"POD_IP\"], int(os.environ[\"PADDLE_PORT\"]))); s.listen(); print(\"listening\", flush=True)\n"
              "while True: s.accept()[0].close()'; fi; "
              "sleep 1; python3 -c 'import os, socket; h, p = os.environ[\"PADDLE_PSERVERS_IP_PORT_LIST\"].split(\":\"); "
              "socket.create_connection((h, int(p)), timeout=5); print(\"own pserver reached\", flush=True)'; sleep 300"}});
  std::string victim_port;
  ASSERT_TRUE(testing::WaitFor([&] {
    auto pods = Job(bob_, victim).at("pods").as_array();
    if (pods.size() != 2 || Log(bob_, victim, "victim-" + victim + "-trainer-0").find("own pserver reached") == std::string::npos)
      return false;
    std::string endpoint(pods[1].at("endpoint").as_string());
    victim_port = endpoint.substr(endpoint.rfind(':') + 1);
    return true;
  }, 60s)) << Log(bob_, victim, "victim-" + victim + "-pserver-0") << Log(bob_, victim, "victim-" + victim + "-trainer-0");

  std::string attack = Submit(ann_, {{"name", "attack"},
                                     {"entry", kAttacks},
                                     {"env", {{"HOST_DATA", fs::canonical(Data()).string()},
                                              {"SERVER_PID", std::to_string(server_->pid())},
                                              {"VICTIM_PORT", victim_port}}}});
  std::string pod = "attack-" + attack + "-trainer-0";
  ASSERT_TRUE(testing::WaitFor([&] { return Finished(ann_, attack); }, 120s)) << Log(ann_, attack, pod);
  std::string log = Log(ann_, attack, pod);
  ASSERT_NE(log.find("attacks-done"), std::string::npos) << log;
  EXPECT_NE(log.find("api-reachable"), std::string::npos) << "the platform's API must stay reachable\n" << log;
  EXPECT_EQ(log.find("isolation: no network namespace"), std::string::npos) << "every job has a network of its own\n" << log;
  std::regex result("(\\w+)=(ok|LEAK)");
  int checked = 0;
  for (std::sregex_iterator it(log.begin(), log.end(), result), end; it != end; ++it, ++checked) {
    std::string name = (*it)[1];
    EXPECT_EQ((*it)[2], "ok") << name << " is not refused\n" << log;
  }
  EXPECT_EQ(checked, 22) << log;

  // Nothing reached the victim's files, and the server never gave the pod its own environment.
  EXPECT_FALSE(fs::exists(Data() + "/files/bob-lab/datasets/victim/evil"));
  EXPECT_FALSE(fs::exists(Data() + "/files/bob-lab/datasets/victim/planted"));
  EXPECT_EQ(log.find("smtp-secret-of-the-server"), std::string::npos);
}

TEST_P(IsolationTest, AForkBombStopsAtThePidsLimitAndTheServerKeepsServing) {
  std::string bomb = Submit(
      ann_, {{"name", "bomb"},
             {"entry", "python3 -c '\nimport os, sys, time\nn = 0\ntry:\n    while n < 100000:\n"
                       "        if os.fork() == 0:\n            time.sleep(60); os._exit(0)\n        n += 1\n"
                       "except OSError as e:\n    print(\"fork refused after\", n, flush=True); sys.exit(7)\n"
                       "print(\"forked\", n, flush=True)'"}});
  std::string pod = "bomb-" + bomb + "-trainer-0";
  ASSERT_TRUE(testing::WaitFor([&] {
    EXPECT_EQ(testing::Request(addr_, "GET", "/api/v1/version")->status, 200);
    return Finished(ann_, bomb);
  }, 60s)) << Log(ann_, bomb, pod);
  auto job = Job(ann_, bomb);
  EXPECT_EQ(job.at("state").as_string(), "Failed") << json::serialize(job);
  std::string log = Log(ann_, bomb, pod);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(log, m, std::regex("fork refused after (\\d+)"))) << log;
  EXPECT_LT(std::stoi(m[1]), kPidsLimit) << log;
  EXPECT_EQ(testing::Request(addr_, "GET", "/api/v1/version")->status, 200);
}

TEST_P(IsolationTest, ALinkPlantedInASharedFolderIsNeverMounted) {
  // bob's own job turns the folder it shares with ann into a link to the machine's root.
  ASSERT_EQ(UploadFile(bob_, "datasets/bait/x.txt", "x")->status, 200);
  ASSERT_EQ(CallWith(bob_, "POST", "/api/v1/shares", {{"path", "datasets/bait"}, {"account", "ann-lab"}})->status, 201);
  std::string plant = Submit(bob_, {{"name", "plant"}, {"entry", "rm -rf /data/datasets/bait && ln -s / /data/datasets/bait"}});
  ASSERT_TRUE(testing::WaitFor([&] { return Finished(bob_, plant); }, 60s));
  ASSERT_TRUE(fs::is_symlink(Data() + "/files/bob-lab/datasets/bait")) << Log(bob_, plant, "plant-" + plant + "-trainer-0");

  std::string reader = Submit(ann_, {{"name", "reader"}, {"entry", "ls /shared/bob-lab/datasets/bait/etc && echo FOLLOWED; true"}});
  std::string pod = "reader-" + reader + "-trainer-0";
  ASSERT_TRUE(testing::WaitFor([&] { return Finished(ann_, reader); }, 60s));
  std::string log = Log(ann_, reader, pod);
  EXPECT_EQ(Job(ann_, reader).at("state").as_string(), "Succeeded") << log;
  EXPECT_EQ(log.find("FOLLOWED"), std::string::npos) << log;
  EXPECT_NE(log.find("/shared/bob-lab/datasets/bait is left out"), std::string::npos) << log;
}

INSTANTIATE_TEST_SUITE_P(ServerUser, IsolationTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Unprivileged" : "Root"; });

}  // namespace
}  // namespace paddlecloud
