#include "api/job_routes.h"

#include <fcntl.h>
#include <unistd.h>

#include "api/log_routes.h"
#include "api/request_params.h"
#include "common/units.h"
#include "http/json.h"

namespace paddlecloud::api {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http::ErrorResponse;
using http::JsonResponse;
using http::Request;
using http::Response;
using jobs::JobService;

json::value OptionalJson(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::object JobJson(const jobs::Job& job) {
  return {{"id", job.id},
          {"name", job.spec.name},
          {"user", job.user_email},
          {"state", StateName(job.state)},
          {"reason", job.reason},
          {"stop_requested", job.stop_requested},
          {"submitted_at", job.submitted_at},
          {"started_at", OptionalJson(job.started_at)},
          {"finished_at", OptionalJson(job.finished_at)},
          {"succeeded", job.succeeded},
          {"failed", job.failed},
          {"spec", jobs::JobSpecToJson(job.spec)}};
}

json::object PodJson(const jobs::Pod& p) {
  return {{"name", p.name},
          {"role", p.role},
          {"index", p.index},
          {"phase", p.phase},
          {"reason", p.reason},
          {"exit_code", p.exit_code ? json::value(*p.exit_code) : json::value(nullptr)},
          {"restarts", p.restarts},
          {"started_at", OptionalJson(p.started_at)},
          {"finished_at", OptionalJson(p.finished_at)},
          {"endpoint", p.endpoint}};
}

Result<std::int64_t> JobId(const Request& request) { return PathId(request, "job", "job with id"); }

json::object ResourcesJson(const cluster::Resources& r) {
  return {{"cpu", units::CpuQuantity(r.cpu_milli)}, {"cpu_milli", r.cpu_milli}, {"memory", units::ByteQuantity(r.memory_bytes)},
          {"memory_bytes", r.memory_bytes}, {"gpus", r.gpus}};
}

json::object CapacityJson(const cluster::Capacity& c) {
  cluster::Resources free{.cpu_milli = std::max<std::int64_t>(0, c.total.cpu_milli - c.in_use.cpu_milli),
                          .memory_bytes = std::max<std::int64_t>(0, c.total.memory_bytes - c.in_use.memory_bytes),
                          .gpus = std::max<std::int64_t>(0, c.total.gpus - c.in_use.gpus)};
  return {{"total", ResourcesJson(c.total)}, {"in_use", ResourcesJson(c.in_use)}, {"free", ResourcesJson(free)}};
}

// What every handler works with; copied into each handler's frame (two references).
struct JobApi {
  JobService& jobs;
  blocking::WorkPool& pool;
};

asio::awaitable<Response> GetCapacity(JobApi api, Request&) {
  auto capacity = co_await api.pool.Run([&] { return api.jobs.Capacity(); });
  co_return JsonResponse(200, CapacityJson(capacity));
}

asio::awaitable<Response> SubmitJob(JobApi api, Request& request) {
  auto object = http::ParseJsonObject(request.body);
  if (!object) co_return ErrorResponse(object.error());
  auto spec = jobs::ParseJobSpec(*object);
  if (!spec) co_return ErrorResponse(spec.error());
  auto job = co_await api.pool.Run([&] { return api.jobs.Submit(*request.principal, *spec); });
  if (!job) {
    Response refused = ErrorResponse(job.error());
    // A job larger than the quota can never run as asked: a bad request (as one larger than the
    // cluster), not a write refused for want of room (quota_exceeded's 403 elsewhere).
    if (job.error().code() == Code::kQuotaExceeded) refused.status = 400;
    co_return refused;
  }
  Response r = JsonResponse(201, JobJson(*job));
  r.headers.Set("Location", "/api/v1/jobs/" + std::to_string(job->id));
  co_return r;
}

// Writes the request's body to `fd` (at most a package's size).
asio::awaitable<Status> ReceivePackage(blocking::WorkPool& pool, Request& request, int fd) {
  std::string buffer(256 * 1024, '\0');
  std::uint64_t total = 0;
  while (true) {
    auto n = co_await request.body_stream->Read(buffer.data(), buffer.size());
    if (!n) co_return n.error();
    if (*n == 0) co_return Status::Ok();
    total += *n;
    if (total > jobs::kMaxPackageBytes) co_return Status::PayloadTooLarge("a package archive may be at most 1 GiB");
    bool written = co_await pool.Run([&] { return ::write(fd, buffer.data(), *n) == static_cast<ssize_t>(*n); });
    if (!written) co_return Status::Unavailable("cannot store the upload (disk full?)");
  }
}

asio::awaitable<Response> UploadPackage(JobApi api, Request& request) {
  auto length = request.body_stream->content_length();
  if (length && *length > jobs::kMaxPackageBytes)
    co_return ErrorResponse(Status::PayloadTooLarge("a package archive may be at most 1 GiB"));
  std::string path = co_await api.pool.Run([&] { return api.jobs.PackageUploadPath(*request.principal); });
  int fd = co_await api.pool.Run([&] { return ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); });
  if (fd < 0) co_return ErrorResponse(Status::Unavailable("cannot store the upload"));
  Status received = co_await ReceivePackage(api.pool, request, fd);
  co_await api.pool.Run([&] { ::close(fd); });
  if (!received.ok()) {
    co_await api.pool.Run([&] { ::unlink(path.c_str()); });
    co_return ErrorResponse(received);
  }
  auto package = co_await api.pool.Run([&] { return api.jobs.AddPackage(*request.principal, path); });
  if (!package) co_return ErrorResponse(package.error());
  co_return JsonResponse(201, {{"package", package->id}, {"files", package->files}, {"bytes", package->bytes}});
}

// The job list's query: status, name, all, started_after, started_before, limit, cursor.
Result<jobs::JobFilter> JobFilterOf(const Request& request) {
  jobs::JobFilter filter;
  filter.status = std::string(request.Query("status").value_or(""));
  filter.name_contains = std::string(request.Query("name").value_or(""));
  filter.all_users = request.Query("all").value_or("") == "true";
  for (auto [name, out] : {std::pair{"started_after", &filter.started_after},
                           std::pair{"started_before", &filter.started_before}}) {
    auto v = QueryInt(request, name);
    if (!v) return Err(v.error());
    *out = *v;
  }
  auto limit = QueryInt(request, "limit");
  auto cursor = QueryInt(request, "cursor");
  if (!limit) return Err(limit.error());
  if (!cursor) return Err(cursor.error());
  filter.limit = static_cast<int>(limit->value_or(50));
  filter.cursor = cursor->value_or(0);
  return filter;
}

asio::awaitable<Response> ListJobs(JobApi api, Request& request) {
  auto filter = JobFilterOf(request);
  if (!filter) co_return ErrorResponse(filter.error());
  std::int64_t next = 0;
  auto list = co_await api.pool.Run([&] { return api.jobs.List(*request.principal, *filter, &next); });
  if (!list) co_return ErrorResponse(list.error());
  json::array items;
  for (const auto& job : *list) items.push_back(JobJson(job));
  json::object body{{"items", std::move(items)}};
  body["next_cursor"] = next ? json::value(std::to_string(next)) : json::value(nullptr);
  co_return JsonResponse(200, body);
}

asio::awaitable<Response> GetJob(JobApi api, Request& request) {
  auto id = JobId(request);
  if (!id) co_return ErrorResponse(id.error());
  auto result = co_await api.pool.Run([&]() -> Result<std::pair<jobs::Job, std::vector<jobs::Pod>>> {
    // Pods first: a job read after them has seen at least as much (never Pending beside Running pods).
    auto pods = api.jobs.Pods(*request.principal, *id);
    if (!pods) return Err(pods.error());
    auto job = api.jobs.Get(*request.principal, *id);
    if (!job) return Err(job.error());
    return std::make_pair(std::move(*job), std::move(*pods));
  });
  if (!result) co_return ErrorResponse(result.error());
  json::object body = JobJson(result->first);
  json::array pods;
  for (const auto& p : result->second) pods.push_back(PodJson(p));
  body["pods"] = std::move(pods);
  co_return JsonResponse(200, body);
}

asio::awaitable<Response> StopJob(JobApi api, Request& request) {
  auto id = JobId(request);
  if (!id) co_return ErrorResponse(id.error());
  auto job = co_await api.pool.Run([&] { return api.jobs.Stop(*request.principal, *id); });
  if (!job) co_return ErrorResponse(job.error());
  co_return JsonResponse(202, JobJson(*job));
}

asio::awaitable<Response> ListJobEvents(JobApi api, Request& request) {
  auto id = JobId(request);
  if (!id) co_return ErrorResponse(id.error());
  auto after = QueryInt(request, "after");
  if (!after) co_return ErrorResponse(after.error());
  auto events = co_await api.pool.Run([&] { return api.jobs.Events(*request.principal, *id, after->value_or(0)); });
  if (!events) co_return ErrorResponse(events.error());
  json::array items;
  for (const auto& e : *events)
    items.push_back({{"id", e.id}, {"at", e.at}, {"pod", e.pod}, {"type", e.type}, {"message", e.message}});
  co_return JsonResponse(200, {{"items", std::move(items)}});
}

asio::awaitable<Response> GetPodLog(JobApi api, Request& request) {
  auto id = JobId(request);
  if (!id) co_return ErrorResponse(id.error());
  std::string pod(request.PathParam("pod"));
  auto path = co_await api.pool.Run([&] { return api.jobs.LogPath(*request.principal, *id, pod); });
  if (!path) co_return ErrorResponse(path.error());
  co_return co_await LogResponse(api.pool, request, *path, "pod", pod);
}

asio::awaitable<Response> FollowPodLog(JobApi api, Request& request) {
  auto id = JobId(request);
  if (!id) co_return ErrorResponse(id.error());
  std::string pod(request.PathParam("pod"));
  auto path = co_await api.pool.Run([&] { return api.jobs.LogPath(*request.principal, *id, pod); });
  if (!path) co_return ErrorResponse(path.error());
  Principal principal = *request.principal;
  co_return FollowLogResponse(
      api.pool, request, [jobs = &api.jobs, principal, job_id = *id, pod] { return jobs->LogPath(principal, job_id, pod); },
      [jobs = &api.jobs, principal, job_id = *id]() -> Result<std::optional<std::string>> {
        auto job = jobs->Get(principal, job_id);
        if (!job) return Err(job.error());
        if (!job->terminal()) return std::optional<std::string>();
        return std::optional<std::string>(std::string(StateName(job->state)));
      });
}

}  // namespace

