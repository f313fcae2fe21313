// AuditLog: the account's security events, for its master user, and the door through which other
// modules (shares, links, publications) record theirs. Blocking: call on the blocking pool.
#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "accounts/account_context.h"
#include "accounts/account_types.h"
#include "common/principal.h"
#include "common/status.h"

namespace paddlecloud::accounts {

class AuditLog {
 public:
  explicit AuditLog(AccountContext& ctx) : ctx_(ctx) {}

  // Newest first; `before_id` pages (0 = from the newest). Master only. InvalidArgument (field
  // "kind") for a kind not in AuditKinds().
  // Newest first; `next_cursor` (when given) gets the cursor of the next page, 0 when there is none.
  Result<std::vector<AuditEvent>> ListAudit(const Principal& principal, const AuditFilter& filter,
                                            std::int64_t* next_cursor = nullptr);
  // Records a security event of another module done by `principal`. `details` is a JSON object;
  // secrets (link tokens) never go in it.
  void RecordAudit(const Principal& principal, const std::string& event, const RequestMeta& meta,
                   const boost::json::object& details);

 private:
  AccountContext& ctx_;
};

}  // namespace paddlecloud::accounts
