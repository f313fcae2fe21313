// AccountService: the tenant model and everything about who may do what.
//
// An account (the tenant; its id is a DNS-1123 label because it names a Kubernetes namespace) has
// users; exactly one is the master user, who alone changes account settings, members and keys.
// This service owns the tables accounts, users, email_tokens, sessions, api_tokens, certificates,
// audit_events and throttle. All methods block (database, argon2, mail): call them on the blocking
// pool. Methods taking a Principal act within that principal's account only; a resource of another
// account is NotFound, never PermissionDenied, so ids of other tenants do not leak.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <memory>
#include <mutex>
#include <map>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "accounts/secrets.h"
#include "common/principal.h"
#include "common/status.h"
#include "db/database.h"
#include "mail/mailer.h"

namespace paddlecloud::accounts {

// Schema steps owned by this service.
std::vector<db::Migration> AccountMigrations();

struct AccountsOptions {
  // Base of links in mails ("https://cloud.example.com"), asked at each mail: the server learns
  // its bound address only after start-up.
  std::function<std::string()> public_url_source;
  PasswordParams password_params = DefaultPasswordParams();
  std::chrono::seconds session_idle{std::chrono::hours(24)};
  std::chrono::seconds session_absolute{std::chrono::hours(24 * 14)};
  std::chrono::seconds verification_ttl{std::chrono::hours(48)};
  std::chrono::seconds reset_ttl{std::chrono::hours(1)};
  std::chrono::seconds invitation_ttl{std::chrono::hours(24 * 7)};
  std::function<std::int64_t()> now;  // unix seconds; the system clock when empty
};

// Where a request came from, for throttling and the audit log.
struct RequestMeta {
  std::string remote_address;
  std::string user_agent;
};

struct User {
  std::int64_t id = 0;
  std::string account_id;
  std::string email;
  std::string display_name;
  bool master = false;
  bool verified = false;
  std::int64_t created_at = 0;
};

struct Account {
  std::string id;
  std::string display_name;
  std::int64_t created_at = 0;
  std::int64_t members = 0;
};

struct Session {
  std::string id;          // the secret cookie value; only its hash is stored
  std::string csrf_token;
  User user;
  std::int64_t expires_at = 0;
};

struct Invitation {
  std::int64_t id = 0;
  std::string email;
  std::string invited_by;
  std::int64_t created_at = 0;
  std::int64_t expires_at = 0;
};

struct ApiToken {
  std::int64_t id = 0;
  std::string name;
  std::string prefix;  // first characters, to recognise it
  std::int64_t created_at = 0;
  std::optional<std::int64_t> expires_at;
  std::optional<std::int64_t> last_used_at;
};

struct CertificateRecord {
  std::string serial;
  std::string subject;
  std::string fingerprint_sha256;
  std::int64_t not_before = 0;
  std::int64_t not_after = 0;
  std::optional<std::int64_t> revoked_at;
  std::int64_t created_at = 0;
};

struct AuditEvent {
  std::int64_t id = 0;
  std::int64_t at = 0;
  std::string actor;   // email or "anonymous"
  std::string event;   // "login.succeeded", "member.removed" ...
  std::string remote_address;
  std::string details; // JSON object text
};

// The kinds of audit events: an event "token.revoked" is of kind "token".
const std::vector<std::string>& AuditKinds();

struct AuditFilter {
  int limit = 50;
  std::int64_t before_id = 0;
  std::vector<std::string> kinds;     // empty: every kind
  std::optional<std::int64_t> since;  // at >= (unix seconds)
  std::optional<std::int64_t> until;  // at <  (unix seconds)
};

class AccountService {
 public:
  AccountService(db::Database& database, mail::Mailer& mailer, AccountsOptions options);
  ~AccountService();

