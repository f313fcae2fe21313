// FileBrowser: list, read and change the files of the caller's spaces (file_space.h): folders,
// moves, copies, removals. Who uploaded a file (file_meta) and what the account shared follow a
// move in one transaction; when they cannot, the files move back. A copy counts against the
// caller's quota. All methods block: call them on the blocking pool.
#pragma once

#include <string_view>

#include "files/file_space.h"
#include "files/storage_quota.h"

namespace paddlecloud::files {

class FileBrowser {
 public:
  FileBrowser(FileSpace& space, StorageQuota& quota) : space_(space), quota_(quota) {}

  // InvalidArgument naming sort or limit (1..1000) when out of range.
  Result<Listing> List(const Principal& principal, std::string_view path, const ListOptions& options);
  Result<Entry> Stat(const Principal& principal, std::string_view path);
  Result<Readable> Read(const Principal& principal, std::string_view path);
  // Conflict when something is there.
  Result<Entry> MakeFolder(const Principal& principal, std::string_view path);
  // Conflict when `to` exists; a space's root (datasets/ ...) is never moved.
  Result<Entry> Move(const Principal& principal, std::string_view from, std::string_view to);
  // From anywhere readable into the caller's space, within its quota.
  Result<Entry> Copy(const Principal& principal, std::string_view from, std::string_view to);
  // A non-empty folder only with `recursive`; its records (file_meta, shares) go with it.
  Status Remove(const Principal& principal, std::string_view path, bool recursive);

 private:
  Status MoveRecords(const Principal& principal, const Location& source, const Location& target);

  FileSpace& space_;
  StorageQuota& quota_;
};

}  // namespace paddlecloud::files
