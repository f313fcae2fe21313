// AccountService: the tenant model and everything about who may do what, by feature.
//
// An account (the tenant; its id is a DNS-1123 label because it names a Kubernetes namespace) has
// users; exactly one is the master user, who alone changes account settings, members and keys.
// The module owns the tables accounts, users, email_tokens, sessions, api_tokens, certificates,
// audit_events and throttle. AccountService builds the shared context once and owns one object
// per feature; each feature's header states its contract. Features taking a Principal act within
// that principal's account only; a resource of another account is NotFound, never
// PermissionDenied, so ids of other tenants do not leak.
#pragma once

#include <vector>

#include "accounts/account_context.h"
#include "accounts/account_types.h"
#include "accounts/api_tokens.h"
#include "accounts/audit_log.h"
#include "accounts/certificate_records.h"
#include "accounts/directory.h"
#include "accounts/invitations.h"
#include "accounts/members.h"
#include "accounts/passwords.h"
#include "accounts/registration.h"
#include "accounts/sign_in.h"
#include "db/database.h"
#include "mail/mailer.h"

namespace paddlecloud::accounts {

// Schema steps owned by this module.
std::vector<db::Migration> AccountMigrations();

class AccountService {
 public:
  AccountService(db::Database& database, mail::Mailer& mailer, AccountsOptions options);
  AccountService(const AccountService&) = delete;
  AccountService& operator=(const AccountService&) = delete;

  Registration& registration() { return registration_; }
  SignIn& sign_in() { return sign_in_; }
  Passwords& passwords() { return passwords_; }
  Members& members() { return members_; }
  Invitations& invitations() { return invitations_; }
  ApiTokens& tokens() { return tokens_; }
  CertificateRecords& certificates() { return certificates_; }
  AuditLog& audit() { return audit_; }
  AccountDirectory& directory() { return directory_; }

 private:
  AccountContext context_;  // first: the features below hold references to it
  Registration registration_;
  SignIn sign_in_;
  Passwords passwords_;
  Members members_;
  Invitations invitations_;
  ApiTokens tokens_;
  CertificateRecords certificates_;
  AuditLog audit_;
  AccountDirectory directory_;
};

}  // namespace paddlecloud::accounts
