// The FileStore port: where datasets, models and workspaces are kept.
//
// Keys are relative `/`-separated paths ("acme/datasets/mnist/train.csv") that the caller has
// validated with cloud_path.h; the empty key is the root. The store never follows a symbolic link
// inside it (one planted by a job is neither listed nor opened) and never touches anything outside
// its root. Writes are staged: bytes go to a staged object named by an id, which becomes visible
// at a key only when committed whole (a rename for the filesystem, "complete multipart upload" for
// an object store), so readers never see a partial file.
//
// All calls block: run them on the blocking pool. Errors: NotFound (no such key), Conflict (the
// key exists / is of the other kind / folder not empty), InsufficientStorage (disk full),
// Unavailable (other I/O failures, message names the key).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace paddlecloud::files {

struct FileInfo {
  std::string name;           // last segment of the key
  bool folder = false;
  std::uint64_t size = 0;     // files only
  std::int64_t modified_ns = 0;  // modification time, nanoseconds since the epoch
};

class FileReader {
 public:
  virtual ~FileReader() = default;
  virtual const FileInfo& info() const = 0;
  // Reads up to `size` bytes at `offset`; 0 at the end.
  virtual Result<std::size_t> ReadAt(std::uint64_t offset, char* data, std::size_t size) = 0;
  // A descriptor of the open file the server may sendfile() from; -1 when the store has none.
  virtual int native_handle() const { return -1; }
};

class StagedWriter {
 public:
  virtual ~StagedWriter() = default;
  virtual Status Append(std::string_view data) = 0;
  virtual std::uint64_t size() const = 0;
};

class FileStore {
 public:
  virtual ~FileStore() = default;

  virtual Result<FileInfo> Stat(std::string_view key) = 0;
  // The entries of a folder (files and folders only), in no particular order.
  virtual Result<std::vector<FileInfo>> List(std::string_view key) = 0;
  virtual Result<std::unique_ptr<FileReader>> Open(std::string_view key) = 0;
  // Creates the folder and its parents; OK when it exists; Conflict when a file is in the way.
  virtual Status MakeFolder(std::string_view key) = 0;
  // Moves a file or folder; `to`'s parents are created; Conflict when `to` exists.
  virtual Status Move(std::string_view from, std::string_view to) = 0;
  // Copies a file or folder tree; `to`'s parents are created; Conflict when `to` exists.
  virtual Status Copy(std::string_view from, std::string_view to) = 0;
  // Removes a file, an empty folder, or with `recursive` a whole tree.
  virtual Status Remove(std::string_view key, bool recursive) = 0;
  // Bytes of the files under `key` (0 when it does not exist).
  virtual Result<std::uint64_t> Usage(std::string_view key) = 0;

  // Staged objects. Open continues a staged object at `offset`, creating it when offset is 0;
  // Conflict when its size is not `offset`.
  virtual Result<std::unique_ptr<StagedWriter>> OpenStaged(std::string_view id, std::uint64_t offset) = 0;
  virtual Result<std::uint64_t> StagedSize(std::string_view id) = 0;  // NotFound when absent
  // Makes the staged object visible at `key`, replacing a file there (Conflict for a folder),
  // after checking its SHA-256 when `sha256` (lowercase hex) is given: a mismatch is
  // InvalidArgument naming "sha256" and discards the object.
  virtual Status CommitStaged(std::string_view id, std::string_view key, const std::optional<std::string>& sha256) = 0;
  virtual Status DiscardStaged(std::string_view id) = 0;
  // Every file and folder under `key`, depth first, as keys relative to it ("a", "a/b.txt").
  virtual Result<std::vector<std::pair<std::string, FileInfo>>> Walk(std::string_view key) = 0;
};

}  // namespace paddlecloud::files
