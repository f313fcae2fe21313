// Registration: a new account and its master user, and the proof that the email is theirs.
// Blocking (database, argon2, mail): call on the blocking pool.
#pragma once

#include <string>

#include "accounts/account_context.h"
#include "accounts/account_types.h"
#include "common/status.h"

namespace paddlecloud::accounts {

class Registration {
 public:
  explicit Registration(AccountContext& ctx) : ctx_(ctx) {}

  // Creates the account and its master user (unverified) and mails a single-use verification link.
  // Conflict when the email or account id is taken; InvalidArgument naming the field otherwise.
  Result<User> Register(const std::string& email, const std::string& password, const std::string& account_id,
                        const std::string& display_name, const RequestMeta& meta);
  // Marks the email verified and mails "registration succeeded". The token works once.
  Result<User> VerifyEmail(const std::string& token, const RequestMeta& meta);
  // Mails a new link to an unverified user; answers the same whether the email exists or not.
  Status ResendVerification(const std::string& email, const RequestMeta& meta);

 private:
  AccountContext& ctx_;
};

}  // namespace paddlecloud::accounts
