// QuotaService: an account's job quota, its members' limits and what is in use, as the quota page
// shows them (GET /api/v1/account/quota, docs/monitoring.md "Quota"), and the master user's
// changes of a member's limits. The rules themselves live in quota.h. Blocking: call on the
// blocking pool.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "accounts/account_service.h"
#include "common/principal.h"
#include "common/status.h"
#include "jobs/job_service.h"
#include "jobs/quota.h"

namespace paddlecloud::jobs {

struct MemberQuota {
  std::int64_t user_id = 0;
  std::string email;
  Limits limits;
  Amounts in_use;
};

struct QuotaReport {
  AccountQuota quota;
  Amounts in_use;                      // what the account's admitted, unfinished jobs request
  std::uint64_t storage_in_use_bytes = 0;
  std::vector<MemberQuota> members;    // every member for the master user; the principal alone otherwise
  cluster::Resources capacity;         // the cluster's, for bars when there is no quota
};

class QuotaService {
 public:
  // `storage_used`: the bytes the account stores (files::StorageQuota::Usage).
  QuotaService(QuotaStore& store, JobService& jobs, accounts::AccountService& accounts,
               std::function<Result<std::uint64_t>(const std::string& account)> storage_used);

  Result<QuotaReport> Report(const Principal& principal);
  // Changes the limits named in `change` ("cpu", "memory", "gpus", "running_jobs"; nullopt
  // removes one); the others stay. Master only (PermissionDenied); NotFound for a user who is not
  // a member of the account; InvalidArgument naming the field for an unknown field, a negative
  // limit or one above the account's quota. Audited as "member.limits_changed".
  Result<MemberQuota> SetMemberLimits(const Principal& principal, std::int64_t user_id, const QuotaSetting& change,
                                      const accounts::RequestMeta& meta);

 private:
  QuotaStore& store_;
  JobService& jobs_;
  accounts::AccountService& accounts_;
  std::function<Result<std::uint64_t>(const std::string&)> storage_used_;
};

}  // namespace paddlecloud::jobs