  // --- registration -------------------------------------------------------------------------
  // Creates the account and its master user (unverified) and mails a single-use verification link.
  // Conflict when the email or account id is taken; InvalidArgument naming the field otherwise.
  Result<User> Register(const std::string& email, const std::string& password, const std::string& account_id,
                        const std::string& display_name, const RequestMeta& meta);
  // Marks the email verified and mails "registration succeeded". The token works once.
  Result<User> VerifyEmail(const std::string& token, const RequestMeta& meta);
  // Mails a new link to an unverified user; answers the same whether the email exists or not.
  Status ResendVerification(const std::string& email, const RequestMeta& meta);

  // --- sessions and credentials -------------------------------------------------------------
  // ResourceExhausted (details.retry_after seconds) while throttled; Unauthenticated for a wrong
  // email or password alike; PermissionDenied until the email is verified.
  Result<Session> Login(const std::string& email, const std::string& password, const RequestMeta& meta);
  Status Logout(const Principal& principal, const RequestMeta& meta);
  // The principal behind a session cookie, bearer token or verified client certificate serial;
  // Unauthenticated when unknown, expired or revoked.
  Result<Principal> AuthenticateSession(const std::string& session_id);
  Result<Principal> AuthenticateToken(const std::string& token);
  // The principal of a token or session cookie from the in-process cache, without blocking: for
  // the I/O threads, which fall back to AuthenticateToken/AuthenticateSession on a miss. Entries
  // are re-checked against the database once a minute; every revocation (token, logout, password
  // change or reset, member removal, job end) drops them at once. With several server replicas a
  // revocation on another replica is seen at that re-check: a shared invalidation is future work.
  std::optional<Principal> CachedTokenPrincipal(const std::string& token);
  std::optional<Principal> CachedSessionPrincipal(const std::string& session_id);
  // GetUser's answer from the same cache, without blocking; nullopt on a miss.
  std::optional<User> CachedUser(const Principal& principal);

  // A client certificate is known by the SHA-256 fingerprint of the whole certificate recorded at
  // issue: one with the same serial but another subject or key is another certificate.
  Result<Principal> AuthenticateCertificate(const std::string& fingerprint_sha256);
  // What an unknown email's password is checked against: a hash made with the same parameters as
  // real ones, so a sign-in takes as long whether the email exists or not.
  const std::string& DummyPasswordHash();

  // --- passwords ----------------------------------------------------------------------------
  // Needs the current password; ends the user's other sessions and, unless `keep_tokens`, revokes
  // their API tokens and client certificates (jobs' own tokens live on with their jobs).
  Status ChangePassword(const Principal& principal, const std::string& current, const std::string& replacement,
                        const RequestMeta& meta, bool keep_tokens = false);
  // Mails a reset link when the email belongs to a user; the answer never tells which.
  Status RequestPasswordReset(const std::string& email, const RequestMeta& meta);
  // Sets the password, ends every session of the user and revokes every credential made with the
  // old one: API tokens (jobs' included) and client certificates.
  Status ResetPassword(const std::string& token, const std::string& replacement, const RequestMeta& meta);

  // --- the account and its members ----------------------------------------------------------
  Result<User> GetUser(const Principal& principal);
  Result<User> UpdateProfile(const Principal& principal, const std::string& display_name);
  Result<Account> GetAccount(const Principal& principal);
  Result<std::vector<User>> ListMembers(const Principal& principal);
  Result<Invitation> Invite(const Principal& principal, const std::string& email, const RequestMeta& meta);  // master
  Result<std::vector<Invitation>> ListInvitations(const Principal& principal);                           // master
  Status RevokeInvitation(const Principal& principal, std::int64_t invitation_id, const RequestMeta& meta);  // master
  // What an invitation link is for: {account id, email, who invited}.
  Result<Invitation> DescribeInvitation(const std::string& token, std::string* account_id);
  // Creates the invited user (verified: the link proves the address) and mails the welcome.
  Result<User> AcceptInvitation(const std::string& token, const std::string& password, const std::string& display_name,
                                const RequestMeta& meta);
  Status RemoveMember(const Principal& principal, std::int64_t user_id, const RequestMeta& meta);    // master
  Status TransferMaster(const Principal& principal, std::int64_t user_id, const RequestMeta& meta);  // master
  Status Leave(const Principal& principal, const RequestMeta& meta);                                 // members

