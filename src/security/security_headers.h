// Browser-facing hardening: security headers on every response, and the endpoint that receives
// Content-Security-Policy violation reports from browsers.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "http/router.h"
#include "http/server.h"
#include "metrics/metrics.h"

namespace paddlecloud::security {

// The policy the web UI is built to satisfy: only same-origin scripts, styles, images, fonts and
// connections; no framing; violations reported to /api/v1/csp-reports.
extern const char kContentSecurityPolicy[];

// Content-Security-Policy, X-Content-Type-Options, X-Frame-Options, Referrer-Policy,
// Cross-Origin-Opener-Policy and Permissions-Policy: what every response carries.
const std::vector<std::pair<std::string, std::string>>& SecurityHeaders();

// Sets SecurityHeaders() (and HSTS when the request came over TLS) unless the handler set them.
http::Middleware SecurityHeadersMiddleware();

// POST /api/v1/csp-reports: accepts a browser's report ({"csp-report":{...}}, at most 16 KiB),
// logs it at warn level and counts it in paddlecloud_csp_violations_total{directive}.
void AddCspReportRoute(http::Router& router, metrics::Registry& metrics);

}  // namespace paddlecloud::security
