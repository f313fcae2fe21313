// FileSpace: what a cloud path names and the entries found there — the part every feature of the
// files module (browsing, uploads, shares, publications) shares.
//
// Users address files by cloud paths (docs/files.md): `datasets/...`, `models/...` and
// `workspace/...` of their own account (read-write), `public/...` (read-only, published content)
// and `shared/<owner>/<path>` (read-only, what another account shared with theirs). Resolve maps
// them to store keys: `<account>/datasets/...`, `<account>/workspace/<user id>/...`,
// `public/<kind>s/<account>/<name>/<version>/...`. Another tenant's files are NotFound.
//
// Who wrote a file is kept in the `file_meta` table: the user who uploaded it, or the job whose
// pods wrote it (job_outputs.h).
//
// All methods block (database and store): call them on the blocking pool.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/principal.h"
#include "db/database.h"
#include "files/file_store.h"

namespace paddlecloud::files {

struct Entry {
  std::string name;
  std::string path;                // cloud path
  bool folder = false;
  std::uint64_t size = 0;          // files
  std::int64_t modified_ns = 0;
  std::string uploaded_by;         // email; empty when unknown (written by a job, copied ...)
  std::string written_by_job;      // the id of the job whose pods wrote it (job_outputs.h); empty when unknown
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

// A cloud path resolved for one principal (or one public link).
struct Location {
  std::string path;                       // normalized cloud path
  std::vector<std::string> segments;
  std::string key;                        // store key; empty for virtual folders
  bool writable = false;
  bool space_root = false;                // datasets/, models/, workspace/: never moved or removed
  std::optional<std::vector<std::string>> virtual_children;  // a folder made of names, not of the store
  std::string meta_account;               // whose file_meta describes these keys
};

class FileSpace {
 public:
  FileSpace(db::Database& database, FileStore& store) : database_(database), store_(store) {}

  Result<Location> Resolve(const Principal& principal, std::string_view path);
  // Resolve, for a change: PermissionDenied for public/, shared/ and anything read-only.
  Result<Location> ResolveWritable(const Principal& principal, std::string_view path);
  // NotFound when nothing is there.
  Result<Entry> EntryAt(const Location& location);
  // A folder's page of entries (options already checked by the caller), or a file's entry alone.
  Result<Listing> ListAt(const Location& location, const ListOptions& options);
  // InvalidArgument for a virtual folder (the root, public/, shared/...), which has no bytes.
  Result<Readable> ReadAt(const Location& location);

  db::Database& database() { return database_; }
  FileStore& store() { return store_; }

 private:
  Result<Location> ResolveShared(const Principal& principal, Location location);

  db::Database& database_;
  FileStore& store_;
};

// Unix seconds now.
std::int64_t UnixNow();
bool StartsWithSegments(const std::vector<std::string>& path, const std::vector<std::string>& prefix);

}  // namespace paddlecloud::files
