#include "http/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <map>

#include "http/json.h"

namespace paddlecloud::http {
namespace {

class EmbeddedAssetSource final : public AssetSource {
 public:
  explicit EmbeddedAssetSource(std::span<const EmbeddedFile> files) {
    for (const auto& f : files) files_.emplace(f.path, &f);
  }
  std::optional<Asset> Find(std::string_view path) const override {
    auto it = files_.find(path);
    if (it == files_.end()) return std::nullopt;
    const EmbeddedFile& f = *it->second;
    Asset a;
    a.data = f.data;
    a.size = f.data.size();
    a.etag = std::string(f.etag);
    a.content_type = std::string(MimeTypeFor(f.path));
    return a;
  }

 private:
  std::map<std::string_view, const EmbeddedFile*, std::less<>> files_;
};

class DirectoryAssetSource final : public AssetSource {
 public:
  explicit DirectoryAssetSource(std::string root) {
    char resolved[PATH_MAX];
    root_ = ::realpath(root.c_str(), resolved) ? std::string(resolved) : root;
  }
  std::optional<Asset> Find(std::string_view path) const override {
    if (path.find("..") != std::string_view::npos || path.find('\0') != std::string_view::npos) return std::nullopt;
    std::string candidate = root_ + "/" + std::string(path);
    char resolved[PATH_MAX];
    if (!::realpath(candidate.c_str(), resolved)) return std::nullopt;
    std::string real(resolved);
    if (real.rfind(root_ + "/", 0) != 0) return std::nullopt;
    struct stat st {};
    if (::stat(real.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    Asset a;
    a.file = real;
    a.size = static_cast<std::uint64_t>(st.st_size);
    char etag[64];
    std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(st.st_size),
                  static_cast<unsigned long long>(st.st_mtim.tv_sec * 1000000000ll + st.st_mtim.tv_nsec));
    a.etag = etag;
    a.content_type = std::string(MimeTypeFor(path));
    return a;
  }

 private:
  std::string root_;
};

bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  if (if_none_match == "*") return true;
  while (!if_none_match.empty()) {
    auto comma = if_none_match.find(',');
    std::string_view candidate = if_none_match.substr(0, comma);
    while (!candidate.empty() && candidate.front() == ' ') candidate.remove_prefix(1);
    while (!candidate.empty() && candidate.back() == ' ') candidate.remove_suffix(1);
    if (candidate.starts_with("W/")) candidate.remove_prefix(2);
    if (candidate == etag) return true;
    if (comma == std::string_view::npos) break;
    if_none_match.remove_prefix(comma + 1);
  }
  return false;
}

bool ParseU64(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::unique_ptr<AssetSource> MakeEmbeddedAssetSource(std::span<const EmbeddedFile> files) {
  return std::make_unique<EmbeddedAssetSource>(files);
}

std::unique_ptr<AssetSource> MakeDirectoryAssetSource(std::string root) {
  return std::make_unique<DirectoryAssetSource>(std::move(root));
}

std::string_view MimeTypeFor(std::string_view path) {
  static const std::map<std::string_view, std::string_view> kTypes = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"map", "application/json"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"gif", "image/gif"},
      {"webp", "image/webp"},
      {"ico", "image/x-icon"},
      {"woff", "font/woff"},
      {"woff2", "font/woff2"},
      {"txt", "text/plain; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"md", "text/markdown; charset=utf-8"},
      {"py", "text/x-python; charset=utf-8"},
      {"yaml", "application/yaml"},
      {"yml", "application/yaml"},
      {"pdf", "application/pdf"},
      {"zip", "application/zip"},
      {"gz", "application/gzip"},
      {"tgz", "application/gzip"},
      {"tar", "application/x-tar"},
      {"wasm", "application/wasm"},
  };
  auto slash = path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return "application/octet-stream";
  std::string ext(name.substr(dot + 1));
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  auto it = kTypes.find(ext);
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

Result<std::optional<ByteRange>> ParseRange(std::string_view header, std::uint64_t size) {
  if (!header.starts_with("bytes=")) return std::optional<ByteRange>();
  std::string_view spec = header.substr(6);
  if (spec.find(',') != std::string_view::npos) return std::optional<ByteRange>();
  auto dash = spec.find('-');
  if (dash == std::string_view::npos) return std::optional<ByteRange>();
  std::string_view first_text = spec.substr(0, dash), last_text = spec.substr(dash + 1);
  auto unsatisfiable = [&] {
    return Err(Status::Of(Code::kRangeNotSatisfiable, "range " + std::string(header) + " is outside the " +
                                                          std::to_string(size) + "-byte resource"));
  };
  ByteRange range;
  if (first_text.empty()) {  // suffix: the last N bytes
    std::uint64_t n = 0;
    if (!ParseU64(last_text, n)) return std::optional<ByteRange>();
    if (n == 0 || size == 0) return unsatisfiable();
    range.first = n >= size ? 0 : size - n;
    range.last = size - 1;
    return std::optional<ByteRange>(range);
  }
  if (!ParseU64(first_text, range.first)) return std::optional<ByteRange>();
  if (last_text.empty()) {
    range.last = size ? size - 1 : 0;
  } else if (!ParseU64(last_text, range.last) || range.last < range.first) {
    return std::optional<ByteRange>();
  }
  if (range.first >= size) return unsatisfiable();
  if (range.last >= size) range.last = size - 1;
  return std::optional<ByteRange>(range);
}

Response MakeFileStreamResponse(blocking::WorkPool& pool, std::string path, std::uint64_t offset,
                                std::uint64_t length) {
  Response r;
  r.content_length = length;
  r.stream = [&pool, path = std::move(path), offset, length](ResponseStream& out) -> boost::asio::awaitable<void> {
    int fd = co_await pool.Run([&] { return ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW); });
    if (fd < 0) co_return;  // the short body makes the server close the connection
    constexpr std::size_t kChunk = 256 * 1024;
    std::string buffer(kChunk, '\0');
    std::uint64_t position = offset, remaining = length;
    while (remaining > 0) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, remaining));
      ssize_t got = co_await pool.Run([&] { return ::pread(fd, buffer.data(), want, static_cast<off_t>(position)); });
      if (got <= 0) break;
      if (!co_await out.Write(std::string_view(buffer.data(), static_cast<std::size_t>(got)))) break;
      position += static_cast<std::uint64_t>(got);
      remaining -= static_cast<std::uint64_t>(got);
    }
    ::close(fd);
  };
  return r;
}

