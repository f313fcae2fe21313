// The server's standard middleware: request ids, the structured access log, and request metrics.
#pragma once

#include "http/server.h"
#include "metrics/metrics.h"

namespace paddlecloud::http {

// Echoes the request id in X-Request-Id so clients can quote it in bug reports.
Middleware RequestIdMiddleware();

// One logfmt line per request at info level: id, method, path (never the query, which may carry
// tokens), route, status, bytes, duration, remote address.
Middleware AccessLogMiddleware();

// paddlecloud_http_requests_total{method,route,status}, paddlecloud_http_request_duration_seconds
// {route} and paddlecloud_http_requests_in_flight. Unmatched paths count under route="unmatched"
// so a scanner cannot blow up the series count.
Middleware MetricsMiddleware(metrics::Registry& registry);

}  // namespace paddlecloud::http
