// `paddlecloud admin migrate-db`: a SQLite installation moved into PostgreSQL keeps its users,
// tokens, files' records and jobs, and goes on from there.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <string>

#include "testing/platform_fixture.h"
#include "testing/test_database.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;

class MigrateDbTest : public testing::PlatformTest {
 protected:
  // Runs `paddlecloud admin migrate-db ...`; its output and exit code.
  std::pair<std::string, int> MigrateDb(const std::string& args) {
    std::string out = testing::RunCommand("(" + testing::PaddlecloudBinary() + " admin migrate-db --data-dir " +
                                          dir_.path() + "/data " + args + " 2>&1; echo \"exit=$?\")");
    auto at = out.rfind("exit=");
    return {out.substr(0, at), at == std::string::npos ? -1 : std::stoi(out.substr(at + 5))};
  }
  std::string JobState(const std::string& token, std::int64_t id) {
    auto reply = CallWith(token, "GET", "/api/v1/jobs/" + std::to_string(id));
    return reply && reply->status == 200 ? std::string(json::parse(reply->body).at("state").as_string()) : "";
  }
  json::value Json(const std::string& token, const std::string& target) {
    auto reply = CallWith(token, "GET", target);
    EXPECT_TRUE(reply && reply->status == 200) << target << ": " << (reply ? reply->body : "no reply");
    return reply && reply->status == 200 ? json::parse(reply->body) : json::value();
  }
};

TEST_F(MigrateDbTest, AnInstallationMovesToPostgresAndGoesOnThere) {
  StartServer({"--database-url", ""});  // SQLite, whichever engine the suite runs on
  std::string ann = RegisterUser("ann@example.com", "ann-lab");
  ASSERT_EQ(UploadFile(ann, "datasets/train.csv", "1,2\n")->status, 200);
  auto job = CallWith(ann, "POST", "/api/v1/jobs", {{"name", "fit"}, {"entry", "true"}});
  ASSERT_EQ(job->status, 201) << job->body;
  const std::int64_t job_id = json::parse(job->body).at("id").as_int64();
  ASSERT_TRUE(testing::WaitFor([&] { return JobState(ann, job_id) == "Succeeded"; }, std::chrono::seconds(30)));

  auto url = testing::NewPostgresDatabase();
  ASSERT_TRUE(url) << url.error().message();
  auto [running, running_code] = MigrateDb("--to '" + *url + "'");
  EXPECT_EQ(running_code, 1) << running;
  EXPECT_NE(running.find("stop it first"), std::string::npos) << running;
  ASSERT_EQ(server_->Stop(SIGTERM), 0);

  auto [copied, code] = MigrateDb("--to '" + *url + "'");
  ASSERT_EQ(code, 0) << copied;
  EXPECT_NE(copied.find("jobs: 1 rows"), std::string::npos) << copied;
  auto [again, again_code] = MigrateDb("--to '" + *url + "'");
  EXPECT_EQ(again_code, 1) << again;
  EXPECT_NE(again.find("--replace"), std::string::npos) << again;
  auto [replaced, replaced_code] = MigrateDb("--to '" + *url + "' --replace");
  EXPECT_EQ(replaced_code, 0) << replaced;

  StartServer({"--database-url", *url});
  // The same token, job and file record; new rows get ids after the copied ones.
  EXPECT_EQ(JobState(ann, job_id), "Succeeded");
  EXPECT_EQ(Json(ann, "/api/v1/files/datasets").at("entries").at(0).at("uploaded_by").as_string(), "ann@example.com");
  auto second = CallWith(ann, "POST", "/api/v1/jobs", {{"name", "fit"}, {"entry", "true"}});
  ASSERT_EQ(second->status, 201) << second->body;
  EXPECT_GT(json::parse(second->body).at("id").as_int64(), job_id);
  std::string bob = RegisterUser("bob@example.com", "bob-lab");
  EXPECT_EQ(CallWith(bob, "GET", "/api/v1/jobs/" + std::to_string(job_id))->status, 404);  // another tenant's
}

TEST_F(MigrateDbTest, AnUnreachableTargetFailsWithoutShowingItsPassword) {
  StartServer({"--database-url", ""});
  ASSERT_EQ(server_->Stop(SIGTERM), 0);
  auto [out, code] = MigrateDb("--to 'postgresql://pc:hunter2@/pc?host=/nonexistent&connect_timeout=1'");
  EXPECT_EQ(code, 1) << out;
  EXPECT_EQ(out.find("hunter2"), std::string::npos) << out;
  EXPECT_NE(out.find("pc:***@"), std::string::npos) << out;
  auto [bad, bad_code] = MigrateDb("--to 'mysql://x'");
  EXPECT_NE(bad_code, 0) << bad;
}

}  // namespace
}  // namespace paddlecloud
