#include "jobs/log_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace paddlecloud::jobs {
namespace {

class File {
 public:
  explicit File(const std::string& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) {}
  ~File() {
    if (fd_ >= 0) ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

Status OpenError(const std::string& path) {
  if (errno == ENOENT) return Status::NotFound("no log yet");
  return Status::Unavailable("cannot read log " + path + ": " + std::strerror(errno));
}

}  // namespace

Result<LogChunk> TailLines(const std::string& path, std::size_t lines) {
  File file(path);
  if (file.fd() < 0) return Err(OpenError(path));
  struct stat st {};
  if (::fstat(file.fd(), &st) != 0) return Err(Status::Unavailable("cannot stat log " + path));
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  LogChunk chunk{.text = "", .offset = size, .size = size};
  if (lines == 0 || size == 0) return chunk;

  constexpr std::size_t kBlock = 64 * 1024;
  std::string tail;  // grows backwards from the end, block by block
  std::uint64_t start = size;
  std::size_t newlines = 0;
  // A final '\n' ends the last line rather than starting an empty one.
  bool skip_final_newline = true;
  while (start > 0) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kBlock, start));
    std::string block(want, '\0');
    ssize_t got = ::pread(file.fd(), block.data(), want, static_cast<off_t>(start - want));
    if (got != static_cast<ssize_t>(want)) return Err(Status::Unavailable("cannot read log " + path));
    for (std::size_t i = want; i-- > 0;) {
      if (block[i] != '\n') continue;
      if (skip_final_newline && start - want + i == size - 1) continue;
      if (++newlines == lines) {
        tail.insert(0, block, i + 1, std::string::npos);
        chunk.offset = start - want + i + 1;
        chunk.text = std::move(tail);
        return chunk;
      }
    }
    skip_final_newline = false;
    tail.insert(0, block);
    start -= want;
  }
  chunk.offset = 0;
  chunk.text = std::move(tail);
  return chunk;
}

Result<LogChunk> ReadLogRange(const std::string& path, std::uint64_t offset, std::size_t max_bytes) {
  File file(path);
  if (file.fd() < 0) return Err(OpenError(path));
  struct stat st {};
  if (::fstat(file.fd(), &st) != 0) return Err(Status::Unavailable("cannot stat log " + path));
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  LogChunk chunk{.text = "", .offset = offset, .size = size};
  if (offset >= size) return chunk;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(max_bytes, size - offset));
  chunk.text.resize(want);
  ssize_t got = ::pread(file.fd(), chunk.text.data(), want, static_cast<off_t>(offset));
  if (got < 0) return Err(Status::Unavailable("cannot read log " + path));
  chunk.text.resize(static_cast<std::size_t>(got));
  return chunk;
}

}  // namespace paddlecloud::jobs
