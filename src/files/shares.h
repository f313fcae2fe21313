// Shares: read-only access to a dataset or model of one account for another account (seen under
// `shared/<owner>/<path>`, and mounted into its jobs' pods), or for anyone holding a public link.
// A share follows its folder when moved and ends with it when removed (file_browser.h); links and
// shares may expire. All methods block: call them on the blocking pool.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "files/file_space.h"

namespace paddlecloud::files {

struct Share {
  std::int64_t id = 0;
  std::string owner_account;
  std::string path;                // in the owner's space: datasets/mnist
  bool folder = true;
  std::string account;             // grantee account, or empty for a link
  std::string link_token;          // for links
  std::optional<std::int64_t> expires_at;
  std::int64_t created_at = 0;
  std::string created_by;
  std::string mount() const { return "shared/" + owner_account + "/" + path; }
};

// A read-only view a job's pods get of what was shared with their account.
struct SharedMount {
  std::string key;                 // store key of the shared folder or file
  std::string mount;               // relative mount point: <owner>/<path>
};

class Shares {
 public:
  // `account_exists` tells whether an account may be shared with.
  Shares(FileSpace& space, std::function<bool(const std::string&)> account_exists)
      : space_(space), account_exists_(std::move(account_exists)) {}

  // With an account (Conflict when already shared with it) or, with `link`, as a public link.
  // Only datasets/ and models/ can be shared.
  Result<Share> Create(const Principal& principal, std::string_view path, const std::string& account, bool link,
                       std::optional<std::int64_t> expires_at);
  Result<std::vector<Share>> List(const Principal& principal);
  Status Revoke(const Principal& principal, std::int64_t id);
  Result<std::vector<Share>> SharedWithMe(const Principal& principal);
  // Public links (no principal): `path` is relative to the shared folder. NotFound for an
  // unknown, expired or revoked link.
  Result<Listing> ListLink(std::string_view token, std::string_view path, const ListOptions& options);
  Result<Readable> ReadLink(std::string_view token, std::string_view path);
  // What was shared with `account`, for job pods (read-only mounts).
  Result<std::vector<SharedMount>> SharedMountsFor(const std::string& account);

 private:
  Status CheckGrantee(const Principal& principal, const std::string& account);
  Result<Location> ResolveLink(std::string_view token, std::string_view path);

  FileSpace& space_;
  std::function<bool(const std::string&)> account_exists_;
};

}  // namespace paddlecloud::files
