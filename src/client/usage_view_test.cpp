// The formats of `paddlecloud top` and `paddlecloud usage`, from API answers written by hand.
#include "client/usage_view.h"

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>

namespace paddlecloud::client {
namespace {

namespace json = boost::json;

// Two pods over three buckets: the trainer's CPU was last read in the middle bucket, the pserver
// was never read (with the server's reason); the network is not measured.
constexpr char kUsage[] = R"({
  "job": 3, "state": "Running", "interval_ms": 500, "from": 1000, "to": 2500, "bucket_ms": 500,
  "t": [1000, 1500, 2000],
  "pods": [
    {"name": "spin-3-trainer-0", "role": "trainer", "phase": "Running",
     "requests": {"cpu": 2, "memory_bytes": 268435456, "gpus": 0},
     "limits": {"cpu": 2, "memory_bytes": 268435456, "gpus": 0},
     "metrics": {"cpu_cores": {"min": [1, 1.5, null], "max": [1, 1.5, null], "mean": [1, 1.5, null]},
                 "memory_working_set_bytes": {"min": [null, null, 67108864], "max": [null, null, 67108864],
                                              "mean": [null, null, 67108864]},
                 "gpu_utilization_percent": {"min": [null, null, null], "max": [null, null, null], "mean": [null, null, null]}},
     "not_measured": ""},
    {"name": "spin-3-pserver-0", "role": "pserver", "phase": "Running",
     "requests": {"cpu": 1, "memory_bytes": 1073741824, "gpus": 1},
     "limits": {"cpu": 1, "memory_bytes": 1073741824, "gpus": 1},
     "metrics": {}, "not_measured": "cgroup v1: no per-pod counters"}
  ],
  "network": {"metrics": {"network_rx_bytes_per_s": {"min": [null, null, null], "max": [null, null, null],
                                                     "mean": [null, null, null]}},
              "not_measured": "no network namespace"}
})";

TEST(UsageViewTest, TopTakesTheLastMeasuredMeanAndShowsUnknownsAsDashesWithTheReason) {
  JobTop top = TopFromUsage(json::parse(kUsage), "spin");
  ASSERT_EQ(top.pods.size(), 2u);
  EXPECT_EQ(top.pods[0].cpu_cores, 1.5);
  EXPECT_EQ(top.pods[0].memory_working_set_bytes, 67108864.0);
  EXPECT_FALSE(top.pods[0].gpu_utilization_percent);
  EXPECT_EQ(top.t_ms, 2000);
  EXPECT_FALSE(top.pods[1].cpu_cores);
  EXPECT_EQ(FormatTop({top}),
            "POD               CPU   CPU%  MEMORY  MEM%  GPU%  GPU MEM\n"
            "spin-3-trainer-0  1.50  75%   64Mi    25%   -     -\n"
            "spin-3-pserver-0  -     -     -       -     -     -\n"
            "Network of spin (id 3): - (not measured: no network namespace)\n"
            "Not measured (shown as -):\n"
            "  spin-3-pserver-0 (CPU, MEMORY, GPU%, GPU MEM): cgroup v1: no per-pod counters\n");
  json::value shown = TopJson({top});
  const json::value& pserver = shown.at("jobs").at(0).at("pods").at(1);
  EXPECT_TRUE(pserver.at("cpu_cores").is_null());
  EXPECT_TRUE(pserver.at("cpu_percent_of_request").is_null());
  EXPECT_EQ(shown.at("jobs").at(0).at("pods").at(0).at("cpu_percent_of_request").as_double(), 75.0);
}

TEST(UsageViewTest, ASampleReplacesTheValuesAndNullsBecomeUnknown) {
  JobTop top = TopFromUsage(json::parse(kUsage), "spin");
  ApplySample(top, json::parse(R"({"t": 3000, "pods": {"spin-3-trainer-0": {"cpu_cores": 0.25,
      "memory_working_set_bytes": null}, "spin-3-pserver-0": {"cpu_cores": 0.5, "memory_working_set_bytes": 2048,
      "gpu_utilization_percent": 40, "gpu_memory_used_bytes": 1073741824, "gpu_memory_total_bytes": 17179869184}},
      "network": {"network_rx_bytes_per_s": 2048, "network_tx_bytes_per_s": 100}})"));
  EXPECT_EQ(top.t_ms, 3000);
  std::string text = FormatTop({top});
  EXPECT_NE(text.find("spin-3-trainer-0  0.25  12%   -"), std::string::npos) << text;
  EXPECT_NE(text.find("spin-3-pserver-0  0.50  50%   2.0Ki   0%    40%   1.0Gi/16Gi\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Network of spin (id 3): rx 2.0 KiB/s, tx 100 B/s\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  spin-3-trainer-0 (MEMORY): no recent sample\n"), std::string::npos) << text;

  ApplySample(top, json::parse(R"({"t": 3500, "pods": {"spin-3-trainer-0": {"cpu_cores": 1}}, "network": {}})"));
  text = FormatTop({top});
  EXPECT_NE(text.find("spin-3-pserver-0  -     -     -"), std::string::npos) << text;  // left out: not stale values
  EXPECT_NE(text.find("Network of spin (id 3): - (not measured: no network namespace)\n"), std::string::npos) << text;
}