void AddJobRoutes(http::Router& router, JobService& jobs, blocking::WorkPool& pool) {
  auto handle = [api = JobApi{jobs, pool}](asio::awaitable<Response> (*handler)(JobApi, Request&)) -> http::Handler {
    return [api, handler](Request& request) { return handler(api, request); };
  };
  router.Add("GET", "/api/v1/cluster/capacity",
             "The cluster's CPU, memory and GPUs: total, requested by running pods, free (aggregates only)",
             handle(GetCapacity));
  router.Add("POST", "/api/v1/jobs", "Submit a training job (trainers + parameter servers)", handle(SubmitJob));
  router.Add("POST", "/api/v1/jobs/packages",
             "Upload a job's code as a tar archive (optionally gzip-compressed); answers the package id to submit with",
             handle(UploadPackage), http::RouteOptions::Streaming());
  router.Add("GET", "/api/v1/jobs", "Jobs, newest first, filtered by status, name and start time", handle(ListJobs));
  router.Add("GET", "/api/v1/jobs/{job}", "One job with its pods", handle(GetJob));
  router.Add("POST", "/api/v1/jobs/{job}/stop", "Stop a job: SIGTERM to every pod, SIGKILL after a grace period",
             handle(StopJob));
  router.Add("GET", "/api/v1/jobs/{job}/events", "A job's events (scheduled, started, exited, restarted ...)",
             handle(ListJobEvents));
  router.Add("GET", "/api/v1/jobs/{job}/pods/{pod}/logs",
             "A pod's log: the last `tail` lines (default 100), or `offset`+`length` bytes, or the whole file "
             "with download=true",
             handle(GetPodLog));
  router.Add("GET", "/api/v1/jobs/{job}/pods/{pod}/logs/stream",
             "Follow a pod's log as Server-Sent Events: the last `tail` lines, then new lines as they are written",
             handle(FollowPodLog));
}

}  // namespace paddlecloud::api