Handler MakeWebAppHandler(std::shared_ptr<const AssetSource> assets, blocking::WorkPool& pool) {
  return [assets = std::move(assets), &pool](Request& request) -> boost::asio::awaitable<Response> {
    std::string_view path = request.path;
    while (!path.empty() && path.front() == '/') path.remove_prefix(1);
    if (path.starts_with("api/") || path == "api")
      co_return ErrorResponse(Status::NotFound("no such route: " + request.method + " " + request.path));
    if (path.empty()) path = "index.html";

    std::optional<Asset> asset = co_await pool.Run([&] { return assets->Find(path); });
    bool app_route = false;
    if (!asset) {
      auto slash = path.rfind('/');
      std::string_view last = slash == std::string_view::npos ? path : path.substr(slash + 1);
      if (last.find('.') != std::string_view::npos)
        co_return ErrorResponse(Status::NotFound("no such file: " + request.path));
      asset = co_await pool.Run([&] { return assets->Find("index.html"); });
      if (!asset) co_return ErrorResponse(Status::NotFound("the web UI is not built into this binary"));
      app_route = true;
    }

    Response r;
    r.headers.Set("Content-Type", asset->content_type);
    r.headers.Set("ETag", asset->etag);
    r.headers.Set("Accept-Ranges", "bytes");
    bool immutable = !app_route && path.starts_with("assets/");
    r.headers.Set("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "no-cache");
    if (auto inm = request.headers.Get("If-None-Match"); inm && EtagMatches(*inm, asset->etag)) {
      r.status = 304;
      r.headers.Remove("Content-Type");
      co_return r;
    }

    std::uint64_t offset = 0, length = asset->size;
    auto range_header = request.headers.Get("Range");
    auto if_range = request.headers.Get("If-Range");
    if (range_header && (!if_range || *if_range == asset->etag)) {
      auto range = ParseRange(*range_header, asset->size);
      if (!range) {
        Response e = ErrorResponse(range.error());
        e.headers.Set("Content-Range", "bytes */" + std::to_string(asset->size));
        co_return e;
      }
      if (*range) {
        offset = (*range)->first;
        length = (*range)->length();
        r.status = 206;
        r.headers.Set("Content-Range", "bytes " + std::to_string(offset) + "-" + std::to_string((*range)->last) + "/" +
                                           std::to_string(asset->size));
      }
    }

    if (!asset->file.empty()) {
      Response streamed = MakeFileStreamResponse(pool, asset->file, offset, length);
      streamed.status = r.status;
      streamed.headers = std::move(r.headers);
      co_return streamed;
    }
    r.body = std::string(asset->data.substr(offset, length));
    co_return r;
  };
}

}  // namespace paddlecloud::http