TEST(UsageViewTest, MemoryInKubernetesUnits) {
  EXPECT_EQ(FormatMemory(900), "900");
  EXPECT_EQ(FormatMemory(512 * 1024), "512Ki");
  EXPECT_EQ(FormatMemory(212.0 * 1024 * 1024), "212Mi");
  EXPECT_EQ(FormatMemory(1.5 * 1024 * 1024 * 1024), "1.5Gi");
}

TEST(UsageViewTest, BarChartOfEighthBlocks) {
  EXPECT_EQ(BarChart({0, 1, 2, 0.001}, 2, "h", "a", "z"),
            "2.00 h │    █\n"
            "   0 h │  █ █ ▁\n"
            "        a     z\n");
  EXPECT_TRUE(BarChart({0.00083}, 1, "h", "", "").starts_with("0.00083 h │█\n"));  // small, yet not "0.00"
}

TEST(UsageViewTest, AccountUsageTotalsUsersAndChart) {
  std::string daily;
  for (int d = 1; d <= 30; ++d)
    daily += std::string(daily.empty() ? "" : ",") + R"({"day": "2026-11-)" + (d < 10 ? "0" : "") + std::to_string(d) +
             R"(", "cpu_seconds": )" + std::to_string(d == 30 ? 7200 : 0) + R"(, "gpu_seconds": 0})";
  std::string text = FormatAccountUsage(json::parse(R"({"window": "7d", "cpu_seconds": 5400, "gpu_seconds": 0,
      "users": [{"user_id": 1, "email": "ann@example.com", "cpu_seconds": 5400, "gpu_seconds": 0}],
      "daily": [)" + daily + "]}"));
  EXPECT_TRUE(text.starts_with("CPU time, last 7 days: 1.50 h (5400 core-seconds)\n"
                               "GPU time, last 7 days: 0.00 h (0 GPU-seconds)\n\n"
                               "USER             CPU HOURS  GPU HOURS\n"
                               "ann@example.com  1.50       0.00\n\n"
                               "CPU hours per day, last 30 days (UTC):\n"
                               "2.00 h │"))
      << text;
  EXPECT_NE(text.find("2026-11-01"), std::string::npos) << text;
  EXPECT_EQ(text.find("GPU hours per day"), std::string::npos) << text;  // no GPU time: no chart of it
}

TEST(UsageViewTest, QuotaShowsUseAgainstTheQuotaOrTheClusterAndMembersLimits) {
  std::string text = FormatQuota(json::parse(R"({
      "quota": {"cpu": 8, "memory_bytes": null, "gpus": null, "running_jobs": 2, "storage_bytes": 10737418240},
      "in_use": {"cpu": 6, "memory_bytes": 1073741824, "gpus": 0, "running_jobs": 1, "storage_bytes": 0},
      "capacity": {"cpu": 16, "memory_bytes": 4294967296, "gpus": 0},
      "members": [{"user_id": 2, "email": "bob@example.com", "limits": {"cpu": 2, "memory_bytes": null,
                   "gpus": null, "running_jobs": null},
                   "in_use": {"cpu": 0.5, "memory_bytes": 0, "gpus": 0, "running_jobs": 1}}]})"));
  EXPECT_NE(text.find("CPU           6       8 "), std::string::npos) << text;
  EXPECT_NE(text.find("] 75%"), std::string::npos) << text;  // 6 of 8 CPUs
  EXPECT_NE(text.find("no quota (cluster: 4.0Gi)"), std::string::npos) << text;
  EXPECT_NE(text.find("] 25%"), std::string::npos) << text;  // 1Gi of the cluster's 4Gi
  EXPECT_NE(text.find("GPUs          0       no quota (cluster: 0)"), std::string::npos) << text;
  EXPECT_NE(text.find("bob@example.com  0.5 / 2  0       0     1"), std::string::npos) << text;
}

}  // namespace
}  // namespace paddlecloud::client
