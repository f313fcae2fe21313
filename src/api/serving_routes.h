// HTTP routes of serving instances (docs/serving.md "API"): launch, list, get, make public, scale,
// deactivate, activate, delete, replica logs and the instance's metrics. Rules live in
// serving/serving_service.h; the inference gateway adds its own routes.
#pragma once

#include "blocking/work_pool.h"
#include "http/router.h"
#include "serving/serving_service.h"

namespace paddlecloud::api {

void AddServingRoutes(http::Router& router, serving::ServingService& serving, blocking::WorkPool& pool);

}  // namespace paddlecloud::api
