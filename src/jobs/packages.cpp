#include "jobs/packages.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>
#include <random>

namespace paddlecloud::jobs {
namespace {

namespace fs = std::filesystem;

std::string RandomId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string id = "pkg_";
  for (int i = 0; i < 20; ++i) id += kAlphabet[rng() % (sizeof kAlphabet - 1)];
  return id;
}

bool ValidId(const std::string& id) {
  if (id.size() != 24 || id.rfind("pkg_", 0) != 0) return false;
  for (std::size_t i = 4; i < id.size(); ++i)
    if (!std::isalnum(static_cast<unsigned char>(id[i]))) return false;
  return true;
}

// A safe relative path, or empty when the entry must be refused.
std::string SafeRelative(std::string name) {
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  while (!name.empty() && name.back() == '/') name.pop_back();
  if (name.empty() || name.front() == '/' || name.find('\0') != std::string::npos || name.find('\\') != std::string::npos)
    return "";
  std::size_t start = 0;
  while (start <= name.size()) {
    auto end = name.find('/', start);
    std::string part = name.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (part.empty() || part == ".." || part == "." || part.size() > 255) return "";
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return name;
}

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status CopyFile(int from, int to_dir, const char* name, mode_t mode, files::ExtractionBudget& budget) {
  Fd out(::openat(to_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, (mode & 0100) ? 0755 : 0644));
  if (out.fd < 0) return Status::Unavailable(std::string("cannot create ") + name + ": " + std::strerror(errno));
  char buffer[64 * 1024];
  ssize_t n;
  while ((n = ::read(from, buffer, sizeof buffer)) > 0) {
    PC_RETURN_IF_ERROR(budget.AddBytes(static_cast<std::uint64_t>(n)));
    if (::write(out.fd, buffer, n) != n) return Status::Unavailable(std::string("cannot write ") + name + " (disk full?)");
  }
  if (n < 0) return Status::Unavailable(std::string("cannot read ") + name + ": " + std::strerror(errno));
  return Status::Ok();
}

// Copies the folder open at `from` into the (new, empty) folder open at `to`, entry by entry,
// each opened relative to its parent's descriptor without following links.
Status CopyTree(int from, int to, files::ExtractionBudget& budget, PackageInfo& info) {
  int listing = ::dup(from);
  if (listing < 0) return Status::Unavailable(std::string("cannot read the code: ") + std::strerror(errno));
  struct CloseDir {
    void operator()(DIR* d) const { ::closedir(d); }
  };
  std::unique_ptr<DIR, CloseDir> dir(::fdopendir(listing));
  if (!dir) {
    ::close(listing);
    return Status::Unavailable(std::string("cannot read the code: ") + std::strerror(errno));
  }
  while (dirent* entry = ::readdir(dir.get())) {
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    PC_RETURN_IF_ERROR(budget.AddEntry());
    Fd child(::openat(from, entry->d_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
    struct stat st {};
    if (child.fd < 0 || ::fstat(child.fd, &st) != 0) continue;  // a link, or gone meanwhile
    if (S_ISDIR(st.st_mode)) {
      if (::mkdirat(to, entry->d_name, 0755) != 0)
        return Status::Unavailable(std::string("cannot create ") + entry->d_name + ": " + std::strerror(errno));
      Fd sub(::openat(to, entry->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
      if (sub.fd < 0) return Status::Unavailable(std::string("cannot open ") + entry->d_name);
      PC_RETURN_IF_ERROR(CopyTree(child.fd, sub.fd, budget, info));
    } else if (S_ISREG(st.st_mode)) {
      PC_RETURN_IF_ERROR(CopyFile(child.fd, to, entry->d_name, st.st_mode, budget));
      ++info.files;
    }
  }
  return Status::Ok();
}

// Writes the data of the archive's current entry to a new file `target` (never over one).
Status WriteEntryData(archive* reader, const fs::path& target, const std::string& name, mode_t mode,
                      files::ExtractionBudget& budget, const ArchiveSubject& subject) {
  int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0)
    return Status::InvalidArgument("the " + subject.noun + " has '" + name + "' twice or under a file", subject.field);
  const void* block = nullptr;
  std::size_t size = 0;
  la_int64_t offset = 0;
  int data = ARCHIVE_OK;
  Status written;
  while (written.ok() && (data = archive_read_data_block(reader, &block, &size, &offset)) == ARCHIVE_OK) {
    written = budget.AddBytes(size);
    if (written.ok() && ::pwrite(fd, block, size, offset) != static_cast<ssize_t>(size))
      written = Status::Unavailable("cannot write " + target.string() + " (disk full?)");
  }
  ::close(fd);
  if (!written.ok()) return written;
  if (data != ARCHIVE_EOF)
    return Status::InvalidArgument("the " + subject.noun + " is truncated: " + archive_error_string(reader),
                                   subject.field);
  return Status::Ok();
}

// Every entry of the archive under `work_dir`: folders and regular files at safe relative paths.
Status ExtractEntries(archive* reader, const fs::path& work_dir, files::ExtractionBudget& budget, PackageInfo& info,
                      const ArchiveSubject& subject) {
  std::error_code ec;
  archive_entry* entry = nullptr;
  while (true) {
    int r = archive_read_next_header(reader, &entry);
    if (r == ARCHIVE_EOF) return Status::Ok();
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
      return Status::InvalidArgument("the " + subject.noun + " is not a valid tar archive: " +
                                         archive_error_string(reader),
                                     subject.field);
    PC_RETURN_IF_ERROR(budget.AddEntry());
    const char* raw_name = archive_entry_pathname(entry);
    std::string_view raw = raw_name ? raw_name : "";
    if ((raw == "." || raw == "./") && archive_entry_filetype(entry) == AE_IFDIR) continue;  // `tar -C dir .`
    std::string name = SafeRelative(std::string(raw));
    if (name.empty())
      return Status::InvalidArgument("the " + subject.noun + " entry '" + (raw_name ? raw_name : "") +
                                         "' has an unsafe path (absolute, '..' or empty)",
                                     subject.field);
    fs::path target = work_dir / name;
    auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      fs::create_directories(target, ec);
      continue;
    }
    if (type != AE_IFREG)
      return Status::InvalidArgument("the " + subject.noun + " entry '" + name + "' is not a regular file or folder",
                                     subject.field);
    fs::create_directories(target.parent_path(), ec);
    mode_t mode = (archive_entry_perm(entry) & 0100) ? 0755 : 0644;
    PC_RETURN_IF_ERROR(WriteEntryData(reader, target, name, mode, budget, subject));
    ++info.files;
  }
}

}  // namespace

Result<PackageInfo> UnpackArchive(const std::string& archive_path, const std::string& destination,
                                  const files::ArchiveLimits& limits, const ArchiveSubject& subject) {
  std::unique_ptr<archive, decltype(&archive_read_free)> reader(archive_read_new(), archive_read_free);
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_filter_none(reader.get());
  archive_read_support_format_tar(reader.get());
  if (archive_read_open_filename(reader.get(), archive_path.c_str(), 64 * 1024) != ARCHIVE_OK)
    return Err(Status::InvalidArgument("the " + subject.noun + " is not a tar archive: " + archive_error_string(reader.get()),
                                       subject.field));
  std::error_code ec;
  fs::create_directories(destination, ec);
  if (ec) return Err(Status::Unavailable("cannot create " + destination + ": " + ec.message()));
  files::ExtractionBudget budget(limits, fs::file_size(archive_path, ec));
  PackageInfo info;
  PC_RETURN_IF_ERROR(ExtractEntries(reader.get(), destination, budget, info, subject));
  info.bytes = budget.bytes();
  return info;
}

Result<PackageInfo> PackageStore::CopyCode(const std::string& source, const std::string& destination,
                                           std::uint64_t storage_left) {
  Fd from(::open(source.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (from.fd < 0) return Err(Status::Of(Code::kNotFound, "that job's code is no longer kept", "code_from_job"));
  std::error_code ec;
  fs::create_directories(fs::path(destination).parent_path(), ec);
  if (::mkdir(destination.c_str(), 0755) != 0)
    return Err(Status::Unavailable("cannot create " + destination + ": " + std::strerror(errno)));
  Fd to(::open(destination.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  // A copy has no archive to expand from: no ratio, the other limits as for a package.
  files::ExtractionBudget budget(
      files::ArchiveLimits{.max_ratio = std::numeric_limits<std::uint64_t>::max(), .quota_left = storage_left}, 0);
  PackageInfo info;
  Status copied = to.fd < 0 ? Status::Unavailable("cannot open " + destination) : CopyTree(from.fd, to.fd, budget, info);
  if (!copied.ok()) {
    fs::remove_all(destination, ec);
    return Err(Status::Of(copied.code(), "cannot copy that job's code: " + copied.message(), "code_from_job"));
  }
  info.bytes = budget.bytes();
  return info;
}

std::string PackageStore::PackagesDir(const std::string& account_id) const {
  return (fs::path(jobs_dir_) / account_id / "packages").string();
}

std::string PackageStore::UploadPath(const std::string& account_id) const {
  std::error_code ec;
  fs::create_directories(PackagesDir(account_id), ec);
  return (fs::path(PackagesDir(account_id)) / (".upload-" + RandomId())).string();
}

bool PackageStore::Exists(const std::string& account_id, const std::string& id) const {
  std::error_code ec;
  return ValidId(id) && fs::is_directory(fs::path(PackagesDir(account_id)) / id, ec);
}

Result<PackageInfo> PackageStore::Extract(const std::string& account_id, const std::string& archive_path,
                                          std::uint64_t storage_left) const {
  struct RemoveArchive {
    std::string path;
    ~RemoveArchive() {
      std::error_code ec;
      fs::remove(path, ec);
    }
  } remove_archive{archive_path};

  PackageInfo info{.id = RandomId(), .files = 0, .bytes = 0};
  fs::path final_dir = fs::path(PackagesDir(account_id)) / info.id;
  fs::path work_dir = fs::path(PackagesDir(account_id)) / (".extract-" + info.id);
  std::error_code ec;
  fs::create_directories(work_dir, ec);
  if (ec) return Err(Status::Unavailable("cannot create " + work_dir.string() + ": " + ec.message()));
  auto fail = [&](Status s) -> Result<PackageInfo> {
    std::error_code ignored;
    fs::remove_all(work_dir, ignored);
    return Err(std::move(s));
  };

  auto unpacked = UnpackArchive(archive_path, work_dir.string(), files::ArchiveLimits{.quota_left = storage_left},
                                {.noun = "package", .field = "package"});
  if (!unpacked) return fail(unpacked.error());
  info.files = unpacked->files;
  fs::rename(work_dir, final_dir, ec);
  if (ec) return fail(Status::Unavailable("cannot store the package: " + ec.message()));
  ::utimensat(AT_FDCWD, final_dir.c_str(), nullptr, 0);  // its age counts from the upload (ExpireUnused)
  info.bytes = unpacked->bytes;
  return info;
}

Status PackageStore::Claim(const std::string& account_id, const std::string& id, const std::string& destination) const {
  if (!Exists(account_id, id))
    return Status::Of(Code::kNotFound, "no unused package '" + id + "': upload it first (each package serves one job)",
                      "package");
  std::error_code ec;
  fs::create_directories(fs::path(destination).parent_path(), ec);
  fs::rename(fs::path(PackagesDir(account_id)) / id, destination, ec);
  if (ec == std::errc::no_such_file_or_directory)  // expired meanwhile
    return Status::Of(Code::kNotFound, "package '" + id + "' has expired: upload it again", "package");
  if (ec) return Status::Unavailable("cannot move package " + id + ": " + ec.message());
  return Status::Ok();
}

std::uint64_t PackageStore::Usage(const std::string& account_id) const {
  std::error_code ec;
  fs::path dir = PackagesDir(account_id);
  if (!fs::is_directory(fs::symlink_status(dir, ec))) return 0;
  std::uint64_t total = 0;
  // The iterator does not follow links into folders; symlink_status does not follow them to files.
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code size_ec;
    if (fs::is_regular_file(it->symlink_status(size_ec))) total += it->file_size(size_ec);
  }
  return total;
}

int PackageStore::ExpireUnused(std::chrono::seconds ttl) const {
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - ttl;
  int expired = 0;
  for (fs::directory_iterator account(jobs_dir_, ec), end; !ec && account != end; account.increment(ec)) {
    fs::path dir = account->path() / "packages";
    std::error_code dir_ec;
    if (!fs::is_directory(fs::symlink_status(dir, dir_ec))) continue;
    for (fs::directory_iterator it(dir, dir_ec); !dir_ec && it != end; it.increment(dir_ec)) {
      std::error_code entry_ec;
      if (fs::last_write_time(it->path(), entry_ec) > cutoff || entry_ec) continue;
      std::string name = it->path().filename().string();
      if (ValidId(name)) {
        // Renamed first, so a job claiming it meanwhile finds it gone rather than half removed.
        fs::path doomed = dir / (".expire-" + name);
        fs::rename(it->path(), doomed, entry_ec);
        if (entry_ec) continue;
        fs::remove_all(doomed, entry_ec);
        ++expired;
      } else if (name.rfind(".upload-", 0) == 0 || name.rfind(".extract-", 0) == 0 || name.rfind(".expire-", 0) == 0) {
        fs::remove_all(it->path(), entry_ec);
      }
    }
  }
  return expired;
}

}  // namespace paddlecloud::jobs
