#include "files/file_service.h"

namespace paddlecloud::files {

std::vector<db::Migration> FileMigrations() {
  return {{4, "file service: upload sessions, who uploaded what, shares, publications",
           R"sql(
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  user_email TEXT NOT NULL,
  path TEXT NOT NULL,
  key TEXT NOT NULL,
  size INTEGER,
  sha256 TEXT,
  created_at INTEGER NOT NULL,
  touched_at INTEGER NOT NULL
);
CREATE INDEX uploads_touched ON uploads (touched_at);
CREATE TABLE file_meta (
  account_id TEXT NOT NULL,
  key TEXT NOT NULL,
  uploaded_by TEXT NOT NULL,
  uploaded_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
);
CREATE TABLE shares (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL,
  path TEXT NOT NULL,
  folder INTEGER NOT NULL,
  grantee_account TEXT,
  link_token TEXT UNIQUE,
  expires_at INTEGER,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE INDEX shares_account ON shares (account_id);
CREATE INDEX shares_grantee ON shares (grantee_account);
CREATE TABLE publications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  description TEXT NOT NULL,
  account_id TEXT NOT NULL,
  published_by TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  files INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  UNIQUE (kind, account_id, name, version)
);
)sql"},
          {41, "file_meta: the job whose pods wrote a file",
           "ALTER TABLE file_meta ADD COLUMN written_by_job INTEGER;"}};
}

FileService::FileService(db::Database& database, FileStore& store, FilesOptions options)
    : space_(database, store),
      quota_(database, store, options.quota_bytes, std::move(options.package_bytes), std::move(options.quota_bytes_of)),
      browser_(space_, quota_),
      uploads_(space_, quota_, options.upload_ttl),
      shares_(space_, std::move(options.account_exists)),
      publications_(space_, quota_),
      job_outputs_(space_) {}

}  // namespace paddlecloud::files
