#include "http/middleware.h"

#include <boost/beast/core/string.hpp>

#include "http/json.h"

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

namespace {

// Appends `value` so that one log line stays one line and a quoted field cannot be closed early:
// quotes and backslashes get a backslash, control characters become \n, \r, \t or \xHH.
void AppendEscaped(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (char ch : value) {
    auto byte = static_cast<unsigned char>(ch);
    if (ch == '"' || ch == '\\') {
      out.push_back('\\');
      out.push_back(ch);
    } else if (ch == '\n') {
      out.append("\\n");
    } else if (ch == '\r') {
      out.append("\\r");
    } else if (ch == '\t') {
      out.append("\\t");
    } else if (byte < 0x20 || byte == 0x7f) {
      out.append("\\x").push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xf]);
    } else {
      out.push_back(ch);
    }
  }
}

}  // namespace

Middleware AccessLogMiddleware() {
  return [](Request& request, const Handler& next) -> asio::awaitable<Response> {
    Response response = co_await next(request);
    auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - request.received_at);
    std::string bytes = response.stream ? (response.content_length ? std::to_string(*response.content_length) : "stream")
                                        : std::to_string(response.body.size());
    // Every field a client can influence is escaped: a "%0a" in the path must not forge a log line.
    std::string line;
    line.reserve(160 + request.path.size());
    line.append("request id=");
    AppendEscaped(line, request.request_id);
    line.append(" method=");
    AppendEscaped(line, request.method);
    line.append(" path=\"");
    AppendEscaped(line, request.path);
    line.append("\" route=\"");
    AppendEscaped(line, request.route);
    line.append("\" status=").append(std::to_string(response.status)).append(" bytes=").append(bytes);
    line.append(fmt::format(" duration_ms={:.3f} remote=", elapsed.count()));
    AppendEscaped(line, request.remote_address);
    spdlog::info("{}", line);
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
    std::mutex mutex;  // guards series
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

void AllowedHosts::Set(const std::vector<std::string>& entries) {
  entries_.clear();
  any_ = entries.empty();
  for (const auto& entry : entries) {
    std::string lower;
    for (char ch : entry) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    any_ |= lower == "*";
    entries_.push_back(std::move(lower));
  }
}

bool AllowedHosts::Allows(std::string_view host) const {
  if (any_) return true;
  // "name:port" or "[v6]:port": the name part, for entries without a port.
  auto colon = host.rfind(':');
  std::string_view name = colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos
                              ? host.substr(0, colon)
                              : host;
  for (const auto& entry : entries_)
    if (boost::beast::iequals(entry, host) || boost::beast::iequals(entry, name)) return true;
  return false;
}

Middleware HostCheckMiddleware(std::shared_ptr<const AllowedHosts> allowed) {
  return [allowed = std::move(allowed)](Request& request, const Handler& next) -> asio::awaitable<Response> {
    auto host = request.headers.Get("Host");
    if ((host && allowed->Allows(*host)) || request.path == "/healthz" || request.path == "/readyz")
      co_return co_await next(request);
    co_return ErrorResponse(Status::InvalidArgument("this server does not answer to Host '" +
                                                        std::string(host.value_or("")) +
                                                        "'; add it to allowed_hosts if it is a name of this server",
                                                    "Host")
                                .WithDetail("reason", "host_not_allowed"));
  };
}

}  // namespace paddlecloud::http
