// Several servers on one PostgreSQL and one data dir: one leads, the others stand by and take over
// within seconds when it dies or stalls; a job running across the change runs on, started once.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <filesystem>
#include <atomic>
#include <fstream>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "testing/nginx_front.h"
#include "testing/platform_fixture.h"
#include "testing/test_database.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

const std::string kEvents = "events.out.tfevents.1700000000.testhost.4242.0";  // 3 points of train/loss ...

// A job whose trainer prints "begin", waits for the account's datasets/go, then prints "end". With
// `board`, it copies the account's datasets/<kEvents> into its board before, and into its board's
// eval/ after.
json::value SurvivorJob(bool board = false) {
  const std::string before = board ? "cp $D/" + kEvents + " $B/; " : "";
  const std::string after = board ? "; mkdir $B/eval && cp $D/" + kEvents + " $B/eval/events.out.tfevents.1700000000" : "";
  return {{"name", "survivor"},
          {"entry", "D=$PADDLE_CLOUD_DATA/datasets; B=$PADDLE_CLOUD_JOB_DIR/board; " + before +
                        "echo begin; while [ ! -e $D/go ]; do sleep 0.1; done" + after + "; echo end"},
          {"cpu_per_trainer", "100m"},
          {"mem_per_trainer", "64Mi"}};
}
std::string SurvivorLog(std::int64_t id) {
  return "/api/v1/jobs/" + std::to_string(id) + "/pods/survivor-" + std::to_string(id) + "-trainer-0/logs";
}

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
  auto job = CallWith(ann, "POST", "/api/v1/jobs", SurvivorJob());
  ASSERT_EQ(job->status, 201) << job->body;
  const std::int64_t id = json::parse(job->body).at("id").as_int64();
  const std::string logs = SurvivorLog(id);
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
  std::string metrics = testing::Request(addr_, "GET", "/metrics")->body;
  EXPECT_NE(metrics.find("paddlecloud_leader_epoch 2"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("paddlecloud_db_connections{state=\"in_use\"}"), std::string::npos);

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


// The last `id:` of the Server-Sent Events in `stream` ("" when none).
std::string LastEventId(const std::string& stream) {
  auto at = stream.rfind("\nid: ");
  if (at == std::string::npos) return "";
  at += 5;
  return stream.substr(at, stream.find('\n', at) - at);
}

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// The done-when of the scale-out: three replicas behind Debian's nginx; a standby is killed, then the
// leader, while a job runs, a log streams and an upload is half sent.
class ReplicasBehindNginxTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    if (!testing::TestsUsePostgres()) GTEST_SKIP() << "servers share a database on PostgreSQL only";
    PlatformTest::SetUp();
    const int front = testing::FreeLoopbackPort();
    for (int i = 0; i < 3; ++i) ports_.push_back(testing::FreeLoopbackPort());
    std::vector<std::string> upstreams;
    for (int port : ports_) upstreams.push_back("127.0.0.1:" + std::to_string(port));
    for (int i = 0; i < 3; ++i) {
      replicas_.push_back(std::make_unique<testing::ServerProcess>(
          dir_.path() + "/data",
          std::vector<std::string>{"--smtp-host", "127.0.0.1", "--smtp-port", std::to_string(smtp_->port()),
                                   "--smtp-security", "none", "--access-log", "false", "--public-url",
                                   "http://127.0.0.1:" + std::to_string(front), "--trusted-proxies", "127.0.0.1",
                                   "--notebook-listen", "127.0.0.1:0"},  // not the next port: another's
          testing::ServerProcessOptions{.listen = upstreams[i]}));
      if (i == 0) {
        ASSERT_TRUE(replicas_[0]->WaitReady()) << replicas_[0]->Log();  // the first leads
      }
    }
    nginx_ = std::make_unique<testing::NginxFront>(dir_.path() + "/nginx", front, upstreams);
    ASSERT_TRUE(nginx_->WaitReady()) << nginx_->ErrorLog();
    addr_ = nginx_->address();
  }
  void TearDown() override {
    nginx_.reset();
    replicas_.clear();
  }
  std::string State(const std::string& token, std::int64_t id) {
    auto reply = CallWith(token, "GET", "/api/v1/jobs/" + std::to_string(id));
    return reply && reply->status == 200 ? std::string(json::parse(reply->body).at("state").as_string()) : "";
  }
  bool Ready() {
    auto reply = testing::Request(addr_, "GET", "/readyz");
    return reply && reply->status == 200;
  }

  std::vector<int> ports_;
  std::vector<std::unique_ptr<testing::ServerProcess>> replicas_;
  std::unique_ptr<testing::NginxFront> nginx_;
};

