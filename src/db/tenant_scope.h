// TenantScope: the one way services query data owned by an account (the tenant).
//
// Every statement names the tenant column as `:account` (e.g. "... WHERE account_id = :account AND
// id = ?"); the scope binds its account id there, in every place it appears. A statement without
// `:account` is a programming error (asserted, and refused with kInternal in release builds), so
// a query that forgot the tenant filter cannot run through a scope. Rows of other accounts are
// therefore simply absent: callers answer NotFound, never revealing they exist.
#pragma once

#include <string>
#include <string_view>

#include "db/database.h"

namespace paddlecloud::db {

class TenantScope {
 public:
  TenantScope(Session& session, std::string account_id) : session_(session), account_id_(std::move(account_id)) {}

  const std::string& account_id() const { return account_id_; }
  Result<Rows> Query(std::string_view sql, const Params& params = {});
  Result<ExecResult> Execute(std::string_view sql, const Params& params = {});

  // The SQL with each `:account` replaced by `?`, and the parameters with the account id inserted
  // at those positions. Exposed for tests.
  static Result<std::pair<std::string, Params>> Bind(std::string_view sql, const Params& params,
                                                     const std::string& account_id);

 private:
  Session& session_;
  std::string account_id_;
};

}  // namespace paddlecloud::db
