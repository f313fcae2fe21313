#include "accounts/registration.h"

#include "accounts/throttle.h"

namespace paddlecloud::accounts {

Result<User> Registration::Register(const std::string& raw_email, const std::string& password,
                                    const std::string& account_id, const std::string& display_name,
                                    const RequestMeta& meta) {
  std::string email = NormalizeEmail(raw_email);
  PC_RETURN_IF_ERROR(ValidateEmail(email));
  PC_RETURN_IF_ERROR(ValidateAccountId(account_id));
  if (display_name.size() > 100) return Err(Status::InvalidArgument("display name must be at most 100 bytes", "display_name"));
  PC_RETURN_IF_ERROR(CheckNewPassword(password, email, account_id));
  auto hash = HashPassword(password, ctx_.options().password_params);
  if (!hash) return Err(hash.error());

  std::int64_t now = ctx_.Now();
  std::string token = NewSecret("");
  User user;
  Status s = ctx_.db().Transaction([&](db::Session& tx) -> Status {
    auto ip_wait = Throttle(tx, now).RetryAfter("mail-ip:" + meta.remote_address);
    if (ip_wait > 0) return Throttled(ip_wait, "emails from this address");
    auto taken = tx.Query("SELECT (SELECT COUNT(*) FROM users WHERE email = ?) AS emails, "
                          "(SELECT COUNT(*) FROM accounts WHERE id = ?) AS accounts",
                          {email, account_id});
    if (!taken) return taken.error();
    if (taken->Int(0, "emails") > 0)
      return Status::Of(Code::kConflict, "an account with this email already exists; sign in or reset the password",
                        "email");
    if (taken->Int(0, "accounts") > 0)
      return Status::Of(Code::kConflict, "account ID '" + account_id + "' is taken; choose another", "account_id");
    std::string name = display_name.empty() ? email.substr(0, email.find('@')) : display_name;
    PC_RETURN_IF_ERROR(StatusOf(tx.Execute("INSERT INTO accounts (id, display_name, created_at) VALUES (?, ?, ?)",
                                  {account_id, account_id, now})));
    auto inserted = tx.Query(
        "INSERT INTO users (account_id, email, display_name, password_hash, is_master, created_at) "
        "VALUES (?, ?, ?, ?, 1, ?) RETURNING id",
        {account_id, email, name, *hash, now});
    if (!inserted) return inserted.error();
    user = {.id = inserted->Int(0, "id"), .account_id = account_id, .email = email, .display_name = name,
            .master = true, .verified = false, .created_at = now};
    PC_RETURN_IF_ERROR(AddEmailToken(tx, token, "verify", user, now, ctx_.options().verification_ttl));
    Throttle(tx, now).Hit("mail-ip:" + meta.remote_address, kMailsPerAddress, kMailWindow, false);
    return Status::Ok();
  });
  if (!s.ok()) return Err(s);
  ctx_.Audit(account_id, user.id, email, "account.registered", meta);
  (void)ctx_.SendMail(email, "Verify your email for PaddleCloud",
           "Hello " + user.display_name + ",\n\n"
           "you registered the PaddleCloud account '" + account_id + "' with this address.\n"
           "Open this link to verify it (it works once, for " +
               std::to_string(ctx_.options().verification_ttl.count() / 3600) + " hours):\n\n" +
               ctx_.PublicUrl() + "/verify?token=" + token +
               "\n\nIf this was not you, ignore this message.\n");
  return user;
}

Result<User> Registration::VerifyEmail(const std::string& token, const RequestMeta& meta) {
  if (token.empty()) return Err(Status::InvalidArgument("token is required", "token"));
  std::int64_t now = ctx_.Now();
  User user;
  Status s = ctx_.db().Transaction([&](db::Session& tx) -> Status {
    auto rows = tx.Query(
        "SELECT id, user_id, expires_at, used_at FROM email_tokens WHERE token_hash = ? AND purpose = 'verify'",
        {HashSecret(token)});
    if (!rows) return rows.error();
    if (rows->empty()) return Status::Of(Code::kNotFound, "this verification link is not valid", "token");
    if (!rows->IsNull(0, "used_at"))
      return Status::Of(Code::kConflict, "this verification link was already used; sign in", "token");
    if (rows->Int(0, "expires_at") <= now)
      return Status::InvalidArgument("this verification link has expired; ask for a new one", "token");
    std::int64_t user_id = rows->Int(0, "user_id");
    PC_RETURN_IF_ERROR(StatusOf(tx.Execute("UPDATE email_tokens SET used_at = ? WHERE id = ?", {now, rows->Int(0, "id")})));
    PC_RETURN_IF_ERROR(StatusOf(tx.Execute("UPDATE users SET verified_at = COALESCE(verified_at, ?) WHERE id = ?", {now, user_id})));
    auto u = tx.Query(UserSelect("id = ?"), {user_id});
    if (!u) return u.error();
    if (u->empty()) return Status::Of(Code::kNotFound, "this verification link is not valid", "token");
    user = UserFrom(*u, 0);
    return Status::Ok();
  });
  if (!s.ok()) return Err(s);
  ctx_.cache().ForgetUser(user.id);
  ctx_.Audit(user.account_id, user.id, user.email, "email.verified", meta);
  (void)ctx_.SendMail(user.email, "Registration succeeded: welcome to PaddleCloud",
           "Hello " + user.display_name + ",\n\n"
           "your registration succeeded: the PaddleCloud account '" + user.account_id + "' is ready.\n"
           "Sign in here:\n\n" + ctx_.PublicUrl() + "/login\n");
  return user;
}

Status Registration::ResendVerification(const std::string& raw_email, const RequestMeta& meta) {
  std::string email = NormalizeEmail(raw_email);
  PC_RETURN_IF_ERROR(ValidateEmail(email));
  std::int64_t now = ctx_.Now();
  std::string token = NewSecret("");
  std::optional<User> user;
  Status s = ctx_.db().Transaction([&](db::Session& tx) -> Status {
    auto found = UserToMail(tx, now, email, "email = ? AND verified_at IS NULL", meta);
    if (!found) return found.error();
    user = std::move(*found);
    return user ? AddEmailToken(tx, token, "verify", *user, now, ctx_.options().verification_ttl) : Status::Ok();
  });
  if (!s.ok() || !user) return s;
  (void)ctx_.SendMail(email, "Verify your email for PaddleCloud",
           "Hello " + user->display_name + ",\n\nopen this link to verify your address (it works once):\n\n" +
               ctx_.PublicUrl() + "/verify?token=" + token + "\n");
  return Status::Ok();
}

}  // namespace paddlecloud::accounts
