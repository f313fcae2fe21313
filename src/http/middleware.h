// The server's standard middleware: request ids, the structured access log, request metrics, and
// the Host check against DNS rebinding.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/server.h"
#include "metrics/metrics.h"

namespace paddlecloud::http {

// Echoes the request id in X-Request-Id so clients can quote it in bug reports.
Middleware RequestIdMiddleware();

// One logfmt line per request at info level: id, method, path (never the query, which may carry
// tokens), route, status, bytes, duration, remote address. Quotes, backslashes and control
// characters in any field are escaped, so a request cannot forge log lines.
Middleware AccessLogMiddleware();

// paddlecloud_http_requests_total{method,route,status}, paddlecloud_http_request_duration_seconds
// {route} and paddlecloud_http_requests_in_flight. Unmatched paths count under route="unmatched"
// so a scanner cannot blow up the series count.
Middleware MetricsMiddleware(metrics::Registry& registry);

// The Host values a server answers to. An entry "name:port" matches exactly; "name" matches that
// name on any port; "*" matches everything. Names compare case-insensitively.
class AllowedHosts {
 public:
  void Set(const std::vector<std::string>& entries);  // call before the server runs
  bool Allows(std::string_view host) const;
  const std::vector<std::string>& entries() const { return entries_; }

 private:
  std::vector<std::string> entries_;  // lower-cased
  bool any_ = true;
};

// Refuses a request whose Host is not allowed with 400 {"error":{"code":"invalid_argument",
// "details":{"field":"Host","reason":"host_not_allowed"}}}: a page on another site that rebinds its
// DNS name to this server's address cannot talk to it. /healthz and /readyz answer any Host, as
// probes address a server by its IP. `allowed` is read per request, so it may be filled in
// after Start() (the default list depends on the bound port).
Middleware HostCheckMiddleware(std::shared_ptr<const AllowedHosts> allowed);

}  // namespace paddlecloud::http
