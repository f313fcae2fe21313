#include "db/tenant_scope.h"

#include <cassert>

namespace paddlecloud::db {

Result<std::pair<std::string, Params>> TenantScope::Bind(std::string_view sql, const Params& params,
                                                        const std::string& account_id) {
  static constexpr std::string_view kMarker = ":account";
  std::string out;
  Params bound;
  std::size_t next_param = 0;
  bool scoped = false;
  for (std::size_t i = 0; i < sql.size();) {
    if (sql.compare(i, kMarker.size(), kMarker) == 0) {
      out += '?';
      bound.emplace_back(account_id);
      scoped = true;
      i += kMarker.size();
    } else {
      if (sql[i] == '?') {
        if (next_param >= params.size()) return Err(Status::Internal("fewer parameters than placeholders"));
        bound.push_back(params[next_param++]);
      }
      out += sql[i++];
    }
  }
  assert(scoped && "tenant query without :account");
  if (!scoped) return Err(Status::Internal("tenant query without :account: " + std::string(sql)));
  if (next_param != params.size()) return Err(Status::Internal("more parameters than placeholders"));
  return std::make_pair(std::move(out), std::move(bound));
}

Result<Rows> TenantScope::Query(std::string_view sql, const Params& params) {
  auto bound = Bind(sql, params, account_id_);
  if (!bound) return Err(bound.error());
  return session_.Query(bound->first, bound->second);
}

Result<ExecResult> TenantScope::Execute(std::string_view sql, const Params& params) {
  auto bound = Bind(sql, params, account_id_);
  if (!bound) return Err(bound.error());
  return session_.Execute(bound->first, bound->second);
}

}  // namespace paddlecloud::db
