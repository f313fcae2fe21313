#include "accounts/audit_log.h"

#include <algorithm>

namespace paddlecloud::accounts {

const std::vector<std::string>& AuditKinds() {
  static const std::vector<std::string> kinds = {"account", "email", "login", "logout", "password", "member",
                                                 "token", "certificate", "share", "publication"};
  return kinds;
}

Result<std::vector<AuditEvent>> AuditLog::ListAudit(const Principal& principal, const AuditFilter& filter,
                                                   std::int64_t* next_cursor) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  if (filter.limit < 1 || filter.limit > 500) return Err(Status::InvalidArgument("limit must be from 1 to 500", "limit"));
  std::string sql = "SELECT id, at, actor, event, remote_address, details FROM audit_events "
                    "WHERE account_id = :account AND id < ?";
  db::Params params{filter.before_id > 0 ? filter.before_id : INT64_MAX};
  if (!filter.kinds.empty()) {
    std::string any;
    for (const auto& kind : filter.kinds) {
      if (std::find(AuditKinds().begin(), AuditKinds().end(), kind) == AuditKinds().end())
        return Err(Status::InvalidArgument("kind '" + kind + "' is not one of account, email, login, logout, password, "
                                           "member, token, certificate, share, publication", "kind"));
      any += std::string(any.empty() ? "" : " OR ") + "event = ? OR substr(event, 1, ?) = ?";
      params.insert(params.end(), {kind, static_cast<std::int64_t>(kind.size() + 1), kind + "."});
    }
    sql += " AND (" + any + ")";
  }
  if (filter.since) {
    sql += " AND at >= ?";
    params.emplace_back(*filter.since);
  }
  if (filter.until) {
    sql += " AND at < ?";
    params.emplace_back(*filter.until);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(filter.limit) + 1);  // one more: is there a next page?
  auto rows = Tenant(ctx_.db(), principal).Query(sql, params);
  if (!rows) return Err(rows.error());
  std::vector<AuditEvent> out;
  for (std::size_t i = 0; i < rows->size() && static_cast<int>(i) < filter.limit; ++i)
    out.push_back({.id = rows->Int(i, "id"), .at = rows->Int(i, "at"), .actor = rows->Text(i, "actor"),
                   .event = rows->Text(i, "event"), .remote_address = rows->Text(i, "remote_address"),
                   .details = rows->Text(i, "details")});
  if (next_cursor) *next_cursor = static_cast<int>(rows->size()) > filter.limit ? out.back().id : 0;
  return out;
}

void AuditLog::RecordAudit(const Principal& principal, const std::string& event, const RequestMeta& meta,
                           const boost::json::object& details) {
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, event, meta, details);
}

}  // namespace paddlecloud::accounts
