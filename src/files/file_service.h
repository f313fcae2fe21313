// FileService: datasets, models and workspaces of accounts — listing, reading, changing,
// resumable uploads, storage quota, sharing and publishing — over the FileStore port.
//
// Users address files by cloud paths (docs/files.md): `datasets/...`, `models/...` and
// `workspace/...` of their own account (read-write), `public/...` (read-only, published content)
// and `shared/<owner>/<path>` (read-only, what another account shared with theirs). The service
// maps them to store keys: `<account>/datasets/...`, `<account>/workspace/<user id>/...`,
// `public/<kind>s/<account>/<name>/<version>/...`. Another tenant's files are NotFound.
//
// All methods block (database and store): call them on the blocking pool.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/principal.h"
#include "db/database.h"
#include "files/file_store.h"

namespace paddlecloud::files {

std::vector<db::Migration> FileMigrations();

struct FilesOptions {
  std::uint64_t quota_bytes = 10ull << 30;
  std::chrono::seconds upload_ttl{24 * 3600};
  std::function<bool(const std::string&)> account_exists;  // for sharing with an account
  // Bytes the account keeps outside the file store (its unused job packages); counted in its usage.
  std::function<std::uint64_t(const std::string& account)> package_bytes;
};

struct Entry {
  std::string name;
  std::string path;                // cloud path
  bool folder = false;
  std::uint64_t size = 0;          // files
  std::int64_t modified_ns = 0;
  std::string uploaded_by;         // email; empty when unknown (written by a job, copied ...)
  bool writable = false;
};

struct ListOptions {
  std::string sort = "name";       // name | size | modified (folders first for name)
  bool descending = false;
  int limit = 200;                 // 1..1000
  std::size_t offset = 0;          // from a cursor
};

struct Listing {
  Entry folder;                    // the listed folder itself
  std::vector<Entry> entries;      // one page
  std::size_t total = 0;
  std::optional<std::size_t> next_offset;
};

// What a download reads: a file (reader set) or a folder (store key to walk).
struct Readable {
  Entry entry;
  std::string key;
  std::unique_ptr<FileReader> reader;
};

struct Upload {
  std::string id;
  std::string path;
  std::optional<std::uint64_t> size;
  std::uint64_t offset = 0;
  std::int64_t expires_at = 0;
  bool complete = false;
  std::optional<Entry> file;       // when complete
};

// A PUT in progress on an upload: append within `limit`, then FinishUploadWrite.
struct UploadWrite {
  Upload upload;
  std::unique_ptr<StagedWriter> writer;
  std::uint64_t limit = 0;         // the offset this PUT may not pass (size or quota)
  bool limit_is_quota = false;
};

// What counts against an account's quota: its files, what it published, its unused job packages.
struct StorageUsage {
  std::uint64_t used_bytes = 0;       // the sum of the parts below
  std::uint64_t files_bytes = 0;
  std::uint64_t published_bytes = 0;
  std::uint64_t package_bytes = 0;
  std::uint64_t quota_bytes = 0;
};

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

// A read-only view a job's pods get of what was shared with their account.
struct SharedMount {
  std::string key;                 // store key of the shared folder or file
  std::string mount;               // relative mount point: <owner>/<path>
};

class FileService {
 public:
  FileService(db::Database& database, FileStore& store, FilesOptions options);

  Result<Listing> List(const Principal& principal, std::string_view path, const ListOptions& options);
  Result<Entry> Stat(const Principal& principal, std::string_view path);
  Result<Readable> Read(const Principal& principal, std::string_view path);
  Result<Entry> MakeFolder(const Principal& principal, std::string_view path);
  Result<Entry> Move(const Principal& principal, std::string_view from, std::string_view to);
  Result<Entry> Copy(const Principal& principal, std::string_view from, std::string_view to);
  Status Remove(const Principal& principal, std::string_view path, bool recursive);
  Result<StorageUsage> Usage(const Principal& principal);
  // Bytes `account` may still store: its quota less its usage and what its open uploads hold.
  Result<std::uint64_t> StorageLeft(const std::string& account);