TEST_F(ReplicasBehindNginxTest, KillingAStandbyThenTheLeaderLosesNoJobNoUploadNoLogLineAndNoBoardPoint) {
  std::string ann = RegisterUser("ann@example.com", "ann-lab");
  const std::string datasets = dir_.path() + "/data/files/ann-lab/datasets";
  std::filesystem::create_directories(datasets);
  std::filesystem::copy(std::string(PADDLECLOUD_SOURCE_DIR) + "/testdata/eventfiles/" + kEvents, datasets);
  auto job = CallWith(ann, "POST", "/api/v1/jobs", SurvivorJob(/*board=*/true));
  ASSERT_EQ(job->status, 201) << job->body;
  const std::int64_t id = json::parse(job->body).at("id").as_int64();
  const std::string stream_path = SurvivorLog(id) + "/stream";
  auto follow = [&](const std::string& last_id) {
    auto c = std::make_unique<testing::RawConnection>(addr_);
    c->Send("GET " + stream_path + " HTTP/1.1\r\nHost: " + addr_ + "\r\nAuthorization: Bearer " + ann +
            (last_id.empty() ? "" : "\r\nLast-Event-ID: " + last_id) + "\r\n\r\n");
    return c;
  };
  auto stream = follow("");
  std::string seen = stream->ReadUntil("begin", std::chrono::seconds(30));
  ASSERT_NE(seen.find("begin"), std::string::npos) << seen;
  const std::string board = "/api/v1/board/data?source=job:" + std::to_string(id) + "&graph=";
  auto points = [&](const std::string& graph) {
    auto reply = CallWith(ann, "GET", board + graph);
    if (!reply || reply->status != 200) return std::string();
    const json::value data = json::parse(reply->body);
    std::string steps;  // each series' steps
    for (const auto& series : data.at("series").as_array()) steps += json::serialize(series.at("step"));
    return steps;
  };
  // The file's points arrive as the ingester reads it: wait for all of them.
  const std::string eval_before = "[1,2]";
  ASSERT_TRUE(testing::WaitFor([&] { return points("train") == "[0,1,2]" && points("eval") == eval_before; }, 30s))
      << points("train") << " " << points("eval");

  // An upload, half sent.
  const std::string content(300000, 'x');
  auto created = CallWith(ann, "POST", "/api/v1/uploads", {{"path", "datasets/big.bin"}, {"size", 300000}});
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string upload = std::string(json::parse(created->body).at("id").as_string());
  auto put = [&](std::size_t from, std::size_t to) {
    return testing::Request(addr_, "PUT", "/api/v1/uploads/" + upload, content.substr(from, to - from),
                            "Authorization: Bearer " + ann + "\r\nContent-Range: bytes " + std::to_string(from) + "-" +
                                std::to_string(to - 1) + "/" + std::to_string(content.size()) + "\r\n");
  };
  ASSERT_EQ(put(0, 150000)->status, 200);

  // A standby dies: nobody notices.
  EXPECT_EQ(replicas_[2]->Stop(SIGKILL), 128 + SIGKILL);
  EXPECT_EQ(State(ann, id), "Running");

  // The leader dies.
  const auto killed = std::chrono::steady_clock::now();
  EXPECT_EQ(replicas_[0]->Stop(SIGKILL), 128 + SIGKILL);
  ASSERT_TRUE(testing::WaitFor([&] { return Ready(); }, 15s)) << replicas_[1]->Log() << nginx_->ErrorLog();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - killed);
  EXPECT_LT(took, 6s) << "from the leader's death to a ready successor behind nginx";
  RecordProperty("failover_ms", static_cast<int>(took.count()));

  // The log stream, cut, resumes where it was.
  seen += stream->ReadUntil("\n\n\n", std::chrono::seconds(2));  // whatever came before the cut
  const std::string last_id = LastEventId(seen);
  ASSERT_FALSE(last_id.empty()) << seen;
  auto resumed = follow(last_id);
  std::ofstream(dir_.path() + "/data/files/ann-lab/datasets/go") << "go";
  std::string rest = resumed->ReadUntil("event: end", std::chrono::seconds(30));
  rest += resumed->ReadUntil("\n\n", std::chrono::seconds(5));  // the end event's data
  EXPECT_NE(rest.find("end\\n"), std::string::npos) << rest;
  EXPECT_EQ(rest.find("begin"), std::string::npos) << rest;  // nothing repeated
  EXPECT_NE(rest.find("Succeeded"), std::string::npos) << rest;

  // The upload goes on from its offset on the new leader.
  auto where = CallWith(ann, "GET", "/api/v1/uploads/" + upload);
  ASSERT_EQ(where->status, 200) << where->body;
  EXPECT_EQ(json::parse(where->body).at("offset").as_int64(), 150000);
  auto done = put(150000, content.size());
  ASSERT_EQ(done->status, 200) << done->body;
  EXPECT_TRUE(json::parse(done->body).at("complete").as_bool());
  auto file = CallWith(ann, "GET", "/api/v1/download/datasets/big.bin");
  EXPECT_EQ(file->body, content);

  // The board has the points written before the change, once, and those the run in eval/ wrote after.
  EXPECT_TRUE(testing::WaitFor([&] { return points("eval") == eval_before + eval_before; }, 30s)) << points("eval");
  EXPECT_EQ(points("train"), "[0,1,2][0,1,2]");

  // The job ran once, to its end.
  EXPECT_EQ(State(ann, id), "Succeeded");
  auto log = CallWith(ann, "GET", SurvivorLog(id));
  EXPECT_EQ(Count(log->body, "begin"), 1) << log->body;
}


