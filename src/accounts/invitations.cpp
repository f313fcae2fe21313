#include "accounts/invitations.h"

#include "accounts/throttle.h"

namespace paddlecloud::accounts {

Result<Invitation> Invitations::Invite(const Principal& principal, const std::string& raw_email,
                                       const RequestMeta& meta) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  std::string email = NormalizeEmail(raw_email);
  PC_RETURN_IF_ERROR(ValidateEmail(email));
  std::int64_t now = ctx_.Now();
  std::string token = NewSecret("");
  Invitation invitation{.id = 0, .email = email, .invited_by = principal.email, .created_at = now,
                        .expires_at = now + ctx_.options().invitation_ttl.count()};
  PC_RETURN_IF_ERROR(ctx_.db().Transaction([&](db::Session& tx) -> Status {
    Throttle throttle(tx, now);
    if (auto wait = throttle.RetryAfter("invite:" + principal.account_id); wait > 0)
      return Throttled(wait, "invitations");
    throttle.Hit("invite:" + principal.account_id, 50, 24 * 3600, false);
    auto existing = tx.Query("SELECT account_id FROM users WHERE email = ?", {email});
    if (!existing) return existing.error();
    if (!existing->empty()) {
      return Status::Of(Code::kConflict,
                        existing->Text(0, "account_id") == principal.account_id
                            ? "this person is already a member of the account"
                            : "this email already belongs to a PaddleCloud user of another account",
                        "email");
    }
    auto r = Tenant(tx, principal).Query(
        "INSERT INTO email_tokens (token_hash, purpose, account_id, email, invited_by, created_at, expires_at) "
        "VALUES (?, 'invite', :account, ?, ?, ?, ?) RETURNING id",
        {HashSecret(token), email, principal.user_id, now, invitation.expires_at});
    if (!r) return r.error();
    invitation.id = r->Int(0, "id");
    return Status::Ok();
  }));
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, "member.invited", meta,
        {{"email", email}});
  Status mailed = ctx_.SendMail(email, principal.email + " invited you to PaddleCloud",
                           principal.email + " invited you to join the PaddleCloud account '" + principal.account_id +
                               "'.\nOpen this link to accept (it works once, for " +
                               std::to_string(ctx_.options().invitation_ttl.count() / 86400) + " days):\n\n" +
                               ctx_.PublicUrl() + "/invite?token=" + token + "\n");
  if (!mailed.ok()) return Err(Status::Unavailable("the invitation was saved but the mail could not be sent: " +
                                                   mailed.message()));
  return invitation;
}

Result<std::vector<Invitation>> Invitations::ListInvitations(const Principal& principal) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  auto rows = Tenant(ctx_.db(), principal).Query(
      "SELECT t.id, t.email, t.created_at, t.expires_at, COALESCE(u.email, '') AS invited_by FROM email_tokens t "
      "LEFT JOIN users u ON u.id = t.invited_by WHERE t.account_id = :account AND t.purpose = 'invite' "
      "AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > ? ORDER BY t.id DESC",
      {ctx_.Now()});
  if (!rows) return Err(rows.error());
  std::vector<Invitation> out;
  for (std::size_t i = 0; i < rows->size(); ++i)
    out.push_back({.id = rows->Int(i, "id"), .email = rows->Text(i, "email"), .invited_by = rows->Text(i, "invited_by"),
                   .created_at = rows->Int(i, "created_at"), .expires_at = rows->Int(i, "expires_at")});
  return out;
}

Status Invitations::RevokeInvitation(const Principal& principal, std::int64_t invitation_id,
                                     const RequestMeta& meta) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  auto r = Tenant(ctx_.db(), principal).Execute(
      "UPDATE email_tokens SET revoked_at = ? WHERE id = ? AND account_id = :account AND purpose = 'invite' "
      "AND used_at IS NULL AND revoked_at IS NULL",
      {ctx_.Now(), invitation_id});
  if (!r) return r.error();
  if (r->rows_affected == 0) return Status::NotFound("no open invitation with id " + std::to_string(invitation_id));
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, "member.invitation_revoked", meta,
        {{"invitation_id", invitation_id}});
  return Status::Ok();
}

