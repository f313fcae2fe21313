#include "ops/ops_routes.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>

#include "http/json.h"
#include "http/sse.h"

namespace paddlecloud::ops {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http::Request;
using http::Response;

std::string Iso8601(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

json::object Health(const OpsContext& ctx) {
  // Whole seconds: Boost.JSON would print a fractional value in exponent form ("1.76E1").
  auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - ctx.started_steady);
  return {{"status", "ok"}, {"uptime_seconds", uptime.count()}, {"started_at", Iso8601(ctx.started_at)}};
}

// {"status":"ready"|"not_ready","checks":{...}}; runs on the blocking pool.
json::object Readiness(const OpsContext& ctx) {
  json::object checks;
  bool ready = true;
  Status ping = ctx.database.Ping();
  checks["database"] = ping.ok() ? std::string("ok") : ping.message();
  ready &= ping.ok();
  auto version = ctx.database.SchemaVersion();
  if (!version) {
    checks["migrations"] = version.error().message();
    ready = false;
  } else if (*version != ctx.expected_schema_version) {
    checks["migrations"] = "schema version " + std::to_string(*version) + ", expected " +
                           std::to_string(ctx.expected_schema_version);
    ready = false;
  } else {
    checks["migrations"] = "ok";
  }
  return {{"status", ready ? "ready" : "not_ready"}, {"checks", std::move(checks)}};
}

}  // namespace

void AddOpsRoutes(http::Router& router, const OpsContext& ctx) {
  router.Add("GET", "/healthz", "Liveness: the process is up", [&ctx](Request&) -> asio::awaitable<Response> {
    co_return http::JsonResponse(200, Health(ctx));
  }, http::RouteOptions::Public());

  router.Add("GET", "/readyz", "Readiness: database reachable, migrations applied", [&ctx](Request&) -> asio::awaitable<Response> {
    json::object body = co_await ctx.pool.Run([&] { return Readiness(ctx); });
    int status = body.at("status") == "ready" ? 200 : 503;
    co_return http::JsonResponse(status, body);
  }, http::RouteOptions::Public());

  router.Add("GET", "/metrics", "Prometheus metrics", [&ctx](Request&) -> asio::awaitable<Response> {
    ctx.metrics.GetGauge("paddlecloud_blocking_pool_queued", "Blocking-pool calls waiting for a thread.")
        .Set(static_cast<double>(ctx.pool.queued()));
    std::string text = co_await ctx.pool.Run([&] { return ctx.metrics.Render(); });
    co_return Response::Text(200, std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  }, http::RouteOptions::Public());

  router.Add("GET", "/api/v1/version", "Server version", [](Request&) -> asio::awaitable<Response> {
    co_return http::JsonResponse(200, {{"name", "paddlecloud"}, {"version", Version()}, {"commit", Commit()}});
  }, http::RouteOptions::Public());

  router.Add("GET", "/api/v1/openapi.json", "This API's OpenAPI 3 document", [](Request&) -> asio::awaitable<Response> {
    co_return Response::Text(200, std::string(OpenApiDocument()), "application/json");
  }, http::RouteOptions::Public());

  router.Add("GET", "/api/v1/status/stream", "Live server status as Server-Sent Events", [&ctx](Request&) -> asio::awaitable<Response> {
    co_return http::SseResponse([&ctx](http::SseWriter& writer) -> asio::awaitable<void> {
      auto executor = co_await asio::this_coro::executor;
      while (!writer.stopping()) {
        json::object status = co_await ctx.pool.Run([&] { return Readiness(ctx); });
        status["health"] = Health(ctx);
        status["version"] = Version();
        if (!co_await writer.Send("status", json::serialize(status))) co_return;
        // Wake often enough to end promptly at shutdown.
        for (int i = 0; i < 20 && !writer.stopping(); ++i) {
          asio::steady_timer tick(executor, std::chrono::milliseconds(250));
          co_await tick.async_wait(asio::use_awaitable);
        }
      }
    });
  }, http::RouteOptions::Public());
}

}  // namespace paddlecloud::ops
