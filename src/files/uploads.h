// Uploads: resumable uploads into the caller's spaces (docs/files.md).
//
// An upload is a session (table `uploads`) whose bytes go to a staged object of the FileStore;
// it continues only at the server's offset, one PUT at a time, and becomes a file at its path
// when its size is reached (checksum and quota checked again under the account's lock, rename
// into place, `file_meta` records who uploaded it). Sessions untouched for the TTL expire with
// their data. All methods block: call them on the blocking pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "files/file_space.h"
#include "files/storage_quota.h"

namespace paddlecloud::files {

struct Upload {
  std::string id;
  std::string path;
  std::optional<std::uint64_t> size;
  std::uint64_t offset = 0;
  std::int64_t expires_at = 0;
  bool complete = false;
  std::optional<Entry> file;       // when complete
};

// A PUT in progress on an upload: append within `limit`, then FinishWrite.
struct UploadWrite {
  Upload upload;
  std::unique_ptr<StagedWriter> writer;
  std::uint64_t limit = 0;         // the offset this PUT may not pass (size or quota)
  bool limit_is_quota = false;
};

class Uploads {
 public:
  Uploads(FileSpace& space, StorageQuota& quota, std::chrono::seconds ttl) : space_(space), quota_(quota), ttl_(ttl) {}

  // QuotaExceeded at once when a known size does not fit.
  Result<Upload> Create(const Principal& principal, std::string_view path, std::optional<std::uint64_t> size,
                        std::optional<std::string> sha256);
  // Only the user who started it sees it: NotFound otherwise.
  Result<Upload> Get(const Principal& principal, std::string_view id);
  // Starts a PUT at `offset` (Conflict with details.offset when it is not the server's);
  // `total` (from Content-Range) fixes an unknown size. Conflict while another PUT runs.
  Result<UploadWrite> BeginWrite(const Principal& principal, std::string_view id, std::uint64_t offset,
                                 std::optional<std::uint64_t> total);
  // Ends a PUT. With `failure` OK and the size reached, completes the upload. A quota, disk-full
  // or checksum failure discards the upload.
  Result<Upload> FinishWrite(const Principal& principal, UploadWrite& write, const Status& failure);
  // Conflict while a PUT runs.
  Status Cancel(const Principal& principal, std::string_view id);
  // Removes sessions untouched for the TTL with their data; returns how many.
  int Expire();

 private:
  Status FixSize(const Principal& principal, Upload& upload, std::uint64_t total);
  Result<std::uint64_t> WriteLimit(const Principal& principal, const Upload& upload, std::uint64_t offset, bool* is_quota);
  Status MarkBusy(std::string_view id, std::uint64_t offset);
  void MarkIdle(const std::string& id);
  bool Busy(const std::string& id);
  Result<Upload> Complete(const Principal& principal, UploadWrite& write);
  void Discard(const std::string& account, const std::string& id);
  void Touch(const std::string& account, const std::string& id);

  FileSpace& space_;
  StorageQuota& quota_;
  std::chrono::seconds ttl_;
  std::mutex busy_mutex_;  // guards busy_
  std::set<std::string> busy_;  // uploads a PUT is writing to
};

}  // namespace paddlecloud::files
