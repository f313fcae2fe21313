// Reading pod logs without loading them: the last N lines (read backwards from the end in blocks,
// so a multi-GiB log costs what the tail costs), and byte ranges. Blocking: use the blocking pool.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace paddlecloud::jobs {

struct LogChunk {
  std::string text;
  std::uint64_t offset = 0;  // where `text` starts in the file
  std::uint64_t size = 0;    // the file's size when read (the next follow offset)
};

// The last `lines` lines (a final line without '\n' counts). NotFound when the file is missing.
Result<LogChunk> TailLines(const std::string& path, std::size_t lines);
// Up to `max_bytes` from `offset`; empty text at or past the end.
Result<LogChunk> ReadLogRange(const std::string& path, std::uint64_t offset, std::size_t max_bytes);

}  // namespace paddlecloud::jobs
