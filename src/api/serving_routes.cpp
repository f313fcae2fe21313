#include "api/serving_routes.h"

#include <cmath>

#include "api/log_routes.h"
#include "api/request_params.h"
#include "common/units.h"
#include "http/json.h"
#include "jobs/job_spec.h"
#include "timeseries/series_store.h"

namespace paddlecloud::api {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http::ErrorResponse;
using http::JsonResponse;
using http::Request;
using http::Response;
using serving::ServingService;

json::value Number(const std::optional<double>& v) {
  return v && std::isfinite(*v) ? json::value(*v) : json::value(nullptr);
}

json::object InstanceJson(const serving::Instance& in) {
  std::string base = "/serving/" + in.account_id + "/" + in.name;
  json::array replicas;
  for (const auto& r : in.replicas)
    replicas.push_back(json::object{{"index", r.index},
                                    {"name", r.name},
                                    {"phase", r.phase},
                                    {"reason", r.reason},
                                    {"message", r.message},
                                    {"restarts", r.restarts},
                                    {"started_at", r.started_at ? json::value(*r.started_at) : json::value(nullptr)},
                                    {"draining", r.draining}});
  return {{"name", in.name},
          {"owner", in.owner},
          {"model", in.model},
          {"runtime", in.runtime},
          {"command", in.command},
          {"model_file", in.model_file},
          {"resources", {{"cpu", units::CpuQuantity(in.resources.cpu_milli)},
                         {"cpu_milli", in.resources.cpu_milli},
                         {"memory", units::ByteQuantity(in.resources.memory_bytes)},
                         {"memory_bytes", in.resources.memory_bytes},
                         {"gpus", in.resources.gpus}}},
          {"replicas", {{"desired", in.desired}, {"ready", in.ready}}},
          {"public", in.is_public},
          {"state", in.state},
          {"reason", in.reason},
          {"message", in.message},
          {"url", base},
          {"infer_url", base + "/v2/models/" + in.name + "/infer"},
          {"created_at", in.created_at},
          {"updated_at", in.updated_at},
          {"replica_list", std::move(replicas)},
          {"stats", {{"qps", Number(in.stats.qps)},
                     {"p50_ms", Number(in.stats.p50_ms)},
                     {"p95_ms", Number(in.stats.p95_ms)},
                     {"p99_ms", Number(in.stats.p99_ms)},
                     {"error_rate", Number(in.stats.error_rate)},
                     {"in_flight", in.stats.in_flight}}}};
}

Result<serving::LaunchSpec> LaunchSpecOf(const Request& request) {
  auto object = http::ParseJsonObject(request.body);
  if (!object) return Err(object.error());
  http::JsonReader reader(*object);
  serving::LaunchSpec spec;
  auto name = reader.String("name");
  if (!name) return Err(name.error());
  auto model = reader.String("model");
  if (!model) return Err(model.error());
  auto runtime = reader.OptionalString("runtime");
  auto model_file = reader.OptionalString("model_file");
  auto model_py = reader.OptionalString("model_py");
  auto command = reader.OptionalString("command");
  auto replicas = reader.OptionalInt("replicas");
  auto is_public = reader.OptionalBool("public");
  for (auto* s : {&runtime, &model_file, &model_py, &command})
    if (!*s) return Err(s->error());
  if (!replicas) return Err(replicas.error());
  if (!is_public) return Err(is_public.error());
  cluster::Resources r{-1, -1, -1};
  PC_RETURN_IF_ERROR(jobs::ReadQuantity(reader, "cpu", r.cpu_milli, units::ParseCpuMilli, "CPU", "1, 500m or 1.5"));
  PC_RETURN_IF_ERROR(jobs::ReadQuantity(reader, "memory", r.memory_bytes, units::ParseByteSize, "memory", "1Gi or 512Mi"));
  PC_RETURN_IF_ERROR(jobs::ReadQuantity(reader, "gpus", r.gpus, units::ParseCount, "GPU", "0 or 1"));
  PC_RETURN_IF_ERROR(reader.Finish());
  spec.name = *name;
  spec.model = *model;
  spec.runtime = runtime->value_or("onnx");
  spec.model_file = model_file->value_or("");
  spec.model_py = *model_py;
  spec.command = command->value_or("");
  spec.replicas = static_cast<int>(std::clamp<std::int64_t>(replicas->value_or(1), -1, 1000));
  spec.is_public = is_public->value_or(false);
  spec.resources = r;
  return spec;
}

struct ServingApi {
  ServingService& serving;
  blocking::WorkPool& pool;
};

asio::awaitable<Response> Launch(ServingApi api, Request& request) {
  auto spec = LaunchSpecOf(request);
  if (!spec) co_return ErrorResponse(spec.error());
  auto instance = co_await api.pool.Run([&] { return api.serving.Launch(*request.principal, *spec); });
  if (!instance) co_return ErrorResponse(instance.error());
  co_return JsonResponse(201, InstanceJson(*instance));
}

asio::awaitable<Response> List(ServingApi api, Request& request) {
  auto list = co_await api.pool.Run([&] { return api.serving.List(*request.principal); });
  if (!list) co_return ErrorResponse(list.error());
  json::array items;
  for (const auto& in : *list) items.push_back(InstanceJson(in));
  co_return JsonResponse(200, json::object{{"instances", std::move(items)}});
}

asio::awaitable<Response> Get(ServingApi api, Request& request) {
  std::string name(request.PathParam("name"));
  auto in = co_await api.pool.Run([&] { return api.serving.Get(*request.principal, name); });
  if (!in) co_return ErrorResponse(in.error());
  co_return JsonResponse(200, InstanceJson(*in));
}

// A bad body is a 400 only for an instance the caller may see: anyone else learns nothing from it.
asio::awaitable<Response> BadBody(ServingApi api, Request& request, const std::string& name, const Status& error) {
  auto visible = co_await api.pool.Run([&] { return api.serving.Get(*request.principal, name); });
  co_return ErrorResponse(visible ? error : visible.error());
}

// The one field of a small change ({"public": bool}, {"replicas": n}).
template <typename T>
Result<T> OneField(const Request& request, const char* field, Result<T> (http::JsonReader::*read)(std::string_view)) {
  auto object = http::ParseJsonObject(request.body);
  if (!object) return Err(object.error());
  http::JsonReader reader(*object);
  auto value = (reader.*read)(field);
  if (!value) return Err(value.error());
  PC_RETURN_IF_ERROR(reader.Finish());
  return *value;
}

asio::awaitable<Response> Patch(ServingApi api, Request& request) {
  std::string name(request.PathParam("name"));
  auto is_public = OneField<bool>(request, "public", &http::JsonReader::Bool);
  if (!is_public) co_return co_await BadBody(api, request, name, is_public.error());
  auto in = co_await api.pool.Run([&] { return api.serving.SetPublic(*request.principal, name, *is_public); });
  if (!in) co_return ErrorResponse(in.error());
  co_return JsonResponse(200, InstanceJson(*in));
}

asio::awaitable<Response> Scale(ServingApi api, Request& request) {
  std::string name(request.PathParam("name"));
  auto replicas = OneField<std::int64_t>(request, "replicas", &http::JsonReader::Int);
  if (!replicas) co_return co_await BadBody(api, request, name, replicas.error());
  int n = static_cast<int>(std::clamp<std::int64_t>(*replicas, -1, 1000));
  auto in = co_await api.pool.Run([&] { return api.serving.Scale(*request.principal, name, n); });
  if (!in) co_return ErrorResponse(in.error());
  co_return JsonResponse(200, InstanceJson(*in));
}

asio::awaitable<Response> Deactivate(ServingApi api, Request& request) {
  std::string name(request.PathParam("name"));
  auto in = co_await api.pool.Run([&] { return api.serving.Deactivate(*request.principal, name); });
  if (!in) co_return ErrorResponse(in.error());
  co_return JsonResponse(200, InstanceJson(*in));
}

asio::awaitable<Response> Activate(ServingApi api, Request& request) {
  std::string name(request.PathParam("name"));
  auto in = co_await api.pool.Run([&] { return api.serving.Activate(*request.principal, name); });
  if (!in) co_return ErrorResponse(in.error());
  co_return JsonResponse(200, InstanceJson(*in));
}

asio::awaitable<Response> Delete(ServingApi api, Request& request) {
  std::string name(request.PathParam("name"));
  Status deleted = co_await api.pool.Run([&] { return api.serving.Delete(*request.principal, name); });
  if (!deleted.ok()) co_return ErrorResponse(deleted);
  Response r;
  r.status = 204;
  co_return r;
}

Result<int> ReplicaIndex(const Request& request) {
  std::string text(request.PathParam("index"));
  if (text.empty() || text.size() > 2 || text.find_first_not_of("0123456789") != std::string::npos)
    return Err(Status::NotFound("no replica '" + text + "'"));
  return std::stoi(text);
}

asio::awaitable<Response> ReplicaLog(ServingApi api, Request& request) {
  std::string name(request.PathParam("name"));
  auto index = ReplicaIndex(request);
  if (!index) co_return ErrorResponse(index.error());
  auto path = co_await api.pool.Run([&] { return api.serving.ReplicaLogPath(*request.principal, name, *index); });
  if (!path) co_return ErrorResponse(path.error());
  co_return co_await LogResponse(api.pool, request, *path, "replica", name + "-" + std::to_string(*index));
}

asio::awaitable<Response> FollowReplicaLog(ServingApi api, Request& request) {
  std::string name(request.PathParam("name"));
  auto index = ReplicaIndex(request);
  if (!index) co_return ErrorResponse(index.error());
  auto path = co_await api.pool.Run([&] { return api.serving.ReplicaLogPath(*request.principal, name, *index); });
  if (!path) co_return ErrorResponse(path.error());
  Principal principal = *request.principal;
  ServingService* serving = &api.serving;
  co_return FollowLogResponse(
      api.pool, request, [serving, principal, name, i = *index] { return serving->ReplicaLogPath(principal, name, i); },
      // A replica's log ends with its instance: deleted, or no longer running that replica.
      [serving, principal, name, i = *index]() -> Result<std::optional<std::string>> {
        auto in = serving->Get(principal, name);
        if (!in) return std::optional<std::string>("deleted");
        if (!in->active) return std::optional<std::string>("inactive");
        if (i >= in->desired) return std::optional<std::string>("scaled down");
        return std::optional<std::string>();
      });
}

asio::awaitable<Response> Metrics(ServingApi api, Request& request) {
  std::string name(request.PathParam("name"));
  auto from = QueryInt(request, "from");
  auto to = QueryInt(request, "to");
  auto points = QueryInt(request, "points");
  auto replica = QueryInt(request, "replica");
  for (auto* q : {&from, &to, &points, &replica})
    if (!*q) co_return ErrorResponse(q->error());
  std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch()).count();
  std::int64_t end = to->value_or(now_ms), begin = from->value_or(end - 15 * 60 * 1000);
  std::int64_t n = points->value_or(300);
  if (n < 1 || n > 5000) co_return ErrorResponse(Status::InvalidArgument("points must be from 1 to 5000", "points"));
  if (begin < 0 || begin >= end) co_return ErrorResponse(Status::InvalidArgument("from must be before to", "from"));
  if (*replica && (**replica < 0 || **replica >= serving::kMaxReplicas))
    co_return ErrorResponse(Status::InvalidArgument("replica: an index from 0 to 63", "replica"));
  auto dir = co_await api.pool.Run([&] { return api.serving.MetricsDir(*request.principal, name); });
  if (!dir) co_return ErrorResponse(dir.error());
  std::string series = *dir + "/" + (*replica ? "replica-" + std::to_string(**replica) : std::string("instance"));
  auto result = co_await api.pool.Run([&] {
    return timeseries::Query(series, begin, end, static_cast<std::size_t>(n));
  });
  json::array t;
  std::vector<json::object> columns(std::size(serving::kSeriesColumns));
  std::vector<std::array<json::array, 3>> values(std::size(serving::kSeriesColumns));
  std::int64_t bucket_ms = 0;
  if (result) {
    bucket_ms = result->bucket_ms;
    for (const auto& bucket : result->buckets) {
      t.push_back(bucket.t_ms);
      for (std::size_t c = 0; c < values.size() && c < bucket.columns.size(); ++c) {
        const auto& stat = bucket.columns[c];
        auto num = [&](float v) { return stat.count && std::isfinite(v) ? json::value(v) : json::value(nullptr); };
        values[c][0].push_back(num(stat.min));
        values[c][1].push_back(num(stat.max));
        values[c][2].push_back(num(stat.mean));
      }
    }
  } else if (result.error().code() != Code::kNotFound) {
    co_return ErrorResponse(result.error());
  }
  json::object out_series;
  for (std::size_t c = 0; c < values.size(); ++c)
    out_series[serving::kSeriesColumns[c]] =
        json::object{{"min", std::move(values[c][0])}, {"max", std::move(values[c][1])}, {"mean", std::move(values[c][2])}};
  co_return JsonResponse(200, json::object{{"from", begin}, {"to", end}, {"bucket_ms", bucket_ms},
                                           {"t", std::move(t)}, {"series", std::move(out_series)}});
}

}  // namespace

