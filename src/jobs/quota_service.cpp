#include "jobs/quota_service.h"

#include <algorithm>

namespace paddlecloud::jobs {
namespace {

boost::json::value OptionalJson(const std::optional<std::int64_t>& v) {
  return v ? boost::json::value(*v) : boost::json::value(nullptr);
}

}  // namespace

QuotaService::QuotaService(QuotaStore& store, JobService& jobs, accounts::AccountService& accounts,
                           std::function<Result<std::uint64_t>(const std::string& account)> storage_used)
    : store_(store), jobs_(jobs), accounts_(accounts), storage_used_(std::move(storage_used)) {}

Result<QuotaReport> QuotaService::Report(const Principal& principal) {
  QuotaReport report;
  auto quota = store_.QuotaOf(principal.account_id);
  if (!quota) return Err(quota.error());
  report.quota = *quota;
  auto in_use = jobs_.InUseByUser(principal.account_id);
  if (!in_use) return Err(in_use.error());
  for (const auto& [user, amounts] : *in_use) report.in_use += amounts;
  auto stored = storage_used_(principal.account_id);
  if (!stored) return Err(stored.error());
  report.storage_in_use_bytes = *stored;
  auto limits = store_.MemberLimits(principal.account_id);
  if (!limits) return Err(limits.error());
  auto members = accounts_.members().ListMembers(principal);
  if (!members) return Err(members.error());
  for (const accounts::User& user : *members) {
    if (!principal.master && user.id != principal.user_id) continue;
    report.members.push_back({.user_id = user.id, .email = user.email, .limits = (*limits)[user.id],
                              .in_use = (*in_use)[user.id]});
  }
  report.capacity = jobs_.Capacity().total;
  return report;
}

Result<MemberQuota> QuotaService::SetMemberLimits(const Principal& principal, std::int64_t user_id,
                                                  const QuotaSetting& change, const accounts::RequestMeta& meta) {
  if (!principal.master)
    return Err(Status::PermissionDenied("only the account's master user can change members' limits"));
  auto members = accounts_.members().ListMembers(principal);
  if (!members) return Err(members.error());
  auto member = std::find_if(members->begin(), members->end(), [&](const accounts::User& u) { return u.id == user_id; });
  if (member == members->end()) return Err(Status::NotFound("no member with id " + std::to_string(user_id)));

  auto limits = store_.LimitsOf(principal.account_id, user_id);
  if (!limits) return Err(limits.error());
  for (const auto& [name, amount] : change) {
    auto r = std::find_if(QuotaResources().begin(), QuotaResources().end(),
                          [&](const QuotaResource& q) { return name == q.name; });
    if (r == QuotaResources().end()) return Err(Status::InvalidArgument("no limit named '" + name + "'", name));
    if (amount && *amount < 0) return Err(Status::InvalidArgument(name + ": a limit must not be negative", name));
    (*limits).*(r->limit) = amount;
  }
  auto quota = store_.QuotaOf(principal.account_id);
  if (!quota) return Err(quota.error());
  PC_RETURN_IF_ERROR(CheckLimitsWithin(*limits, quota->jobs));
  PC_RETURN_IF_ERROR(store_.SetLimits(principal.account_id, user_id, *limits));

  boost::json::object details{{"email", member->email}};
  for (const QuotaResource& r : QuotaResources()) details[r.json_key] = OptionalJson((*limits).*(r.limit));
  accounts_.audit().RecordAudit(principal, "member.limits_changed", meta, details);
  auto in_use = jobs_.InUseByUser(principal.account_id);
  if (!in_use) return Err(in_use.error());
  return MemberQuota{.user_id = user_id, .email = member->email, .limits = *limits, .in_use = (*in_use)[user_id]};
}

}  // namespace paddlecloud::jobs
