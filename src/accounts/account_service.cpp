#include "accounts/account_service.h"

#include <set>

#include <boost/json/serialize.hpp>

#include "common/names.h"
#include "db/tenant_scope.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

namespace paddlecloud::accounts {
namespace {

using db::Params;
using db::Rows;

constexpr std::int64_t kLoginWindow = 15 * 60;
constexpr int kLoginFailuresPerEmail = 5;
constexpr int kLoginFailuresPerAddress = 20;
constexpr std::int64_t kMailWindow = 60 * 60;
constexpr int kMailsPerEmail = 3;
constexpr int kMailsPerAddress = 10;

User UserFrom(const Rows& rows, std::size_t i) {
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

// Fixed-window counters with an optional block, kept in the database so every replica agrees.
class Throttle {
 public:
  Throttle(db::Session& db, std::int64_t now) : db_(db), now_(now) {}

  // Seconds until `key` may act again; 0 when it may now.
  std::int64_t RetryAfter(const std::string& key) {
    auto rows = db_.Query("SELECT blocked_until FROM throttle WHERE key = ?", {key});
    if (!rows || rows->empty()) return 0;
    return std::max<std::int64_t>(0, rows->Int(0, "blocked_until") - now_);
  }
  // Counts one event; once `max_hits` are reached within `window`, blocks the key: until the window
  // ends, or with exponential backoff (30 s doubling, at most the window) when `backoff`.
  void Hit(const std::string& key, int max_hits, std::int64_t window, bool backoff) {
    auto rows = db_.Query("SELECT hits, window_start FROM throttle WHERE key = ?", {key});
    std::int64_t hits = 1, start = now_;
    if (rows && !rows->empty() && now_ - rows->Int(0, "window_start") < window) {
      hits = rows->Int(0, "hits") + 1;
      start = rows->Int(0, "window_start");
    }
    std::int64_t blocked_until = 0;
    if (hits >= max_hits) {
      blocked_until = backoff ? now_ + std::min<std::int64_t>(window, 30LL << std::min<std::int64_t>(hits - max_hits, 10))
                              : start + window;
    }
    (void)db_.Execute(
        "INSERT INTO throttle (key, hits, window_start, blocked_until) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(key) DO UPDATE SET hits = excluded.hits, window_start = excluded.window_start, "
        "blocked_until = excluded.blocked_until",
        {key, hits, start, blocked_until});
  }
  void Clear(const std::string& key) { (void)db_.Execute("DELETE FROM throttle WHERE key = ?", {key}); }

 private:
  db::Session& db_;
  std::int64_t now_;
};

// Statements on the principal's tenant data go through a TenantScope (db/tenant_scope.h).
db::TenantScope Tenant(db::Session& session, const Principal& principal) {
  return db::TenantScope(session, principal.account_id);
}

Status Throttled(std::int64_t retry_after, const std::string& what) {
  Status s = Status::ResourceExhausted("too many " + what + "; try again in " + std::to_string(retry_after) + " s");
  s.WithDetail("retry_after", std::to_string(retry_after));
  return s;
}

}  // namespace

std::vector<db::Migration> AccountMigrations() {
  return {{30, "api tokens of jobs; certificates known by fingerprint",
           "ALTER TABLE api_tokens ADD COLUMN job_id INTEGER;"
           "CREATE INDEX certificates_by_fingerprint ON certificates(fingerprint_sha256);"},
          {2, "accounts, users, sessions, tokens, certificates, audit",
           R"sql(
CREATE TABLE accounts (
  id TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL REFERENCES accounts(id),
  email TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  is_master INTEGER NOT NULL DEFAULT 0,
  verified_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX users_by_account ON users(account_id);
CREATE UNIQUE INDEX users_one_master ON users(account_id) WHERE is_master = 1;
CREATE TABLE email_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  token_hash TEXT NOT NULL UNIQUE,
  purpose TEXT NOT NULL,
  account_id TEXT NOT NULL,
  user_id INTEGER,
  email TEXT NOT NULL,
  invited_by INTEGER,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX email_tokens_by_account ON email_tokens(account_id, purpose);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked_at INTEGER,
  remote_address TEXT NOT NULL DEFAULT '',
  user_agent TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_by_user ON sessions(user_id);
CREATE TABLE api_tokens (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  prefix TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER,
  last_used_at INTEGER,
  revoked_at INTEGER
);
CREATE INDEX api_tokens_by_user ON api_tokens(user_id);
CREATE TABLE certificates (
  serial TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  account_id TEXT NOT NULL,
  subject TEXT NOT NULL,
  fingerprint_sha256 TEXT NOT NULL,
  not_before INTEGER NOT NULL,
  not_after INTEGER NOT NULL,
  revoked_at INTEGER,
  created_at INTEGER NOT NULL
);
CREATE INDEX certificates_by_user ON certificates(user_id);
CREATE TABLE audit_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  account_id TEXT,
  user_id INTEGER,
  actor TEXT NOT NULL,
  event TEXT NOT NULL,
  remote_address TEXT NOT NULL DEFAULT '',
  details TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_by_account ON audit_events(account_id, id);
CREATE TABLE throttle (
  key TEXT PRIMARY KEY,
  hits INTEGER NOT NULL,
  window_start INTEGER NOT NULL,
  blocked_until INTEGER NOT NULL DEFAULT 0
);
)sql"}};
}

std::string NormalizeEmail(const std::string& email) {
  std::string out;
  std::size_t b = 0, e = email.size();
  while (b < e && std::isspace(static_cast<unsigned char>(email[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(email[e - 1]))) --e;
  for (std::size_t i = b; i < e; ++i) out += static_cast<char>(std::tolower(static_cast<unsigned char>(email[i])));
  return out;
}

Status ValidateEmail(const std::string& email) {
  auto at = email.find('@');
  bool ok = email.size() <= 254 && at != std::string::npos && at > 0 && at == email.rfind('@') &&
            email.find('.', at) != std::string::npos && email.back() != '.' && email.find('.', at) > at + 1;
  for (unsigned char c : email) ok &= c > 0x20 && c != 0x7f && c != '<' && c != '>' && c != ',' && c != '"';
  if (!ok) return Status::InvalidArgument("email must be an address like name@example.com", "email");
  return Status::Ok();
}

Status ValidateAccountId(const std::string& id) {
  PC_RETURN_IF_ERROR(names::CheckDnsLabel(id, "account ID", "account_id", 3, 40));
  static const char* kReserved[] = {"default", "kube-system", "kube-public", "kube-node-lease", "public", "admin",
                                    "paddlecloud", "system"};
  for (const char* r : kReserved)
    if (id == r) return Status::Of(Code::kConflict, "account ID '" + id + "' is reserved", "account_id");
  return Status::Ok();
}

// Verified credentials by the hash of their secret, and users by id. Bounded: when full, it
// starts over (a miss only costs a database lookup).
class AccountService::CredentialCache {
 public:
  static constexpr std::int64_t kRecheckSeconds = 60;
  static constexpr std::size_t kMaxEntries = 100'000;

  std::optional<Principal> Find(const std::string& hash, std::int64_t now) {
    std::lock_guard lock(mu_);
    auto it = credentials_.find(hash);
    if (it == credentials_.end()) return std::nullopt;
    if (now >= it->second.valid_until || now - it->second.checked_at >= kRecheckSeconds) {
      credentials_.erase(it);
      return std::nullopt;
    }
    return it->second.principal;
  }
  void Put(const std::string& hash, const Principal& principal, std::int64_t valid_until, std::int64_t now) {
    std::lock_guard lock(mu_);
    if (credentials_.size() >= kMaxEntries) credentials_.clear();
    credentials_[hash] = {principal, valid_until, now};
  }
  std::optional<User> FindUser(std::int64_t user_id, std::int64_t now) {
    std::lock_guard lock(mu_);
    auto it = users_.find(user_id);
    if (it == users_.end() || now - it->second.second >= kRecheckSeconds) return std::nullopt;
    return it->second.first;
  }
  void PutUser(const User& user, std::int64_t now) {
    std::lock_guard lock(mu_);
    if (users_.size() >= kMaxEntries) users_.clear();
    users_[user.id] = {user, now};
  }
  void Forget(const std::string& hash) {
    std::lock_guard lock(mu_);
    credentials_.erase(hash);
  }
  // Everything of the user: their sessions and tokens (jobs' included) and their profile.
  void ForgetUser(std::int64_t user_id) {
    std::lock_guard lock(mu_);
    std::erase_if(credentials_, [&](const auto& e) { return e.second.principal.user_id == user_id; });
    users_.erase(user_id);
  }
  void ForgetJob(std::int64_t job_id) {
    std::lock_guard lock(mu_);
    std::erase_if(credentials_, [&](const auto& e) { return e.second.principal.job_id == job_id; });
  }
  void Clear() {
    std::lock_guard lock(mu_);
    credentials_.clear();
    users_.clear();
  }

 private:
  struct Credential {
    Principal principal;
    std::int64_t valid_until = 0;  // expiry of the token, or of the session (absolute or idle)
    std::int64_t checked_at = 0;
  };
  std::mutex mu_;  // guards both maps
  std::unordered_map<std::string, Credential> credentials_;
  std::unordered_map<std::int64_t, std::pair<User, std::int64_t>> users_;  // with when it was read
};

AccountService::AccountService(db::Database& database, mail::Mailer& mailer, AccountsOptions options)
    : db_(database), mailer_(mailer), options_(std::move(options)), cache_(std::make_unique<CredentialCache>()) {}

AccountService::~AccountService() = default;

std::optional<Principal> AccountService::CachedTokenPrincipal(const std::string& token) {
  return cache_->Find(HashSecret(token), Now());
}

std::optional<Principal> AccountService::CachedSessionPrincipal(const std::string& session_id) {
  return cache_->Find(HashSecret(session_id), Now());
}

std::optional<User> AccountService::CachedUser(const Principal& principal) {
  auto user = cache_->FindUser(principal.user_id, Now());
  if (!user || user->account_id != principal.account_id) return std::nullopt;
  return user;
}

std::string AccountService::PublicUrl() const {
  return options_.public_url_source ? options_.public_url_source() : "http://127.0.0.1:8080";
}

std::int64_t AccountService::Now() const {
  if (options_.now) return options_.now();
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Status AccountService::SendMail(const std::string& to, const std::string& subject, const std::string& body) {
  Status s = mailer_.Send({.to = to, .subject = subject, .text_body = body, .html_body = ""});
  if (!s.ok()) spdlog::error("mail \"{}\" to {} failed: {}", subject, to, s.message());
  return s;
}

void AccountService::Audit(const std::string& account_id, std::int64_t user_id, const std::string& actor,
                           const std::string& event, const RequestMeta& meta, const boost::json::object& details) {
  auto r = db_.Execute(
      "INSERT INTO audit_events (at, account_id, user_id, actor, event, remote_address, details) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      {Now(), account_id.empty() ? db::Value() : db::Value(account_id), user_id ? db::Value(user_id) : db::Value(),
       actor, event, meta.remote_address, boost::json::serialize(details)});
  if (!r) spdlog::error("audit event {} not recorded: {}", event, r.error().message());
}

Status AccountService::RequireMaster(const Principal& principal) {
  if (!principal.master)
    return Status::PermissionDenied("only the account's master user can do this; ask the master user of account '" +
                                    principal.account_id + "'");
  return Status::Ok();
}

// ---- registration ------------------------------------------------------------------------------

Result<User> AccountService::Register(const std::string& raw_email, const std::string& password,
                                      const std::string& account_id, const std::string& display_name,
                                      const RequestMeta& meta) {
  std::string email = NormalizeEmail(raw_email);
  PC_RETURN_IF_ERROR(ValidateEmail(email));
  PC_RETURN_IF_ERROR(ValidateAccountId(account_id));
  if (display_name.size() > 100) return Err(Status::InvalidArgument("display name must be at most 100 bytes", "display_name"));
  PC_RETURN_IF_ERROR(CheckNewPassword(password, email, account_id));
  auto hash = HashPassword(password, options_.password_params);
  if (!hash) return Err(hash.error());

  std::int64_t now = Now();
  std::string token = NewSecret("");
  User user;
  Status s = db_.Transaction([&](db::Session& tx) -> Status {
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
    auto inserted = tx.Execute(
        "INSERT INTO users (account_id, email, display_name, password_hash, is_master, created_at) "
        "VALUES (?, ?, ?, ?, 1, ?)",
        {account_id, email, name, *hash, now});
    if (!inserted) return inserted.error();
    user = {.id = inserted->last_insert_id, .account_id = account_id, .email = email, .display_name = name,
            .master = true, .verified = false, .created_at = now};
    auto t = tx.Execute(
        "INSERT INTO email_tokens (token_hash, purpose, account_id, user_id, email, created_at, expires_at) "
        "VALUES (?, 'verify', ?, ?, ?, ?, ?)",
        {HashSecret(token), account_id, user.id, email, now, now + options_.verification_ttl.count()});
    if (!t) return t.error();
    Throttle(tx, now).Hit("mail-ip:" + meta.remote_address, kMailsPerAddress, kMailWindow, false);
    return Status::Ok();
  });
  if (!s.ok()) return Err(s);
  Audit(account_id, user.id, email, "account.registered", meta);
  (void)SendMail(email, "Verify your email for PaddleCloud",
           "Hello " + user.display_name + ",\n\n"
           "you registered the PaddleCloud account '" + account_id + "' with this address.\n"
           "Open this link to verify it (it works once, for " +
               std::to_string(options_.verification_ttl.count() / 3600) + " hours):\n\n" +
               PublicUrl() + "/verify?token=" + token +
               "\n\nIf this was not you, ignore this message.\n");
  return user;
}

Result<User> AccountService::VerifyEmail(const std::string& token, const RequestMeta& meta) {
  if (token.empty()) return Err(Status::InvalidArgument("token is required", "token"));
  std::int64_t now = Now();
  User user;
  Status s = db_.Transaction([&](db::Session& tx) -> Status {
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
  cache_->ForgetUser(user.id);
  Audit(user.account_id, user.id, user.email, "email.verified", meta);
  (void)SendMail(user.email, "Registration succeeded: welcome to PaddleCloud",
           "Hello " + user.display_name + ",\n\n"
           "your registration succeeded: the PaddleCloud account '" + user.account_id + "' is ready.\n"
           "Sign in here:\n\n" + PublicUrl() + "/login\n");
  return user;
}

Status AccountService::ResendVerification(const std::string& raw_email, const RequestMeta& meta) {
  std::string email = NormalizeEmail(raw_email);
  PC_RETURN_IF_ERROR(ValidateEmail(email));
  std::int64_t now = Now();
  std::string token = NewSecret("");
  std::optional<User> user;
  Status s = db_.Transaction([&](db::Session& tx) -> Status {
    Throttle throttle(tx, now);
    if (auto wait = throttle.RetryAfter("mail-ip:" + meta.remote_address); wait > 0)
      return Throttled(wait, "emails from this address");
    throttle.Hit("mail-ip:" + meta.remote_address, kMailsPerAddress, kMailWindow, false);
    if (throttle.RetryAfter("mail:" + email) > 0) return Status::Ok();  // silently: same answer
    auto rows = tx.Query(UserSelect("email = ? AND verified_at IS NULL"), {email});
    if (!rows) return rows.error();
    if (rows->empty()) return Status::Ok();
    user = UserFrom(*rows, 0);
    throttle.Hit("mail:" + email, kMailsPerEmail, kMailWindow, false);
    auto t = tx.Execute(
        "INSERT INTO email_tokens (token_hash, purpose, account_id, user_id, email, created_at, expires_at) "
        "VALUES (?, 'verify', ?, ?, ?, ?, ?)",
        {HashSecret(token), user->account_id, user->id, email, now, now + options_.verification_ttl.count()});
    return t ? Status::Ok() : t.error();
  });
  if (!s.ok() || !user) return s;
  (void)SendMail(email, "Verify your email for PaddleCloud",
           "Hello " + user->display_name + ",\n\nopen this link to verify your address (it works once):\n\n" +
               PublicUrl() + "/verify?token=" + token + "\n");
  return Status::Ok();
}

// ---- sessions and credentials ------------------------------------------------------------------

Result<User> AccountService::CheckPasswordLogin(const std::string& raw_email, const std::string& password,
                                                const RequestMeta& meta) {
  std::string email = NormalizeEmail(raw_email);
  if (email.empty()) return Err(Status::InvalidArgument("email is required", "email"));
  if (password.empty()) return Err(Status::InvalidArgument("password is required", "password"));
  std::int64_t now = Now();
  // Failures count per (email, client address): someone guessing from one address slows down there
  // and never locks the real user out elsewhere. Each address also has a cap across emails.
  std::string email_key = "login:" + email + " from " + meta.remote_address, address_key = "login-ip:" + meta.remote_address;
  {
    Throttle throttle(db_, now);
    std::int64_t wait = std::max(throttle.RetryAfter(email_key), throttle.RetryAfter(address_key));
    if (wait > 0) return Err(Throttled(wait, "failed sign-ins"));
  }
  auto rows = db_.Query(UserSelect("email = ?"), {email});
  if (!rows) return Err(rows.error());
  // Verify against a dummy hash for unknown emails, so timing does not reveal which exist.
  std::string stored = rows->empty() ? DummyPasswordHash() : rows->Text(0, "password_hash");
  bool ok = VerifyPassword(password, stored) && !rows->empty();
  if (!ok) {
    Throttle throttle(db_, now);
    throttle.Hit(email_key, kLoginFailuresPerEmail, kLoginWindow, true);
    throttle.Hit(address_key, kLoginFailuresPerAddress, kLoginWindow, true);
    Audit(rows->empty() ? "" : rows->Text(0, "account_id"), rows->empty() ? 0 : rows->Int(0, "id"), email,
          "login.failed", meta);
    return Err(Status::Unauthenticated("wrong email or password"));
  }
  User user = UserFrom(*rows, 0);
  Throttle(db_, now).Clear(email_key);
  if (!user.verified)
    return Err(Status::PermissionDenied("verify your email first: follow the link we sent to " + email)
                   .WithDetail("reason", "email_not_verified"));
  if (PasswordNeedsRehash(stored, options_.password_params)) {
    if (auto rehashed = HashPassword(password, options_.password_params))
      (void)db_.Execute("UPDATE users SET password_hash = ? WHERE id = ?", {*rehashed, user.id});
  }
  return user;
}

const std::string& AccountService::DummyPasswordHash() {
  // Made with the parameters of real hashes: verifying it costs what verifying a real one does.
  std::call_once(dummy_hash_once_, [this] {
    dummy_hash_ = HashPassword(NewSecret(""), options_.password_params).value_or("");
  });
  return dummy_hash_;
}

Result<Session> AccountService::Login(const std::string& email, const std::string& password, const RequestMeta& meta) {
  auto user = CheckPasswordLogin(email, password, meta);
  if (!user) return Err(user.error());
  std::int64_t now = Now();
  Session session{.id = NewSecret("pcs_"), .csrf_token = NewSecret(""), .user = *user,
                  .expires_at = now + options_.session_absolute.count()};
  auto r = db_.Execute(
      "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, remote_address, "
      "user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
      {HashSecret(session.id), user->id, session.csrf_token, now, now, session.expires_at, meta.remote_address,
       meta.user_agent.substr(0, 200)});
  if (!r) return Err(r.error());
  Audit(user->account_id, user->id, user->email, "login.succeeded", meta);
  return session;
}

Status AccountService::Logout(const Principal& principal, const RequestMeta& meta) {
  if (principal.method == "session") {
    auto r = db_.Execute("UPDATE sessions SET revoked_at = ? WHERE id_hash = ? AND user_id = ?",
                         {Now(), principal.credential_id, principal.user_id});
    if (!r) return r.error();
  }
  if (principal.method == "session") cache_->Forget(principal.credential_id);
  Audit(principal.account_id, principal.user_id, principal.email, "logout", meta);
  return Status::Ok();
}

Result<Principal> AccountService::PrincipalForUser(std::int64_t user_id, std::string method, std::string credential) {
  auto rows = db_.Query(UserSelect("id = ?"), {user_id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::Unauthenticated("this credential's user no longer exists"));
  User u = UserFrom(*rows, 0);
  cache_->PutUser(u, Now());
  return Principal{.user_id = u.id, .account_id = u.account_id, .email = u.email, .master = u.master,
                   .method = std::move(method), .credential_id = std::move(credential), .csrf_token = ""};
}

Result<Principal> AccountService::AuthenticateSession(const std::string& session_id) {
  std::string hash = HashSecret(session_id);
  std::int64_t now = Now();
  if (auto cached = cache_->Find(hash, now)) return *cached;
  auto rows = db_.Query(
      "SELECT user_id, csrf_token, last_seen_at, expires_at, revoked_at FROM sessions WHERE id_hash = ?", {hash});
  if (!rows) return Err(rows.error());
  if (rows->empty() || !rows->IsNull(0, "revoked_at") || rows->Int(0, "expires_at") <= now ||
      rows->Int(0, "last_seen_at") + options_.session_idle.count() <= now)
    return Err(Status::Unauthenticated("your session has ended; sign in again"));
  // Refresh the idle clock at most once a minute to keep reads cheap.
  if (now - rows->Int(0, "last_seen_at") >= 60)
    (void)db_.Execute("UPDATE sessions SET last_seen_at = ? WHERE id_hash = ?", {now, hash});
  auto p = PrincipalForUser(rows->Int(0, "user_id"), "session", hash);
  if (p) {
    p->csrf_token = rows->Text(0, "csrf_token");
    // Valid until its absolute expiry or, counting from now, its idle timeout.
    cache_->Put(hash, *p, std::min(rows->Int(0, "expires_at"), now + options_.session_idle.count()), now);
  }
  return p;
}

Result<Principal> AccountService::AuthenticateToken(const std::string& token) {
  std::int64_t now = Now();
  std::string hash = HashSecret(token);
  if (auto cached = cache_->Find(hash, now)) return *cached;
  auto rows = db_.Query(
      "SELECT id, user_id, expires_at, revoked_at, last_used_at, job_id FROM api_tokens WHERE token_hash = ?", {hash});
  if (!rows) return Err(rows.error());
  if (rows->empty() || !rows->IsNull(0, "revoked_at") ||
      (!rows->IsNull(0, "expires_at") && rows->Int(0, "expires_at") <= now))
    return Err(Status::Unauthenticated("this API token is not valid (revoked, expired or mistyped)"));
  if (rows->IsNull(0, "last_used_at") || now - rows->Int(0, "last_used_at") >= 60)
    (void)db_.Execute("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", {now, rows->Int(0, "id")});
  auto principal = PrincipalForUser(rows->Int(0, "user_id"), "token", std::to_string(rows->Int(0, "id")));
  if (principal && !rows->IsNull(0, "job_id")) principal->job_id = rows->Int(0, "job_id");
  if (principal)
    cache_->Put(hash, *principal, rows->IsNull(0, "expires_at") ? INT64_MAX : rows->Int(0, "expires_at"), now);
  return principal;
}

Result<Principal> AccountService::AuthenticateCertificate(const std::string& fingerprint_sha256) {
  auto rows = db_.Query("SELECT serial, user_id, not_after, revoked_at FROM certificates WHERE fingerprint_sha256 = ?",
                        {fingerprint_sha256});
  if (!rows) return Err(rows.error());
  if (fingerprint_sha256.empty() || rows->empty() || !rows->IsNull(0, "revoked_at") || rows->Int(0, "not_after") <= Now())
    return Err(Status::Unauthenticated("this client certificate is revoked, expired or unknown"));
  return PrincipalForUser(rows->Int(0, "user_id"), "certificate", rows->Text(0, "serial"));
}

// ---- passwords ---------------------------------------------------------------------------------

Status AccountService::ChangePassword(const Principal& principal, const std::string& current,
                                      const std::string& replacement, const RequestMeta& meta, bool keep_tokens) {
  auto rows = Tenant(db_, principal).Query(UserSelect("id = ? AND account_id = :account"), {principal.user_id});
  if (!rows) return rows.error();
  if (rows->empty()) return Status::NotFound("user not found");
  if (!VerifyPassword(current, rows->Text(0, "password_hash"))) {
    Audit(principal.account_id, principal.user_id, principal.email, "password.change_failed", meta);
    return Status::InvalidArgument("the current password is wrong", "current_password");
  }
  PC_RETURN_IF_ERROR(CheckNewPassword(replacement, principal.email, principal.account_id, "new_password"));
  if (replacement == current)
    return Status::InvalidArgument("the new password must differ from the current one", "new_password");
  auto hash = HashPassword(replacement, options_.password_params);
  if (!hash) return hash.error();
  std::int64_t now = Now();
  PC_RETURN_IF_ERROR(db_.Transaction([&](db::Session& tx) -> Status {
    PC_RETURN_IF_ERROR(StatusOf(tx.Execute("UPDATE users SET password_hash = ? WHERE id = ?", {*hash, principal.user_id})));
    // Every other session ends; the one changing the password stays signed in.
    PC_RETURN_IF_ERROR(StatusOf(tx.Execute(
        "UPDATE sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL AND id_hash <> ?",
        {now, principal.user_id, principal.method == "session" ? principal.credential_id : ""})));
    return keep_tokens ? Status::Ok() : RevokeCredentials(tx, principal.user_id, now, /*job_tokens=*/false);
  }));
  cache_->ForgetUser(principal.user_id);
  Audit(principal.account_id, principal.user_id, principal.email, "password.changed", meta,
        keep_tokens ? boost::json::object{{"kept_tokens", true}} : boost::json::object{{"revoked", "api tokens and client certificates"}});
  return Status::Ok();
}

Status AccountService::RevokeCredentials(db::Session& tx, std::int64_t user_id, std::int64_t now, bool job_tokens) {
  PC_RETURN_IF_ERROR(StatusOf(tx.Execute(std::string("UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL") +
                                             (job_tokens ? "" : " AND job_id IS NULL"),
                                         {now, user_id})));
  return StatusOf(
      tx.Execute("UPDATE certificates SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL", {now, user_id}));
}

Status AccountService::RequestPasswordReset(const std::string& raw_email, const RequestMeta& meta) {
  std::string email = NormalizeEmail(raw_email);
  PC_RETURN_IF_ERROR(ValidateEmail(email));
  std::int64_t now = Now();
  std::string token = NewSecret("");
  std::optional<User> user;
  PC_RETURN_IF_ERROR(db_.Transaction([&](db::Session& tx) -> Status {
    Throttle throttle(tx, now);
    if (auto wait = throttle.RetryAfter("mail-ip:" + meta.remote_address); wait > 0)
      return Throttled(wait, "emails from this address");
    throttle.Hit("mail-ip:" + meta.remote_address, kMailsPerAddress, kMailWindow, false);
    if (throttle.RetryAfter("mail:" + email) > 0) return Status::Ok();
    auto rows = tx.Query(UserSelect("email = ?"), {email});
    if (!rows) return rows.error();
    if (rows->empty()) return Status::Ok();
    user = UserFrom(*rows, 0);
    throttle.Hit("mail:" + email, kMailsPerEmail, kMailWindow, false);
    return StatusOf(tx.Execute(
                 "INSERT INTO email_tokens (token_hash, purpose, account_id, user_id, email, created_at, expires_at) "
                 "VALUES (?, 'reset', ?, ?, ?, ?, ?)",
                 {HashSecret(token), user->account_id, user->id, email, now, now + options_.reset_ttl.count()}));
  }));
  if (!user) return Status::Ok();
  Audit(user->account_id, user->id, email, "password.reset_requested", meta);
  (void)SendMail(email, "Reset your PaddleCloud password",
           "Hello " + user->display_name + ",\n\nsomeone asked to reset the password of " + email +
               ". Open this link to choose a new one (it works once, for " +
               std::to_string(options_.reset_ttl.count() / 60) + " minutes):\n\n" + PublicUrl() +
               "/reset-password?token=" + token + "\n\nIf this was not you, ignore this message: nothing changes.\n");
  return Status::Ok();
}

Status AccountService::ResetPassword(const std::string& token, const std::string& replacement, const RequestMeta& meta) {
  if (token.empty()) return Status::InvalidArgument("token is required", "token");
  std::int64_t now = Now();
  auto rows = db_.Query(
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
  auto hash = HashPassword(replacement, options_.password_params);
  if (!hash) return hash.error();
  PC_RETURN_IF_ERROR(db_.Transaction([&](db::Session& tx) -> Status {
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
  cache_->ForgetUser(user_id);
  Audit(account_id, user_id, email, "password.reset", meta,
        {{"revoked", "sessions, api tokens, job tokens and client certificates"}});
  return Status::Ok();
}

// ---- account and members -----------------------------------------------------------------------

Result<User> AccountService::GetUser(const Principal& principal) {
  if (auto cached = CachedUser(principal)) return *cached;
  auto rows = Tenant(db_, principal).Query(UserSelect("id = ? AND account_id = :account"), {principal.user_id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("user not found"));
  User user = UserFrom(*rows, 0);
  cache_->PutUser(user, Now());
  return user;
}

Result<User> AccountService::UpdateProfile(const Principal& principal, const std::string& display_name) {
  if (display_name.empty() || display_name.size() > 100)
    return Err(Status::InvalidArgument("display name must be 1 to 100 bytes", "display_name"));
  auto r = Tenant(db_, principal).Execute("UPDATE users SET display_name = ? WHERE id = ? AND account_id = :account",
                                          {display_name, principal.user_id});
  if (!r) return Err(r.error());
  cache_->ForgetUser(principal.user_id);
  return GetUser(principal);
}

Result<Account> AccountService::GetAccount(const Principal& principal) {
  auto rows = Tenant(db_, principal).Query(
      "SELECT a.id, a.display_name, a.created_at, (SELECT COUNT(*) FROM users u WHERE u.account_id = a.id) AS members "
      "FROM accounts a WHERE a.id = :account");
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("account not found"));
  return Account{.id = rows->Text(0, "id"), .display_name = rows->Text(0, "display_name"),
                 .created_at = rows->Int(0, "created_at"), .members = rows->Int(0, "members")};
}

Result<std::vector<User>> AccountService::ListMembers(const Principal& principal) {
  auto rows = Tenant(db_, principal).Query(UserSelect("account_id = :account ORDER BY is_master DESC, email"));
  if (!rows) return Err(rows.error());
  std::vector<User> out;
  for (std::size_t i = 0; i < rows->size(); ++i) out.push_back(UserFrom(*rows, i));
  return out;
}

Result<Invitation> AccountService::Invite(const Principal& principal, const std::string& raw_email,
                                          const RequestMeta& meta) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  std::string email = NormalizeEmail(raw_email);
  PC_RETURN_IF_ERROR(ValidateEmail(email));
  std::int64_t now = Now();
  std::string token = NewSecret("");
  Invitation invitation{.id = 0, .email = email, .invited_by = principal.email, .created_at = now,
                        .expires_at = now + options_.invitation_ttl.count()};
  PC_RETURN_IF_ERROR(db_.Transaction([&](db::Session& tx) -> Status {
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
    auto r = Tenant(tx, principal).Execute(
        "INSERT INTO email_tokens (token_hash, purpose, account_id, email, invited_by, created_at, expires_at) "
        "VALUES (?, 'invite', :account, ?, ?, ?, ?)",
        {HashSecret(token), email, principal.user_id, now, invitation.expires_at});
    if (!r) return r.error();
    invitation.id = r->last_insert_id;
    return Status::Ok();
  }));
  Audit(principal.account_id, principal.user_id, principal.email, "member.invited", meta,
        {{"email", email}});
  Status mailed = SendMail(email, principal.email + " invited you to PaddleCloud",
                           principal.email + " invited you to join the PaddleCloud account '" + principal.account_id +
                               "'.\nOpen this link to accept (it works once, for " +
                               std::to_string(options_.invitation_ttl.count() / 86400) + " days):\n\n" +
                               PublicUrl() + "/invite?token=" + token + "\n");
  if (!mailed.ok()) return Err(Status::Unavailable("the invitation was saved but the mail could not be sent: " +
                                                   mailed.message()));
  return invitation;
}

Result<std::vector<Invitation>> AccountService::ListInvitations(const Principal& principal) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  auto rows = Tenant(db_, principal).Query(
      "SELECT t.id, t.email, t.created_at, t.expires_at, COALESCE(u.email, '') AS invited_by FROM email_tokens t "
      "LEFT JOIN users u ON u.id = t.invited_by WHERE t.account_id = :account AND t.purpose = 'invite' "
      "AND t.used_at IS NULL AND t.revoked_at IS NULL AND t.expires_at > ? ORDER BY t.id DESC",
      {Now()});
  if (!rows) return Err(rows.error());
  std::vector<Invitation> out;
  for (std::size_t i = 0; i < rows->size(); ++i)
    out.push_back({.id = rows->Int(i, "id"), .email = rows->Text(i, "email"), .invited_by = rows->Text(i, "invited_by"),
                   .created_at = rows->Int(i, "created_at"), .expires_at = rows->Int(i, "expires_at")});
  return out;
}

Status AccountService::RevokeInvitation(const Principal& principal, std::int64_t invitation_id,
                                        const RequestMeta& meta) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  auto r = Tenant(db_, principal).Execute(
      "UPDATE email_tokens SET revoked_at = ? WHERE id = ? AND account_id = :account AND purpose = 'invite' "
      "AND used_at IS NULL AND revoked_at IS NULL",
      {Now(), invitation_id});
  if (!r) return r.error();
  if (r->rows_affected == 0) return Status::NotFound("no open invitation with id " + std::to_string(invitation_id));
  Audit(principal.account_id, principal.user_id, principal.email, "member.invitation_revoked", meta,
        {{"invitation_id", invitation_id}});
  return Status::Ok();
}

Result<Invitation> AccountService::DescribeInvitation(const std::string& token, std::string* account_id) {
  if (token.empty()) return Err(Status::InvalidArgument("token is required", "token"));
  auto rows = db_.Query(
      "SELECT t.id, t.email, t.account_id, t.created_at, t.expires_at, t.used_at, t.revoked_at, "
      "COALESCE(u.email, '') AS invited_by FROM email_tokens t LEFT JOIN users u ON u.id = t.invited_by "
      "WHERE t.token_hash = ? AND t.purpose = 'invite'",
      {HashSecret(token)});
  if (!rows) return Err(rows.error());
  if (rows->empty() || !rows->IsNull(0, "revoked_at"))
    return Err(Status::NotFound("this invitation link is not valid"));
  if (!rows->IsNull(0, "used_at")) return Err(Status::Conflict("this invitation was already accepted; sign in"));
  if (rows->Int(0, "expires_at") <= Now())
    return Err(Status::InvalidArgument("this invitation has expired; ask for a new one", "token"));
  if (account_id) *account_id = rows->Text(0, "account_id");
  return Invitation{.id = rows->Int(0, "id"), .email = rows->Text(0, "email"), .invited_by = rows->Text(0, "invited_by"),
                    .created_at = rows->Int(0, "created_at"), .expires_at = rows->Int(0, "expires_at")};
}

Result<User> AccountService::AcceptInvitation(const std::string& token, const std::string& password,
                                              const std::string& display_name, const RequestMeta& meta) {
  std::string account_id;
  auto invitation = DescribeInvitation(token, &account_id);
  if (!invitation) return Err(invitation.error());
  PC_RETURN_IF_ERROR(CheckNewPassword(password, invitation->email, account_id));
  if (display_name.size() > 100) return Err(Status::InvalidArgument("display name must be at most 100 bytes", "display_name"));
  auto hash = HashPassword(password, options_.password_params);
  if (!hash) return Err(hash.error());
  std::int64_t now = Now();
  User user;
  PC_RETURN_IF_ERROR(db_.Transaction([&](db::Session& tx) -> Status {
    auto used = tx.Execute(
        "UPDATE email_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL", {now, invitation->id});
    if (!used) return used.error();
    if (used->rows_affected != 1) return Status::Conflict("this invitation was already accepted; sign in");
    std::string name = display_name.empty() ? invitation->email.substr(0, invitation->email.find('@')) : display_name;
    auto r = tx.Execute(
        "INSERT INTO users (account_id, email, display_name, password_hash, is_master, verified_at, created_at) "
        "VALUES (?, ?, ?, ?, 0, ?, ?)",
        {account_id, invitation->email, name, *hash, now, now});
    if (!r) return r.error().code() == Code::kConflict
                      ? Status::Of(Code::kConflict, "this email already belongs to a PaddleCloud user", "email")
                      : r.error();
    user = {.id = r->last_insert_id, .account_id = account_id, .email = invitation->email, .display_name = name,
            .master = false, .verified = true, .created_at = now};
    return Status::Ok();
  }));
  Audit(account_id, user.id, user.email, "member.joined", meta);
  (void)SendMail(user.email, "Registration succeeded: welcome to PaddleCloud",
           "Hello " + user.display_name + ",\n\nyour registration succeeded: you are now a member of the PaddleCloud "
           "account '" + account_id + "'.\nSign in here:\n\n" + PublicUrl() + "/login\n");
  return user;
}

Status AccountService::RemoveMember(const Principal& principal, std::int64_t user_id, const RequestMeta& meta) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  if (user_id == principal.user_id)
    return Status::InvalidArgument("the master user cannot remove themselves; hand the master role to a member first",
                                   "user_id");
  db::TenantScope tenant = Tenant(db_, principal);
  auto target = tenant.Query("SELECT email FROM users WHERE id = ? AND account_id = :account", {user_id});
  if (!target) return target.error();
  if (target->empty()) return Status::NotFound("no member with id " + std::to_string(user_id));
  auto r = tenant.Execute("DELETE FROM users WHERE id = ? AND account_id = :account", {user_id});
  if (!r) return r.error();
  cache_->ForgetUser(user_id);
  Audit(principal.account_id, principal.user_id, principal.email, "member.removed", meta,
        {{"email", target->Text(0, "email")}});
  return Status::Ok();
}

Status AccountService::TransferMaster(const Principal& principal, std::int64_t user_id, const RequestMeta& meta) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  if (user_id == principal.user_id) return Status::InvalidArgument("you are already the master user", "user_id");
  std::string email;
  PC_RETURN_IF_ERROR(db_.Transaction([&](db::Session& tx) -> Status {
    db::TenantScope tenant = Tenant(tx, principal);
    auto target = tenant.Query("SELECT email FROM users WHERE id = ? AND account_id = :account", {user_id});
    if (!target) return target.error();
    if (target->empty()) return Status::NotFound("no member with id " + std::to_string(user_id));
    email = target->Text(0, "email");
    PC_RETURN_IF_ERROR(
        StatusOf(tenant.Execute("UPDATE users SET is_master = 0 WHERE id = ? AND account_id = :account", {principal.user_id})));
    return StatusOf(tenant.Execute("UPDATE users SET is_master = 1 WHERE id = ? AND account_id = :account", {user_id}));
  }));
  cache_->Clear();  // two principals changed role
  Audit(principal.account_id, principal.user_id, principal.email, "member.master_transferred", meta,
        {{"to", email}});
  return Status::Ok();
}

Status AccountService::Leave(const Principal& principal, const RequestMeta& meta) {
  if (principal.master)
    return Status::InvalidArgument("the master user cannot leave; hand the master role to another member first");
  auto r = Tenant(db_, principal).Execute("DELETE FROM users WHERE id = ? AND account_id = :account AND is_master = 0", {principal.user_id});
  if (!r) return r.error();
  cache_->ForgetUser(principal.user_id);
  Audit(principal.account_id, 0, principal.email, "member.left", meta);
  return Status::Ok();
}

// ---- API tokens --------------------------------------------------------------------------------

Result<std::pair<ApiToken, std::string>> AccountService::CreateToken(const Principal& principal,
                                                                     const std::string& name,
                                                                     std::optional<std::int64_t> expires_in_days,
                                                                     const RequestMeta& meta) {
  if (name.empty() || name.size() > 100) return Err(Status::InvalidArgument("name must be 1 to 100 bytes", "name"));
  if (expires_in_days && (*expires_in_days < 1 || *expires_in_days > 3650))
    return Err(Status::InvalidArgument("expires_in_days must be from 1 to 3650", "expires_in_days"));
  std::int64_t now = Now();
  std::string secret = NewSecret("pct_");
  ApiToken token{.id = 0, .name = name, .prefix = secret.substr(0, 10), .created_at = now,
                 .expires_at = expires_in_days ? std::optional<std::int64_t>(now + *expires_in_days * 86400) : std::nullopt,
                 .last_used_at = std::nullopt};
  auto r = Tenant(db_, principal).Execute(
      "INSERT INTO api_tokens (user_id, account_id, name, token_hash, prefix, created_at, expires_at) "
      "VALUES (?, :account, ?, ?, ?, ?, ?)",
      {principal.user_id, name, HashSecret(secret), token.prefix, now,
       token.expires_at ? db::Value(*token.expires_at) : db::Value()});
  if (!r) return Err(r.error());
  token.id = r->last_insert_id;
  Audit(principal.account_id, principal.user_id, principal.email, "token.created", meta,
        {{"name", name}, {"id", token.id}});
  return std::make_pair(token, secret);
}

Result<std::string> AccountService::CreateJobToken(const Principal& principal, std::int64_t job_id) {
  std::string secret = NewSecret("pct_");
  auto r = Tenant(db_, principal).Execute(
      "INSERT INTO api_tokens (user_id, account_id, name, token_hash, prefix, created_at, job_id) "
      "VALUES (?, :account, ?, ?, ?, ?, ?)",
      {principal.user_id, "job " + std::to_string(job_id), HashSecret(secret), secret.substr(0, 10), Now(), job_id});
  if (!r) return Err(r.error());
  return secret;
}

bool AccountService::AccountExists(const std::string& account_id) {
  auto rows = db_.Query("SELECT 1 FROM accounts WHERE id = ?", {account_id});
  return rows && !rows->empty();
}

Result<std::map<std::int64_t, std::string>> AccountService::EmailsOf(const std::vector<std::int64_t>& user_ids) {
  std::map<std::int64_t, std::string> emails;
  std::set<std::int64_t> wanted(user_ids.begin(), user_ids.end());
  if (wanted.empty()) return emails;
  std::string sql = "SELECT id, email FROM users WHERE id IN (";
  db::Params params;
  for (std::int64_t id : wanted) {
    sql += params.empty() ? "?" : ", ?";
    params.emplace_back(id);
  }
  auto rows = db_.Query(sql + ")", params);
  if (!rows) return Err(rows.error());
  for (std::size_t i = 0; i < rows->size(); ++i) emails[rows->Int(i, "id")] = rows->Text(i, "email");
  return emails;
}

Status AccountService::RevokeJobTokens(const std::string& account_id, std::int64_t job_id) {
  auto r = db::TenantScope(db_, account_id)
               .Execute("UPDATE api_tokens SET revoked_at = ? WHERE job_id = ? AND account_id = :account AND revoked_at IS NULL",
                        {Now(), job_id});
  cache_->ForgetJob(job_id);
  return r ? Status::Ok() : r.error();
}

Result<std::pair<ApiToken, std::string>> AccountService::CreateTokenWithPassword(const std::string& email,
                                                                                 const std::string& password,
                                                                                 const std::string& name,
                                                                                 const RequestMeta& meta) {
  auto user = CheckPasswordLogin(email, password, meta);
  if (!user) return Err(user.error());
  Principal p{.user_id = user->id, .account_id = user->account_id, .email = user->email, .master = user->master,
              .method = "password", .credential_id = "", .csrf_token = ""};
  return CreateToken(p, name, std::nullopt, meta);
}

Result<std::vector<ApiToken>> AccountService::ListTokens(const Principal& principal) {
  auto rows = Tenant(db_, principal).Query("SELECT id, name, prefix, created_at, expires_at, last_used_at FROM api_tokens "
      "WHERE user_id = ? AND account_id = :account AND revoked_at IS NULL AND job_id IS NULL ORDER BY id DESC",
      {principal.user_id});
  if (!rows) return Err(rows.error());
  std::vector<ApiToken> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    ApiToken t{.id = rows->Int(i, "id"), .name = rows->Text(i, "name"), .prefix = rows->Text(i, "prefix"),
               .created_at = rows->Int(i, "created_at"), .expires_at = std::nullopt, .last_used_at = std::nullopt};
    if (!rows->IsNull(i, "expires_at")) t.expires_at = rows->Int(i, "expires_at");
    if (!rows->IsNull(i, "last_used_at")) t.last_used_at = rows->Int(i, "last_used_at");
    out.push_back(std::move(t));
  }
  return out;
}

Status AccountService::RevokeToken(const Principal& principal, std::int64_t token_id, const RequestMeta& meta) {
  // Its name goes in the audit log: "token 5" alone means nothing to a reader.
  auto named = Tenant(db_, principal).Query(
      "SELECT name FROM api_tokens WHERE id = ? AND user_id = ? AND account_id = :account", {token_id, principal.user_id});
  std::string name = named && !named->empty() ? named->Text(0, "name") : "";
  auto r = Tenant(db_, principal).Execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND account_id = :account AND revoked_at IS NULL", {Now(), token_id, principal.user_id});
  if (!r) return r.error();
  if (r->rows_affected == 0) return Status::NotFound("no token with id " + std::to_string(token_id));
  cache_->ForgetUser(principal.user_id);
  Audit(principal.account_id, principal.user_id, principal.email, "token.revoked", meta,
        {{"name", name}, {"id", token_id}});
  return Status::Ok();
}

// ---- certificates ------------------------------------------------------------------------------

Status AccountService::RecordCertificate(const Principal& principal, const CertificateRecord& record,
                                         const RequestMeta& meta) {
  auto r = Tenant(db_, principal).Execute(
      "INSERT INTO certificates (serial, user_id, account_id, subject, fingerprint_sha256, not_before, not_after, "
      "created_at) VALUES (?, ?, :account, ?, ?, ?, ?, ?)",
      {record.serial, principal.user_id, record.subject, record.fingerprint_sha256,
       record.not_before, record.not_after, Now()});
  if (!r) return r.error();
  Audit(principal.account_id, principal.user_id, principal.email, "certificate.created", meta,
        {{"serial", record.serial}});
  return Status::Ok();
}

Result<std::vector<CertificateRecord>> AccountService::ListCertificates(const Principal& principal) {
  auto rows = Tenant(db_, principal).Query("SELECT serial, subject, fingerprint_sha256, not_before, not_after, revoked_at, created_at FROM certificates "
      "WHERE user_id = ? AND account_id = :account ORDER BY created_at DESC, serial", {principal.user_id});
  if (!rows) return Err(rows.error());
  std::vector<CertificateRecord> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    CertificateRecord c{.serial = rows->Text(i, "serial"), .subject = rows->Text(i, "subject"),
                        .fingerprint_sha256 = rows->Text(i, "fingerprint_sha256"),
                        .not_before = rows->Int(i, "not_before"), .not_after = rows->Int(i, "not_after"),
                        .revoked_at = std::nullopt, .created_at = rows->Int(i, "created_at")};
    if (!rows->IsNull(i, "revoked_at")) c.revoked_at = rows->Int(i, "revoked_at");
    out.push_back(std::move(c));
  }
  return out;
}

Status AccountService::RevokeCertificate(const Principal& principal, const std::string& serial,
                                         const RequestMeta& meta) {
  auto r = Tenant(db_, principal).Execute("UPDATE certificates SET revoked_at = ? WHERE serial = ? AND user_id = ? AND account_id = :account AND revoked_at IS NULL", {Now(), serial, principal.user_id});
  if (!r) return r.error();
  if (r->rows_affected == 0) return Status::NotFound("no active certificate with serial " + serial);
  Audit(principal.account_id, principal.user_id, principal.email, "certificate.revoked", meta,
        {{"serial", serial}});
  return Status::Ok();
}

// ---- audit ---------------------------------------------------------------------------------------

const std::vector<std::string>& AuditKinds() {
  static const std::vector<std::string> kinds = {"account", "email", "login", "logout", "password", "member",
                                                 "token", "certificate", "share", "publication"};
  return kinds;
}

Result<std::vector<AuditEvent>> AccountService::ListAudit(const Principal& principal, const AuditFilter& filter) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  if (filter.limit < 1 || filter.limit > 500) return Err(Status::InvalidArgument("limit must be from 1 to 500", "limit"));
  std::string sql = "SELECT id, at, actor, event, remote_address, details FROM audit_events "
                    "WHERE account_id = :account AND id < ?";
  db::Params params{filter.before_id > 0 ? filter.before_id : INT64_MAX};
  if (!filter.kinds.empty()) {
    std::string any;
    for (const auto& kind : filter.kinds) {
      if (std::find(AuditKinds().begin(), AuditKinds().end(), kind) == AuditKinds().end())
        return Err(Status::InvalidArgument("kind '" + kind + "' is not one of account, email, login, logout, password, "
                                           "member, token, certificate, share, publication", "kind"));
      any += std::string(any.empty() ? "" : " OR ") + "event = ? OR substr(event, 1, ?) = ?";
      params.insert(params.end(), {kind, static_cast<std::int64_t>(kind.size() + 1), kind + "."});
    }
    sql += " AND (" + any + ")";
  }
  if (filter.since) {
    sql += " AND at >= ?";
    params.emplace_back(*filter.since);
  }
  if (filter.until) {
    sql += " AND at < ?";
    params.emplace_back(*filter.until);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  params.emplace_back(static_cast<std::int64_t>(filter.limit));
  auto rows = Tenant(db_, principal).Query(sql, params);
  if (!rows) return Err(rows.error());
  std::vector<AuditEvent> out;
  for (std::size_t i = 0; i < rows->size(); ++i)
    out.push_back({.id = rows->Int(i, "id"), .at = rows->Int(i, "at"), .actor = rows->Text(i, "actor"),
                   .event = rows->Text(i, "event"), .remote_address = rows->Text(i, "remote_address"),
                   .details = rows->Text(i, "details")});
  return out;
}

void AccountService::RecordAudit(const Principal& principal, const std::string& event, const RequestMeta& meta,
                                 const boost::json::object& details) {
  Audit(principal.account_id, principal.user_id, principal.email, event, meta, details);
}

}  // namespace paddlecloud::accounts