Result<Invitation> Invitations::DescribeInvitation(const std::string& token, std::string* account_id) {
  if (token.empty()) return Err(Status::InvalidArgument("token is required", "token"));
  auto rows = ctx_.db().Query(
      "SELECT t.id, t.email, t.account_id, t.created_at, t.expires_at, t.used_at, t.revoked_at, "
      "COALESCE(u.email, '') AS invited_by FROM email_tokens t LEFT JOIN users u ON u.id = t.invited_by "
      "WHERE t.token_hash = ? AND t.purpose = 'invite'",
      {HashSecret(token)});
  if (!rows) return Err(rows.error());
  if (rows->empty() || !rows->IsNull(0, "revoked_at"))
    return Err(Status::NotFound("this invitation link is not valid"));
  if (!rows->IsNull(0, "used_at")) return Err(Status::Conflict("this invitation was already accepted; sign in"));
  if (rows->Int(0, "expires_at") <= ctx_.Now())
    return Err(Status::InvalidArgument("this invitation has expired; ask for a new one", "token"));
  if (account_id) *account_id = rows->Text(0, "account_id");
  return Invitation{.id = rows->Int(0, "id"), .email = rows->Text(0, "email"), .invited_by = rows->Text(0, "invited_by"),
                    .created_at = rows->Int(0, "created_at"), .expires_at = rows->Int(0, "expires_at")};
}

Result<User> Invitations::AcceptInvitation(const std::string& token, const std::string& password,
                                           const std::string& display_name, const RequestMeta& meta) {
  std::string account_id;
  auto invitation = DescribeInvitation(token, &account_id);
  if (!invitation) return Err(invitation.error());
  PC_RETURN_IF_ERROR(CheckNewPassword(password, invitation->email, account_id));
  if (display_name.size() > 100) return Err(Status::InvalidArgument("display name must be at most 100 bytes", "display_name"));
  auto hash = HashPassword(password, ctx_.options().password_params);
  if (!hash) return Err(hash.error());
  std::int64_t now = ctx_.Now();
  User user;
  PC_RETURN_IF_ERROR(ctx_.db().Transaction([&](db::Session& tx) -> Status {
    auto used = tx.Execute(
        "UPDATE email_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL", {now, invitation->id});
    if (!used) return used.error();
    if (used->rows_affected != 1) return Status::Conflict("this invitation was already accepted; sign in");
    std::string name = display_name.empty() ? invitation->email.substr(0, invitation->email.find('@')) : display_name;
    auto r = tx.Query(
        "INSERT INTO users (account_id, email, display_name, password_hash, is_master, verified_at, created_at) "
        "VALUES (?, ?, ?, ?, 0, ?, ?) RETURNING id",
        {account_id, invitation->email, name, *hash, now, now});
    if (!r) return r.error().code() == Code::kConflict
                      ? Status::Of(Code::kConflict, "this email already belongs to a PaddleCloud user", "email")
                      : r.error();
    user = {.id = r->Int(0, "id"), .account_id = account_id, .email = invitation->email, .display_name = name,
            .master = false, .verified = true, .created_at = now};
    return Status::Ok();
  }));
  ctx_.Audit(account_id, user.id, user.email, "member.joined", meta);
  (void)ctx_.SendMail(user.email, "Registration succeeded: welcome to PaddleCloud",
           "Hello " + user.display_name + ",\n\nyour registration succeeded: you are now a member of the PaddleCloud "
           "account '" + account_id + "'.\nSign in here:\n\n" + ctx_.PublicUrl() + "/login\n");
  return user;
}

}  // namespace paddlecloud::accounts