// PostgreSQL restarted under a serving leader: requests fail fast with 503, nothing is half-written,
// and the server recovers by itself.
class DatabaseRestartTest : public testing::PlatformTest {};

TEST_F(DatabaseRestartTest, RequestsFailFastWith503WhileItIsDownAndSucceedAfterNothingHalfWritten) {
  if (!testing::TestsUsePostgres()) GTEST_SKIP() << "the PostgreSQL adapter's faults";
  testing::OwnPostgres pg;
  ASSERT_TRUE(pg.Start().ok());
  auto url = pg.NewDatabase();
  ASSERT_TRUE(url) << url.error().message();
  StartServer({"--database-url", *url, "--leader-lease", "20s"});  // outlasts the outage
  std::string ann = RegisterUser("ann@example.com", "ann-lab");

  // Submissions run on while the database goes away and comes back.
  std::atomic<bool> done{false};
  std::atomic<int> accepted{0}, refused{0}, other{0};
  std::vector<std::int64_t> ids;
  std::mutex ids_mu;
  std::jthread load([&] {  // joined however the test ends
    for (int i = 0; !done.load(); ++i) {
      auto r = CallWith(ann, "POST", "/api/v1/jobs", {{"name", "j" + std::to_string(i)}, {"entry", "true"}});
      if (r && r->status == 201) {
        accepted++;
        std::lock_guard lock(ids_mu);
        ids.push_back(json::parse(r->body).at("id").as_int64());
      } else if (r && r->status == 503) {
        refused++;
      } else {
        other++;
      }
    }
  });
  struct StopLoad {
    std::atomic<bool>& done;
    ~StopLoad() { done = true; }
  } stop_load{done};  // declared after `load`: set before it is joined
  ASSERT_TRUE(testing::WaitFor([&] { return accepted.load() >= 3; }, 30s));
  ASSERT_TRUE(pg.Halt());
  const auto t0 = std::chrono::steady_clock::now();
  auto down = CallWith(ann, "GET", "/api/v1/jobs");  // (who the token is may be answered from memory)
  const auto answered_in = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503) << down->body;
  EXPECT_NE(down->body.find("\"unavailable\""), std::string::npos) << down->body;
  EXPECT_LT(answered_in, 5s);
  ASSERT_TRUE(testing::WaitFor([&] { return refused.load() >= 1; }, 30s));
  ASSERT_TRUE(pg.Resume());
  ASSERT_TRUE(testing::WaitFor([&] {
    auto r = CallWith(ann, "GET", "/api/v1/jobs");
    return r && r->status == 200;
  }, 20s)) << server_->Log();
  const int before = accepted.load();
  ASSERT_TRUE(testing::WaitFor([&] { return accepted.load() > before; }, 30s));
  done = true;
  load.join();
  EXPECT_EQ(other.load(), 0);

  // Every accepted job is there, and only those: none was half-recorded.
  auto list = CallWith(ann, "GET", "/api/v1/jobs?limit=500");
  ASSERT_TRUE(list && list->status == 200) << (list ? list->body : server_->Log());
  std::set<std::int64_t> listed;
  const json::value jobs = json::parse(list->body);
  for (const auto& job : jobs.at("items").as_array()) listed.insert(job.at("id").as_int64());
  std::lock_guard lock(ids_mu);
  EXPECT_EQ(listed, std::set<std::int64_t>(ids.begin(), ids.end()));
  EXPECT_TRUE(server_->running());
}

}  // namespace
}  // namespace paddlecloud
