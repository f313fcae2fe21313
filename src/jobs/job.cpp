#include "jobs/job.h"

#include <array>
#include <utility>

namespace paddlecloud::jobs {
namespace {

constexpr std::array<std::pair<JobState, std::string_view>, 5> kStateNames = {{
    {JobState::kPending, "Pending"},
    {JobState::kRunning, "Running"},
    {JobState::kSucceeded, "Succeeded"},
    {JobState::kFailed, "Failed"},
    {JobState::kStopped, "Stopped"},
}};

}  // namespace

std::string_view StateName(JobState state) {
  for (const auto& [value, name] : kStateNames)
    if (value == state) return name;
  return "Pending";
}

std::optional<JobState> ParseJobState(std::string_view name) {
  for (const auto& [value, known] : kStateNames)
    if (known == name) return value;
  return std::nullopt;
}

bool IsTerminal(JobState state) {
  return state == JobState::kSucceeded || state == JobState::kFailed || state == JobState::kStopped;
}

}  // namespace paddlecloud::jobs
