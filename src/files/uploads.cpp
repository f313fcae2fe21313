#include "files/uploads.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <regex>

#include "accounts/secrets.h"
#include "db/tenant_scope.h"

namespace paddlecloud::files {
namespace {

Upload UploadOf(const db::Rows& rows, std::size_t i, std::uint64_t offset, std::int64_t ttl) {
  Upload u;
  u.id = rows.Text(i, "id");
  u.path = rows.Text(i, "path");
  if (!rows.IsNull(i, "size")) u.size = static_cast<std::uint64_t>(rows.Int(i, "size"));
  u.offset = offset;
  u.expires_at = rows.Int(i, "touched_at") + ttl;
  return u;
}

Result<std::string> CheckSha256(std::string sha256) {
  static const std::regex kHex("[0-9a-f]{64}");
  std::transform(sha256.begin(), sha256.end(), sha256.begin(), [](unsigned char c) { return std::tolower(c); });
  if (!std::regex_match(sha256, kHex)) return Err(Status::InvalidArgument("sha256 must be 64 hex digits", "sha256"));
  return sha256;
}

}  // namespace

Result<Upload> Uploads::Create(const Principal& principal, std::string_view path, std::optional<std::uint64_t> size,
                               std::optional<std::string> sha256) {
  FileStore& store = space_.store();
  auto l = space_.ResolveWritable(principal, path);
  if (!l) return Err(l.error());
  if (l->space_root) return Err(Status::Conflict("'" + l->path + "' is a folder"));
  if (sha256) {
    auto checked = CheckSha256(*sha256);
    if (!checked) return Err(checked.error());
    sha256 = *checked;
  }
  if (auto existing = store.Stat(l->key); existing && existing->folder)
    return Err(Status::Conflict("'" + l->path + "' is a folder"));
  if (size) PC_RETURN_IF_ERROR(quota_.CheckUploadFits(principal.account_id, "", l->key, *size));
  std::string id = accounts::NewSecret("up_");
  auto writer = store.OpenStaged(id, 0);
  if (!writer) return Err(writer.error());
  writer->reset();
  std::int64_t now = UnixNow();
  db::TenantScope scope(space_.database(), principal.account_id);
  auto inserted = scope.Execute(
      "INSERT INTO uploads (id, account_id, user_id, user_email, path, key, size, sha256, created_at, touched_at) "
      "VALUES (?, :account, ?, ?, ?, ?, ?, ?, ?, ?)",
      {id, principal.user_id, principal.email, l->path, l->key,
       size ? db::Value(static_cast<std::int64_t>(*size)) : db::Value(), sha256 ? db::Value(*sha256) : db::Value(), now,
       now});
  if (!inserted) {
    if (Status discarded = store.DiscardStaged(id); !discarded.ok())
      spdlog::warn("files: staged upload {} not discarded: {}", id, discarded.message());
    return Err(inserted.error());
  }
  return Upload{.id = id, .path = l->path, .size = size, .offset = 0, .expires_at = now + ttl_.count()};
}

Result<Upload> Uploads::Get(const Principal& principal, std::string_view id) {
  db::TenantScope scope(space_.database(), principal.account_id);
  auto rows = scope.Query("SELECT * FROM uploads WHERE account_id = :account AND id = ? AND user_id = ?",
                          {std::string(id), principal.user_id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("no upload '" + std::string(id) + "' (it may have expired)"));
  auto offset = space_.store().StagedSize(id);
  if (!offset) return Err(offset.error());
  return UploadOf(*rows, 0, *offset, ttl_.count());
}

// A size first known from Content-Range: it must fit, and then it is the upload's.
Status Uploads::FixSize(const Principal& principal, Upload& upload, std::uint64_t total) {
  auto usage = quota_.Usage(principal.account_id);
  if (!usage) return usage.error();
  auto reserved = quota_.Reserved(principal.account_id, upload.id);
  if (!reserved) return reserved.error();
  if (usage->used_bytes + *reserved + total > usage->quota_bytes)
    return UploadQuotaError(usage->used_bytes + *reserved, usage->quota_bytes, total);
  db::TenantScope scope(space_.database(), principal.account_id);
  auto set = scope.Execute("UPDATE uploads SET size = ? WHERE account_id = :account AND id = ?",
                           {static_cast<std::int64_t>(total), upload.id});
  if (!set) return set.error();
  upload.size = total;
  return Status::Ok();
}

// The upload's size, or without one, as far as the quota lets it grow.
Result<std::uint64_t> Uploads::WriteLimit(const Principal& principal, const Upload& upload, std::uint64_t offset,
                                          bool* is_quota) {
  *is_quota = !upload.size;
  if (upload.size) return *upload.size;
  auto usage = quota_.Usage(principal.account_id);
  if (!usage) return Err(usage.error());
  auto reserved = quota_.Reserved(principal.account_id, upload.id);
  if (!reserved) return Err(reserved.error());
  std::uint64_t others = usage->used_bytes + *reserved;
  return others >= usage->quota_bytes ? offset : offset + (usage->quota_bytes - others);
}

Status Uploads::MarkBusy(std::string_view id, std::uint64_t offset) {
  std::lock_guard lock(busy_mutex_);
  if (busy_.insert(std::string(id)).second) return Status::Ok();
  return Status::Conflict("another request is writing to upload '" + std::string(id) + "'")
      .WithDetail("offset", std::to_string(offset));
}

void Uploads::MarkIdle(const std::string& id) {
  std::lock_guard lock(busy_mutex_);
  busy_.erase(id);
}

bool Uploads::Busy(const std::string& id) {
  std::lock_guard lock(busy_mutex_);
  return busy_.contains(id);
}

Result<UploadWrite> Uploads::BeginWrite(const Principal& principal, std::string_view id, std::uint64_t offset,
                                        std::optional<std::uint64_t> total) {
  auto upload = Get(principal, id);
  if (!upload) return Err(upload.error());
  if (total && upload->size && *total != *upload->size)
    return Err(Status::InvalidArgument("Content-Range total " + std::to_string(*total) + " differs from the upload's size " +
                                           std::to_string(*upload->size),
                                       "Content-Range"));
  if (total && !upload->size) PC_RETURN_IF_ERROR(FixSize(principal, *upload, *total));
  PC_RETURN_IF_ERROR(MarkBusy(id, upload->offset));
  if (offset != upload->offset) {
    MarkIdle(upload->id);
    return Err(Status::Conflict("the upload continues at byte " + std::to_string(upload->offset) + ", not " +
                                std::to_string(offset))
                   .WithDetail("offset", std::to_string(upload->offset)));
  }
  UploadWrite w;
  auto limit = WriteLimit(principal, *upload, offset, &w.limit_is_quota);
  auto writer = limit ? space_.store().OpenStaged(id, offset) : Result<std::unique_ptr<StagedWriter>>(Err(limit.error()));
  if (!writer) {
    MarkIdle(upload->id);
    return Err(writer.error());
  }
  w.limit = *limit;
  w.writer = std::move(*writer);
  w.upload = std::move(*upload);
  Touch(principal.account_id, std::string(id));
  return w;
}

void Uploads::Discard(const std::string& account, const std::string& id) {
  if (Status discarded = space_.store().DiscardStaged(id); !discarded.ok())
    spdlog::warn("files: staged upload {} not discarded (expiry retries): {}", id, discarded.message());
  auto deleted = db::TenantScope(space_.database(), account).Execute(
      "DELETE FROM uploads WHERE account_id = :account AND id = ?", {id});
  if (!deleted) spdlog::warn("files: upload {} not forgotten (expiry retries): {}", id, deleted.error().message());
}

// An upload in use is not expired; a failed touch only brings its expiry closer.
void Uploads::Touch(const std::string& account, const std::string& id) {
  auto touched = db::TenantScope(space_.database(), account).Execute(
      "UPDATE uploads SET touched_at = ? WHERE account_id = :account AND id = ?", {UnixNow(), id});
  if (!touched) spdlog::warn("files: upload {} not marked as in use: {}", id, touched.error().message());
}

Result<Upload> Uploads::FinishWrite(const Principal& principal, UploadWrite& write, const Status& failure) {
  const std::string id = write.upload.id;
  if (write.writer) write.upload.offset = write.writer->size();
  write.writer.reset();
  MarkIdle(id);
  Touch(principal.account_id, id);
  if (!failure.ok()) {
    Code code = failure.code();
    if (code == Code::kQuotaExceeded || code == Code::kInsufficientStorage || code == Code::kInvalidArgument)
      Discard(principal.account_id, id);
    return Err(failure);
  }
  if (!write.upload.size || write.upload.offset < *write.upload.size) return write.upload;
  return Complete(principal, write);
}

// Checksum and quota checked again, the file put in place, who uploaded it recorded.
Result<Upload> Uploads::Complete(const Principal& principal, UploadWrite& write) {
  const std::string id = write.upload.id;
  db::TenantScope scope(space_.database(), principal.account_id);
  auto rows = scope.Query("SELECT key, sha256 FROM uploads WHERE account_id = :account AND id = ?", {id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("no upload '" + id + "' (it was cancelled)"));
  std::string key = rows->Text(0, "key");
  std::optional<std::string> sha256;
  if (!rows->IsNull(0, "sha256")) sha256 = rows->Text(0, "sha256");
  auto account_lock = quota_.LockAccount(principal.account_id);  // until the file is in place
  if (Status fits = quota_.CheckUploadFits(principal.account_id, id, key, write.upload.offset); !fits.ok()) {
    Discard(principal.account_id, id);
    return Err(fits);
  }
  Status committed = space_.store().CommitStaged(id, key, sha256);
  if (!committed.ok()) {
    if (committed.code() != Code::kUnavailable) Discard(principal.account_id, id);
    return Err(committed);
  }
  // The file is in place whatever happens next: a failure here loses only who uploaded it.
  Status recorded = space_.database().Transaction([&](db::Session& session) -> Status {
    db::TenantScope in(session, principal.account_id);
    PC_RETURN_IF_ERROR(StatusOf(in.Execute("DELETE FROM uploads WHERE account_id = :account AND id = ?", {id})));
    return StatusOf(in.Execute(
        "INSERT INTO file_meta (account_id, key, uploaded_by, uploaded_at) VALUES (:account, ?, ?, ?) "
        "ON CONFLICT (account_id, key) DO UPDATE SET uploaded_by = excluded.uploaded_by, "
        "uploaded_at = excluded.uploaded_at, written_by_job = NULL",
        {key, principal.email, UnixNow()}));
  });
  if (!recorded.ok()) spdlog::warn("files: upload {} is in place but not recorded: {}", id, recorded.message());
  account_lock.unlock();
  write.upload.complete = true;
  auto location = space_.Resolve(principal, write.upload.path);
  auto entry = location ? space_.EntryAt(*location) : Result<Entry>(Err(location.error()));
  if (entry) write.upload.file = *entry;
  return write.upload;
}

Status Uploads::Cancel(const Principal& principal, std::string_view id) {
  auto upload = Get(principal, id);
  if (!upload) return upload.error();
  if (Busy(upload->id)) return Status::Conflict("upload '" + std::string(id) + "' is being written; stop that request first");
  PC_RETURN_IF_ERROR(space_.store().DiscardStaged(id));
  db::TenantScope scope(space_.database(), principal.account_id);
  auto deleted = scope.Execute("DELETE FROM uploads WHERE account_id = :account AND id = ?", {std::string(id)});
  return deleted ? Status::Ok() : deleted.error();
}

int Uploads::Expire() {
  db::Database& database = space_.database();
  auto rows = database.Query("SELECT id FROM uploads WHERE touched_at <= ?", {UnixNow() - ttl_.count()});
  if (!rows) return 0;
  int expired = 0;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    std::string id = rows->Text(i, "id");
    if (Busy(id)) continue;
    if (!space_.store().DiscardStaged(id).ok()) continue;
    if (database.Execute("DELETE FROM uploads WHERE id = ?", {id})) ++expired;
  }
  return expired;
}

}  // namespace paddlecloud::files
