#include "jobs/python_sdk.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <vector>

#include "common/fs.h"

namespace paddlecloud::jobs {
namespace {

namespace fs = std::filesystem;

constexpr char kTempPrefix[] = ".tmp-";

// FNV-1a over each file's path and content hash: the same files give the same folder name.
std::string VersionOf(std::span<const http::EmbeddedFile> files) {
  std::uint64_t hash = 14695981039346656037ull;
  auto mix = [&](std::string_view text) {
    for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
    hash = (hash ^ 0xFF) * 1099511628211ull;  // a separator, so "ab"+"c" differs from "a"+"bc"
  };
  for (const auto& file : files) {
    mix(file.path);
    mix(file.etag);
  }
  char text[17];
  std::snprintf(text, sizeof text, "%016llx", static_cast<unsigned long long>(hash));
  return text;
}

void SyncDirectory(const fs::path& dir) {
  if (int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void RemoveInterruptedInstalls(const fs::path& root) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root, ec))
    if (entry.path().filename().string().starts_with(kTempPrefix)) fs::remove_all(entry.path(), ec);
}

Status WriteFiles(const fs::path& package, std::span<const http::EmbeddedFile> files) {
  for (const auto& file : files) {
    fs::path path = package / file.path;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) return Status::Internal("cannot create " + path.parent_path().string() + ": " + ec.message());
    if (auto written = fsutil::WriteFileAtomic(path.string(), file.data, {.mode = 0444}); !written.ok()) return written;
  }
  SyncDirectory(package);
  return Status::Ok();
}

}  // namespace

Result<std::string> InstallPythonSdk(const std::string& root, std::span<const http::EmbeddedFile> files) {
  if (files.empty()) return std::string();
  std::error_code ec;
  fs::create_directories(root, ec);
  if (ec) return Err(Status::Internal("cannot create " + root + ": " + ec.message()));
  fs::path target = fs::path(root) / VersionOf(files);
  if (fs::is_directory(target, ec)) return target.string();  // written by an earlier start
  RemoveInterruptedInstalls(root);
  std::string pattern = (fs::path(root) / kTempPrefix).string() + "XXXXXX";
  std::vector<char> temp(pattern.begin(), pattern.end());
  temp.push_back('\0');
  if (::mkdtemp(temp.data()) == nullptr)
    return Err(Status::Internal("cannot create a folder in " + root + ": " + fsutil::ErrnoText(errno)));
  fs::path staging(temp.data());
  fs::permissions(staging, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                               fs::perms::others_read | fs::perms::others_exec, ec);
  Status written = WriteFiles(staging / "paddlecloud", files);
  if (written.ok() && ::rename(staging.c_str(), target.c_str()) != 0)
    written = Status::Internal("cannot rename " + staging.string() + " to " + target.string() + ": " +
                               fsutil::ErrnoText(errno));
  if (!written.ok()) {
    fs::remove_all(staging, ec);
    return Err(written);
  }
  SyncDirectory(root);
  return target.string();
}

}  // namespace paddlecloud::jobs
