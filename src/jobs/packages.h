// Job packages: the code the CLI and SDK upload with a job, as a tar archive (optionally
// gzip-compressed). Extracted per account under <jobs_dir>/<account>/packages/<id>/, then moved
// into the job that names it (a package serves one job). Blocking: call on the blocking pool.
//
// Only regular files and directories are accepted, with relative paths free of "..", at most
// kMaxPackageBytes in all and kMaxPackageEntries entries: anything else is refused with
// InvalidArgument naming the entry, and nothing of the package is kept.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace paddlecloud::jobs {

inline constexpr std::uint64_t kMaxPackageBytes = 1ull << 30;
inline constexpr std::uint64_t kMaxPackageEntries = 100'000;

struct PackageInfo {
  std::string id;  // "pkg_<random>"
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
};

class PackageStore {
 public:
  explicit PackageStore(std::string jobs_dir) : jobs_dir_(std::move(jobs_dir)) {}

  // A fresh path for an upload of `account` to be written to before Extract.
  std::string UploadPath(const std::string& account_id) const;
  // Extracts the archive at `archive_path` (removed afterwards, whatever happens).
  Result<PackageInfo> Extract(const std::string& account_id, const std::string& archive_path) const;
  // Whether `account` has an unused package `id`.
  bool Exists(const std::string& account_id, const std::string& id) const;
  // Moves package `id` to `destination` (which must not exist). NotFound (field "package") when the
  // account has no such unused package.
  Status Claim(const std::string& account_id, const std::string& id, const std::string& destination) const;

 private:
  std::string PackagesDir(const std::string& account_id) const;
  std::string jobs_dir_;
};

}  // namespace paddlecloud::jobs
