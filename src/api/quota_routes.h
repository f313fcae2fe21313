// HTTP routes of job quotas (docs/monitoring.md "Quota"): the account's quota, members' limits and
// what is in use, and the master user's changes of a member's limits. Rules live in
// jobs/quota_service.h.
#pragma once

#include "blocking/work_pool.h"
#include "http/router.h"
#include "jobs/quota_service.h"

namespace paddlecloud::api {

void AddQuotaRoutes(http::Router& router, jobs::QuotaService& quotas, blocking::WorkPool& pool);

}  // namespace paddlecloud::api
