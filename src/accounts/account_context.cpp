#include "accounts/account_context.h"

#include <chrono>

#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include "accounts/throttle.h"

namespace paddlecloud::accounts {

AccountContext::AccountContext(db::Database& database, mail::Mailer& mailer, AccountsOptions options)
    : db_(database), mailer_(mailer), options_(std::move(options)) {}

std::string AccountContext::PublicUrl() const {
  return options_.public_url_source ? options_.public_url_source() : "http://127.0.0.1:8080";
}

std::int64_t AccountContext::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Status AccountContext::SendMail(const std::string& to, const std::string& subject, const std::string& body) {
  Status s = mailer_.Send({.to = to, .subject = subject, .text_body = body, .html_body = ""});
  if (!s.ok()) spdlog::error("mail \"{}\" to {} failed: {}", subject, to, s.message());
  return s;
}

void AccountContext::Audit(const std::string& account_id, std::int64_t user_id, const std::string& actor,
                           const std::string& event, const RequestMeta& meta, const boost::json::object& details) {
  auto r = db_.Execute(
      "INSERT INTO audit_events (at, account_id, user_id, actor, event, remote_address, details) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {Now(), account_id.empty() ? db::Value() : db::Value(account_id), user_id ? db::Value(user_id) : db::Value(),
       actor, event, meta.remote_address, boost::json::serialize(details)});
  if (!r) spdlog::error("audit event {} not recorded: {}", event, r.error().message());
}

Status RequireMaster(const Principal& principal) {
  if (!principal.master)
    return Status::PermissionDenied("only the account's master user can do this; ask the master user of account '" +
                                    principal.account_id + "'");
  return Status::Ok();
}

User UserFrom(const db::Rows& rows, std::size_t i) {
  User u;
  u.id = rows.Int(i, "id");
  u.account_id = rows.Text(i, "account_id");
  u.email = rows.Text(i, "email");
  u.display_name = rows.Text(i, "display_name");
  u.master = rows.Int(i, "is_master") != 0;
  u.verified = !rows.IsNull(i, "verified_at");
  u.created_at = rows.Int(i, "created_at");
  return u;
}

constexpr const char* kUserColumns = "id, account_id, email, display_name, is_master, verified_at, created_at";

std::string UserSelect(const std::string& where) {
  return std::string("SELECT ") + kUserColumns + ", password_hash FROM users WHERE " + where;
}

Result<std::optional<User>> UserToMail(db::Session& tx, std::int64_t now, const std::string& email,
                                       const std::string& where, const RequestMeta& meta) {
  Throttle throttle(tx, now);
  if (auto wait = throttle.RetryAfter("mail-ip:" + meta.remote_address); wait > 0)
    return Err(Throttled(wait, "emails from this address"));
  throttle.Hit("mail-ip:" + meta.remote_address, kMailsPerAddress, kMailWindow, false);
  if (throttle.RetryAfter("mail:" + email) > 0) return std::optional<User>();  // silently: same answer
  auto rows = tx.Query(UserSelect(where), {email});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return std::optional<User>();
  throttle.Hit("mail:" + email, kMailsPerEmail, kMailWindow, false);
  return std::optional<User>(UserFrom(*rows, 0));
}

Status AddEmailToken(db::Session& tx, const std::string& token, const std::string& purpose, const User& user,
                     std::int64_t now, std::chrono::seconds ttl) {
  return StatusOf(tx.Execute(
      "INSERT INTO email_tokens (token_hash, purpose, account_id, user_id, email, created_at, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {HashSecret(token), purpose, user.account_id, user.id, user.email, now, now + ttl.count()}));
}

db::TenantScope Tenant(db::Session& session, const Principal& principal) {
  return db::TenantScope(session, principal.account_id);
}

}  // namespace paddlecloud::accounts
