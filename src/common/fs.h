// File primitives every module needs, one rule each.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "common/status.h"

namespace paddlecloud::fsutil {

struct WriteOptions {
  int mode = 0644;       // of the new file (the umask does not apply)
  bool durable = true;   // fsync the file and its directory: the new content survives a power loss
};

// Replaces `path` with `content` atomically: readers see the old file or the new one, never a part.
// Writes a uniquely named temporary file beside it, then renames it over `path`; the temporary file
// never remains. Internal "cannot write <path>: <step>: <reason>" on failure. Files that only
// describe running processes may skip durability: they do not survive a power loss either.
Status WriteFileAtomic(const std::string& path, std::string_view content, WriteOptions options = {});

// strerror's text for `err`, thread-safe.
std::string ErrnoText(int err);

// Lower-case hexadecimal of `bytes`.
std::string ToHex(std::string_view bytes);

// An owned file descriptor (-1: none), closed when dropped.
struct Fd {
  int fd = -1;
  explicit Fd(int f = -1) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
  Fd& operator=(Fd&& o) noexcept;
  ~Fd();
};

}  // namespace paddlecloud::fsutil
