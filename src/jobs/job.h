// A training job, its pods and its events as the job service records and shows them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "jobs/job_spec.h"

namespace paddlecloud::jobs {

// Pending (with the reason, "waiting for 2 CPUs") -> Running -> Succeeded | Failed | Stopped.
enum class JobState { kPending, kRunning, kSucceeded, kFailed, kStopped };
// "Pending", "Running", "Succeeded", "Failed", "Stopped": the names in the database and the API.
std::string_view StateName(JobState state);
std::optional<JobState> ParseJobState(std::string_view name);
// Succeeded, Failed or Stopped: the job has ended and nothing of it runs.
bool IsTerminal(JobState state);

struct Job {
  std::int64_t id = 0;
  std::string account_id;
  std::int64_t user_id = 0;
  std::string user_email;
  JobSpec spec;
  JobState state = JobState::kPending;
  std::string reason;
  bool stop_requested = false;
  std::int64_t submitted_at = 0;
  std::optional<std::int64_t> admitted_at;  // handed to the backend; nullopt while it waits for quota
  std::optional<std::int64_t> started_at;
  std::optional<std::int64_t> finished_at;
  int succeeded = 0;   // trainer runs that exited 0
  int failed = 0;      // trainer runs that failed (restarts included)
  bool terminal() const { return IsTerminal(state); }
};

struct Pod {
  std::string name;
  std::string role;    // trainer | pserver
  int index = 0;
  std::string phase;   // Pending | Running | Succeeded | Failed
  std::string reason;
  std::optional<int> exit_code;
  int restarts = 0;
  std::optional<std::int64_t> started_at;
  std::optional<std::int64_t> finished_at;
  std::string endpoint;
};

struct JobEvent {
  std::int64_t id = 0;
  std::int64_t at = 0;
  std::string pod;     // empty for job-level events
  std::string type;    // Submitted, Scheduled, Started, Exited, OOMKilled, Restarted, Stopped, Succeeded, Failed
  std::string message;
};

}  // namespace paddlecloud::jobs
