// Resource monitoring end to end: the real binary samples a real busy pod, and the usage API,
// its live stream, accounting and /metrics show it; other accounts see none of it.
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "testing/http_client.h"
#include "testing/platform_fixture.h"
#include "testing/server_process.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

class MonitoringTest : public testing::PlatformTest {
 protected:
  void SetUp() override {
    PlatformTest::SetUp();
    StartServer({"--usage-interval", "500ms"});
    ann_ = RegisterUser("ann@example.com", "ann-lab");
    eve_ = RegisterUser("eve@example.com", "eve-lab");
  }
  void TearDown() override {
    if (job_ > 0) {
      CallWith(ann_, "POST", "/api/v1/jobs/" + std::to_string(job_) + "/stop");
      WaitForEnd();
    }
  }
  json::value Json(const std::string& token, const std::string& target, int expected = 200) {
    auto r = CallWith(token, "GET", target);
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, expected) << target << ": " << r->body;
    return json::parse(r->body);
  }
  bool WaitForEnd() {
    return testing::WaitFor([&] {
      std::string state(Json(ann_, "/api/v1/jobs/" + std::to_string(job_)).at("state").as_string());
      return state == "Stopped" || state == "Succeeded" || state == "Failed";
    }, 30s);
  }
  std::string Usage(const std::string& query = "") { return "/api/v1/jobs/" + std::to_string(job_) + "/usage" + query; }
  // The largest mean of `metric` over the job's buckets (pod 0), or -1 when none.
  static double Peak(const json::value& usage, const std::string& metric) {
    double peak = -1;
    for (const auto& v : usage.at("pods").at(0).at("metrics").at(metric).at("mean").as_array())
      if (!v.is_null()) peak = std::max(peak, v.to_number<double>());
    return peak;
  }

  std::string ann_, eve_;
  std::int64_t job_ = 0;
};

TEST_F(MonitoringTest, ABusyPodIsGraphedLiveChargedAndHiddenFromOtherAccounts) {
  auto submitted = CallWith(ann_, "POST", "/api/v1/jobs",
                            {{"name", "spin"}, {"entry", "while :; do :; done"}, {"cpu_per_trainer", "1"},
                             {"mem_per_trainer", "256Mi"}});
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  job_ = json::parse(submitted->body).at("id").as_int64();

  json::value usage;
  ASSERT_TRUE(testing::WaitFor([&] {
    usage = Json(ann_, Usage("?points=100"));
    return Peak(usage, "cpu_cores") > 0.5;
  }, 60s)) << json::serialize(usage) << server_->Log();
  EXPECT_GT(Peak(usage, "memory_working_set_bytes"), 0);
  EXPECT_EQ(usage.at("pods").at(0).at("requests").at("cpu").to_number<double>(), 1.0);
  EXPECT_EQ(usage.at("pods").at(0).at("limits").at("memory_bytes").as_int64(), 256 << 20);
  EXPECT_EQ(usage.at("t").as_array().size(), usage.at("pods").at(0).at("metrics").at("cpu_cores").at("mean").as_array().size());
  EXPECT_EQ(usage.at("interval_ms").as_int64(), 500);

  // Live samples while it runs.
  testing::RawConnection stream(addr_);
  ASSERT_TRUE(stream.Send("GET " + Usage("/stream") + " HTTP/1.1\r\nHost: " + addr_ + "\r\nAuthorization: Bearer " +
                          ann_ + "\r\nAccept: text/event-stream\r\n\r\n"));
  std::string sample = stream.ReadUntil("}}\n\n", 10s);
  EXPECT_NE(sample.find("event: sample"), std::string::npos) << sample;
  EXPECT_NE(sample.find("\"cpu_cores\":"), std::string::npos) << sample;

  // Another account: nothing of it exists.
  for (const std::string& target : {Usage(), Usage("/stream")}) {
    auto hidden = CallWith(eve_, "GET", target);
    EXPECT_EQ(hidden->status, 404) << target << hidden->body;
  }
  EXPECT_EQ(Json(eve_, "/api/v1/account/usage?window=1d").at("cpu_seconds").to_number<double>(), 0.0);

  // Measured CPU time is charged while it runs.
  ASSERT_TRUE(testing::WaitFor([&] {
    return Json(ann_, "/api/v1/account/usage?window=1d").at("cpu_seconds").to_number<double>() > 0.5;
  }, 30s));
  auto account = Json(ann_, "/api/v1/account/usage?window=7d");
  EXPECT_EQ(account.at("daily").as_array().size(), 30u);
  EXPECT_EQ(account.at("users").at(0).at("email").as_string(), "ann@example.com");

  auto metrics = CallWith("", "GET", "/metrics");
  EXPECT_NE(metrics->body.find("paddlecloud_usage_sampler_lag_seconds"), std::string::npos);

  // Stopped: the stream says so and the graphs stay.
  ASSERT_EQ(CallWith(ann_, "POST", "/api/v1/jobs/" + std::to_string(job_) + "/stop")->status, 202);
  ASSERT_TRUE(WaitForEnd());
  std::string end = stream.ReadUntil("event: end", 15s);
  EXPECT_NE(end.find("event: end"), std::string::npos) << end;
  EXPECT_GT(Peak(Json(ann_, Usage()), "cpu_cores"), 0);  // the graphs stay (their height depends on the load)
  job_ = 0;
}

