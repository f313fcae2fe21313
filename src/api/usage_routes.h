// HTTP routes of resource monitoring: a job's usage graphs (buckets over a range, and live samples
// as Server-Sent Events) and the account's CPU and GPU time. The shapes are in docs/monitoring.md.
#pragma once

#include "blocking/work_pool.h"
#include "http/router.h"
#include "jobs/job_service.h"
#include "monitoring/accounting.h"
#include "monitoring/usage_report.h"
#include "monitoring/usage_sampler.h"

namespace paddlecloud::api {

void AddUsageRoutes(http::Router& router, jobs::JobService& jobs, monitoring::Accounting& accounting,
                    monitoring::UsageSampler& sampler, blocking::WorkPool& pool);

}  // namespace paddlecloud::api
