#include "client/package.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

std::string ErrnoText() { return std::strerror(errno); }

std::string SizeText(std::uint64_t bytes) {
  if (bytes >= (1ULL << 30) && bytes % (1ULL << 30) == 0) return std::to_string(bytes >> 30) + " GiB";
  if (bytes >= (1ULL << 20) && bytes % (1ULL << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

class Packer {
 public:
  Packer(struct archive* a, fs::path root, std::string shown_root, const PackLimits& limits, struct stat archive_stat)
      : a_(a), root_(std::move(root)), shown_root_(std::move(shown_root)), limits_(limits), archive_stat_(archive_stat) {}

  Status AddTree(const fs::path& dir, const std::string& rel_dir) {
    std::error_code ec;
    std::vector<fs::path> children;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) children.push_back(it->path());
    if (ec) return Status::InvalidArgument("cannot read " + Shown(rel_dir) + ": " + ec.message());
    std::sort(children.begin(), children.end());
    for (const auto& child : children) {
      std::string name = child.filename().string();
      if (ExcludedFromPackage(name)) continue;
      std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
      struct stat st {};
      if (::lstat(child.c_str(), &st) != 0) return Status::InvalidArgument("cannot read " + Shown(rel) + ": " + ErrnoText());
      if (S_ISLNK(st.st_mode)) {
        PC_RETURN_IF_ERROR(AddLink(child, rel));
      } else if (S_ISDIR(st.st_mode)) {
        PC_RETURN_IF_ERROR(AddDirectory(rel, st));
        PC_RETURN_IF_ERROR(AddTree(child, rel));
      } else if (S_ISREG(st.st_mode)) {
        if (st.st_dev == archive_stat_.st_dev && st.st_ino == archive_stat_.st_ino) continue;  // the archive itself
        PC_RETURN_IF_ERROR(AddFile(child, rel));
      } else {
        result_.skipped.push_back(rel + " (not a regular file)");
      }
    }
    return Status::Ok();
  }

  PackResult& result() { return result_; }

 private:
  std::string Shown(const std::string& rel) const {
    if (rel.empty()) return shown_root_;
    return (fs::path(shown_root_) / rel).string();
  }

  Status ArchiveFailure(const std::string& rel) {
    const char* message = archive_error_string(a_);
    return Status::Internal("cannot pack " + Shown(rel) + ": " + (message ? message : "libarchive failed"));
  }

  Status CountEntry() {
    if (++entries_ > limits_.max_entries)
      return Status::InvalidArgument(shown_root_ + " holds more than " + std::to_string(limits_.max_entries) +
                                     " files and folders, the most a package may have");
    return Status::Ok();
  }

  Status AddLink(const fs::path& link, const std::string& rel) {
    std::error_code ec;
    fs::path target_text = fs::read_symlink(link, ec);
    fs::path target = fs::canonical(link, ec);
    if (ec)
      return Status::InvalidArgument(Shown(rel) + " is a symbolic link to '" + target_text.string() +
                                     "', which does not exist; remove it or replace it with a file");
    auto [root_end, target_pos] = std::mismatch(root_.begin(), root_.end(), target.begin(), target.end());
    if (root_end != root_.end())
      return Status::InvalidArgument(Shown(rel) + " is a symbolic link to '" + target_text.string() + "', outside " +
                                     shown_root_ + "; packages hold only what is inside it: copy the file in instead");
    struct stat st {};
    if (::stat(target.c_str(), &st) != 0) return Status::InvalidArgument("cannot read " + Shown(rel) + ": " + ErrnoText());
    if (S_ISREG(st.st_mode)) return AddFile(target, rel);
    result_.skipped.push_back(rel + (S_ISDIR(st.st_mode) ? " (link to a folder)" : " (not a regular file)"));
    return Status::Ok();
  }

  std::unique_ptr<struct archive_entry, EntryDeleter> NewEntry(const std::string& name, const struct stat& st,
                                                               unsigned type, unsigned perm) {
    std::unique_ptr<struct archive_entry, EntryDeleter> entry(archive_entry_new());
    archive_entry_set_pathname(entry.get(), name.c_str());
    archive_entry_set_filetype(entry.get(), type);
    archive_entry_set_perm(entry.get(), perm);
    archive_entry_set_mtime(entry.get(), st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    return entry;
  }

  Status AddDirectory(const std::string& rel, const struct stat& st) {
    PC_RETURN_IF_ERROR(CountEntry());
    auto entry = NewEntry(rel + "/", st, AE_IFDIR, (st.st_mode & 0777) | 0700);
    if (archive_write_header(a_, entry.get()) != ARCHIVE_OK) return ArchiveFailure(rel);
    ++result_.directories;
    return Status::Ok();
  }

  Status AddFile(const fs::path& source, const std::string& rel) {
    PC_RETURN_IF_ERROR(CountEntry());
    Fd in(::open(source.c_str(), O_RDONLY | O_CLOEXEC));
    if (in.fd < 0) return Status::InvalidArgument("cannot read " + Shown(rel) + ": " + ErrnoText());
    struct stat st {};
    if (::fstat(in.fd, &st) != 0) return Status::InvalidArgument("cannot read " + Shown(rel) + ": " + ErrnoText());
    std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
    if (result_.bytes + size > limits_.max_bytes)
      return Status::InvalidArgument(shown_root_ + " holds more than " + SizeText(limits_.max_bytes) +
                                     ", the most a package may have (reached at " + rel + ")");
    auto entry = NewEntry(rel, st, AE_IFREG, (st.st_mode & 0777) | 0600);
    archive_entry_set_size(entry.get(), static_cast<la_int64_t>(size));
    if (archive_write_header(a_, entry.get()) != ARCHIVE_OK) return ArchiveFailure(rel);
    std::vector<char> buffer(256 * 1024);
    std::uint64_t left = size;
    while (left > 0) {
      ssize_t got = ::read(in.fd, buffer.data(), std::min<std::uint64_t>(buffer.size(), left));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Status::InvalidArgument("cannot read " + Shown(rel) + ": " + ErrnoText());
      if (got == 0) return Status::InvalidArgument(Shown(rel) + " became shorter while it was packed; try again");
      if (archive_write_data(a_, buffer.data(), static_cast<std::size_t>(got)) != got) return ArchiveFailure(rel);
      left -= static_cast<std::uint64_t>(got);
    }
    if (archive_write_finish_entry(a_) != ARCHIVE_OK) return ArchiveFailure(rel);
    ++result_.files;
    result_.bytes += size;
    return Status::Ok();
  }

  struct archive* a_;
  fs::path root_;
  std::string shown_root_;
  PackLimits limits_;
  struct stat archive_stat_;
  std::uint64_t entries_ = 0;
  PackResult result_;
};

}  // namespace

bool ExcludedFromPackage(const std::string& name) {
  return name == ".git" || name == "__pycache__" || (name.size() > 4 && name.ends_with(".pyc"));
}

Result<PackResult> PackDirectory(const std::string& dir, const std::string& archive_path, const PackLimits& limits) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Err(Status::InvalidArgument(dir + " is not a directory"));
  fs::path root = fs::canonical(dir, ec);
  if (ec) return Err(Status::InvalidArgument("cannot read " + dir + ": " + ec.message()));

  Fd out(::open(archive_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (out.fd < 0) return Err(Status::Internal("cannot write " + archive_path + ": " + ErrnoText()));
  struct stat archive_stat {};
  ::fstat(out.fd, &archive_stat);
  std::unique_ptr<struct archive, ArchiveDeleter> a(archive_write_new());
  auto failed = [&](const std::string& what) {
    const char* message = archive_error_string(a.get());
    return Err(Status::Internal("cannot write the package (" + what + "): " + (message ? message : "libarchive failed")));
  };
  if (archive_write_set_format_pax_restricted(a.get()) != ARCHIVE_OK) return failed("tar format");
  if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK) return failed("gzip");
  if (archive_write_open_fd(a.get(), out.fd) != ARCHIVE_OK) return failed("open");

  Packer packer(a.get(), root, dir, limits, archive_stat);
  if (Status added = packer.AddTree(root, ""); !added.ok()) return Err(added);
  if (archive_write_close(a.get()) != ARCHIVE_OK) return failed("close");
  if (::fsync(out.fd) != 0 && errno != EINVAL) return Err(Status::Internal("cannot write " + archive_path + ": " + ErrnoText()));
  return std::move(packer.result());
}

Result<TempFile> TempFile::Create(const std::string& prefix, const std::string& suffix) {
  const char* tmpdir = std::getenv("TMPDIR");
  std::string pattern = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/" + prefix + "XXXXXX" + suffix;
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  int fd = ::mkstemps(name.data(), static_cast<int>(suffix.size()));
  if (fd < 0) return Err(Status::Internal("cannot create a temporary file " + pattern + ": " + ErrnoText()));
  ::close(fd);
  return TempFile(std::string(name.data()));
}

TempFile::~TempFile() {
  if (!path_.empty()) ::unlink(path_.c_str());
}

}  // namespace paddlecloud::client
