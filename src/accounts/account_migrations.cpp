#include "accounts/account_service.h"

namespace paddlecloud::accounts {
namespace {

// Migration 2, in three parts joined into one script (the text is what databases already ran).
std::string TenantTables() {
  return R"sql(
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
)sql";
}

std::string CredentialTables() {
  return R"sql(CREATE TABLE sessions (
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
)sql";
}

std::string AuditAndThrottleTables() {
  return R"sql(CREATE TABLE audit_events (
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
)sql";
}

}  // namespace

std::vector<db::Migration> AccountMigrations() {
  return {{81, "invoke-only api tokens", "ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'full';"},
          {70, "api tokens of notebooks", "ALTER TABLE api_tokens ADD COLUMN notebook INTEGER NOT NULL DEFAULT 0;"},
          {30, "api tokens of jobs; certificates known by fingerprint",
           "ALTER TABLE api_tokens ADD COLUMN job_id INTEGER;"
           "CREATE INDEX certificates_by_fingerprint ON certificates(fingerprint_sha256);"},
          {2, "accounts, users, sessions, tokens, certificates, audit",
           TenantTables() + CredentialTables() + AuditAndThrottleTables()}};
}

}  // namespace paddlecloud::accounts