void AddServingRoutes(http::Router& router, ServingService& serving, blocking::WorkPool& pool) {
  auto handle = [api = ServingApi{serving, pool}](asio::awaitable<Response> (*handler)(ServingApi, Request&)) -> http::Handler {
    return [api, handler](Request& request) { return handler(api, request); };
  };
  auto small_body = http::RouteOptions().WithBodyLimit(4 * 1024);
  router.Add("POST", "/api/v1/serving",
             "Launch a serving instance: a model (cloud path) served by replicas of the onnx, python or command runtime",
             handle(Launch), http::RouteOptions().WithBodyLimit(2 << 20));
  router.Add("GET", "/api/v1/serving", "Serving instances, newest first (a member sees those they launched)", handle(List));
  router.Add("GET", "/api/v1/serving/{name}", "One serving instance with its replicas and recent QPS and latency",
             handle(Get));
  router.Add("PATCH", "/api/v1/serving/{name}", "Make an instance public (anonymous calls) or token-only", handle(Patch),
             small_body);
  router.Add("POST", "/api/v1/serving/{name}/scale", "Set the number of replicas (leaving replicas drain first)",
             handle(Scale), small_body);
  router.Add("POST", "/api/v1/serving/{name}/deactivate",
             "Stop serving: drain and stop every replica; the instance stays listed", handle(Deactivate), small_body);
  router.Add("POST", "/api/v1/serving/{name}/activate", "Serve again with the last number of replicas",
             handle(Activate), small_body);
  router.Add("DELETE", "/api/v1/serving/{name}", "Drain, stop and forget an instance", handle(Delete));
  router.Add("GET", "/api/v1/serving/{name}/replicas/{index}/logs",
             "A replica's log: the last `tail` lines, `offset`+`length` bytes, or the file with download=true",
             handle(ReplicaLog));
  router.Add("GET", "/api/v1/serving/{name}/replicas/{index}/logs/stream",
             "Follow a replica's log as Server-Sent Events", handle(FollowReplicaLog));
  router.Add("GET", "/api/v1/serving/{name}/metrics",
             "An instance's (or one replica's) requests/s, errors/s, latency percentiles, in-flight and bytes over time",
             handle(Metrics));
}

}  // namespace paddlecloud::api
