// Operations endpoints: liveness, readiness, Prometheus metrics, version, the OpenAPI document and
// a live status stream for the web UI's status page.
//
//   GET /healthz                 200 {"status":"ok","uptime_seconds":..,"started_at":".."} while the process runs
//   GET /readyz                  200 when the database answers and its schema is current, else 503;
//                                checks name the database engine and, on PostgreSQL, the leadership
//   GET /metrics                 Prometheus text format; per `metrics_access`: to anyone, to loopback
//                                clients only (else 403), or with `Authorization: Bearer <metrics_token>` (else 401)
//   GET /api/v1/version          {"name","version","commit"}
//   GET /api/v1/openapi.json     the API description (kept equal to the router by a test)
//   GET /api/v1/status/stream    Server-Sent Events: a "status" event now and every 5 s. Public (the
//                                status page works signed out), so bounded: at most
//                                `max_status_streams` at once (503 past it), and all streams share
//                                one database poll per 5 s (counted in paddlecloud_status_polls_total).
#pragma once

#include <chrono>
#include <functional>
#include <string_view>

#include "blocking/work_pool.h"
#include "db/database.h"
#include "http/router.h"
#include "http/server.h"
#include "metrics/metrics.h"

namespace paddlecloud::ops {

struct OpsContext {
  db::Database& database;
  blocking::WorkPool& pool;
  metrics::Registry& metrics;
  int expected_schema_version;
  std::chrono::system_clock::time_point started_at = std::chrono::system_clock::now();
  std::chrono::steady_clock::time_point started_steady = std::chrono::steady_clock::now();
  std::string metrics_access = "public";  // public | loopback | token
  std::string metrics_token;              // the bearer token when metrics_access is "token"
  int max_status_streams = 64;
  std::function<Status()> cluster_health;  // the cluster backend's reachability, shown by /readyz; unset: not shown
  std::function<std::string()> leadership;  // servers sharing a database: this one's lease, shown by /readyz
};

// `context` must outlive the router.
void AddOpsRoutes(http::Router& router, const OpsContext& context);

// Enforces `metrics_access` on /metrics. Goes before the authentication middleware: a verified
// metrics token is removed from the request, as it is no API token.
http::Middleware MetricsAccessMiddleware(const OpsContext& context);

std::string_view Version();        // "0.1.0"
std::string_view Commit();         // short git hash at build time, or "unknown"
std::string_view OpenApiDocument();  // JSON text

}  // namespace paddlecloud::ops
