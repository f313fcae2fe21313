// HTTP routes of training jobs: submit, list with filters and paging, detail with pods, stop,
// events, and pod logs (tail, byte ranges, download, follow as Server-Sent Events).
#pragma once

#include "blocking/work_pool.h"
#include "http/router.h"
#include "jobs/job_service.h"

namespace paddlecloud::api {

void AddJobRoutes(http::Router& router, jobs::JobService& jobs, blocking::WorkPool& pool);

}  // namespace paddlecloud::api
