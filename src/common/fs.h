// File primitives every module needs, one rule each.
#pragma once

#include <string>
#include <string_view>

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

}  // namespace paddlecloud::fsutil
