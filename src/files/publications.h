// Publications: models and datasets an account publishes under `public/<kind>s/<account>/<name>/
// <version>/`, readable by every signed-in user and mounted read-only into every job's pods.
//
// Publishing copies (or unpacks, under files/archive_limits.h) a folder or file of the caller's
// own space; the copy counts against the caller's quota (checked under the account's lock). What
// others shared with the caller, and other accounts' publications, cannot be published again:
// PermissionDenied, details.reason "republish_forbidden". All methods block: call them on the
// blocking pool.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "files/file_space.h"
#include "files/storage_quota.h"

namespace paddlecloud::files {

struct Publication {
  std::int64_t id = 0;
  std::string kind;                // model | dataset
  std::string name;
  std::string version;
  std::string description;
  std::string account;
  std::string published_by;
  std::int64_t published_at = 0;
  std::int64_t files = 0;
  std::int64_t bytes = 0;
  std::string path() const { return "public/" + kind + "s/" + account + "/" + name + "/" + version; }
};

struct PublishRequest {
  std::string kind = "model";
  std::string name;
  std::string version;
  std::string description;
  std::string path;                // a folder or an archive in the caller's space
};

class Publications {
 public:
  Publications(FileSpace& space, StorageQuota& quota) : space_(space), quota_(quota) {}

  // Conflict when this kind, name and version is already published by the account.
  Result<Publication> Publish(const Principal& principal, const PublishRequest& request);
  // Newest first, filtered by kind ("" for both) and a case-insensitive text `query`.
  Result<std::vector<Publication>> List(const std::string& kind, const std::string& query);
  Result<Publication> Get(std::int64_t id);
  // PermissionDenied for another account's publication.
  Status Withdraw(const Principal& principal, std::int64_t id);

 private:
  Status CopyForPublication(const Location& source, const FileInfo& info, const std::string& target,
                            std::uint64_t storage_left);
  Status StorePublished(Publication& p, const Location& source, const FileInfo& info, std::uint64_t storage_left);

  FileSpace& space_;
  StorageQuota& quota_;
};

}  // namespace paddlecloud::files
