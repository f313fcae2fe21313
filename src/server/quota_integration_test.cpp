// Job quotas end to end: the real binary with the local backend, HTTP from outside, and the
// operator's `paddlecloud admin quota` run as a child process beside the running server.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "testing/platform_fixture.h"
#include "testing/test_database.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

// A pod that runs until the test creates its workspace's file "go".
constexpr char kWaitForGo[] = "while [ ! -e /data/workspace/go ]; do sleep 0.05; done";

class QuotaTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    StartServer({"--quota-cpu", "1"});
    ann_ = RegisterUser("ann@example.com", "ann-lab");
    ann_id_ = Json(CallWith(ann_, "GET", "/api/v1/me")).at("user").at("id").as_int64();
  }
  // Pods outlive the server by design: every unfinished job is stopped so none outlives the test.
  void TearDown() override {
    if (!server_ || !server_->running()) return;
    for (const std::string& token : {ann_, bob_}) {
      if (token.empty()) continue;
      auto list = CallWith(token, "GET", "/api/v1/jobs?status=running&limit=500");
      if (!list || list->status != 200) continue;
      json::value jobs = json::parse(list->body);
      for (const auto& job : jobs.at("items").as_array()) {
        std::string id = std::to_string(job.at("id").as_int64());
        CallWith(token, "POST", "/api/v1/jobs/" + id + "/stop");
        testing::WaitFor([&] { return State(token, job.at("id").as_int64()) != "Running"; }, 30s);
      }
    }
  }
  static json::value Json(const std::optional<testing::HttpReply>& reply) {
    EXPECT_TRUE(reply);
    return reply ? json::parse(reply->body) : json::value();
  }
  std::optional<testing::HttpReply> SubmitJob(const std::string& token, const std::string& name, const std::string& cpu,
                                              int trainers = 1) {
    return CallWith(token, "POST", "/api/v1/jobs",
                    {{"name", name}, {"entry", kWaitForGo}, {"num_trainer", trainers}, {"cpu_per_trainer", cpu},
                     {"mem_per_trainer", "64Mi"}});
  }
  std::string State(const std::string& token, std::int64_t id) {
    auto job = CallWith(token, "GET", "/api/v1/jobs/" + std::to_string(id));
    return job && job->status == 200 ? std::string(json::parse(job->body).at("state").as_string()) : "";
  }
  void Go(std::int64_t user_id) {
    fs::path workspace = fs::path(dir_.path()) / "data/files/ann-lab/workspace" / std::to_string(user_id);
    fs::create_directories(workspace);
    std::ofstream(workspace / "go") << "go";
  }
  // Bob joins Ann's account through an invitation; his token.
  std::string InviteBob() {
    int mails = smtp_->MessageCount();
    EXPECT_EQ(CallWith(ann_, "POST", "/api/v1/account/invitations", {{"email", "bob@example.com"}})->status, 201);
    EXPECT_TRUE(smtp_->WaitForMessages(mails + 1));
    std::smatch m;
    std::string mail = smtp_->DecodedMessage(mails + 1);
    EXPECT_TRUE(std::regex_search(mail, m, std::regex("invite\\?token=([A-Za-z0-9_-]+)"))) << mail;
    EXPECT_EQ(CallWith("", "POST", "/api/v1/auth/invitation/accept",
                       {{"token", m[1].str()}, {"password", "bobs own passphrase"}})->status,
              201);
    auto token = CallWith("", "POST", "/api/v1/auth/tokens",
                          {{"email", "bob@example.com"}, {"password", "bobs own passphrase"}, {"name", "test"}});
    bob_ = std::string(json::parse(token->body).at("token").as_string());
    bob_id_ = Json(CallWith(bob_, "GET", "/api/v1/me")).at("user").at("id").as_int64();
    return bob_;
  }
  // Runs `paddlecloud admin quota ...` on the server's data dir; its output and exit code.
  std::pair<std::string, int> Admin(const std::string& args) {
    std::string url = testing::ServerDatabaseUrl(dir_.path() + "/data");
    std::string out = testing::RunCommand("(" + testing::PaddlecloudBinary() + " admin quota " + args + " --data-dir " +
                                          dir_.path() + "/data" + (url.empty() ? "" : " --database-url '" + url + "'") +
                                          " 2>&1; echo \"exit=$?\")");
    auto at = out.rfind("exit=");
    return {out.substr(0, at), at == std::string::npos ? -1 : std::stoi(out.substr(at + 5))};
  }

  std::string ann_, bob_;
  std::int64_t ann_id_ = 0, bob_id_ = 0;
};

