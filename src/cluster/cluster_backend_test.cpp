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

}  // namespace
}  // namespace paddlecloud::cluster
