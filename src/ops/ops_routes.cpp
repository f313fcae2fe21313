#include "ops/ops_routes.h"

#include <openssl/crypto.h>

#include <atomic>
#include <mutex>
#include <optional>

#include <boost/asio/ip/address.hpp>
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
  checks["database_engine"] = std::string(ctx.database.Engine());
  ready &= ping.ok();
  if (ctx.leadership) checks["leader"] = ctx.leadership();
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
  // An unreachable cluster is said but does not make the server unready: users keep the UI and
  // their files, pods keep the API, and jobs wait saying why.
  if (ctx.cluster_health) {
    Status cluster = ctx.cluster_health();
    checks["cluster"] = cluster.ok() ? std::string("ok") : cluster.message();
  }
  return {{"status", ready ? "ready" : "not_ready"}, {"checks", std::move(checks)}};
}

// The status all streams send: read from the database at most once per interval, however many
// streams are open, and shared by all of them.
class StatusFeed {
 public:
  static constexpr auto kInterval = std::chrono::seconds(5);
  explicit StatusFeed(const OpsContext& ctx)
      : ctx_(ctx),
        polls_(ctx.metrics.GetCounter("paddlecloud_status_polls_total",
                                      "Database polls made for the status streams (one per interval, shared).")) {
    // At start-up (not on an I/O thread), so that a burst of first streams has one to share.
    snapshot_ = Poll(Readiness(ctx_));
    taken_ = std::chrono::steady_clock::now();
  }

  // The newest status; refreshed by the first caller after it is `kInterval` old, while the others
  // go on with the previous one.
  asio::awaitable<std::string> Latest() {
    {
      std::lock_guard lock(mutex_);
      if (refreshing_ || std::chrono::steady_clock::now() - taken_ < kInterval) co_return snapshot_;
      refreshing_ = true;
    }
    std::string text = Poll(co_await ctx_.pool.Run([this] { return Readiness(ctx_); }));
    std::lock_guard lock(mutex_);
    snapshot_ = text;
    taken_ = std::chrono::steady_clock::now();
    refreshing_ = false;
    co_return text;
  }

  // Counts a stream in; false when `max_status_streams` are open already.
  bool Join() {
    if (++streams_ <= ctx_.max_status_streams) return true;
    --streams_;
    return false;
  }
  void Leave() { --streams_; }

 private:
  std::string Poll(json::object status) {
    polls_.Increment();
    status["health"] = Health(ctx_);
    status["version"] = Version();
    return json::serialize(status);
  }

  const OpsContext& ctx_;
  metrics::Counter& polls_;
  std::mutex mutex_;  // guards snapshot_, taken_ and refreshing_
  std::string snapshot_;
  std::chrono::steady_clock::time_point taken_;
  bool refreshing_ = false;
  std::atomic<int> streams_{0};
};

bool IsLoopback(const std::string& address) {
  boost::system::error_code ec;
  auto ip = asio::ip::make_address(address, ec);
  if (ec) return false;
  if (ip.is_v6() && ip.to_v6().is_v4_mapped()) ip = asio::ip::make_address_v4(asio::ip::v4_mapped, ip.to_v6());
  return ip.is_loopback();
}

// Null when the request may read /metrics, else the answer.
std::optional<Response> RefuseMetrics(const OpsContext& ctx, const Request& request) {
  if (ctx.metrics_access == "loopback" && !IsLoopback(request.remote_address))
    return http::ErrorResponse(Status::PermissionDenied("metrics are served to clients on this machine only")
                                   .WithDetail("reason", "metrics_access"));
  if (ctx.metrics_access == "token") {
    std::string_view authorization = request.headers.Get("Authorization").value_or("");
    std::string expected = "Bearer " + ctx.metrics_token;
    if (authorization.size() != expected.size() ||
        CRYPTO_memcmp(authorization.data(), expected.data(), expected.size()) != 0) {
      Response r = http::ErrorResponse(Status::Unauthenticated("metrics need 'Authorization: Bearer <metrics_token>'"));
      r.headers.Set("WWW-Authenticate", "Bearer realm=\"metrics\"");
      return r;
    }
  }
  return std::nullopt;
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

  auto feed = std::make_shared<StatusFeed>(ctx);
  router.Add("GET", "/api/v1/status/stream", "Live server status as Server-Sent Events", [feed](Request&) -> asio::awaitable<Response> {
    if (!feed->Join()) {
      Response busy = http::ErrorResponse(Status::Unavailable("too many status streams are open; retry shortly"));
      busy.headers.Set("Retry-After", "5");
      co_return busy;
    }
    // The slot is held from here until the stream ends (or its response is dropped unsent).
    std::shared_ptr<void> slot(nullptr, [feed](void*) { feed->Leave(); });
    co_return http::SseResponse([feed, slot](http::SseWriter& writer) -> asio::awaitable<void> {
      auto executor = co_await asio::this_coro::executor;
      while (!writer.stopping()) {
        if (!co_await writer.Send("status", co_await feed->Latest())) co_return;
        // Wake often enough to end promptly at shutdown.
        for (int i = 0; i < 20 && !writer.stopping(); ++i) {
          asio::steady_timer tick(executor, std::chrono::milliseconds(250));
          co_await tick.async_wait(asio::use_awaitable);
        }
      }
    });
  }, http::RouteOptions::Public());
}

http::Middleware MetricsAccessMiddleware(const OpsContext& ctx) {
  return [&ctx](Request& request, const http::Handler& next) -> asio::awaitable<Response> {
    if (ctx.metrics_access == "public" || request.path != "/metrics") co_return co_await next(request);
    if (auto refused = RefuseMetrics(ctx, request)) co_return std::move(*refused);
    if (ctx.metrics_access == "token") request.headers.Remove("Authorization");
    co_return co_await next(request);
  };
}

}  // namespace paddlecloud::ops
