#include "files/cloud_path.h"

namespace paddlecloud::files {

Result<std::vector<std::string>> ParseCloudPath(std::string_view path, const std::string& field) {
  auto invalid = [&](const std::string& why) {
    return Err(Status::InvalidArgument(field + " '" + std::string(path.substr(0, 200)) + "' " + why, field));
  };
  if (path.size() > 4096) return invalid("is longer than 4096 bytes");
  if (path.starts_with('/')) return invalid("must be relative (no leading '/')");
  while (path.ends_with('/')) path.remove_suffix(1);
  std::vector<std::string> segments;
  if (path.empty()) return segments;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view segment = path.substr(start, end - start);
    if (segment.empty()) return invalid("has an empty segment ('//')");
    if (segment == "." || segment == "..") return invalid("may not contain '.' or '..' segments");
    if (segment.size() > 255) return invalid("has a name longer than 255 bytes");
    if (!IsValidUtf8(segment)) return invalid("is not valid UTF-8");
    for (char c : segment) {
      if (c == '\0') return invalid("may not contain NUL");
      if (c == '\\') return invalid("may not contain backslashes");
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return invalid("may not contain control characters");
    }
    segments.emplace_back(segment);
    start = end + 1;
  }
  return segments;
}

std::string JoinSegments(const std::vector<std::string>& segments, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < segments.size() && i < to; ++i) {
    if (!out.empty()) out += '/';
    out += segments[i];
  }
  return out;
}

std::string JoinPath(std::string_view parent, std::string_view child) {
  if (parent.empty()) return std::string(child);
  if (child.empty()) return std::string(parent);
  std::string out(parent);
  out += '/';
  out += child;
  return out;
}

std::string_view BaseName(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view ParentPath(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

}  // namespace paddlecloud::files
