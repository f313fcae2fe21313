#include "api/usage_routes.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <chrono>
#include <cmath>

#include "api/request_params.h"
#include "http/json.h"
#include "http/sse.h"

namespace paddlecloud::api {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http::ErrorResponse;
using http::JsonResponse;
using http::Request;
using http::Response;
using monitoring::MetricMap;

struct UsageApi {
  jobs::JobService& jobs;
  monitoring::Accounting& accounting;
  monitoring::UsageSampler& sampler;
  blocking::WorkPool& pool;
};

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A sampled value as the shortest decimal that reads back to the same float (0.98, not
// 0.9800000190734863); null when it was not measured.
json::value Number(float v) {
  if (std::isnan(v)) return nullptr;
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, v);
  double shortest = v;
  std::from_chars(text, end, shortest);
  return shortest;
}

// The metric arrays are most of a report (pods x metrics x 3 x points values): written as text
// rather than built as JSON values, which took ten times longer.
void AppendNumbers(std::string& out, const std::vector<float>& values) {
  out += '[';
  char text[32];
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    if (std::isnan(values[i])) {
      out += "null";
      continue;
    }
    auto [end, ec] = std::to_chars(text, text + sizeof text, values[i]);  // shortest, e.g. 0.98 or 2.5e+08
    out.append(text, end);
  }
  out += ']';
}

void AppendMetrics(std::string& out, const MetricMap& metrics) {
  out += '{';
  bool first = true;
  for (const auto& [name, m] : metrics) {
    if (!first) out += ',';
    first = false;
    out += json::serialize(json::string(name)) + ":{\"min\":";
    AppendNumbers(out, m.min);
    out += ",\"max\":";
    AppendNumbers(out, m.max);
    out += ",\"mean\":";
    AppendNumbers(out, m.mean);
    out += '}';
  }
  out += '}';
}

// Appends `object` serialized, left open for more fields: `{"a":1,` (or `{`).
void AppendOpen(std::string& out, const json::object& object) {
  out += json::serialize(object);
  out.pop_back();
  if (!object.empty()) out += ',';
}

json::object ResourcesJson(const cluster::Resources& r) {
  return {{"cpu", static_cast<double>(r.cpu_milli) / 1000}, {"memory_bytes", r.memory_bytes}, {"gpus", r.gpus}};
}

json::object TimeJson(const monitoring::UsageTotals& t) {
  return {{"cpu_seconds", t.cpu_seconds}, {"gpu_seconds", t.gpu_seconds}};
}

// Written into one buffer sized up front: answers reach megabytes, and every temporary copy of
// that size costs fresh pages.
std::string ReportText(const monitoring::JobUsageReport& report, std::int64_t interval_ms) {
  std::size_t values = report.t.size() * 3 * (monitoring::kPodMetrics.size() * (report.pods.size() + 1) +
                                              monitoring::kNetworkMetrics.size());
  std::string out;
  out.reserve(values * 8 + report.t.size() * 15 + 4096);
  AppendOpen(out, {{"job", report.job.id},
                   {"state", jobs::StateName(report.job.state)},
                   {"interval_ms", interval_ms},
                   {"from", report.from_ms},
                   {"to", report.to_ms},
                   {"bucket_ms", report.bucket_ms},
                   {"t", json::array(report.t.begin(), report.t.end())}});
  out += "\"pods\":[";
  for (const auto& p : report.pods) {
    if (&p != &report.pods.front()) out += ',';
    AppendOpen(out, {{"name", p.pod.name},
                     {"role", p.pod.role},
                     {"phase", p.pod.phase},
                     {"requests", ResourcesJson(p.requests)},
                     {"limits", ResourcesJson(p.requests)},  // the local backend enforces requests as limits
                     {"oom_kill_times", json::array(p.oom_kill_times.begin(), p.oom_kill_times.end())},
                     {"not_measured", p.not_measured},
                     {"time", TimeJson(p.time)}});
    out += "\"metrics\":";
    AppendMetrics(out, p.metrics);
    out += '}';
  }
  out += "],\"job_total\":";
  AppendOpen(out, {{"time", TimeJson(report.time)}});
  out += "\"metrics\":";
  AppendMetrics(out, report.job_total);
  out += "},\"network\":";
  AppendOpen(out, {{"not_measured", report.network_not_measured}});
  out += "\"metrics\":";
  AppendMetrics(out, report.network);
  out += "}}";
  return out;
}

Result<monitoring::UsageRange> RangeOf(const Request& request) {
  monitoring::UsageRange range;
  auto from = QueryInt(request, "from");
  if (!from) return Err(from.error());
  auto to = QueryInt(request, "to");
  if (!to) return Err(to.error());
  auto points = QueryInt(request, "points");
  if (!points) return Err(points.error());
  range.from_ms = *from;
  range.to_ms = *to;
  if (*points) {
    if (**points < 1 || **points > static_cast<std::int64_t>(monitoring::kMaxUsagePoints))
      return Err(Status::InvalidArgument(
          "points must be from 1 to " + std::to_string(monitoring::kMaxUsagePoints), "points"));
    range.points = static_cast<std::size_t>(**points);
  }
  return range;
}

