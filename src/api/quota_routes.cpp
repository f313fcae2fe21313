#include "api/quota_routes.h"

#include "api/request_params.h"


#include "api/auth_middleware.h"
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

// CPU in cores (1.5), the other amounts as they are; null for no bound.
json::value AmountJson(const char* resource, std::optional<std::int64_t> amount) {
  if (!amount) return nullptr;
  if (std::string_view(resource) == "cpu" && *amount % 1000 != 0) return static_cast<double>(*amount) / 1000;
  if (std::string_view(resource) == "cpu") return *amount / 1000;
  return *amount;
}

json::object LimitsJson(const jobs::Limits& limits) {
  json::object out;
  for (const jobs::QuotaResource& r : jobs::QuotaResources()) out[r.json_key] = AmountJson(r.name, limits.*r.limit);
  return out;
}

json::object AmountsJson(const jobs::Amounts& amounts) {
  json::object out;
  for (const jobs::QuotaResource& r : jobs::QuotaResources()) out[r.json_key] = AmountJson(r.name, amounts.*r.amount);
  return out;
}

json::object MemberJson(const jobs::MemberQuota& m) {
  return {{"user_id", m.user_id}, {"email", m.email}, {"limits", LimitsJson(m.limits)}, {"in_use", AmountsJson(m.in_use)}};
}

json::object ReportJson(const jobs::QuotaReport& report) {
  json::object quota = LimitsJson(report.quota.jobs);
  quota["storage_bytes"] = AmountJson("storage", report.quota.storage_bytes);
  json::object in_use = AmountsJson(report.in_use);
  in_use["storage_bytes"] = report.storage_in_use_bytes;
  json::array members;
  for (const auto& m : report.members) members.push_back(MemberJson(m));
  json::object capacity{{"cpu", AmountJson("cpu", report.capacity.cpu_milli)},
                        {"memory_bytes", report.capacity.memory_bytes},
                        {"gpus", report.capacity.gpus}};
  return {{"quota", std::move(quota)}, {"in_use", std::move(in_use)}, {"members", std::move(members)},
          {"capacity", std::move(capacity)}};
}

// {"cpu": "8", "memory": "32Gi", "gpus": 1, "running_jobs": 2}: absent keeps a limit, null removes it.
Result<jobs::QuotaSetting> LimitsChangeOf(const Request& request) {
  auto object = http::ParseJsonObject(request.body);
  if (!object) return Err(object.error());
  http::JsonReader reader(*object);
  struct Field {
    const char* name;
    Result<std::int64_t> (*parse)(std::string_view);
    const char* what;
    const char* example;
  };
  jobs::QuotaSetting change;
  for (const Field& f : {Field{"cpu", units::ParseCpuMilli, "CPU", "8, 500m or 1.5"},
                         Field{"memory", units::ParseByteSize, "memory", "32Gi or 512Mi"},
                         Field{"gpus", units::ParseCount, "GPU", "0 or 2"},
                         Field{"running_jobs", units::ParseCount, "running jobs", "1 or 10"}}) {
    const json::value* v = reader.Raw(f.name);
    if (!v) continue;
    if (v->is_null()) {
      change[f.name] = std::nullopt;
      continue;
    }
    std::int64_t amount = 0;
    PC_RETURN_IF_ERROR(jobs::ReadQuantity(reader, f.name, amount, f.parse, f.what, f.example));
    change[f.name] = amount;
  }
  PC_RETURN_IF_ERROR(reader.Finish());
  return change;
}

struct QuotaApi {
  jobs::QuotaService& quotas;
  blocking::WorkPool& pool;
};

asio::awaitable<Response> GetQuota(QuotaApi api, Request& request) {
  auto report = co_await api.pool.Run([&] { return api.quotas.Report(*request.principal); });
  if (!report) co_return ErrorResponse(report.error());
  co_return JsonResponse(200, ReportJson(*report));
}

asio::awaitable<Response> PutMemberLimits(QuotaApi api, Request& request) {
  auto user_id = PathId(request, "user", "member with id");
  if (!user_id) co_return ErrorResponse(user_id.error());
  auto change = LimitsChangeOf(request);
  if (!change) co_return ErrorResponse(change.error());
  auto member = co_await api.pool.Run(
      [&] { return api.quotas.SetMemberLimits(*request.principal, *user_id, *change, MetaOf(request)); });
  if (!member) co_return ErrorResponse(member.error());
  co_return JsonResponse(200, MemberJson(*member));
}

}  // namespace

void AddQuotaRoutes(http::Router& router, jobs::QuotaService& quotas, blocking::WorkPool& pool) {
  auto handle = [api = QuotaApi{quotas, pool}](asio::awaitable<Response> (*handler)(QuotaApi, Request&)) -> http::Handler {
    return [api, handler](Request& request) { return handler(api, request); };
  };
  router.Add("GET", "/api/v1/account/quota",
             "The account's job quota, its members' limits and what is in use (a member sees only their own entry)",
             handle(GetQuota));
  router.Add("PUT", "/api/v1/account/members/{user}/limits",
             "Set a member's job limits: cpu, memory, gpus, running_jobs; null removes one (master only)",
             handle(PutMemberLimits), http::RouteOptions().WithBodyLimit(64 * 1024));
}

}  // namespace paddlecloud::api
