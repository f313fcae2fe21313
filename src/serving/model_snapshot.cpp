#include "serving/model_snapshot.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>

#include "files/cloud_path.h"
#include "jobs/packages.h"

namespace paddlecloud::serving {
namespace {

namespace fs = std::filesystem;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool IsArchive(std::string_view name) {
  return EndsWith(name, ".tar.gz") || EndsWith(name, ".tgz") || EndsWith(name, ".tar");
}

// Writes the store file `key` to the new file `target` (never over one, never through a link).
Status CopyOut(files::FileStore& store, const std::string& key, const fs::path& target,
               files::ExtractionBudget* budget) {
  auto reader = store.Open(key);
  if (!reader) return reader.error();
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return Status::Unavailable("cannot create " + target.string() + ": " + std::strerror(errno));
  std::vector<char> buffer(256 * 1024);
  Status status;
  for (std::uint64_t offset = 0; status.ok();) {
    auto n = (*reader)->ReadAt(offset, buffer.data(), buffer.size());
    if (!n) {
      status = n.error();
      break;
    }
    if (*n == 0) break;
    if (budget) status = budget->AddBytes(*n);
    if (status.ok() && ::write(fd, buffer.data(), *n) != static_cast<ssize_t>(*n))
      status = Status::Unavailable("cannot write " + target.string() + " (disk full?)");
    offset += *n;
  }
  ::close(fd);
  return status;
}

Status CopyFolder(files::FileStore& store, const std::string& key, const fs::path& destination,
                  const files::ArchiveLimits& limits, Snapshot& snapshot) {
  auto entries = store.Walk(key);
  if (!entries) return entries.error();
  files::ExtractionBudget budget(
      files::ArchiveLimits{.max_bytes = limits.max_bytes,
                           .max_entries = limits.max_entries,
                           .max_ratio = std::numeric_limits<std::uint64_t>::max(),
                           .quota_left = limits.quota_left},
      0);
  std::error_code ec;
  for (const auto& [relative, info] : *entries) {
    PC_RETURN_IF_ERROR(budget.AddEntry());
    fs::path target = destination / relative;
    if (info.folder) {
      fs::create_directories(target, ec);
      if (ec) return Status::Unavailable("cannot create " + target.string() + ": " + ec.message());
      continue;
    }
    fs::create_directories(target.parent_path(), ec);
    PC_RETURN_IF_ERROR(CopyOut(store, key + "/" + relative, target, &budget));
    ++snapshot.files;
  }
  snapshot.bytes = budget.bytes();
  return Status::Ok();
}

void ListOnnx(const fs::path& root, Snapshot& snapshot) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_regular_file(type_ec) && it->path().extension() == ".onnx")
      snapshot.onnx_files.push_back(fs::relative(it->path(), root, type_ec).generic_string());
  }
  std::sort(snapshot.onnx_files.begin(), snapshot.onnx_files.end());
}

Status Take(files::FileService& files, const Principal& principal, const std::string& path, const fs::path& destination,
            const files::ArchiveLimits& limits, Snapshot& snapshot) {
  auto readable = files.browser().Read(principal, path);
  if (!readable) {
    if (readable.error().code() == Code::kNotFound || readable.error().code() == Code::kPermissionDenied)
      return Status::Of(Code::kNotFound, "no model at '" + path + "'", "model");
    return Status::Of(readable.error().code(), readable.error().message(), "model");
  }
  files::FileStore& store = files.store();
  std::error_code ec;
  fs::create_directories(destination, ec);
  if (ec) return Status::Unavailable("cannot create " + destination.string() + ": " + ec.message());
  if (readable->entry.folder) return CopyFolder(store, readable->key, destination, limits, snapshot);
  std::string name(files::BaseName(readable->entry.path));
  if (readable->entry.size > limits.max_bytes)
    return Status::Of(Code::kPayloadTooLarge, "the model is larger than " + std::to_string(limits.max_bytes) + " bytes",
                      "model");
  if (!IsArchive(name)) {
    PC_RETURN_IF_ERROR(CopyOut(store, readable->key, destination / name, nullptr));
    snapshot.files = 1;
    snapshot.bytes = readable->entry.size;
    return Status::Ok();
  }
  fs::path archive = destination.parent_path() / (destination.filename().string() + ".archive");
  fs::remove(archive, ec);
  Status copied = CopyOut(store, readable->key, archive, nullptr);
  auto unpacked = copied.ok() ? jobs::UnpackArchive(archive.string(), destination.string(), limits,
                                                    {.noun = "model archive", .field = "model"})
                              : Result<jobs::PackageInfo>(Err(copied));
  fs::remove(archive, ec);
  if (!unpacked) return unpacked.error();
  snapshot.files = unpacked->files;
  snapshot.bytes = unpacked->bytes;
  return Status::Ok();
}

}  // namespace

Result<Snapshot> SnapshotModel(files::FileService& files, const Principal& principal, const std::string& path,
                               const std::string& destination, const files::ArchiveLimits& limits) {
  auto segments = files::ParseCloudPath(path, "model");
  if (!segments) return Err(segments.error());
  if (segments->empty()) return Err(Status::InvalidArgument("model: name a folder or file, not the root", "model"));
  Snapshot snapshot;
  Status taken = Take(files, principal, path, destination, limits, snapshot);
  if (!taken.ok()) {
    std::error_code ec;
    fs::remove_all(destination, ec);
    if (!taken.field().empty() || taken.code() == Code::kUnavailable) return Err(taken);
    // An archive cap or the storage quota: the same error, naming the model.
    Status named = Status::Of(taken.code(), taken.message(), "model");
    for (const auto& [key, value] : taken.details()) named.WithDetail(key, value);
    return Err(named);
  }
  ListOnnx(destination, snapshot);
  return snapshot;
}

}  // namespace paddlecloud::serving
