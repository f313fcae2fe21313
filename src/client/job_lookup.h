// The JOB argument of the job commands: a job id, or a name (the newest of the user's jobs with
// exactly that name; a substring does not match).
#pragma once

#include <optional>
#include <string>

#include <boost/json/value.hpp>

#include "client/api_client.h"
#include "client/cli_config.h"
#include "common/status.h"

namespace paddlecloud::client {

// The job `ref` names, with its pods (GET /api/v1/jobs/{id}). NotFound naming `ref` for a name no
// job has; an id of no job the user may see is the server's NotFound.
Result<boost::json::value> ResolveJob(ApiClient& client, const std::string& ref);

struct OpenedJob {
  std::optional<ApiClient> client;
  std::optional<boost::json::value> job;
};

// The signed-in client and the job `ref` names; nullopt, with the error printed and `exit_code`
// set, when either cannot be had.
std::optional<OpenedJob> OpenJob(const ConnectionFlags& flags, const Environment& env, const std::string& ref,
                                 int& exit_code);

}  // namespace paddlecloud::client
