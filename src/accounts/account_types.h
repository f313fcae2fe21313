// The accounts module's values: options, users, accounts, sessions, invitations, tokens,
// certificate records and audit events, and the validation rules the UI's messages share.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "accounts/secrets.h"
#include "common/status.h"

namespace paddlecloud::accounts {

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
  std::string scope = "full";  // "full" | "invoke" (only calls serving instances)
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

// Validation shared with the UI's messages.
Status ValidateAccountId(const std::string& account_id);  // DNS-1123 label, 3..40 characters
Status ValidateEmail(const std::string& email);
std::string NormalizeEmail(const std::string& email);       // trimmed, lower-cased


}  // namespace paddlecloud::accounts
