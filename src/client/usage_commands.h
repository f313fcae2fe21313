// `paddlecloud top` and `paddlecloud usage`: what jobs use now, and what the account used
// (docs/monitoring.md). Exit codes as the job commands': kExitOk, kExitError (API, auth or network
// error, e.g. a job that is not the user's: not found), kExitUsage (bad flags).
#pragma once

#include <string>

#include "client/cli_config.h"
#include "client/command_support.h"

namespace paddlecloud::client {

struct TopFlags {
  ConnectionFlags connection;
  std::string job;     // id or name (client/job_lookup.h); empty: every running job of the user
  bool watch = false;  // keep refreshing
  std::string output = "table";  // table | json
};

// One line per pod: POD, CPU (cores), CPU% (of the request), MEMORY (working set), MEM% (of the
// limit), GPU%, GPU MEM; then each job's network and why values show "-". The values are the
// latest means of GET /api/v1/jobs/{job}/usage over the last three sampling intervals (to the
// server's now, or the job's end). With `watch` and a JOB: every sample of /usage/stream until the
// job ends (exit 0, its state on stderr) or Ctrl-C, redrawn in place when stdout is a terminal,
// else appended as blocks (json: one document per line); without a JOB: read again every interval.
int Top(const TopFlags& flags, const Environment& env);

struct UsageFlags {
  ConnectionFlags connection;
  std::string window = "1d";  // 1d | 7d | 30d
  std::string output = "table";
};

// The account's CPU and GPU time over the window (GET /api/v1/account/usage), per user (the master
// sees every user, a member themself), and a bar chart of the last 30 days.
int AccountUsage(const UsageFlags& flags, const Environment& env);

struct QuotaFlags {
  ConnectionFlags connection;
  std::string output = "table";
};

// The account's quota against what is in use now, and the members' limits (GET
// /api/v1/account/quota): the master sees every member, a member their own limits.
int ShowQuota(const QuotaFlags& flags, const Environment& env);

}  // namespace paddlecloud::client
