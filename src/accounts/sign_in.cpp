#include "accounts/sign_in.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "accounts/throttle.h"

namespace paddlecloud::accounts {
namespace {

// Failed sign-ins per (email, client address) and per client address within kLoginWindow seconds.
constexpr std::int64_t kLoginWindow = 15 * 60;
constexpr int kLoginFailuresPerEmail = 5;
constexpr int kLoginFailuresPerAddress = 20;

}  // namespace

Result<User> SignIn::CheckPasswordLogin(const std::string& raw_email, const std::string& password,
                                        const RequestMeta& meta) {
  std::string email = NormalizeEmail(raw_email);
  if (email.empty()) return Err(Status::InvalidArgument("email is required", "email"));
  if (password.empty()) return Err(Status::InvalidArgument("password is required", "password"));
  std::int64_t now = ctx_.Now();
  // Failures count per (email, client address): someone guessing from one address slows down there
  // and never locks the real user out elsewhere. Each address also has a cap across emails.
  std::string email_key = "login:" + email + " from " + meta.remote_address, address_key = "login-ip:" + meta.remote_address;
  {
    Throttle throttle(ctx_.db(), now);
    std::int64_t wait = std::max(throttle.RetryAfter(email_key), throttle.RetryAfter(address_key));
    if (wait > 0) return Err(Throttled(wait, "failed sign-ins"));
  }
  auto rows = ctx_.db().Query(UserSelect("email = ?"), {email});
  if (!rows) return Err(rows.error());
  // Verify against a dummy hash for unknown emails, so timing does not reveal which exist.
  std::string stored = rows->empty() ? DummyPasswordHash() : rows->Text(0, "password_hash");
  bool ok = VerifyPassword(password, stored) && !rows->empty();
  if (!ok) {
    Throttle throttle(ctx_.db(), now);
    throttle.Hit(email_key, kLoginFailuresPerEmail, kLoginWindow, true);
    throttle.Hit(address_key, kLoginFailuresPerAddress, kLoginWindow, true);
    ctx_.Audit(rows->empty() ? "" : rows->Text(0, "account_id"), rows->empty() ? 0 : rows->Int(0, "id"), email,
          "login.failed", meta);
    return Err(Status::Unauthenticated("wrong email or password"));
  }
  User user = UserFrom(*rows, 0);
  Throttle(ctx_.db(), now).Clear(email_key);
  if (!user.verified)
    return Err(Status::PermissionDenied("verify your email first: follow the link we sent to " + email)
                   .WithDetail("reason", "email_not_verified"));
  if (PasswordNeedsRehash(stored, ctx_.options().password_params)) {
    auto rehashed = HashPassword(password, ctx_.options().password_params);
    auto saved = rehashed ? ctx_.db().Execute("UPDATE users SET password_hash = ? WHERE id = ?", {*rehashed, user.id})
                          : Result<db::ExecResult>(Err(rehashed.error()));
    if (!saved) spdlog::warn("user {}: password hash not upgraded (again at the next sign-in): {}", user.id,
                             saved.error().message());
  }
  return user;
}

const std::string& SignIn::DummyPasswordHash() {
  // Made with the parameters of real hashes: verifying it costs what verifying a real one does.
  std::call_once(dummy_hash_once_, [this] {
    dummy_hash_ = HashPassword(NewSecret(""), ctx_.options().password_params).value_or("");
  });
  return dummy_hash_;
}

Result<Session> SignIn::Login(const std::string& email, const std::string& password, const RequestMeta& meta) {
  auto user = CheckPasswordLogin(email, password, meta);
  if (!user) return Err(user.error());
  std::int64_t now = ctx_.Now();
  Session session{.id = NewSecret("pcs_"), .csrf_token = NewSecret(""), .user = *user,
                  .expires_at = now + ctx_.options().session_absolute.count()};
  auto r = ctx_.db().Execute(
      "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, remote_address, "
      "user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {HashSecret(session.id), user->id, session.csrf_token, now, now, session.expires_at, meta.remote_address,
       meta.user_agent.substr(0, 200)});
  if (!r) return Err(r.error());
  ctx_.Audit(user->account_id, user->id, user->email, "login.succeeded", meta);
  return session;
}

Status SignIn::Logout(const Principal& principal, const RequestMeta& meta) {
  if (principal.method == "session") {
    auto r = ctx_.db().Execute("UPDATE sessions SET revoked_at = ? WHERE id_hash = ? AND user_id = ?",
                         {ctx_.Now(), principal.credential_id, principal.user_id});
    if (!r) return r.error();
  }
  if (principal.method == "session") ctx_.cache().Forget(principal.credential_id);
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, "logout", meta);
  return Status::Ok();
}

