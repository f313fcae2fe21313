#include "common/fs.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace paddlecloud::fsutil {

namespace {

std::string DirectoryOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace

Status WriteFileAtomic(const std::string& path, std::string_view content, WriteOptions options) {
  std::string pattern = path + ".tmp-XXXXXX";
  std::vector<char> temp(pattern.begin(), pattern.end());
  temp.push_back('\0');
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) return Status::Internal("cannot write " + path + ": create a temporary file: " + ErrnoText(errno));
  auto fail = [&](const char* step) {
    int err = errno;
    if (fd >= 0) ::close(fd);
    ::unlink(temp.data());
    return Status::Internal("cannot write " + path + ": " + step + ": " + ErrnoText(err));
  };
  if (::fchmod(fd, static_cast<mode_t>(options.mode)) != 0) return fail("chmod");
  if (!WriteAll(fd, content)) return fail("write");
  if (options.durable && ::fsync(fd) != 0) return fail("fsync");
  int closed = ::close(fd);
  fd = -1;
  if (closed != 0) return fail("close");
  if (::rename(temp.data(), path.c_str()) != 0) return fail("rename");
  if (options.durable) {
    if (int dir = ::open(DirectoryOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dir >= 0) {
      ::fsync(dir);  // the rename itself survives a crash
      ::close(dir);
    }
  }
  return Status::Ok();
}

std::string ErrnoText(int err) {
  char buf[256];
  return ::strerror_r(err, buf, sizeof buf);  // GNU: returns the message, in buf or static
}

std::string ToHex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

Fd& Fd::operator=(Fd&& o) noexcept {
  if (fd >= 0) ::close(fd);
  fd = std::exchange(o.fd, -1);
  return *this;
}

Fd::~Fd() {
  if (fd >= 0) ::close(fd);
}

}  // namespace paddlecloud::fsutil
