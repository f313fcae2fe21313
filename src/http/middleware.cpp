#include "http/middleware.h"

#include <spdlog/spdlog.h>

namespace paddlecloud::http {

namespace asio = boost::asio;

Middleware RequestIdMiddleware() {
  return [](Request& request, const Handler& next) -> asio::awaitable<Response> {
    Response response = co_await next(request);
    response.headers.Set("X-Request-Id", request.request_id);
    co_return response;
  };
}

Middleware AccessLogMiddleware() {
  return [](Request& request, const Handler& next) -> asio::awaitable<Response> {
    Response response = co_await next(request);
    auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - request.received_at);
    std::string bytes = response.stream ? (response.content_length ? std::to_string(*response.content_length) : "stream")
                                        : std::to_string(response.body.size());
    spdlog::info("request id={} method={} path=\"{}\" route=\"{}\" status={} bytes={} duration_ms={:.3f} remote={}",
                 request.request_id, request.method, request.path, request.route, response.status, bytes,
                 elapsed.count(), request.remote_address);
    co_return response;
  };
}

Middleware MetricsMiddleware(metrics::Registry& registry) {
  auto& in_flight = registry.GetGauge("paddlecloud_http_requests_in_flight", "HTTP requests being served now.");
  return [&registry, &in_flight](Request& request, const Handler& next) -> asio::awaitable<Response> {
    in_flight.Add(1);
    Response response = co_await next(request);
    in_flight.Add(-1);
    const std::string& route = request.route.empty() ? (response.status == 404 ? "unmatched" : "web") : request.route;
    registry
        .GetCounter("paddlecloud_http_requests_total", "HTTP requests served, by method, route and status.",
                    {{"method", request.method}, {"route", route}, {"status", std::to_string(response.status)}})
        .Increment();
    registry
        .GetHistogram("paddlecloud_http_request_duration_seconds",
                      "Time from request header to response ready, by route.", {{"route", route}})
        .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - request.received_at).count());
    co_return response;
  };
}

}  // namespace paddlecloud::http
