// Members: the signed-in user's profile, their account, and its members: removal, the master
// role, leaving. Acts within the principal's account only; another account's user is NotFound.
// Blocking except CachedUser: call on the blocking pool.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "accounts/account_context.h"
#include "accounts/account_types.h"
#include "common/principal.h"
#include "common/status.h"

namespace paddlecloud::accounts {

class Members {
 public:
  explicit Members(AccountContext& ctx) : ctx_(ctx) {}

  Result<User> GetUser(const Principal& principal);
  // GetUser's answer from the credential cache, without blocking; nullopt on a miss.
  std::optional<User> CachedUser(const Principal& principal);
  Result<User> UpdateProfile(const Principal& principal, const std::string& display_name);
  Result<Account> GetAccount(const Principal& principal);
  Result<std::vector<User>> ListMembers(const Principal& principal);
  Status RemoveMember(const Principal& principal, std::int64_t user_id, const RequestMeta& meta);    // master
  Status TransferMaster(const Principal& principal, std::int64_t user_id, const RequestMeta& meta);  // master
  Status Leave(const Principal& principal, const RequestMeta& meta);                                 // members

 private:
  AccountContext& ctx_;
};

}  // namespace paddlecloud::accounts
