// Packing a job's code: a directory into a gzip-compressed tar archive for POST /api/v1/jobs/packages.
//
// What goes in: regular files and directories under the directory, with relative paths, their
// permission bits and modification times. Left out: `.git` and `__pycache__` (at any depth) and
// `*.pyc` files. A symbolic link to a regular file inside the directory is stored as a copy of that
// file (the server accepts no links); a link to a directory inside it is left out (its files are
// packed under their real path), and a link that points outside the directory or nowhere is an
// error naming it, so nothing from elsewhere on the machine is uploaded by accident. Sockets,
// FIFOs and devices are left out. The server's limits are checked while packing: at most
// `max_entries` entries and `max_bytes` of file content.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace paddlecloud::client {

struct PackLimits {
  std::uint64_t max_bytes = 1ULL << 30;  // file content, before compression
  std::uint64_t max_entries = 100'000;   // files and directories
};

struct PackResult {
  std::uint64_t files = 0;        // regular files packed
  std::uint64_t directories = 0;  // directories packed (not counting the root)
  std::uint64_t bytes = 0;        // their content, before compression
  std::vector<std::string> skipped;  // relative paths left out that a person may want to know about
};

// Whether `name` (one path component) is never packed: ".git", "__pycache__", "*.pyc".
bool ExcludedFromPackage(const std::string& name);

// Writes `dir` as a tar.gz archive to `archive_path` (created or truncated). InvalidArgument naming
// the path when `dir` is not a readable directory, a link leads outside it, or a limit is exceeded;
// the archive file is then incomplete and the caller removes it.
Result<PackResult> PackDirectory(const std::string& dir, const std::string& archive_path,
                                 const PackLimits& limits = {});

// A temporary file that is removed when this goes out of scope.
class TempFile {
 public:
  // Creates an empty file "<$TMPDIR or /tmp>/<prefix>XXXXXX<suffix>" with mode 0600.
  static Result<TempFile> Create(const std::string& prefix, const std::string& suffix);
  TempFile(TempFile&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempFile& operator=(TempFile&&) = delete;
  TempFile(const TempFile&) = delete;
  ~TempFile();
  const std::string& path() const { return path_; }

 private:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace paddlecloud::client