TEST_F(MonitoringTest, AShortJobIsChargedAllItsCpuTimeFromItsEnd) {
  // One second of CPU: mostly between two samples; its pod's counters at its end make up the rest.
  auto submitted = CallWith(ann_, "POST", "/api/v1/jobs",
                            {{"name", "brief"},
                             {"entry", "python3 -c \"import time\nwhile time.process_time() < 1.0: pass\""},
                             {"cpu_per_trainer", "1"}});
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  job_ = json::parse(submitted->body).at("id").as_int64();
  ASSERT_TRUE(WaitForEnd());
  auto usage = Json(ann_, Usage());
  EXPECT_EQ(usage.at("state").as_string(), "Succeeded");
  EXPECT_GE(usage.at("job_total").at("time").at("cpu_seconds").to_number<double>(), 0.95) << json::serialize(usage);
  EXPECT_GE(Json(ann_, "/api/v1/account/usage?window=1d").at("cpu_seconds").to_number<double>(), 0.95);
  job_ = 0;
}

TEST_F(MonitoringTest, BadRangesAndUnknownJobsAreClearErrors) {
  auto submitted = CallWith(ann_, "POST", "/api/v1/jobs", {{"name", "idle"}, {"entry", "sleep 600"}});
  ASSERT_EQ(submitted->status, 201) << submitted->body;
  job_ = json::parse(submitted->body).at("id").as_int64();
  struct Case {
    std::string query, field;
  };
  for (const Case& c : {Case{"?from=2000&to=1000", "from"}, Case{"?from=abc", "from"}, Case{"?to=1e3", "to"},
                        Case{"?points=0", "points"}, Case{"?points=5001", "points"}, Case{"?points=-1", "points"}}) {
    auto r = CallWith(ann_, "GET", Usage(c.query));
    EXPECT_EQ(r->status, 400) << c.query << r->body;
    EXPECT_EQ(json::parse(r->body).at("error").at("details").at("field").as_string(), c.field) << c.query;
  }
  for (const char* target : {"/api/v1/jobs/999999/usage", "/api/v1/jobs/x/usage", "/api/v1/jobs/-1/usage"})
    EXPECT_EQ(CallWith(ann_, "GET", target)->status, 404) << target;
  auto window = CallWith(ann_, "GET", "/api/v1/account/usage?window=1y");
  EXPECT_EQ(window->status, 400);
  EXPECT_EQ(json::parse(window->body).at("error").at("details").at("field").as_string(), "window");
  EXPECT_EQ(CallWith("", "GET", "/api/v1/account/usage")->status, 401);
}

}  // namespace
}  // namespace paddlecloud
