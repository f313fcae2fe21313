// Job packages: the code the CLI and SDK upload with a job, as a tar archive (optionally
// gzip-compressed). Extracted per account under <jobs_dir>/<account>/packages/<id>/, then moved
// into the job that names it (a package serves one job). Blocking: call on the blocking pool.
//
// Only regular files and directories are accepted, with relative paths free of "..": anything
// else is refused with InvalidArgument naming the entry. Unpacking follows the shared archive rule
// (files/archive_limits.h: bytes, entries, expansion ratio, the account's storage left); past any
// of them it stops, and nothing of the package is kept.
//
// Unused packages belong to the account's storage (Usage) and expire (ExpireUnused).
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>

#include "common/status.h"
#include "files/archive_limits.h"

namespace paddlecloud::jobs {

inline constexpr std::uint64_t kMaxPackageBytes = files::ArchiveLimits{}.max_bytes;
inline constexpr std::uint64_t kMaxPackageEntries = files::ArchiveLimits{}.max_entries;

struct PackageInfo {
  std::string id;  // "pkg_<random>"
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

// What an archive is called in errors ("the package entry 'x' has an unsafe path") and the field
// they name.
struct ArchiveSubject {
  std::string noun;
  std::string field;
};

// Unpacks the tar (optionally gzip) at `archive_path` into `destination` (created when missing)
// under the package rules above and `limits`; the archive stays. On error, what was written stays
// too: the caller removes `destination`.
Result<PackageInfo> UnpackArchive(const std::string& archive_path, const std::string& destination,
                                  const files::ArchiveLimits& limits, const ArchiveSubject& subject);

class PackageStore {
 public:
  explicit PackageStore(std::string jobs_dir) : jobs_dir_(std::move(jobs_dir)) {}

  // A fresh path for an upload of `account` to be written to before Extract.
  std::string UploadPath(const std::string& account_id) const;
  // Extracts the archive at `archive_path` (removed afterwards, whatever happens). `storage_left`
  // is what the account may still store (FileService::StorageLeft); past it: QuotaExceeded.
  Result<PackageInfo> Extract(const std::string& account_id, const std::string& archive_path,
                              std::uint64_t storage_left = std::numeric_limits<std::uint64_t>::max()) const;
  // Bytes of the account's unused packages (and of uploads in progress), links not followed.
  std::uint64_t Usage(const std::string& account_id) const;
  // Removes packages unused for `ttl` since they were uploaded, with leftovers of interrupted
  // uploads, for every account; returns how many packages it removed.
  int ExpireUnused(std::chrono::seconds ttl) const;
  // Whether `account` has an unused package `id`.
  bool Exists(const std::string& account_id, const std::string& id) const;
  // Moves package `id` to `destination` (which must not exist). NotFound (field "package") when the
  // account has no such unused package.
  Status Claim(const std::string& account_id, const std::string& id, const std::string& destination) const;
  // Copies an earlier job's code folder to `destination` (which must not exist), for running the
  // same code again. The source may be written by that job's pods meanwhile, so it is walked through
  // descriptors opened without following links: links (and anything but files and folders) are
  // left out, and the copy is bounded like a package (ArchiveLimits plus `storage_left`).
  static Result<PackageInfo> CopyCode(const std::string& source, const std::string& destination,
                                      std::uint64_t storage_left = std::numeric_limits<std::uint64_t>::max());

 private:
  std::string PackagesDir(const std::string& account_id) const;
  std::string jobs_dir_;
};

}  // namespace paddlecloud::jobs
