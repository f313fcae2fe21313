#include "api/notebook_routes.h"

#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "common/units.h"
#include "http/json.h"
#include "jobs/job_spec.h"

namespace paddlecloud::api {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http::ErrorResponse;
using http::JsonResponse;
using http::Request;
using http::Response;

json::object ResourcesJson(const cluster::Resources& r) {
  return {{"cpu", units::CpuQuantity(r.cpu_milli)}, {"memory", units::ByteQuantity(r.memory_bytes)}, {"gpus", r.gpus}};
}

json::value Optional(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::object NotebookJson(const notebooks::Notebook& nb, const notebooks::NotebookOptions& options) {
  return {{"state", nb.state},
          {"reason", nb.reason},
          {"message", nb.message},
          {"resources", ResourcesJson(nb.resources)},
          {"defaults", ResourcesJson(options.defaults)},
          {"started_at", Optional(nb.started_at)},
          {"ready_at", Optional(nb.ready_at)},
          {"last_activity_at", Optional(nb.last_activity_at)},
          {"idle_timeout_seconds", options.idle_timeout.count()},
          {"max_age_seconds", options.max_age.count()},
          {"url", nb.url},
          {"restarts", nb.restarts},
          {"log_tail", nb.log_tail}};
}

// {"cpu": "2", "memory": "4Gi", "gpus": 0}, each optional (the defaults); an empty body: nullopt.
Result<std::optional<cluster::Resources>> ResourcesOf(const Request& request, const cluster::Resources& defaults) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return std::optional<cluster::Resources>();
  auto object = http::ParseJsonObject(request.body);
  if (!object) return Err(object.error());
  http::JsonReader reader(*object);
  cluster::Resources r = defaults;
  PC_RETURN_IF_ERROR(jobs::ReadQuantity(reader, "cpu", r.cpu_milli, units::ParseCpuMilli, "CPU", "2, 500m or 1.5"));
  PC_RETURN_IF_ERROR(jobs::ReadQuantity(reader, "memory", r.memory_bytes, units::ParseByteSize, "memory", "2Gi or 512Mi"));
  PC_RETURN_IF_ERROR(jobs::ReadQuantity(reader, "gpus", r.gpus, units::ParseCount, "GPU", "0 or 1"));
  PC_RETURN_IF_ERROR(reader.Finish());
  if (r.cpu_milli < 100) return Err(Status::InvalidArgument("cpu: a notebook needs at least 100m", "cpu"));
  if (r.memory_bytes < (128LL << 20))
    return Err(Status::InvalidArgument("memory: a notebook needs at least 128Mi", "memory"));
  if (r.gpus > 16) return Err(Status::InvalidArgument("gpus: at most 16", "gpus"));
  return std::optional(r);
}

struct NotebookApi {
  notebooks::NotebookService& notebooks;
  blocking::WorkPool& pool;
  std::function<Result<std::string>(const Request&, std::string_view)> start_handoff;
};

asio::awaitable<Response> GetNotebook(const NotebookApi& api, Request& request) {
  auto nb = co_await api.pool.Run([&] { return api.notebooks.Get(*request.principal); });
  if (!nb) co_return ErrorResponse(nb.error());
  co_return JsonResponse(200, NotebookJson(*nb, api.notebooks.options()));
}

asio::awaitable<Response> StartNotebook(const NotebookApi& api, Request& request) {
  auto resources = ResourcesOf(request, api.notebooks.options().defaults);
  if (!resources) co_return ErrorResponse(resources.error());
  bool changed = false;
  auto nb = co_await api.pool.Run([&] { return api.notebooks.Start(*request.principal, *resources, &changed); });
  if (!nb) co_return ErrorResponse(nb.error());
  co_return JsonResponse(changed ? 202 : 200, NotebookJson(*nb, api.notebooks.options()));
}

asio::awaitable<Response> RestartNotebook(const NotebookApi& api, Request& request) {
  auto resources = ResourcesOf(request, api.notebooks.options().defaults);
  if (!resources) co_return ErrorResponse(resources.error());
  auto nb = co_await api.pool.Run([&] { return api.notebooks.Restart(*request.principal, *resources); });
  if (!nb) co_return ErrorResponse(nb.error());
  co_return JsonResponse(202, NotebookJson(*nb, api.notebooks.options()));
}

asio::awaitable<Response> StopNotebook(const NotebookApi& api, Request& request) {
  auto nb = co_await api.pool.Run([&] { return api.notebooks.Stop(*request.principal); });
  if (!nb) co_return ErrorResponse(nb.error());
  co_return JsonResponse(200, NotebookJson(*nb, api.notebooks.options()));
}

asio::awaitable<Response> ListNotebooks(const NotebookApi& api, Request& request) {
  auto list = co_await api.pool.Run([&] { return api.notebooks.List(*request.principal); });
  if (!list) co_return ErrorResponse(list.error());
  json::array items;
  for (const auto& item : *list)
    items.push_back(json::object{{"user_id", item.user_id},
                                 {"email", item.email},
                                 {"notebook", NotebookJson(item.notebook, api.notebooks.options())}});
  co_return JsonResponse(200, json::object{{"items", std::move(items)}});
}

// A browser navigation: signed out, to sign-in (and back to the notebook page); signed in, to the
// notebook origin with a one-time token for `next`.
asio::awaitable<Response> Handoff(const NotebookApi& api, Request& request) {
  if (!request.principal) co_return http::RedirectResponse("/login?next=%2Fnotebook");
  std::string next = request.query.contains("next") ? request.query.at("next")
                                                    : notebooks::NotebookService::BaseUrl(request.principal->user_id) + "tree";
  auto url = api.start_handoff(request, next);
  if (!url) co_return ErrorResponse(url.error());
  co_return http::RedirectResponse(*url);
}

}  // namespace

void AddNotebookRoutes(http::Router& router, NotebookRoutesContext context) {
  auto api = std::make_shared<NotebookApi>(
      NotebookApi{context.notebooks, context.pool, std::move(context.start_handoff)});
  auto handle = [api](asio::awaitable<Response> (*handler)(const NotebookApi&, Request&)) -> http::Handler {
    return [api, handler](Request& request) { return handler(*api, request); };
  };
  auto small_body = http::RouteOptions().WithBodyLimit(4 * 1024);
  router.Add("GET", "/api/v1/notebook", "Your notebook: state, resources, activity", handle(GetNotebook));
  router.Add("POST", "/api/v1/notebook/start", "Start your notebook (optional body: cpu, memory, gpus)",
             handle(StartNotebook), small_body);
  router.Add("POST", "/api/v1/notebook/stop", "Stop your notebook (its files stay)", handle(StopNotebook), small_body);
  router.Add("POST", "/api/v1/notebook/restart", "Restart your notebook (optional body: cpu, memory, gpus)",
             handle(RestartNotebook), small_body);
  router.Add("GET", "/api/v1/notebook/handoff",
             "Sign the browser in to the notebook origin and go to ?next= (a path of your notebook)",
             handle(Handoff), http::RouteOptions::Public());
  router.Add("GET", "/api/v1/account/notebooks", "The account's notebooks (a member sees only their own)",
             handle(ListNotebooks));
}

}  // namespace paddlecloud::api
