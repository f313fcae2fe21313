#include "files/storage_quota.h"

#include <algorithm>

#include "db/tenant_scope.h"

namespace paddlecloud::files {

Status QuotaLeftError(const std::string& doing, std::uint64_t size, std::uint64_t left) {
  return Status::QuotaExceeded(doing + " " + std::to_string(size) + " bytes would exceed the storage quota (" +
                               std::to_string(left) + " bytes left)")
      .WithDetail("quota_left_bytes", std::to_string(left));
}

Status UploadQuotaError(std::uint64_t used, std::uint64_t quota, std::uint64_t wanted) {
  return Status::QuotaExceeded("the upload of " + std::to_string(wanted) + " bytes would exceed the storage quota (" +
                               std::to_string(used) + " of " + std::to_string(quota) + " bytes used)")
      .WithDetail("used_bytes", std::to_string(used))
      .WithDetail("quota_bytes", std::to_string(quota));
}

StorageQuota::StorageQuota(db::Database& database, FileStore& store, std::uint64_t quota_bytes,
                           std::function<std::uint64_t(const std::string& account)> package_bytes,
                           std::function<std::uint64_t(const std::string& account)> quota_of)
    : database_(database),
      store_(store),
      quota_bytes_(quota_bytes),
      package_bytes_(std::move(package_bytes)),
      quota_of_(std::move(quota_of)) {}

Result<StorageUsage> StorageQuota::Usage(const std::string& account) {
  auto files = store_.Usage(account);
  if (!files) return Err(files.error());
  db::TenantScope scope(database_, account);
  auto published = scope.Query("SELECT COALESCE(SUM(bytes), 0) AS bytes FROM publications WHERE account_id = :account");
  if (!published) return Err(published.error());
  StorageUsage usage{.files_bytes = *files,
                     .published_bytes = static_cast<std::uint64_t>(published->Int(0, "bytes")),
                     .package_bytes = package_bytes_ ? package_bytes_(account) : 0,
                     .quota_bytes = quota_of_ ? quota_of_(account) : quota_bytes_};
  usage.used_bytes = usage.files_bytes + usage.published_bytes + usage.package_bytes;
  return usage;
}

Result<std::uint64_t> StorageQuota::StorageLeft(const std::string& account) {
  auto usage = Usage(account);
  if (!usage) return Err(usage.error());
  auto reserved = Reserved(account, "");
  if (!reserved) return Err(reserved.error());
  std::uint64_t taken = usage->used_bytes + *reserved;
  return taken >= usage->quota_bytes ? 0 : usage->quota_bytes - taken;
}

std::unique_lock<std::mutex> StorageQuota::LockAccount(const std::string& account) { return account_locks_.Lock(account); }

// Their declared size, or what they hold so far.
Result<std::uint64_t> StorageQuota::Reserved(const std::string& account, std::string_view except_upload) {
  db::TenantScope scope(database_, account);
  auto rows = scope.Query("SELECT id, size FROM uploads WHERE account_id = :account AND id <> ?", {std::string(except_upload)});
  if (!rows) return Err(rows.error());
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    auto held = store_.StagedSize(rows->Text(i, "id"));
    std::uint64_t size = rows->IsNull(i, "size") ? 0 : static_cast<std::uint64_t>(rows->Int(i, "size"));
    total += std::max(size, held.value_or(0));
  }
  return total;
}

Status StorageQuota::CheckUploadFits(const std::string& account, std::string_view upload_id, const std::string& key,
                                     std::uint64_t size) {
  auto usage = Usage(account);
  if (!usage) return usage.error();
  auto reserved = Reserved(account, upload_id);
  if (!reserved) return reserved.error();
  std::uint64_t replaced = 0;  // only a file still there now is replaced, and so credited
  if (auto existing = store_.Stat(key); existing && !existing->folder) replaced = existing->size;
  std::uint64_t used = usage->used_bytes - std::min(usage->used_bytes, replaced) + *reserved;
  if (used + size > usage->quota_bytes) return UploadQuotaError(used, usage->quota_bytes, size);
  return Status::Ok();
}

}  // namespace paddlecloud::files