  Result<Upload> CreateUpload(const Principal& principal, std::string_view path, std::optional<std::uint64_t> size,
                              std::optional<std::string> sha256);
  Result<Upload> GetUpload(const Principal& principal, std::string_view id);
  // Starts a PUT at `offset` (Conflict with details.offset when it is not the server's);
  // `total` (from Content-Range) fixes an unknown size. Conflict while another PUT runs.
  Result<UploadWrite> BeginUploadWrite(const Principal& principal, std::string_view id, std::uint64_t offset,
                                       std::optional<std::uint64_t> total);
  // Ends a PUT. With `failure` OK and the size reached, completes the upload (checksum, quota
  // checked again under the account's lock, rename into place). A quota, disk-full or checksum
  // failure discards the upload.
  Result<Upload> FinishUploadWrite(const Principal& principal, UploadWrite& write, const Status& failure);
  Status CancelUpload(const Principal& principal, std::string_view id);
  // Removes sessions untouched for upload_ttl with their data; returns how many.
  int ExpireUploads();

  Result<Share> CreateShare(const Principal& principal, std::string_view path, const std::string& account, bool link,
                            std::optional<std::int64_t> expires_at);
  Result<std::vector<Share>> ListShares(const Principal& principal);
  Status RevokeShare(const Principal& principal, std::int64_t id);
  Result<std::vector<Share>> SharedWithMe(const Principal& principal);
  // Public links: `path` is relative to the shared folder.
  Result<Listing> ListLink(std::string_view token, std::string_view path, const ListOptions& options);
  Result<Readable> ReadLink(std::string_view token, std::string_view path);

  // Copies (or unpacks, under files/archive_limits.h) a folder or file of the caller's own space
  // into public/; it counts against the caller's quota. What others shared with the caller, and
  // other accounts' publications, cannot be published again: PermissionDenied, details.reason
  // "republish_forbidden".
  Result<Publication> Publish(const Principal& principal, const PublishRequest& request);
  Result<std::vector<Publication>> ListPublications(const std::string& kind, const std::string& query);
  Result<Publication> GetPublication(std::int64_t id);
  Status DeletePublication(const Principal& principal, std::int64_t id);

  // What was shared with `account`, for job pods (read-only mounts).
  Result<std::vector<SharedMount>> SharedMountsFor(const std::string& account);

  FileStore& store() { return store_; }

 private:
  struct Location;
  Result<Location> Resolve(const Principal& principal, std::string_view path);
  Result<Listing> ListLocation(const Location& location, const ListOptions& options);
  Result<Entry> EntryAt(const Location& location);
  Result<Readable> ReadLocation(const Location& location);
  Result<Location> WritableLocation(const Principal& principal, std::string_view path);
  Result<std::uint64_t> Reserved(const std::string& account, std::string_view except_upload);
  Result<StorageUsage> UsageOf(const std::string& account);
  // Held while checking the quota and then storing bytes, so two writers cannot both pass it.
  std::unique_lock<std::mutex> LockAccount(const std::string& account);
  // QuotaExceeded unless `size` more bytes at `key` (replacing the file there now) fit beside
  // the account's usage and its other open uploads.
  Status CheckUploadFits(const std::string& account, std::string_view upload_id, const std::string& key,
                         std::uint64_t size);
  Status CopyForPublication(const Location& source, const FileInfo& info, const std::string& target,
                            std::uint64_t storage_left);
  Result<Location> ResolveLink(std::string_view token, std::string_view path);

  db::Database& database_;
  FileStore& store_;
  FilesOptions options_;
  std::mutex busy_mutex_;  // guards busy_uploads_
  std::set<std::string> busy_uploads_;
  std::mutex account_locks_mutex_;  // guards account_locks_ (not the locks themselves)
  std::map<std::string, std::unique_ptr<std::mutex>> account_locks_;
};

}  // namespace paddlecloud::files
