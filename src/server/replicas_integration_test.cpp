// Several servers on one PostgreSQL and one data dir: one leads, the others stand by and take over
// within seconds when it dies or stalls; a job running across the change runs on, started once.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "testing/platform_fixture.h"
#include "testing/test_database.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class ReplicasTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    if (!testing::TestsUsePostgres()) GTEST_SKIP() << "servers share a database on PostgreSQL only";
    PlatformTest::SetUp();
    StartServer();
  }
  // Another server on the same data dir and database: it stands by while the first leads.
  std::unique_ptr<testing::ServerProcess> StartStandby() {
    return std::make_unique<testing::ServerProcess>(
        dir_.path() + "/data", std::vector<std::string>{"--smtp-host", "127.0.0.1", "--smtp-port",
                                                         std::to_string(smtp_->port()), "--smtp-security", "none",
                                                         "--access-log", "false"});
  }
  json::value Get(const std::string& token, const std::string& target) {
    auto reply = CallWith(token, "GET", target);
    return reply && reply->status == 200 ? json::parse(reply->body) : json::value();
  }
  std::string State(const std::string& token, std::int64_t id) {
    json::value job = Get(token, "/api/v1/jobs/" + std::to_string(id));
    return job.is_object() ? std::string(job.at("state").as_string()) : "";
  }
  bool Ready() {
    auto reply = testing::Request(addr_, "GET", "/readyz");
    return reply && reply->status == 200;
  }
};

TEST_F(ReplicasTest, AStandbyTakesOverAKilledLeaderWithinSecondsAndTheRunningJobGoesOnStartedOnce) {
  std::string ann = RegisterUser("ann@example.com", "ann-lab");
  auto standby = StartStandby();
  auto ready = json::parse(testing::Request(addr_, "GET", "/readyz")->body);
  EXPECT_EQ(ready.at("checks").at("database_engine"), "postgres");
  EXPECT_EQ(ready.at("checks").at("leader"), "this server (epoch 1)");
  EXPECT_TRUE(standby->running());

  std::string go = dir_.path() + "/data/files/ann-lab/datasets/go";
  auto job = CallWith(ann, "POST", "/api/v1/jobs",
                      {{"name", "survivor"},
                       {"entry", "echo begin; while [ ! -e \"$PADDLE_CLOUD_DATA/datasets/go\" ]; do sleep 0.1; done; echo end"},
                       {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "64Mi"}});
  ASSERT_EQ(job->status, 201) << job->body;
  const std::int64_t id = json::parse(job->body).at("id").as_int64();
  const std::string logs = "/api/v1/jobs/" + std::to_string(id) + "/pods/survivor-" + std::to_string(id) + "-trainer-0/logs";
  ASSERT_TRUE(testing::WaitFor([&] { return CallWith(ann, "GET", logs)->body.find("begin") != std::string::npos; }, 30s));

  const auto killed = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->Stop(SIGKILL), 128 + SIGKILL);
  ASSERT_TRUE(standby->WaitReady(15s)) << standby->Log();
  addr_ = standby->address();
  ASSERT_TRUE(testing::WaitFor([&] { return Ready(); }, 10s)) << standby->Log();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed);
  EXPECT_LT(took, 6s) << "from the leader's death to a ready successor";
  RecordProperty("failover_ms", static_cast<int>(took.count()));
  EXPECT_EQ(json::parse(testing::Request(addr_, "GET", "/readyz")->body).at("checks").at("leader"),
            "this server (epoch 2)");

  EXPECT_EQ(State(ann, id), "Running");  // readopted, not restarted
  std::filesystem::create_directories(std::filesystem::path(go).parent_path());
  std::ofstream(go) << "go";
  ASSERT_TRUE(testing::WaitFor([&] { return State(ann, id) == "Succeeded"; }, 30s)) << standby->Log();
  std::string log = CallWith(ann, "GET", logs)->body;
  EXPECT_EQ(log.find("begin"), log.rfind("begin")) << log;  // started once
  EXPECT_NE(log.find("end"), std::string::npos) << log;
  server_ = std::move(standby);
}

// A leader stalled past its lease (SIGSTOP) is replaced; on waking it learns it no longer leads and
// ends itself without serving a request.
TEST_F(ReplicasTest, AStalledLeaderWakingAfterItsSuccessorTookOverEndsItself) {
  std::string ann = RegisterUser("ann@example.com", "ann-lab");
  auto standby = StartStandby();
  const std::string old_addr = addr_;
  ASSERT_EQ(::kill(server_->pid(), SIGSTOP), 0);
  ASSERT_TRUE(standby->WaitReady(15s)) << standby->Log();
  ASSERT_EQ(::kill(server_->pid(), SIGCONT), 0);
  EXPECT_EQ(server_->WaitExit(10s), 3) << server_->Log();
  EXPECT_NE(server_->Log().find("lost the leadership lease"), std::string::npos) << server_->Log();

  addr_ = standby->address();
  ASSERT_TRUE(testing::WaitFor([&] { return Ready(); }, 10s)) << standby->Log();
  EXPECT_EQ(Get(ann, "/api/v1/me").at("user").at("email"), "ann@example.com");
  server_ = std::move(standby);
}

// A leader stopped on purpose hands over at once, not after its lease.
TEST_F(ReplicasTest, ALeaderStoppedGracefullyHandsOverAtOnce) {
  auto standby = StartStandby();
  const auto stopped = std::chrono::steady_clock::now();
  ASSERT_EQ(server_->Stop(SIGTERM), 0) << server_->Log();
  ASSERT_TRUE(standby->WaitReady(15s)) << standby->Log();
  EXPECT_LT(std::chrono::steady_clock::now() - stopped, 2500ms);
  // A standby stopped while standing by ends cleanly too.
  auto second = StartStandby();
  ASSERT_TRUE(testing::WaitFor([&] { return second->Log().find("standing by") != std::string::npos; }, 10s))
      << second->Log();
  EXPECT_EQ(second->Stop(SIGTERM, 10s), 0) << second->Log();
  server_ = std::move(standby);
}

}  // namespace
}  // namespace paddlecloud