Result<Principal> SignIn::PrincipalForUser(std::int64_t user_id, std::string method, std::string credential) {
  auto rows = ctx_.db().Query(UserSelect("id = ?"), {user_id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::Unauthenticated("this credential's user no longer exists"));
  User u = UserFrom(*rows, 0);
  ctx_.cache().PutUser(u, ctx_.Now());
  return Principal{.user_id = u.id, .account_id = u.account_id, .email = u.email, .master = u.master,
                   .method = std::move(method), .credential_id = std::move(credential), .csrf_token = ""};
}

Result<Principal> SignIn::AuthenticateSession(const std::string& session_id) {
  std::string hash = HashSecret(session_id);
  std::int64_t now = ctx_.Now();
  if (auto cached = ctx_.cache().Find(hash, now)) return *cached;
  auto rows = ctx_.db().Query(
      "SELECT user_id, csrf_token, last_seen_at, expires_at, revoked_at FROM sessions WHERE id_hash = ?", {hash});
  if (!rows) return Err(rows.error());
  if (rows->empty() || !rows->IsNull(0, "revoked_at") || rows->Int(0, "expires_at") <= now ||
      rows->Int(0, "last_seen_at") + ctx_.options().session_idle.count() <= now)
    return Err(Status::Unauthenticated("your session has ended; sign in again"));
  // Refresh the idle clock at most once a minute to keep reads cheap.
  if (now - rows->Int(0, "last_seen_at") >= 60)
    if (auto seen = ctx_.db().Execute("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", {now, hash}); !seen)
      spdlog::warn("a session's idle clock was not refreshed: {}", seen.error().message());
  auto p = PrincipalForUser(rows->Int(0, "user_id"), "session", hash);
  if (p) {
    p->csrf_token = rows->Text(0, "csrf_token");
    // Valid until its absolute expiry or, counting from now, its idle timeout.
    ctx_.cache().Put(hash, *p, std::min(rows->Int(0, "expires_at"), now + ctx_.options().session_idle.count()), now);
  }
  return p;
}

Result<Principal> SignIn::AuthenticateToken(const std::string& token) {
  std::int64_t now = ctx_.Now();
  std::string hash = HashSecret(token);
  if (auto cached = ctx_.cache().Find(hash, now)) return *cached;
  auto rows = ctx_.db().Query(
      "SELECT id, user_id, expires_at, revoked_at, last_used_at, job_id, notebook, scope FROM api_tokens WHERE token_hash = ?", {hash});
  if (!rows) return Err(rows.error());
  if (rows->empty() || !rows->IsNull(0, "revoked_at") ||
      (!rows->IsNull(0, "expires_at") && rows->Int(0, "expires_at") <= now))
    return Err(Status::Unauthenticated("this API token is not valid (revoked, expired or mistyped)"));
  if (rows->IsNull(0, "last_used_at") || now - rows->Int(0, "last_used_at") >= 60)
    if (auto used = ctx_.db().Execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", {now, rows->Int(0, "id")});
        !used)
      spdlog::warn("token {}: last use not recorded: {}", rows->Int(0, "id"), used.error().message());
  auto principal = PrincipalForUser(rows->Int(0, "user_id"), "token", std::to_string(rows->Int(0, "id")));
  if (principal && !rows->IsNull(0, "job_id")) principal->job_id = rows->Int(0, "job_id");
  if (principal) principal->notebook = rows->Int(0, "notebook") != 0;
  if (principal) principal->invoke_only = rows->Text(0, "scope") == "invoke";
  if (principal)
    ctx_.cache().Put(hash, *principal, rows->IsNull(0, "expires_at") ? INT64_MAX : rows->Int(0, "expires_at"), now);
  return principal;
}

Result<Principal> SignIn::AuthenticateCertificate(const std::string& fingerprint_sha256) {
  auto rows = ctx_.db().Query("SELECT serial, user_id, not_after, revoked_at FROM certificates WHERE fingerprint_sha256 = ?",
                        {fingerprint_sha256});
  if (!rows) return Err(rows.error());
  if (fingerprint_sha256.empty() || rows->empty() || !rows->IsNull(0, "revoked_at") || rows->Int(0, "not_after") <= ctx_.Now())
    return Err(Status::Unauthenticated("this client certificate is revoked, expired or unknown"));
  return PrincipalForUser(rows->Int(0, "user_id"), "certificate", rows->Text(0, "serial"));
}

std::optional<Principal> SignIn::CachedTokenPrincipal(const std::string& token) {
  return ctx_.cache().Find(HashSecret(token), ctx_.Now());
}

std::optional<Principal> SignIn::CachedSessionPrincipal(const std::string& session_id) {
  return ctx_.cache().Find(HashSecret(session_id), ctx_.Now());
}

}  // namespace paddlecloud::accounts
