// Invitations: the master user invites someone by email; the mailed single-use link lets them join
// the account as a verified member. Blocking (database, argon2, mail): call on the blocking pool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "accounts/account_context.h"
#include "accounts/account_types.h"
#include "common/principal.h"
#include "common/status.h"

namespace paddlecloud::accounts {

class Invitations {
 public:
  explicit Invitations(AccountContext& ctx) : ctx_(ctx) {}

  // Throttled per account; Conflict when the email is already a user; Unavailable when the
  // invitation was saved but its mail could not be sent.
  Result<Invitation> Invite(const Principal& principal, const std::string& email, const RequestMeta& meta);  // master
  Result<std::vector<Invitation>> ListInvitations(const Principal& principal);                           // master
  Status RevokeInvitation(const Principal& principal, std::int64_t invitation_id, const RequestMeta& meta);  // master
  // What an invitation link is for: {account id, email, who invited}.
  Result<Invitation> DescribeInvitation(const std::string& token, std::string* account_id);
  // Creates the invited user (verified: the link proves the address) and mails the welcome.
  Result<User> AcceptInvitation(const std::string& token, const std::string& password, const std::string& display_name,
                                const RequestMeta& meta);

 private:
  AccountContext& ctx_;
};

}  // namespace paddlecloud::accounts
