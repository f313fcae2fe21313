// The bytes of a tar stream (POSIX pax), produced entry by entry so a folder can be downloaded as
// one archive without building it anywhere: header, the file's bytes, padding; the end marker last.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace paddlecloud::files {

// The header block(s) of one entry. Names over 100 bytes, non-ASCII names and sizes of 8 GiB
// and more get a pax extended header first.
std::string TarHeader(std::string_view path, bool folder, std::uint64_t size, std::int64_t mtime_seconds);
// Zero bytes that follow `size` bytes of content to fill the last 512-byte block.
std::string TarPadding(std::uint64_t size);
// Two zero blocks: the end of the archive.
std::string TarEnd();

}  // namespace paddlecloud::files
