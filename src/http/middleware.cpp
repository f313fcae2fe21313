#include "http/middleware.h"

#include <spdlog/spdlog.h>

#include <map>
#include <mutex>
#include <tuple>

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
  // The series of each (handler, method, status) are looked up in the registry once, then cached:
  // the hot path only touches atomics and one uncontended lock.
  struct Series {
    metrics::Counter* requests;
    metrics::Histogram* latency;
  };
  struct Cache {
    std::mutex mutex;
    std::map<std::tuple<const void*, std::string, int>, Series> series;
  };
  auto cache = std::make_shared<Cache>();
  auto& in_flight = registry.GetGauge("paddlecloud_http_requests_in_flight", "HTTP requests being served now.");
  return [&registry, &in_flight, cache](Request& request, const Handler& next) -> asio::awaitable<Response> {
    in_flight.Add(1);
    Response response = co_await next(request);
    in_flight.Add(-1);
    Series series;
    {
      std::lock_guard lock(cache->mutex);
      auto key = std::make_tuple(static_cast<const void*>(request.handler), request.method, response.status);
      auto it = cache->series.find(key);
      if (it == cache->series.end()) {
        const std::string& route =
            request.route.empty() ? (response.status == 404 ? "unmatched" : "web") : request.route;
        Series fresh{
            &registry.GetCounter("paddlecloud_http_requests_total", "HTTP requests served, by method, route and status.",
                                 {{"method", request.method}, {"route", route}, {"status", std::to_string(response.status)}}),
            &registry.GetHistogram("paddlecloud_http_request_duration_seconds",
                                   "Time from request header to response ready, by route.", {{"route", route}})};
        it = cache->series.emplace(std::move(key), fresh).first;
      }
      series = it->second;
    }
    series.requests->Increment();
    series.latency->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - request.received_at).count());
    co_return response;
  };
}

}  // namespace paddlecloud::http
