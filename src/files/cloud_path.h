// Cloud paths: what users write ("datasets/mnist/train.csv") and what the FileStore gets as keys.
//
// A valid path is relative, `/`-separated UTF-8 without empty, "." or ".." segments, NUL,
// backslashes or control characters, each segment at most 255 bytes and the whole at most 4096.
// A trailing `/` is tolerated. The empty path is the root.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "common/utf8.h"

namespace paddlecloud::files {

// The segments of `path`; InvalidArgument naming `field` and saying what is wrong.
Result<std::vector<std::string>> ParseCloudPath(std::string_view path, const std::string& field = "path");

// Segments [from, to) joined with '/'.
std::string JoinSegments(const std::vector<std::string>& segments, std::size_t from = 0,
                         std::size_t to = std::string::npos);

// "a/b" + "c" -> "a/b/c"; either side may be empty.
std::string JoinPath(std::string_view parent, std::string_view child);

// The last segment ("c" of "a/b/c"); the parent ("a/b").
std::string_view BaseName(std::string_view path);
std::string_view ParentPath(std::string_view path);

}  // namespace paddlecloud::files
