#include "files/local/local_file_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>

#include "files/cloud_path.h"

namespace paddlecloud::files {
namespace {

constexpr char kStagingDir[] = ".staging";

// A file descriptor closed when it goes out of scope.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_ = -1;
};

Status ErrnoStatus(int error, std::string_view what, std::string_view key) {
  std::string subject = "'" + std::string(key) + "'";
  switch (error) {
    case ENOENT:
    case ELOOP:     // a symbolic link on the way
    case EXDEV:     // escaping the root
    case ENOTDIR:
      return Status::NotFound("no such file or folder " + subject);
    case EEXIST:
    case ENOTEMPTY:
      return Status::Conflict(subject + " already exists");
    case EISDIR:
      return Status::Conflict(subject + " is a folder");
    case ENOSPC:
    case EDQUOT:
      return Status::InsufficientStorage("the disk is full: cannot " + std::string(what) + " " + subject);
    default:
      return Status::Unavailable("cannot " + std::string(what) + " " + subject + ": " + std::strerror(error));
  }
}

std::int64_t ModifiedNs(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

FileInfo InfoOf(std::string_view name, const struct stat& st) {
  bool folder = S_ISDIR(st.st_mode);
  return {.name = std::string(name), .folder = folder, .size = folder ? 0 : static_cast<std::uint64_t>(st.st_size),
          .modified_ns = ModifiedNs(st)};
}

bool Listable(const struct stat& st) { return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode); }

class LocalReader final : public FileReader {
 public:
  LocalReader(Fd fd, FileInfo info) : fd_(std::move(fd)), info_(std::move(info)) {}
  const FileInfo& info() const override { return info_; }
  Result<std::size_t> ReadAt(std::uint64_t offset, char* data, std::size_t size) override {
    while (true) {
      ssize_t n = ::pread(fd_.get(), data, size, static_cast<off_t>(offset));
      if (n >= 0) return static_cast<std::size_t>(n);
      if (errno != EINTR) return Err(ErrnoStatus(errno, "read", info_.name));
    }
  }
  int native_handle() const override { return fd_.get(); }

 private:
  Fd fd_;
  FileInfo info_;
};

class LocalStagedWriter final : public StagedWriter {
 public:
  LocalStagedWriter(Fd fd, std::uint64_t size, std::string id) : fd_(std::move(fd)), size_(size), id_(std::move(id)) {}
  Status Append(std::string_view data) override {
    while (!data.empty()) {
      ssize_t n = ::write(fd_.get(), data.data(), data.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "write upload", id_);
      }
      data.remove_prefix(static_cast<std::size_t>(n));
      size_ += static_cast<std::uint64_t>(n);
    }
    return Status::Ok();
  }
  std::uint64_t size() const override { return size_; }

 private:
  Fd fd_;
  std::uint64_t size_;
  std::string id_;
};

class LocalFileStore final : public FileStore {
 public:
  LocalFileStore(Fd root, Fd staging, bool has_openat2)
      : root_(std::move(root)), staging_(std::move(staging)), has_openat2_(has_openat2) {}

  Result<FileInfo> Stat(std::string_view key) override {
    Fd fd = OpenBeneath(key, O_PATH);
    if (!fd.ok()) return Err(ErrnoStatus(errno, "open", key));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Err(ErrnoStatus(errno, "stat", key));
    if (!Listable(st)) return Err(Status::NotFound("no such file or folder '" + std::string(key) + "'"));
    return InfoOf(BaseName(key), st);
  }

  Result<std::vector<FileInfo>> List(std::string_view key) override {
    Fd fd = OpenBeneath(key, O_RDONLY | O_DIRECTORY);
    if (!fd.ok()) return Err(ErrnoStatus(errno, "list", key));
    std::vector<FileInfo> out;
    PC_RETURN_IF_ERROR(ForEachEntry(fd.get(), key, [&](const char* name, const struct stat& st) {
      if (key.empty() && std::strcmp(name, kStagingDir) == 0) return Status::Ok();
      if (Listable(st)) out.push_back(InfoOf(name, st));
      return Status::Ok();
    }));
    return out;
  }

