// FileService: the files module — datasets, models and workspaces of accounts — as one object
// that owns its parts, one per feature, each with its own contract:
//   file_space.h     what a cloud path names, entries and listings (shared by the others)
//   file_browser.h   listing, reading, folders, moves, copies, removals
//   uploads.h        resumable uploads
//   shares.h         shares with accounts and public links
//   publications.h   published models and datasets
//   storage_quota.h  what an account stores and may still store
//   job_outputs.h    which job wrote the files its pods left
// FileMigrations() creates the module's tables (uploads, file_meta, shares, publications).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "db/database.h"
#include "files/file_browser.h"
#include "files/file_space.h"
#include "files/file_store.h"
#include "files/job_outputs.h"
#include "files/publications.h"
#include "files/shares.h"
#include "files/storage_quota.h"
#include "files/uploads.h"

namespace paddlecloud::files {

std::vector<db::Migration> FileMigrations();

struct FilesOptions {
  std::uint64_t quota_bytes = 10ull << 30;
  std::chrono::seconds upload_ttl{24 * 3600};
  std::function<bool(const std::string&)> account_exists;  // for sharing with an account
  // Bytes the account keeps outside the file store (its unused job packages); counted in its usage.
  std::function<std::uint64_t(const std::string& account)> package_bytes;
  // An account's own storage quota (jobs/quota.h); quota_bytes for every account when empty.
  std::function<std::uint64_t(const std::string& account)> quota_bytes_of;
};

class FileService {
 public:
  FileService(db::Database& database, FileStore& store, FilesOptions options);

  FileBrowser& browser() { return browser_; }
  Uploads& uploads() { return uploads_; }
  Shares& shares() { return shares_; }
  Publications& publications() { return publications_; }
  StorageQuota& quota() { return quota_; }
  JobOutputs& job_outputs() { return job_outputs_; }
  FileStore& store() { return space_.store(); }

 private:
  FileSpace space_;
  StorageQuota quota_;
  FileBrowser browser_;
  Uploads uploads_;
  Shares shares_;
  Publications publications_;
  JobOutputs job_outputs_;
};

}  // namespace paddlecloud::files
