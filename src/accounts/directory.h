// AccountDirectory: what other modules may ask about accounts and users instead of reading this
// module's tables. Blocking: call on the blocking pool.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "accounts/account_context.h"
#include "common/status.h"

namespace paddlecloud::accounts {

class AccountDirectory {
 public:
  explicit AccountDirectory(AccountContext& ctx) : ctx_(ctx) {}

  bool AccountExists(const std::string& account_id);
  // The id of the account named by its id or by its master user's email; NotFound otherwise.
  Result<std::string> FindAccount(const std::string& id_or_master_email);
  // The emails of those of `user_ids` that are users (of any account), by id.
  Result<std::map<std::int64_t, std::string>> EmailsOf(const std::vector<std::int64_t>& user_ids);

 private:
  AccountContext& ctx_;
};

}  // namespace paddlecloud::accounts