  // --- personal API tokens ------------------------------------------------------------------
  // The secret is returned once, here; only its hash is kept.
  Result<std::pair<ApiToken, std::string>> CreateToken(const Principal& principal, const std::string& name,
                                                       std::optional<std::int64_t> expires_in_days,
                                                       const RequestMeta& meta);
  // Signs in with email and password and returns a new token (the CLI's login); throttled as Login.
  Result<std::pair<ApiToken, std::string>> CreateTokenWithPassword(const std::string& email,
                                                                   const std::string& password,
                                                                   const std::string& name, const RequestMeta& meta);
  Result<std::vector<ApiToken>> ListTokens(const Principal& principal);
  Status RevokeToken(const Principal& principal, std::int64_t token_id, const RequestMeta& meta);
  // A job's own token (PADDLE_CLOUD_TOKEN): it authenticates as the principal with job_id set, so
  // that it acts only for the job's work (api/auth_middleware.h); not listed among the user's
  // tokens and not audited one by one. RevokeJobTokens ends it with the job.
  Result<std::string> CreateJobToken(const Principal& principal, std::int64_t job_id);
  Status RevokeJobTokens(const std::string& account_id, std::int64_t job_id);

  // --- directory: what other services may ask instead of reading this module's tables -------
  bool AccountExists(const std::string& account_id);
  // The emails of those of `user_ids` that are users (of any account), by id.
  Result<std::map<std::int64_t, std::string>> EmailsOf(const std::vector<std::int64_t>& user_ids);

  // --- client certificates (the cryptography is pki/'s; this keeps the records) ---------------
  Status RecordCertificate(const Principal& principal, const CertificateRecord& record, const RequestMeta& meta);
  Result<std::vector<CertificateRecord>> ListCertificates(const Principal& principal);
  Status RevokeCertificate(const Principal& principal, const std::string& serial, const RequestMeta& meta);

  // --- audit log ----------------------------------------------------------------------------
  // Newest first; `before_id` pages (0 = from the newest). Master only. InvalidArgument (field
  // "kind") for a kind not in AuditKinds().
  Result<std::vector<AuditEvent>> ListAudit(const Principal& principal, const AuditFilter& filter);
  // Records a security event of another module (shares, links, publications) done by `principal`.
  // `details` is a JSON object; secrets (link tokens) never go in it.
  void RecordAudit(const Principal& principal, const std::string& event, const RequestMeta& meta,
                   const boost::json::object& details);

 private:
  std::int64_t Now() const;
  std::string PublicUrl() const;
  Status SendMail(const std::string& to, const std::string& subject, const std::string& body);
  Result<Principal> PrincipalForUser(std::int64_t user_id, std::string method, std::string credential);
  Result<User> CheckPasswordLogin(const std::string& email, const std::string& password, const RequestMeta& meta);
  void Audit(const std::string& account_id, std::int64_t user_id, const std::string& actor, const std::string& event,
             const RequestMeta& meta, const boost::json::object& details = {});
  Status RequireMaster(const Principal& principal);
  static Status RevokeCredentials(db::Session& tx, std::int64_t user_id, std::int64_t now, bool job_tokens);
  std::optional<Principal> CachedPrincipal(const std::string& secret_hash);
  void Remember(const std::string& secret_hash, const Principal& principal, std::int64_t valid_until);

  db::Database& db_;
  mail::Mailer& mailer_;
  AccountsOptions options_;
  class CredentialCache;
  std::unique_ptr<CredentialCache> cache_;
  std::once_flag dummy_hash_once_;
  std::string dummy_hash_;  // verified for unknown emails, made like a real hash (DummyPasswordHash)
};

// Validation shared with the UI's messages.
Status ValidateAccountId(const std::string& account_id);  // DNS-1123 label, 3..40 characters
Status ValidateEmail(const std::string& email);
std::string NormalizeEmail(const std::string& email);       // trimmed, lower-cased

}  // namespace paddlecloud::accounts
