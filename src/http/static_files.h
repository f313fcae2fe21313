// Static files: the web app's assets (embedded in the binary or from a directory), and the pieces
// every file download shares: MIME types, Range parsing and streaming a file from disk.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "blocking/work_pool.h"
#include "common/status.h"
#include "http/message.h"

namespace paddlecloud::http {

// A file compiled into the binary (see src/webassets/).
struct EmbeddedFile {
  std::string_view path;  // relative: "index.html", "assets/index-3f2a.js"
  std::string_view data;
  std::string_view etag;  // quoted content hash
};

struct Asset {
  std::string_view data;   // embedded bytes; empty when `file` is set
  std::string file;        // absolute path when served from disk
  std::uint64_t size = 0;
  std::string etag;        // quoted
  std::string content_type;
};

class AssetSource {
 public:
  virtual ~AssetSource() = default;
  // `path` is relative ("index.html"); nullopt when there is no such regular file.
  virtual std::optional<Asset> Find(std::string_view path) const = 0;
};

std::unique_ptr<AssetSource> MakeEmbeddedAssetSource(std::span<const EmbeddedFile> files);
// Serves files under `root` only: a symlink pointing outside it is treated as absent.
std::unique_ptr<AssetSource> MakeDirectoryAssetSource(std::string root);

// The single-page web app: GET/HEAD of an asset serves it (ETag, If-None-Match -> 304, Range ->
// 206/416); a path that is not an asset and does not look like a file name gets index.html, so
// client-side routes survive a reload. Hashed files under assets/ are cached for a year.
Handler MakeWebAppHandler(std::shared_ptr<const AssetSource> assets, blocking::WorkPool& pool);

// MIME type by file extension; application/octet-stream when unknown.
std::string_view MimeTypeFor(std::string_view path);

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
  std::uint64_t length() const { return last - first + 1; }
};
// Parses a Range header against a resource of `size` bytes. nullopt: serve the whole resource
// (no header, a unit other than bytes, or several ranges). kRangeNotSatisfiable when no byte of
// the range exists.
Result<std::optional<ByteRange>> ParseRange(std::string_view header, std::uint64_t size);

// A response streaming `length` bytes of `path` from `offset`, read on the blocking pool in
// bounded chunks. Headers other than Content-Length are the caller's.
Response MakeFileStreamResponse(blocking::WorkPool& pool, std::string path, std::uint64_t offset,
                                std::uint64_t length);

}  // namespace paddlecloud::http
