// Passwords: changing one, and resetting a forgotten one by a mailed link. Both end sessions and
// revoke the credentials made with the old password. Blocking: call on the blocking pool.
#pragma once

#include <cstdint>
#include <string>

#include "accounts/account_context.h"
#include "accounts/account_types.h"
#include "common/principal.h"
#include "common/status.h"

namespace paddlecloud::accounts {

class Passwords {
 public:
  explicit Passwords(AccountContext& ctx) : ctx_(ctx) {}

  // Needs the current password; ends the user's other sessions and, unless `keep_tokens`, revokes
  // their API tokens and client certificates (jobs' own tokens live on with their jobs).
  Status ChangePassword(const Principal& principal, const std::string& current, const std::string& replacement,
                        const RequestMeta& meta, bool keep_tokens = false);
  // Mails a reset link when the email belongs to a user; the answer never tells which.
  Status RequestPasswordReset(const std::string& email, const RequestMeta& meta);
  // Sets the password, ends every session of the user and revokes every credential made with the
  // old one: API tokens (jobs' included) and client certificates.
  Status ResetPassword(const std::string& token, const std::string& replacement, const RequestMeta& meta);

 private:
  static Status RevokeCredentials(db::Session& tx, std::int64_t user_id, std::int64_t now, bool job_tokens);

  AccountContext& ctx_;
};

}  // namespace paddlecloud::accounts
