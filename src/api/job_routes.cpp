#include "api/job_routes.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/json/serialize.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <charconv>

#include "api/request_params.h"
#include "common/units.h"
#include "http/json.h"
#include "http/sse.h"
#include "http/static_files.h"
#include "jobs/log_reader.h"

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

// Follows one pod's log: the last `lines` lines, then what is appended, until the job has ended
// and the log is drained, the client leaves or the server stops.
asio::awaitable<void> FollowLog(JobService& jobs, blocking::WorkPool& pool, Principal principal, std::int64_t job_id,
                                std::string pod, std::size_t lines, http::SseWriter& out) {
  auto executor = co_await asio::this_coro::executor;
  std::string path;
  std::optional<std::uint64_t> offset;
  int idle_ticks = 0;
  while (!out.stopping()) {
    if (path.empty()) {
      auto p = co_await pool.Run([&] { return jobs.LogPath(principal, job_id, pod); });
      if (!p) co_return;
      path = *p;
    }
    bool wrote = false;
    if (!path.empty()) {
      auto chunk = co_await pool.Run([&] {
        return offset ? jobs::ReadLogRange(path, *offset, 256 * 1024) : jobs::TailLines(path, lines);
      });
      if (chunk && !chunk->text.empty()) {
        json::object data{{"offset", chunk->offset}, {"text", chunk->text}};
        if (!co_await out.Send("log", json::serialize(data))) co_return;
        offset = chunk->offset + chunk->text.size();
        wrote = true;
      } else if (chunk && !offset) {
        offset = chunk->size;
      }
    }
    if (!wrote) {
      // Nothing new: end once the job has ended and the log is drained.
      auto job = co_await pool.Run([&] { return jobs.Get(principal, job_id); });
      if (!job) co_return;
      ++idle_ticks;
      if (job->terminal() && idle_ticks >= 2) {
        json::object end{{"state", StateName(job->state)}};  // built outside co_await: g++ 12 mishandles the init list there
        co_await out.Send("end", json::serialize(end));
        co_return;
      }
      if (idle_ticks % 40 == 39 && !co_await out.Comment("keep-alive")) co_return;
      asio::steady_timer tick(executor, std::chrono::milliseconds(250));
      co_await tick.async_wait(asio::use_awaitable);
    } else {
      idle_ticks = 0;
    }
  }
}

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

// The whole log file as an attachment.
asio::awaitable<Response> DownloadLog(blocking::WorkPool& pool, const std::string& path, const std::string& pod) {
  if (path.empty()) co_return ErrorResponse(Status::NotFound("pod '" + pod + "' has not written a log yet"));
  auto size = co_await pool.Run([&] { return jobs::ReadLogRange(path, 0, 0); });
  if (!size) co_return ErrorResponse(size.error());
  Response r = http::MakeFileStreamResponse(pool, path, 0, size->size);
  r.headers.Set("Content-Type", "text/plain; charset=utf-8");
  r.headers.Set("Content-Disposition", "attachment; filename=\"" + pod + ".log\"");
  co_return r;
}

// `length` bytes from `offset` when an offset is given, else the last `tail` lines.
asio::awaitable<Result<jobs::LogChunk>> ReadLog(blocking::WorkPool& pool, const std::string& path,
                                                std::optional<std::int64_t> offset, std::optional<std::int64_t> length,
                                                std::optional<std::int64_t> tail) {
  if (offset) {
    if (*offset < 0) co_return Err(Status::InvalidArgument("offset must be >= 0", "offset"));
    std::int64_t want = length.value_or(1 << 20);
    if (want < 0 || want > (8 << 20)) co_return Err(Status::InvalidArgument("length must be from 0 to 8388608", "length"));
    co_return co_await pool.Run([&] {
      return jobs::ReadLogRange(path, static_cast<std::uint64_t>(*offset), static_cast<std::size_t>(want));
    });
  }
  std::int64_t lines = tail.value_or(100);
  if (lines < 0 || lines > 100000) co_return Err(Status::InvalidArgument("tail must be from 0 to 100000", "tail"));
  co_return co_await pool.Run([&] { return jobs::TailLines(path, static_cast<std::size_t>(lines)); });
}

asio::awaitable<Response> GetPodLog(JobApi api, Request& request) {
  auto id = JobId(request);
  if (!id) co_return ErrorResponse(id.error());
  std::string pod(request.PathParam("pod"));
  auto tail = QueryInt(request, "tail");
  auto offset = QueryInt(request, "offset");
  auto length = QueryInt(request, "length");
  for (auto* q : {&tail, &offset, &length})
    if (!*q) co_return ErrorResponse(q->error());
  auto path = co_await api.pool.Run([&] { return api.jobs.LogPath(*request.principal, *id, pod); });
  if (!path) co_return ErrorResponse(path.error());
  if (request.Query("download").value_or("") == "true") co_return co_await DownloadLog(api.pool, *path, pod);
  Result<jobs::LogChunk> chunk = jobs::LogChunk{};
  if (!path->empty()) chunk = co_await ReadLog(api.pool, *path, *offset, *length, *tail);
  if (!chunk) co_return ErrorResponse(chunk.error());
  co_return JsonResponse(200, {{"pod", pod}, {"text", chunk->text}, {"offset", chunk->offset},
                               {"size", chunk->size}, {"started", !path->empty()}});
}

asio::awaitable<Response> FollowPodLog(JobApi api, Request& request) {
  auto id = JobId(request);
  if (!id) co_return ErrorResponse(id.error());
  std::string pod(request.PathParam("pod"));
  auto tail = QueryInt(request, "tail");
  if (!tail) co_return ErrorResponse(tail.error());
  auto path = co_await api.pool.Run([&] { return api.jobs.LogPath(*request.principal, *id, pod); });
  if (!path) co_return ErrorResponse(path.error());
  Principal principal = *request.principal;
  std::size_t lines = static_cast<std::size_t>(std::clamp<std::int64_t>(tail->value_or(100), 0, 100000));
  co_return http::SseResponse([api, principal, job_id = *id, pod, lines](http::SseWriter& out) {
    return FollowLog(api.jobs, api.pool, principal, job_id, pod, lines, out);
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
