// `paddlecloud board JOB`: the curves a job drew on its Paddle Board (docs/board.md), or every raw
// point exported. Exit codes as the job commands': kExitOk, kExitError (API, auth or network error,
// e.g. a job that is not the user's: not found), kExitUsage (bad flags).
#pragma once

#include <string>

#include "client/cli_config.h"
#include "client/command_support.h"

namespace paddlecloud::client {

struct BoardFlags {
  ConnectionFlags connection;
  std::string job;                // id or name (client/job_lookup.h)
  std::string output = "table";   // table | json: the listing
  std::string export_format;      // csv | json: every raw point to stdout instead of the listing
};

// One line per curve (GET /api/v1/jobs/{job}/board): GRAPH, CURVE, POD, POINTS, STEPS, LAST VALUE,
// then what the server skipped; with `export_format` the body of /board/export, streamed to stdout.
int ShowBoard(const BoardFlags& flags, const Environment& env);

}  // namespace paddlecloud::client
