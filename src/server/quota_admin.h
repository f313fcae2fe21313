// `paddlecloud admin quota set|show ACCOUNT --data-dir DIR`: the operator's view and change of an
// account's quota (jobs/quota.h), straight on the data dir's database, which a running server may
// be using at the same time (SQLite WAL; the server reads quotas at each submission and pass).
#pragma once

#include <map>
#include <ostream>
#include <string>

namespace paddlecloud::server {

struct QuotaAdminRequest {
  std::string data_dir;
  std::string database_url;  // empty: SQLite in data_dir
  std::string account;  // the account's id or its master user's email
  // What to set, by resource ("cpu", "memory", "gpus", "running_jobs", "storage"): a quantity in
  // the grammar of common/units.h ("64", "500m", "256Gi", "10"), or "none" for no quota. Empty: show.
  std::map<std::string, std::string> set;
};

// Sets what is asked (recorded in the account's audit log as account.quota_changed), then prints
// the account's quota to `out`. Errors go to `err`. Returns the exit code: 0, 1 (no such account,
// no database), 2 (a bad quantity).
int RunQuotaAdmin(const QuotaAdminRequest& request, std::ostream& out, std::ostream& err);

}  // namespace paddlecloud::server