  Result<std::unique_ptr<FileReader>> Open(std::string_view key) override {
    Fd fd = OpenBeneath(key, O_RDONLY);
    if (!fd.ok()) return Err(ErrnoStatus(errno, "open", key));
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return Err(ErrnoStatus(errno, "stat", key));
    if (S_ISDIR(st.st_mode)) return Err(Status::Conflict("'" + std::string(key) + "' is a folder"));
    if (!S_ISREG(st.st_mode)) return Err(Status::NotFound("no such file '" + std::string(key) + "'"));
    return std::unique_ptr<FileReader>(new LocalReader(std::move(fd), InfoOf(BaseName(key), st)));
  }

  Status MakeFolder(std::string_view key) override {
    auto folder = MakeFolderAt(key);
    return folder ? Status::Ok() : folder.error();
  }

  Status Move(std::string_view from, std::string_view to) override {
    auto source = OpenParent(from, false);
    if (!source) return source.error();
    struct stat st {};
    if (::fstatat(source->get(), std::string(BaseName(from)).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return ErrnoStatus(errno, "move", from);
    if (!Listable(st)) return Status::NotFound("no such file or folder '" + std::string(from) + "'");
    auto target = OpenParent(to, true);
    if (!target) return target.error();
    if (::renameat2(source->get(), std::string(BaseName(from)).c_str(), target->get(),
                    std::string(BaseName(to)).c_str(), RENAME_NOREPLACE) != 0)
      return ErrnoStatus(errno, "move to", to);
    return Status::Ok();
  }

  Status Copy(std::string_view from, std::string_view to) override {
    auto source = OpenParent(from, false);
    if (!source) return source.error();
    auto target = OpenParent(to, true);
    if (!target) return target.error();
    std::string to_name(BaseName(to));
    struct stat st {};
    if (::fstatat(target->get(), to_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
      return Status::Conflict("'" + std::string(to) + "' already exists");
    Status copied = CopyEntry(source->get(), std::string(BaseName(from)), target->get(), to_name, from);
    if (!copied.ok()) {
      (void)RemoveEntry(target->get(), to_name, true, to);  // nothing partial stays behind
    }
    return copied;
  }

  Status Remove(std::string_view key, bool recursive) override {
    if (key.empty()) return Status::PermissionDenied("the root cannot be removed");
    auto parent = OpenParent(key, false);
    if (!parent) return parent.error();
    return RemoveEntry(parent->get(), std::string(BaseName(key)), recursive, key);
  }

  Result<std::uint64_t> Usage(std::string_view key) override {
    auto entries = Walk(key);
    if (!entries) {
      if (entries.error().code() == Code::kNotFound) return std::uint64_t{0};
      return Err(entries.error());
    }
    std::uint64_t total = 0;
    for (const auto& [path, info] : *entries) total += info.size;
    return total;
  }

  Result<std::unique_ptr<StagedWriter>> OpenStaged(std::string_view id, std::uint64_t offset) override {
    PC_RETURN_IF_ERROR(CheckStagedId(id));
    std::string name(id);
    int flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | (offset == 0 ? O_CREAT | O_TRUNC : 0);
    Fd fd(::openat(staging_.get(), name.c_str(), flags, 0600));
    if (!fd.ok()) return Err(ErrnoStatus(errno, "open upload", id));
    off_t end = ::lseek(fd.get(), 0, SEEK_END);
    if (end < 0) return Err(ErrnoStatus(errno, "seek upload", id));
    if (static_cast<std::uint64_t>(end) != offset)
      return Err(Status::Conflict("the upload is at byte " + std::to_string(end) + ", not " + std::to_string(offset))
                     .WithDetail("offset", std::to_string(end)));
    return std::unique_ptr<StagedWriter>(new LocalStagedWriter(std::move(fd), offset, name));
  }

  Result<std::uint64_t> StagedSize(std::string_view id) override {
    PC_RETURN_IF_ERROR(CheckStagedId(id));
    struct stat st {};
    if (::fstatat(staging_.get(), std::string(id).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
      return Err(ErrnoStatus(errno, "stat upload", id));
    return static_cast<std::uint64_t>(st.st_size);
  }

  Status CommitStaged(std::string_view id, std::string_view key, const std::optional<std::string>& sha256) override {
    PC_RETURN_IF_ERROR(CheckStagedId(id));
    std::string name(id);
    Fd fd(::openat(staging_.get(), name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!fd.ok()) return ErrnoStatus(errno, "open upload", id);
    if (sha256) {
      auto digest = Sha256Hex(fd.get());
      if (!digest) return digest.error();
      if (*digest != *sha256) {
        (void)DiscardStaged(id);
        return Status::InvalidArgument("sha256 of the uploaded bytes is " + *digest + ", not " + *sha256 +
                                           "; the upload was discarded",
                                       "sha256");
      }
    }
    if (::fchmod(fd.get(), 0644) != 0 || ::fsync(fd.get()) != 0) return ErrnoStatus(errno, "sync upload", id);
    auto parent = OpenParent(key, true);
    if (!parent) return parent.error();
    std::string target(BaseName(key));
    struct stat st {};
    if (::fstatat(parent->get(), target.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
      return Status::Conflict("'" + std::string(key) + "' is a folder");
    if (::renameat(staging_.get(), name.c_str(), parent->get(), target.c_str()) != 0)
      return ErrnoStatus(errno, "store", key);
    ::fsync(parent->get());
    return Status::Ok();
  }

  Status DiscardStaged(std::string_view id) override {
    PC_RETURN_IF_ERROR(CheckStagedId(id));
    if (::unlinkat(staging_.get(), std::string(id).c_str(), 0) != 0 && errno != ENOENT)
      return ErrnoStatus(errno, "remove upload", id);
    return Status::Ok();
  }

  Result<std::vector<std::pair<std::string, FileInfo>>> Walk(std::string_view key) override {
    Fd fd = OpenBeneath(key, O_RDONLY | O_DIRECTORY);
    if (!fd.ok()) return Err(ErrnoStatus(errno, "list", key));
    std::vector<std::pair<std::string, FileInfo>> out;
    PC_RETURN_IF_ERROR(WalkFolder(fd.get(), "", key, out));
    return out;
  }

 private:
  static Status CheckStagedId(std::string_view id) {
    if (id.empty() || id.size() > 128) return Status::InvalidArgument("bad upload id");
    for (char c : id)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-')
        return Status::InvalidArgument("bad upload id");
    return Status::Ok();
  }

  Fd OpenBeneath(std::string_view key, int flags) const {
    int final_flags = (flags & O_PATH ? O_PATH : flags) | O_CLOEXEC | O_NOFOLLOW;
    if (!has_openat2_) return OpenByComponents(key, final_flags);
    struct open_how how {};
    how.flags = static_cast<std::uint64_t>(final_flags);
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
    std::string path = key.empty() ? std::string(".") : std::string(key);
    while (true) {
      long fd = ::syscall(SYS_openat2, root_.get(), path.c_str(), &how, sizeof how);
      if (fd >= 0 || errno != EINTR) return Fd(static_cast<int>(fd));
    }
  }

  // Without openat2 (kernels before 5.6, valgrind): one openat per segment, none following a
  // link. Keys never hold ".." (cloud_path.h), so this stays beneath the root too.
  Fd OpenByComponents(std::string_view key, int final_flags) const {
    if (key.empty()) return Fd(::openat(root_.get(), ".", final_flags));
    Fd current(::dup(root_.get()));
    while (current.ok()) {
      auto slash = key.find('/');
      std::string segment(key.substr(0, slash));
      if (slash == std::string_view::npos) return Fd(::openat(current.get(), segment.c_str(), final_flags));
      current = Fd(::openat(current.get(), segment.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      key.remove_prefix(slash + 1);
    }
    return current;
  }

  // The folder at `key`, created with its parents when `create`.
  Result<Fd> MakeFolderAt(std::string_view key) const {
    auto segments = ParseCloudPath(key, "path");
    if (!segments) return Err(segments.error());
    Fd current(::dup(root_.get()));
    if (!current.ok()) return Err(ErrnoStatus(errno, "open", ""));
    std::string so_far;
    for (const std::string& segment : *segments) {
      so_far = JoinPath(so_far, segment);
      if (::mkdirat(current.get(), segment.c_str(), 0755) != 0 && errno != EEXIST)
        return Err(ErrnoStatus(errno, "create folder", so_far));
      Fd next(::openat(current.get(), segment.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!next.ok()) {
        if (errno == ENOTDIR || errno == ELOOP)
          return Err(Status::Conflict("'" + so_far + "' is a file, not a folder"));
        return Err(ErrnoStatus(errno, "open folder", so_far));
      }
      current = std::move(next);
    }
    return current;
  }

  Result<Fd> OpenParent(std::string_view key, bool create) const {
    if (key.empty()) return Err(Status::InvalidArgument("the root has no parent", "path"));
    std::string_view parent = ParentPath(key);
    if (create) return MakeFolderAt(parent);
    Fd fd = OpenBeneath(parent, O_RDONLY | O_DIRECTORY);
    if (!fd.ok()) return Err(ErrnoStatus(errno, "open", key));
    return fd;
  }

  // Calls `visit` with each entry of the open folder `dir` (not following links).
  static Status ForEachEntry(int dir, std::string_view key,
                             const std::function<Status(const char*, const struct stat&)>& visit) {
    int copy = ::dup(dir);
    if (copy < 0) return ErrnoStatus(errno, "list", key);
    DIR* stream = ::fdopendir(copy);
    if (!stream) {
      ::close(copy);
      return ErrnoStatus(errno, "list", key);
    }
    Status result;
    while (struct dirent* entry = ::readdir(stream)) {
      if (std::strcmp(entry->d_name, ".") == 0 || std::strcmp(entry->d_name, "..") == 0) continue;
      if (!IsValidUtf8(entry->d_name)) continue;  // unreachable through the API; never listed
      struct stat st {};
      if (::fstatat(dir, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;  // removed meanwhile
      result = visit(entry->d_name, st);
      if (!result.ok()) break;
    }
    ::closedir(stream);
    return result;
  }

  static Status WalkFolder(int dir, const std::string& prefix, std::string_view key,
                           std::vector<std::pair<std::string, FileInfo>>& out) {
    return ForEachEntry(dir, key, [&](const char* name, const struct stat& st) -> Status {
      if (!Listable(st)) return Status::Ok();
      std::string path = JoinPath(prefix, name);
      out.emplace_back(path, InfoOf(name, st));
      if (!S_ISDIR(st.st_mode)) return Status::Ok();
      Fd child(::openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!child.ok()) return Status::Ok();
      return WalkFolder(child.get(), path, key, out);
    });
  }

  static Status RemoveEntry(int parent, const std::string& name, bool recursive, std::string_view key) {
    struct stat st {};
    if (::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return ErrnoStatus(errno, "remove", key);
    if (!S_ISDIR(st.st_mode)) {
      if (::unlinkat(parent, name.c_str(), 0) != 0) return ErrnoStatus(errno, "remove", key);
      return Status::Ok();
    }
    if (recursive) {
      Fd dir(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!dir.ok()) return ErrnoStatus(errno, "remove", key);
      std::vector<std::string> names;
      PC_RETURN_IF_ERROR(ForEachEntry(dir.get(), key, [&](const char* child, const struct stat&) {
        names.emplace_back(child);
        return Status::Ok();
      }));
      for (const auto& child : names) PC_RETURN_IF_ERROR(RemoveEntry(dir.get(), child, true, key));
    }
    if (::unlinkat(parent, name.c_str(), AT_REMOVEDIR) != 0) {
      if (errno == ENOTEMPTY || errno == EEXIST)
        return Status::Conflict("folder '" + std::string(key) + "' is not empty").WithDetail("reason", "folder_not_empty");
      return ErrnoStatus(errno, "remove", key);
    }
    return Status::Ok();
  }

  static Status CopyFileData(int in, int out, std::string_view key) {
    while (true) {
      ssize_t n = ::copy_file_range(in, nullptr, out, nullptr, 1 << 30, 0);
      if (n == 0) return Status::Ok();
      if (n > 0) continue;
      if (errno == EINTR) continue;
      if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return ErrnoStatus(errno, "copy", key);
      break;
    }
    std::string buffer(1 << 20, '\0');  // fallback for filesystems without copy_file_range
    while (true) {
      ssize_t n = ::read(in, buffer.data(), buffer.size());
      if (n == 0) return Status::Ok();
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, "copy", key);
      }
      for (ssize_t done = 0; done < n;) {
        ssize_t w = ::write(out, buffer.data() + done, static_cast<std::size_t>(n - done));
        if (w < 0) {
          if (errno == EINTR) continue;
          return ErrnoStatus(errno, "copy", key);
        }
        done += w;
      }
    }
  }

  static Status CopyEntry(int from_dir, const std::string& from_name, int to_dir, const std::string& to_name,
                          std::string_view key) {
    struct stat st {};
    if (::fstatat(from_dir, from_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return ErrnoStatus(errno, "copy", key);
    if (S_ISREG(st.st_mode)) {
      Fd in(::openat(from_dir, from_name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      if (!in.ok()) return ErrnoStatus(errno, "copy", key);
      Fd out(::openat(to_dir, to_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (!out.ok()) return ErrnoStatus(errno, "copy to", to_name);
      return CopyFileData(in.get(), out.get(), key);
    }
    if (!S_ISDIR(st.st_mode)) return Status::Ok();  // links and devices are not part of a space
    Fd in(::openat(from_dir, from_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!in.ok()) return ErrnoStatus(errno, "copy", key);
    if (::mkdirat(to_dir, to_name.c_str(), 0755) != 0) return ErrnoStatus(errno, "copy to", to_name);
    Fd out(::openat(to_dir, to_name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!out.ok()) return ErrnoStatus(errno, "copy to", to_name);
    std::vector<std::string> names;
    PC_RETURN_IF_ERROR(ForEachEntry(in.get(), key, [&](const char* child, const struct stat&) {
      names.emplace_back(child);
      return Status::Ok();
    }));
    for (const auto& child : names) PC_RETURN_IF_ERROR(CopyEntry(in.get(), child, out.get(), child, key));
    return Status::Ok();
  }

  static Result<std::string> Sha256Hex(int fd) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
      return Err(Status::Internal("sha256 unavailable"));
    std::string buffer(1 << 20, '\0');
    off_t offset = 0;
    while (true) {
      ssize_t n = ::pread(fd, buffer.data(), buffer.size(), offset);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Err(ErrnoStatus(errno, "read upload", "sha256"));
      if (n == 0) break;
      EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(n));
      offset += n;
    }
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    EVP_DigestFinal_ex(ctx.get(), digest, &length);
    std::string hex;
    char pair[3];
    for (unsigned int i = 0; i < length; ++i) {
      std::snprintf(pair, sizeof pair, "%02x", digest[i]);
      hex += pair;
    }
    return hex;
  }

  Fd root_;
  Fd staging_;
  bool has_openat2_;
};

}  // namespace

Result<std::unique_ptr<FileStore>> MakeLocalFileStore(const std::string& root, bool use_openat2) {
  if (::mkdir(root.c_str(), 0755) != 0 && errno != EEXIST)
    return Err(Status::Unavailable("cannot create file store '" + root + "': " + std::strerror(errno)));
  Fd root_fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root_fd.ok()) return Err(Status::Unavailable("cannot open file store '" + root + "': " + std::strerror(errno)));
  if (::mkdirat(root_fd.get(), kStagingDir, 0700) != 0 && errno != EEXIST)
    return Err(Status::Unavailable("cannot create '" + root + "/" + kStagingDir + "': " + std::strerror(errno)));
  Fd staging(::openat(root_fd.get(), kStagingDir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!staging.ok())
    return Err(Status::Unavailable("cannot open '" + root + "/" + kStagingDir + "': " + std::strerror(errno)));
  struct open_how how {};
  how.flags = O_PATH | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH;
  Fd probe(use_openat2 ? static_cast<int>(::syscall(SYS_openat2, root_fd.get(), ".", &how, sizeof how)) : -1);
  return std::unique_ptr<FileStore>(new LocalFileStore(std::move(root_fd), std::move(staging), probe.ok()));
}

}  // namespace paddlecloud::files
