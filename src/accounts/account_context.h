// AccountContext: what the account features share, handed to each of them explicitly: the
// database, the mailer, the options (clock, public URL, lifetimes, password parameters), the
// credential cache that every revocation must clear, and the audit trail every feature writes.
// Internal to accounts/; other modules use AccountService and the feature classes.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <boost/json/object.hpp>

#include "accounts/account_types.h"
#include "accounts/credential_cache.h"
#include "common/principal.h"
#include "common/status.h"
#include "db/database.h"
#include "db/tenant_scope.h"
#include "mail/mailer.h"

namespace paddlecloud::accounts {

class AccountContext {
 public:
  AccountContext(db::Database& database, mail::Mailer& mailer, AccountsOptions options);

  db::Database& db() { return db_; }
  const AccountsOptions& options() const { return options_; }
  CredentialCache& cache() { return cache_; }

  std::int64_t Now() const;       // unix seconds: options().now, else the system clock
  std::string PublicUrl() const;  // base of links in mails
  // Sends a plain-text mail; a failure is logged (subject and recipient only) and returned.
  Status SendMail(const std::string& to, const std::string& subject, const std::string& body);
  // Appends a security event; a failure is logged, not returned: the audited action happened.
  // `account_id` empty and `user_id` 0 are stored as NULL (an unknown email's failed sign-in).
  void Audit(const std::string& account_id, std::int64_t user_id, const std::string& actor, const std::string& event,
             const RequestMeta& meta, const boost::json::object& details = {});

 private:
  db::Database& db_;
  mail::Mailer& mailer_;
  AccountsOptions options_;
  CredentialCache cache_;
};

// A user from row `i` of a UserSelect.
User UserFrom(const db::Rows& rows, std::size_t i);
// "SELECT <user columns>, password_hash FROM users WHERE <where>".
std::string UserSelect(const std::string& where);
// Statements on the principal's tenant data go through a TenantScope (db/tenant_scope.h).
db::TenantScope Tenant(db::Session& session, const Principal& principal);
// PermissionDenied unless the principal is the account's master user.
Status RequireMaster(const Principal& principal);

// Within `tx`, the user to mail a link that anyone may ask for by email (a new verification link,
// a password reset). ResourceExhausted while the client's address is blocked; each request counts
// against it. nullopt, to be answered as if mailed, when `email` had its share of mails or no user
// matches `where` (a UserSelect condition with one `?` for the email). A returned user's mail is
// counted.
Result<std::optional<User>> UserToMail(db::Session& tx, std::int64_t now, const std::string& email,
                                       const std::string& where, const RequestMeta& meta);
// Stores the hash of a mailed single-use `token` for `purpose` ("verify", "reset") of the user.
Status AddEmailToken(db::Session& tx, const std::string& token, const std::string& purpose, const User& user,
                     std::int64_t now, std::chrono::seconds ttl);

}  // namespace paddlecloud::accounts
