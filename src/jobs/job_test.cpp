#include "jobs/job.h"

#include <gtest/gtest.h>

namespace paddlecloud::jobs {
namespace {

TEST(JobStateTest, NamesAreTheDatabasesAndTheApisAndParseBack) {
  const std::pair<JobState, std::string_view> names[] = {{JobState::kPending, "Pending"},
                                                         {JobState::kRunning, "Running"},
                                                         {JobState::kSucceeded, "Succeeded"},
                                                         {JobState::kFailed, "Failed"},
                                                         {JobState::kStopped, "Stopped"}};
  for (const auto& [state, name] : names) {
    EXPECT_EQ(StateName(state), name);
    EXPECT_EQ(ParseJobState(name), state);
  }
  EXPECT_EQ(ParseJobState("running"), std::nullopt);
  EXPECT_EQ(ParseJobState(""), std::nullopt);
}

TEST(JobStateTest, OnlyTheEndsAreTerminal) {
  EXPECT_FALSE(IsTerminal(JobState::kPending));
  EXPECT_FALSE(IsTerminal(JobState::kRunning));
  EXPECT_TRUE(IsTerminal(JobState::kSucceeded));
  EXPECT_TRUE(IsTerminal(JobState::kFailed));
  EXPECT_TRUE(IsTerminal(JobState::kStopped));
}

}  // namespace
}  // namespace paddlecloud::jobs
