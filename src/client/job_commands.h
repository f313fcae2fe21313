// `paddlecloud submit`, `jobs`, `logs`, `kill` and `describe`: training jobs from the command line.
//
// Each returns the process exit code as the account commands do: kExitOk, kExitError (an API,
// auth or network error, or a job that did not succeed under --follow; the message is on stderr
// prefixed "paddlecloud: ") or kExitUsage (bad flags or input, e.g. a DIR that cannot be packed).
// A JOB argument is a job id, or a name: the newest of the user's jobs with exactly that name.
// Tables and logs go to stdout; progress and notes to stderr.
#pragma once

#include <string>
#include <vector>

#include "client/cli_config.h"
#include "client/command_support.h"

namespace paddlecloud::client {

struct SubmitFlags {
  ConnectionFlags connection;
  std::string dir;      // packed and uploaded as the job's code; empty: none
  std::string workdir;  // a folder of the account's files instead of `dir`
  std::string name;
  std::string entry;
  int trainers = 1;
  int ps = 0;
  std::string cpu = "1";
  std::string mem = "1Gi";
  int gpu = 0;
  std::string ps_cpu;  // empty: the server's default
  std::string ps_mem;
  std::string image;
  std::vector<std::string> env;  // K=V
  int max_restarts = -1;         // -1: not sent
  int fault_tolerant = -1;
  bool follow = false;
};

// Packs DIR (see client/package.h) into a temporary tar.gz, uploads it with progress on stderr,
// submits the job and prints its id and dashboard URL. With `follow`, prints the first trainer's
// log until the job ends: kExitOk only when it Succeeded.
int SubmitJob(const SubmitFlags& flags, const Environment& env);

struct JobsFlags {
  ConnectionFlags connection;
  std::string status;  // running | succeeded | failed | stopped; empty: all
  std::string name;    // substring of the name
  bool all = false;    // every user's jobs of the account (master only)
  int limit = 50;
};

// A table of jobs, newest first: NAME, ID, STATE, STARTED, AGE, SUCCESS, FAILS (and USER with --all).
int ListJobs(const JobsFlags& flags, const Environment& env);

struct LogsFlags {
  ConnectionFlags connection;
  std::string job;
  std::string pod;  // a pod name, or its suffix ("trainer-1"); empty: the first trainer
  int lines = 100;
  bool follow = false;
};

// The last `lines` lines of a pod's log; with `follow`, then what is written until the job ends.
int JobLogs(const LogsFlags& flags, const Environment& env);

struct KillFlags {
  ConnectionFlags connection;
  std::string job;
  bool wait = true;  // wait (bounded) until the job has stopped
};

// Stops a job and prints its state. A job that has already ended: the server's message, kExitError.
int KillJob(const KillFlags& flags, const Environment& env);

struct DescribeFlags {
  ConnectionFlags connection;
  std::string job;
  int events = 20;  // the most recent events shown
};

// The job's spec, state, pods (role, index, phase, exit code, restarts, endpoint) and recent events.
int DescribeJob(const DescribeFlags& flags, const Environment& env);

}  // namespace paddlecloud::client
