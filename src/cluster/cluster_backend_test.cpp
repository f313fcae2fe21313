#include "cluster/cluster_backend.h"

#include <gtest/gtest.h>

namespace paddlecloud::cluster {
namespace {

TEST(ClusterBackendTest, Names) {
  EXPECT_EQ(RoleName(PodRole::kTrainer), "trainer");
  EXPECT_EQ(RoleName(PodRole::kPserver), "pserver");
  EXPECT_EQ(PhaseName(PodPhase::kPending), "Pending");
  EXPECT_EQ(PhaseName(PodPhase::kRunning), "Running");
  EXPECT_EQ(PhaseName(PodPhase::kSucceeded), "Succeeded");
  EXPECT_EQ(PhaseName(PodPhase::kFailed), "Failed");
  EXPECT_EQ(PodName("mnist", PodRole::kTrainer, 0), "mnist-trainer-0");
  EXPECT_EQ(PodName("mnist", PodRole::kPserver, 3), "mnist-pserver-3");
}

TEST(ClusterBackendTest, PaddleEnvOfATrainer) {
  auto env = PaddleEnv("mnist", PodRole::kTrainer, 1, {"127.0.0.1:1000", "127.0.0.1:1001"}, {"127.0.0.1:2000"});
  std::map<std::string, std::string> expected = {
      {"TRAINING_ROLE", "TRAINER"},
      {"PADDLE_TRAINING_ROLE", "TRAINER"},
      {"PADDLE_TRAINER_ID", "1"},
      {"PADDLE_TRAINERS_NUM", "2"},
      {"PADDLE_TRAINER_ENDPOINTS", "127.0.0.1:1000,127.0.0.1:1001"},
      {"PADDLE_PSERVERS_IP_PORT_LIST", "127.0.0.1:2000"},
      {"PADDLE_PORT", "1001"},
      {"POD_IP", "127.0.0.1"},
      {"PADDLE_JOB_ID", "mnist"},
  };
  EXPECT_EQ(env, expected);
}

TEST(ClusterBackendTest, PaddleEnvOfAPserver) {
  auto env = PaddleEnv("j", PodRole::kPserver, 0, {"10.0.0.1:1"}, {"10.0.0.2:7164", "10.0.0.3:7164"});
  EXPECT_EQ(env["TRAINING_ROLE"], "PSERVER");
  EXPECT_EQ(env["PADDLE_TRAINING_ROLE"], "PSERVER");
  EXPECT_EQ(env["PADDLE_PORT"], "7164");
  EXPECT_EQ(env["POD_IP"], "10.0.0.2");
  EXPECT_EQ(env["PADDLE_PSERVERS_IP_PORT_LIST"], "10.0.0.2:7164,10.0.0.3:7164");
  EXPECT_EQ(env["PADDLE_TRAINERS_NUM"], "1");
  EXPECT_EQ(env.size(), 9u);
}

TEST(ClusterBackendTest, CpuQuantities) {
  EXPECT_EQ(ParseCpuQuantity("2", "cpu").value(), 2000);
  EXPECT_EQ(ParseCpuQuantity("500m", "cpu").value(), 500);
  EXPECT_EQ(ParseCpuQuantity("1.5", "cpu").value(), 1500);
  EXPECT_EQ(ParseCpuQuantity("0.1", "cpu").value(), 100);
  EXPECT_EQ(ParseCpuQuantity("0", "cpu").value(), 0);
  EXPECT_EQ(ParseCpuQuantity("0.0001", "cpu").value(), 1);  // rounded up, as Kubernetes does
  for (const char* bad : {"", "abc", "1x", "m", "1.2.3", "1e3", " 1", "1 ", "+1", "99999999999999999999"}) {
    auto r = ParseCpuQuantity(bad, "trainer_cpu");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(r.error().field(), "trainer_cpu");
    EXPECT_NE(r.error().message().find("trainer_cpu"), std::string::npos) << r.error().message();
  }
  auto negative = ParseCpuQuantity("-1", "trainer_cpu");
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().message().find("negative"), std::string::npos);
}

TEST(ClusterBackendTest, MemoryQuantities) {
  EXPECT_EQ(ParseMemoryQuantity("1000000", "memory").value(), 1000000);
  EXPECT_EQ(ParseMemoryQuantity("1Ki", "memory").value(), 1024);
  EXPECT_EQ(ParseMemoryQuantity("512Mi", "memory").value(), 512LL << 20);
  EXPECT_EQ(ParseMemoryQuantity("1Gi", "memory").value(), 1LL << 30);
  EXPECT_EQ(ParseMemoryQuantity("2Ti", "memory").value(), 2LL << 40);
  EXPECT_EQ(ParseMemoryQuantity("1.5Gi", "memory").value(), 3LL << 29);
  EXPECT_EQ(ParseMemoryQuantity("1k", "memory").value(), 1000);
  EXPECT_EQ(ParseMemoryQuantity("1K", "memory").value(), 1000);
  EXPECT_EQ(ParseMemoryQuantity("1M", "memory").value(), 1000000);
  EXPECT_EQ(ParseMemoryQuantity("1G", "memory").value(), 1000000000);
  EXPECT_EQ(ParseMemoryQuantity("3T", "memory").value(), 3000000000000LL);
  for (const char* bad : {"", "Gi", "1Gb", "1g", "abc", "1..5Gi", "100m", "9999999999Ei", "99999999999999999999"}) {
    auto r = ParseMemoryQuantity(bad, "pserver_memory");
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().field(), "pserver_memory");
    EXPECT_NE(r.error().message().find("pserver_memory"), std::string::npos);
  }
  auto negative = ParseMemoryQuantity("-1Gi", "pserver_memory");
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().message().find("negative"), std::string::npos);
}

}  // namespace
}  // namespace paddlecloud::cluster
