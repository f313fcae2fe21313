#include "accounts/passwords.h"

namespace paddlecloud::accounts {

Status Passwords::ChangePassword(const Principal& principal, const std::string& current,
                                 const std::string& replacement, const RequestMeta& meta, bool keep_tokens) {
  auto rows = Tenant(ctx_.db(), principal).Query(UserSelect("id = ? AND account_id = :account"), {principal.user_id});
  if (!rows) return rows.error();
  if (rows->empty()) return Status::NotFound("user not found");
  if (!VerifyPassword(current, rows->Text(0, "password_hash"))) {
    ctx_.Audit(principal.account_id, principal.user_id, principal.email, "password.change_failed", meta);
    return Status::InvalidArgument("the current password is wrong", "current_password");
  }
  PC_RETURN_IF_ERROR(CheckNewPassword(replacement, principal.email, principal.account_id, "new_password"));
  if (replacement == current)
    return Status::InvalidArgument("the new password must differ from the current one", "new_password");
  auto hash = HashPassword(replacement, ctx_.options().password_params);
  if (!hash) return hash.error();
  std::int64_t now = ctx_.Now();
  PC_RETURN_IF_ERROR(ctx_.db().Transaction([&](db::Session& tx) -> Status {
    PC_RETURN_IF_ERROR(StatusOf(tx.Execute("UPDATE users SET password_hash = ? WHERE id = ?", {*hash, principal.user_id})));
    // Every other session ends; the one changing the password stays signed in.
    PC_RETURN_IF_ERROR(StatusOf(tx.Execute(
        "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id_hash <> ?",
        {now, principal.user_id, principal.method == "session" ? principal.credential_id : ""})));
    return keep_tokens ? Status::Ok() : RevokeCredentials(tx, principal.user_id, now, /*job_tokens=*/false);
  }));
  ctx_.cache().ForgetUser(principal.user_id);
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, "password.changed", meta,
        keep_tokens ? boost::json::object{{"kept_tokens", true}} : boost::json::object{{"revoked", "api tokens and client certificates"}});
  return Status::Ok();
}

Status Passwords::RevokeCredentials(db::Session& tx, std::int64_t user_id, std::int64_t now, bool job_tokens) {
  PC_RETURN_IF_ERROR(StatusOf(tx.Execute(std::string("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL") +
                                             (job_tokens ? "" : " AND job_id IS NULL AND notebook = 0"),
                                         {now, user_id})));
  return StatusOf(
      tx.Execute("UPDATE certificates SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", {now, user_id}));
}

Status Passwords::RequestPasswordReset(const std::string& raw_email, const RequestMeta& meta) {
  std::string email = NormalizeEmail(raw_email);
  PC_RETURN_IF_ERROR(ValidateEmail(email));
  std::int64_t now = ctx_.Now();
  std::string token = NewSecret("");
  std::optional<User> user;
  PC_RETURN_IF_ERROR(ctx_.db().Transaction([&](db::Session& tx) -> Status {
    auto found = UserToMail(tx, now, email, "email = ?", meta);
    if (!found) return found.error();
    user = std::move(*found);
    return user ? AddEmailToken(tx, token, "reset", *user, now, ctx_.options().reset_ttl) : Status::Ok();
  }));
  if (!user) return Status::Ok();
  ctx_.Audit(user->account_id, user->id, email, "password.reset_requested", meta);
  (void)ctx_.SendMail(email, "Reset your PaddleCloud password",
           "Hello " + user->display_name + ",\n\nsomeone asked to reset the password of " + email +
               ". Open this link to choose a new one (it works once, for " +
               std::to_string(ctx_.options().reset_ttl.count() / 60) + " minutes):\n\n" + ctx_.PublicUrl() +
               "/reset-password?token=" + token + "\n\nIf this was not you, ignore this message: nothing changes.\n");
  return Status::Ok();
}

Status Passwords::ResetPassword(const std::string& token, const std::string& replacement, const RequestMeta& meta) {
  if (token.empty()) return Status::InvalidArgument("token is required", "token");
  std::int64_t now = ctx_.Now();
  auto rows = ctx_.db().Query(
      "SELECT t.id, t.user_id, t.expires_at, t.used_at, u.email, u.account_id FROM email_tokens t "
      "JOIN users u ON u.id = t.user_id WHERE t.token_hash = ? AND t.purpose = 'reset'",
      {HashSecret(token)});
  if (!rows) return rows.error();
  if (rows->empty()) return Status::NotFound("this reset link is not valid; ask for a new one");
  if (!rows->IsNull(0, "used_at")) return Status::Conflict("this reset link was already used; ask for a new one");
  if (rows->Int(0, "expires_at") <= now)
    return Status::InvalidArgument("this reset link has expired; ask for a new one", "token");
  std::string email = rows->Text(0, "email"), account_id = rows->Text(0, "account_id");
  std::int64_t user_id = rows->Int(0, "user_id"), token_id = rows->Int(0, "id");
  PC_RETURN_IF_ERROR(CheckNewPassword(replacement, email, account_id));
  auto hash = HashPassword(replacement, ctx_.options().password_params);
  if (!hash) return hash.error();
  PC_RETURN_IF_ERROR(ctx_.db().Transaction([&](db::Session& tx) -> Status {
    auto used = tx.Execute("UPDATE email_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL", {now, token_id});
    if (!used) return used.error();
    if (used->rows_affected != 1) return Status::Conflict("this reset link was already used; ask for a new one");
    PC_RETURN_IF_ERROR(StatusOf(tx.Execute("UPDATE users SET password_hash = ?, verified_at = COALESCE(verified_at, ?) WHERE id = ?",
                                  {*hash, now, user_id})));
    PC_RETURN_IF_ERROR(
        StatusOf(tx.Execute("UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", {now, user_id})));
    // Whoever knew the old password may have made credentials with it: none survives a reset.
    return RevokeCredentials(tx, user_id, now, /*job_tokens=*/true);
  }));
  ctx_.cache().ForgetUser(user_id);
  ctx_.Audit(account_id, user_id, email, "password.reset", meta,
        {{"revoked", "sessions, api tokens, job tokens and client certificates"}});
  return Status::Ok();
}

}  // namespace paddlecloud::accounts