TEST_F(QuotaTest, AJobOverTheQuotaIsRefusedAndOneBesideARunningJobWaitsThenStarts) {
  auto refused = SubmitJob(ann_, "wide", "1", 2);
  ASSERT_EQ(refused->status, 400) << refused->body;
  json::value error = json::parse(refused->body).at("error");
  EXPECT_EQ(error.at("code").as_string(), "quota_exceeded");
  EXPECT_EQ(error.at("message").as_string(), "quota: this job asks 2 CPUs, the account's quota is 1 CPU");

  auto first = Json(SubmitJob(ann_, "first", "600m"));
  std::int64_t first_id = first.at("id").as_int64();
  auto second = SubmitJob(ann_, "second", "600m");
  ASSERT_EQ(second->status, 201) << second->body;
  json::value queued = json::parse(second->body);
  EXPECT_EQ(queued.at("state").as_string(), "Pending");
  EXPECT_EQ(queued.at("reason").as_string(), "waiting for account quota: 0.6 of 1 CPU in use");
  std::int64_t second_id = queued.at("id").as_int64();
  ASSERT_TRUE(testing::WaitFor([&] { return State(ann_, first_id) == "Running"; }, 30s)) << server_->Log();

  json::value quota = Json(CallWith(ann_, "GET", "/api/v1/account/quota"));
  EXPECT_EQ(quota.at("quota").at("cpu").as_int64(), 1) << quota;
  EXPECT_TRUE(quota.at("quota").at("gpus").is_null());
  EXPECT_EQ(quota.at("quota").at("storage_bytes").as_int64(), 10LL << 30);  // storage_quota's default
  EXPECT_EQ(quota.at("in_use").at("cpu").as_double(), 0.6);
  EXPECT_EQ(quota.at("in_use").at("running_jobs").as_int64(), 1);
  EXPECT_GT(quota.at("capacity").at("memory_bytes").as_int64(), 0);
  EXPECT_EQ(quota.at("members").as_array().size(), 1u);
  EXPECT_EQ(State(ann_, second_id), "Pending");  // still: the first runs

  Go(ann_id_);  // the first ends; the second starts and ends too
  ASSERT_TRUE(testing::WaitFor([&] { return State(ann_, second_id) == "Succeeded"; }, 60s)) << server_->Log();
  EXPECT_EQ(State(ann_, first_id), "Succeeded");
  std::string events = CallWith(ann_, "GET", "/api/v1/jobs/" + std::to_string(second_id) + "/events")->body;
  EXPECT_NE(events.find("\"type\":\"Queued\""), std::string::npos) << events;
}