asio::awaitable<Response> GetJobUsage(UsageApi api, Request& request) {
  auto id = PathId(request, "job", "job with id");
  if (!id) co_return ErrorResponse(id.error());
  auto range = RangeOf(request);
  if (!range) co_return ErrorResponse(range.error());
  auto body = co_await api.pool.Run([&]() -> Result<std::string> {
    range->sampling_interval_ms = api.sampler.interval().count();
    auto report = monitoring::ReadJobUsage(api.jobs, api.accounting, *request.principal, *id, *range, NowMs());
    if (!report) return Err(report.error());
    return ReportText(*report, api.sampler.interval().count());
  });
  if (!body) co_return ErrorResponse(body.error());
  Response response{.status = 200};
  response.headers.Set("Content-Type", "application/json");
  response.body = std::move(*body);
  co_return response;
}

json::object LiveJson(const monitoring::LiveSample& live) {
  json::object pods;
  for (const auto& [name, values] : live.pods) {
    json::object metrics;
    for (std::size_t c = 0; c < monitoring::kPodMetrics.size() && c < values.size(); ++c)
      metrics[monitoring::kPodMetrics[c].name] = Number(values[c]);
    pods[name] = std::move(metrics);
  }
  json::object network;
  for (std::size_t c = 0; c < monitoring::kNetworkMetrics.size() && c < live.network.size(); ++c)
    network[monitoring::kNetworkMetrics[c].name] = Number(live.network[c]);
  return {{"t", live.t_ms}, {"pods", std::move(pods)}, {"network", std::move(network)}};
}

// Sends each new sample of the job until it has ended, the client leaves or the server stops.
asio::awaitable<void> FollowUsage(UsageApi api, Principal principal, std::int64_t job_id, http::SseWriter& out) {
  auto executor = co_await asio::this_coro::executor;
  std::uint64_t sent = 0;
  const auto tick = std::max<std::chrono::milliseconds>(std::chrono::milliseconds(100), api.sampler.interval() / 5);
  for (int idle = 0; !out.stopping(); ++idle) {
    if (auto live = api.sampler.Latest(job_id); live && live->sequence != sent) {
      sent = live->sequence;
      idle = 0;
      if (!co_await out.Send("sample", json::serialize(LiveJson(*live)))) co_return;
    } else if (idle % 10 == 9) {
      auto job = co_await api.pool.Run([&] { return api.jobs.Get(principal, job_id); });
      if (!job) co_return;
      if (job->terminal()) {
        json::object end{{"state", jobs::StateName(job->state)}};  // built outside co_await (g++ 12)
        co_await out.Send("end", json::serialize(end));
        co_return;
      }
      if (idle % 100 == 99 && !co_await out.Comment("keep-alive")) co_return;
    }
    asio::steady_timer timer(executor, tick);
    co_await timer.async_wait(asio::use_awaitable);
  }
}

asio::awaitable<Response> StreamJobUsage(UsageApi api, Request& request) {
  auto id = PathId(request, "job", "job with id");
  if (!id) co_return ErrorResponse(id.error());
  auto job = co_await api.pool.Run([&] { return api.jobs.Get(*request.principal, *id); });
  if (!job) co_return ErrorResponse(job.error());
  co_return http::SseResponse([api, principal = *request.principal, job_id = *id](http::SseWriter& out) {
    return FollowUsage(api, principal, job_id, out);
  });
}

asio::awaitable<Response> GetAccountUsage(UsageApi api, Request& request) {
  std::string window(request.Query("window").value_or("1d"));
  auto usage = co_await api.pool.Run([&] { return api.accounting.ForAccount(*request.principal, window); });
  if (!usage) co_return ErrorResponse(usage.error());
  json::array users, daily;
  for (const auto& u : usage->users)
    users.push_back(json::object{{"user_id", u.user_id}, {"email", u.email}, {"cpu_seconds", u.usage.cpu_seconds},
                                 {"gpu_seconds", u.usage.gpu_seconds}});
  for (const auto& d : usage->daily)
    daily.push_back(
        json::object{{"day", d.day}, {"cpu_seconds", d.usage.cpu_seconds}, {"gpu_seconds", d.usage.gpu_seconds}});
  co_return JsonResponse(200, {{"window", usage->window},
                               {"from_s", usage->from_s},
                               {"to_s", usage->to_s},
                               {"cpu_seconds", usage->total.cpu_seconds},
                               {"gpu_seconds", usage->total.gpu_seconds},
                               {"users", std::move(users)},
                               {"daily", std::move(daily)}});
}

}  // namespace

void AddUsageRoutes(http::Router& router, jobs::JobService& jobs, monitoring::Accounting& accounting,
                    monitoring::UsageSampler& sampler, blocking::WorkPool& pool) {
  auto handle = [api = UsageApi{jobs, accounting, sampler, pool}](
                    asio::awaitable<Response> (*handler)(UsageApi, Request&)) -> http::Handler {
    return [api, handler](Request& request) { return handler(api, request); };
  };
  router.Add("GET", "/api/v1/jobs/{job}/usage",
             "A job's CPU, memory, GPU, disk and network usage over from..to (unix ms) in at most `points` "
             "buckets of min/max/mean, per pod and summed over the job",
             handle(GetJobUsage));
  router.Add("GET", "/api/v1/jobs/{job}/usage/stream",
             "A running job's usage samples as Server-Sent Events, one per sampling interval, until it ends",
             handle(StreamJobUsage));
  router.Add("GET", "/api/v1/account/usage",
             "CPU and GPU time of the account (the master) or of the caller over window=1d|7d|30d, per user, "
             "and daily over the last 30 days",
             handle(GetAccountUsage));
}

}  // namespace paddlecloud::api
