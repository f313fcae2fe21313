// StorageQuota: what an account stores and may still store.
//
// Usage counts the account's files, what it published and its unused job packages (kept outside
// the file store). Open uploads reserve their declared size (or what they hold so far) on top.
// A writer that checks the quota and then stores bytes holds LockAccount meanwhile, so two
// writers of one account cannot both pass the check.
//
// All methods block (database and store): call them on the blocking pool.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/keyed_mutex.h"
#include "db/database.h"
#include "files/file_store.h"

namespace paddlecloud::files {

// What counts against an account's quota: its files, what it published, its unused job packages.
struct StorageUsage {
  std::uint64_t used_bytes = 0;       // the sum of the parts below
  std::uint64_t files_bytes = 0;
  std::uint64_t published_bytes = 0;
  std::uint64_t package_bytes = 0;
  std::uint64_t quota_bytes = 0;
};

class StorageQuota {
 public:
  // `package_bytes`: the bytes of the account's unused job packages (0 when empty). `quota_of`:
  // an account's own quota (the operator's, jobs/quota.h); `quota_bytes` for every account when empty.
  StorageQuota(db::Database& database, FileStore& store, std::uint64_t quota_bytes,
               std::function<std::uint64_t(const std::string& account)> package_bytes,
               std::function<std::uint64_t(const std::string& account)> quota_of = {});

  Result<StorageUsage> Usage(const std::string& account);
  // Bytes `account` may still store: its quota less its usage and what its open uploads hold.
  Result<std::uint64_t> StorageLeft(const std::string& account);
  // Bytes promised to the open uploads of `account` but `except_upload`.
  Result<std::uint64_t> Reserved(const std::string& account, std::string_view except_upload);
  // QuotaExceeded (details used_bytes, quota_bytes) unless `size` more bytes at `key`, replacing
  // the file there now, fit beside the account's usage and its other open uploads.
  Status CheckUploadFits(const std::string& account, std::string_view upload_id, const std::string& key,
                         std::uint64_t size);
  // Held while checking the quota and then storing bytes.
  std::unique_lock<std::mutex> LockAccount(const std::string& account);

 private:
  db::Database& database_;
  FileStore& store_;
  std::uint64_t quota_bytes_;
  std::function<std::uint64_t(const std::string&)> package_bytes_;
  std::function<std::uint64_t(const std::string&)> quota_of_;
  KeyedMutex account_locks_;
};

// QuotaExceeded for `doing` ("copying", "publishing") `size` bytes with `left` bytes left
// (details.quota_left_bytes).
Status QuotaLeftError(const std::string& doing, std::uint64_t size, std::uint64_t left);
// QuotaExceeded for an upload of `wanted` bytes with `used` of `quota` bytes used.
Status UploadQuotaError(std::uint64_t used, std::uint64_t quota, std::uint64_t wanted);

}  // namespace paddlecloud::files