TEST_F(QuotaTest, MembersLimitsAreTheMastersToSetWithinTheQuota) {
  InviteBob();
  std::string limits = "/api/v1/account/members/" + std::to_string(bob_id_) + "/limits";
  // A hostile member raises, or removes, their own limit: refused, and nothing changes.
  for (const json::object& body : {json::object{{"cpu", "64"}}, json::object{{"running_jobs", nullptr}}}) {
    auto raised = CallWith(bob_, "PUT", limits, body);
    EXPECT_EQ(raised->status, 403) << raised->body;
  }
  auto set = CallWith(ann_, "PUT", limits, {{"cpu", "500m"}, {"running_jobs", 1}});
  ASSERT_EQ(set->status, 200) << set->body;
  EXPECT_EQ(json::parse(set->body).at("limits").at("cpu").as_double(), 0.5);
  EXPECT_EQ(CallWith(bob_, "PUT", limits, {{"cpu", "1"}})->status, 403);

  for (auto [body, field] : {std::pair{json::object{{"cpu", "lots"}}, "cpu"}, std::pair{json::object{{"gpus", -1}}, "gpus"},
                             std::pair{json::object{{"memory", "-1Gi"}}, "memory"},
                             std::pair{json::object{{"running_jobs", 1.5}}, "running_jobs"},
                             std::pair{json::object{{"cpu", "2"}}, "cpu"},  // above the account's quota of 1
                             std::pair{json::object{{"cpus", "1"}}, "cpus"}}) {
    auto bad = CallWith(ann_, "PUT", limits, body);
    EXPECT_EQ(bad->status, 400) << json::serialize(body) << ": " << bad->body;
    EXPECT_EQ(json::parse(bad->body).at("error").at("details").at("field").as_string(), field) << bad->body;
  }
  std::string other = RegisterUser("olga@example.com", "olga-lab");
  std::int64_t olga_id = Json(CallWith(other, "GET", "/api/v1/me")).at("user").at("id").as_int64();
  EXPECT_EQ(CallWith(ann_, "PUT", "/api/v1/account/members/" + std::to_string(olga_id) + "/limits", {{"cpu", "1"}})->status,
            404);

  // Bob's limit refuses what is over it and queues what waits for it; he sees only his own entry.
  auto over = SubmitJob(bob_, "over", "600m");
  ASSERT_EQ(over->status, 400) << over->body;
  EXPECT_NE(over->body.find("quota: this job asks 0.6 CPUs, your limit is 0.5 CPUs"), std::string::npos) << over->body;
  EXPECT_EQ(SubmitJob(bob_, "one", "100m")->status, 201);
  auto two = Json(SubmitJob(bob_, "two", "100m"));
  EXPECT_EQ(two.at("reason").as_string(), "waiting for your limit: 1 of 1 running job in use");
  auto anns = Json(SubmitJob(ann_, "anns", "100m"));  // Ann's job is not held up by Bob's limit
  EXPECT_FALSE(anns.at("reason").as_string().starts_with("waiting")) << anns;
  json::value seen = Json(CallWith(bob_, "GET", "/api/v1/account/quota"));
  ASSERT_EQ(seen.at("members").as_array().size(), 1u) << seen;
  EXPECT_EQ(seen.at("members").at(0).at("email").as_string(), "bob@example.com");
  EXPECT_EQ(seen.at("members").at(0).at("limits").at("running_jobs").as_int64(), 1);
  EXPECT_EQ(Json(CallWith(ann_, "GET", "/api/v1/account/quota")).at("members").as_array().size(), 2u);

  auto audit = CallWith(ann_, "GET", "/api/v1/account/audit?kind=member");
  EXPECT_NE(audit->body.find("member.limits_changed"), std::string::npos) << audit->body;
}

TEST_F(QuotaTest, TheOperatorSetsAndShowsAQuotaBesideTheRunningServerAndALowerQuotaStopsNothing) {
  auto first = Json(SubmitJob(ann_, "first", "800m"));
  std::int64_t first_id = first.at("id").as_int64();
  ASSERT_TRUE(testing::WaitFor([&] { return State(ann_, first_id) == "Running"; }, 30s)) << server_->Log();

  auto [set, set_exit] = Admin("set ann@example.com --cpu 500m --memory 8Gi --jobs none --storage 1Gi");
  ASSERT_EQ(set_exit, 0) << set;
  EXPECT_NE(set.find("account ann-lab"), std::string::npos) << set;
  EXPECT_NE(set.find("0.5 CPUs"), std::string::npos) << set;
  auto [shown, show_exit] = Admin("show ann-lab");
  ASSERT_EQ(show_exit, 0) << shown;
  for (const char* line : {"cpu +0\\.5 CPUs", "memory +8Gi", "gpus +the server's default \\(quota_gpus\\)",
                           "running_jobs +none", "storage +1Gi"})
    EXPECT_TRUE(std::regex_search(shown, std::regex(line))) << line << "\n" << shown;
  json::value quota = Json(CallWith(ann_, "GET", "/api/v1/account/quota"));
  EXPECT_EQ(quota.at("quota").at("cpu").as_double(), 0.5) << quota;
  EXPECT_EQ(quota.at("quota").at("memory_bytes").as_int64(), 8LL << 30);
  EXPECT_TRUE(quota.at("quota").at("running_jobs").is_null());
  EXPECT_EQ(quota.at("quota").at("storage_bytes").as_int64(), 1LL << 30);
  EXPECT_EQ(Json(CallWith(ann_, "GET", "/api/v1/storage")).at("quota_bytes").to_number<std::int64_t>(), 1LL << 30);

  // Below what runs now: the running job keeps running, a new one waits.
  auto next = Json(SubmitJob(ann_, "next", "100m"));
  EXPECT_EQ(next.at("reason").as_string(), "waiting for account quota: 0.8 of 0.5 CPUs in use");
  EXPECT_EQ(State(ann_, first_id), "Running");

  EXPECT_EQ(Admin("set ann-lab --cpu lots").second, 2);
  EXPECT_EQ(Admin("set nobody@example.com --cpu 1").second, 1);
  auto audit = CallWith(ann_, "GET", "/api/v1/account/audit?kind=account");
  EXPECT_NE(audit->body.find("account.quota_changed"), std::string::npos) << audit->body;
}

}  // namespace
}  // namespace paddlecloud
