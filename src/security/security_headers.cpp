#include "security/security_headers.h"

#include <spdlog/spdlog.h>

#include "http/json.h"

namespace paddlecloud::security {

namespace asio = boost::asio;

const char kContentSecurityPolicy[] =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'; "
    "report-uri /api/v1/csp-reports";

const std::vector<std::pair<std::string, std::string>>& SecurityHeaders() {
  static const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Security-Policy", kContentSecurityPolicy},
      {"X-Content-Type-Options", "nosniff"},
      {"X-Frame-Options", "DENY"},
      {"Referrer-Policy", "same-origin"},
      {"Cross-Origin-Opener-Policy", "same-origin"},
      {"Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
  };
  return headers;
}

http::Middleware SecurityHeadersMiddleware() {
  return [](http::Request& request, const http::Handler& next) -> asio::awaitable<http::Response> {
    http::Response response = co_await next(request);
    for (const auto& [name, value] : SecurityHeaders())
      if (!response.headers.Has(name)) response.headers.Add(name, value);
    if (request.tls && !response.headers.Has("Strict-Transport-Security"))
      response.headers.Add("Strict-Transport-Security", "max-age=31536000");
    co_return response;
  };
}

void AddCspReportRoute(http::Router& router, metrics::Registry& metrics) {
  router.Add(
      "POST", "/api/v1/csp-reports", "Receive a browser's Content-Security-Policy violation report",
      [&metrics](http::Request& request) -> asio::awaitable<http::Response> {
        auto object = http::ParseJsonObject(request.body);
        if (!object) co_return http::ErrorResponse(object.error());
        http::JsonReader top(*object);
        const boost::json::value* report = top.Raw("csp-report");
        if (!report) co_return http::ErrorResponse(Status::InvalidArgument("field 'csp-report' is required", "csp-report"));
        if (!report->is_object())
          co_return http::ErrorResponse(Status::InvalidArgument("field 'csp-report' must be an object", "csp-report"));
        Status unknown = top.Finish();
        if (!unknown.ok()) co_return http::ErrorResponse(unknown);

        const auto& fields = report->as_object();
        auto text = [&](const char* name) -> Result<std::string> {
          auto it = fields.find(name);
          if (it == fields.end() || it->value().is_null()) return std::string();
          if (!it->value().is_string())
            return Err(Status::InvalidArgument(std::string("field 'csp-report.") + name + "' must be a string",
                                               std::string("csp-report.") + name));
          return std::string(it->value().as_string()).substr(0, 512);
        };
        auto directive = text("effective-directive");
        if (directive && directive->empty()) directive = text("violated-directive");
        auto blocked = text("blocked-uri");
        auto document = text("document-uri");
        for (auto* r : {&directive, &blocked, &document})
          if (!*r) co_return http::ErrorResponse(r->error());
        std::string name = directive->substr(0, directive->find(' '));
        if (name.empty()) name = "unknown";
        // Keep the label set bounded: only directive names made of letters and dashes.
        for (char c : name)
          if (!std::isalpha(static_cast<unsigned char>(c)) && c != '-') name = "unknown";
        metrics
            .GetCounter("paddlecloud_csp_violations_total", "Content-Security-Policy violations browsers reported.",
                        {{"directive", name}})
            .Increment();
        spdlog::warn("csp violation id={} directive=\"{}\" blocked=\"{}\" document=\"{}\"", request.request_id, *directive,
                     *blocked, *document);
        co_return http::Response{.status = 204};
      },
      http::RouteOptions::Public().WithBodyLimit(16 * 1024));
}

}  // namespace paddlecloud::security
