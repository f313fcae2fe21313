#include "api/file_routes.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <charconv>
#include <ctime>
#include <regex>

#include "api/auth_middleware.h"
#include "files/cloud_path.h"
#include "files/tar_format.h"
#include "http/json.h"
#include "http/static_files.h"

namespace paddlecloud::api {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using files::FileService;
using http::ErrorResponse;
using http::JsonResponse;
using http::Request;
using http::Response;

json::value OptionalInt(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::object EntryJson(const files::Entry& e) {
  json::object o{{"name", e.name},
                 {"path", e.path},
                 {"kind", e.folder ? "folder" : "file"},
                 {"size", e.folder ? json::value(nullptr) : json::value(e.size)},
                 {"modified_at", e.modified_ns ? json::value(e.modified_ns / 1'000'000'000) : json::value(nullptr)},
                 {"uploaded_by", e.uploaded_by.empty() ? json::value(nullptr) : json::value(e.uploaded_by)},
                 {"writable", e.writable}};
  o["content_type"] = e.folder ? json::value(nullptr) : json::value(http::MimeTypeFor(e.name));
  return o;
}

std::string Etag(const files::Entry& e) {
  char etag[64];
  std::snprintf(etag, sizeof etag, "\"%llx-%llx\"", static_cast<unsigned long long>(e.size),
                static_cast<unsigned long long>(e.modified_ns));
  return etag;
}

json::object ListingJson(const files::Listing& l) {
  json::array entries;
  for (const auto& e : l.entries) entries.push_back(EntryJson(e));
  json::object o = EntryJson(l.folder);
  if (!l.folder.folder) {
    o["etag"] = Etag(l.folder);
    return o;
  }
  o["entries"] = std::move(entries);
  o["total"] = l.total;
  o["next_cursor"] = l.next_offset ? json::value(std::to_string(*l.next_offset)) : json::value(nullptr);
  return o;
}

json::object UploadJson(const files::Upload& u) {
  json::object o{{"id", u.id},
                 {"path", u.path},
                 {"size", u.size ? json::value(*u.size) : json::value(nullptr)},
                 {"offset", u.offset},
                 {"expires_at", u.expires_at},
                 {"complete", u.complete}};
  if (u.file) o["file"] = EntryJson(*u.file);
  return o;
}

json::object ShareJson(const files::Share& s) {
  return {{"id", s.id},
          {"owner_account", s.owner_account},
          {"path", s.path},
          {"kind", s.folder ? "folder" : "file"},
          {"account", s.account.empty() ? json::value(nullptr) : json::value(s.account)},
          {"link", s.link_token.empty() ? json::value(nullptr) : json::value("/s/" + s.link_token)},
          {"mount", s.mount()},
          {"expires_at", OptionalInt(s.expires_at)},
          {"created_at", s.created_at},
          {"created_by", s.created_by}};
}

// "share.created" / "share.link_created" ...: a link is audited apart, as anyone holding it reads.
std::string ShareAuditEvent(const files::Share& s, const std::string& what) {
  return std::string(s.account.empty() ? "share.link_" : "share.") + what;
}

// What the audit log keeps of a share: never the link's token, which is the secret.
json::object ShareAuditDetails(const files::Share& s) {
  json::object details{{"id", s.id}, {"path", s.path}};
  if (!s.account.empty()) details["account"] = s.account;
  if (s.expires_at) details["expires_at"] = *s.expires_at;
  return details;
}

json::object PublicationAuditDetails(const files::Publication& p) {
  return {{"id", p.id}, {"kind", p.kind}, {"name", p.name}, {"version", p.version}};
}

json::object PublicationJson(const files::Publication& p) {
  return {{"id", p.id},           {"kind", p.kind},
          {"name", p.name},       {"version", p.version},
          {"description", p.description}, {"account", p.account},
          {"published_by", p.published_by}, {"published_at", p.published_at},
          {"path", p.path()},     {"files", p.files},
          {"bytes", p.bytes}};
}

Result<std::int64_t> IdParam(const Request& request, const std::string& name, const std::string& what) {
  std::string_view text = request.PathParam(name);
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0)
    return Err(Status::NotFound("no " + what + " '" + std::string(text) + "'"));
  return id;
}

// A non-negative integer query parameter, or `fallback` when absent.
Result<std::int64_t> QueryCount(const Request& request, const std::string& name, std::int64_t fallback) {
  auto v = request.Query(name);
  if (!v || v->empty()) return fallback;
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size() || n < 0)
    return Err(Status::InvalidArgument(name + " must be a non-negative integer", name));
  return n;
}

Result<files::ListOptions> ListOptionsOf(const Request& request) {
  files::ListOptions o;
  o.sort = std::string(request.Query("sort").value_or("name"));
  std::string order(request.Query("order").value_or("asc"));
  if (order != "asc" && order != "desc") return Err(Status::InvalidArgument("order must be asc or desc", "order"));
  o.descending = order == "desc";
  auto limit = QueryCount(request, "limit", o.limit);
  if (!limit) return Err(limit.error());
  auto cursor = QueryCount(request, "cursor", 0);
  if (!cursor) return Err(cursor.error());
  o.limit = static_cast<int>(std::min<std::int64_t>(*limit, 100000));
  o.offset = static_cast<std::size_t>(*cursor);
  return o;
}

std::string HttpTime(std::int64_t seconds) {
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

// attachment/inline with an ASCII fallback name and the exact UTF-8 name (RFC 6266 / 5987).
std::string ContentDisposition(bool inline_view, std::string_view name) {
  std::string ascii, encoded;
  for (unsigned char c : name) {
    ascii += (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') ? static_cast<char>(c) : '_';
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_') {
      encoded += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      encoded += hex;
    }
  }
  return std::string(inline_view ? "inline" : "attachment") + "; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

bool SafeInline(std::string_view content_type) {
  for (std::string_view safe : {"image/png", "image/jpeg", "image/gif", "image/webp", "text/plain", "text/csv",
                                "application/json"})
    if (content_type.starts_with(safe)) return true;
  return false;
}

// Streams a folder as a tar archive whose entries sit under `root_name/`.
asio::awaitable<void> StreamTar(files::FileStore& store, blocking::WorkPool& pool, std::string key, std::string root_name,
                                std::vector<std::pair<std::string, files::FileInfo>> entries, http::ResponseStream& out) {
  std::string buffer(256 * 1024, '\0');
  auto seconds = [](std::int64_t ns) { return ns / 1'000'000'000; };
  for (const auto& [relative, info] : entries) {
    std::string name = files::JoinPath(root_name, relative);
    if (info.folder) {
      if (!co_await out.Write(files::TarHeader(name, true, 0, seconds(info.modified_ns)))) co_return;
      continue;
    }
    auto reader = co_await pool.Run([&] { return store.Open(files::JoinPath(key, relative)); });
    if (!reader) continue;  // removed meanwhile: left out of the archive
    std::uint64_t size = (*reader)->info().size;
    if (!co_await out.Write(files::TarHeader(name, false, size, seconds(info.modified_ns)))) co_return;
    std::uint64_t sent = 0;
    while (sent < size) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size - sent));
      auto n = co_await pool.Run([&] { return (*reader)->ReadAt(sent, buffer.data(), want); });
      std::size_t got = n ? *n : 0;
      if (got == 0) {  // the file shrank while we sent it: keep the archive well-formed
        std::fill_n(buffer.data(), want, '\0');
        got = want;
      }
      if (!co_await out.Write(std::string_view(buffer.data(), got))) co_return;
      sent += got;
    }
    if (!co_await out.Write(files::TarPadding(size))) co_return;
  }
  co_await out.Write(files::TarEnd());
}

asio::awaitable<Response> DownloadResponse(FileService& files, blocking::WorkPool& pool, const Request& request,
                                           files::Readable readable) {
  const files::Entry& entry = readable.entry;
  if (entry.folder) {
    auto walked = co_await pool.Run([&] { return files.store().Walk(readable.key); });
    if (!walked) co_return ErrorResponse(walked.error());
    std::string root_name = entry.name.empty() ? "files" : entry.name;
    Response r;
    r.headers.Set("Content-Type", "application/x-tar");
    r.headers.Set("Content-Disposition", ContentDisposition(false, root_name + ".tar"));
    r.stream = [&files, &pool, key = readable.key, root_name, entries = std::move(*walked)](http::ResponseStream& out) {
      return StreamTar(files.store(), pool, key, root_name, entries, out);
    };
    co_return r;
  }
  std::string content_type(http::MimeTypeFor(entry.name));
  std::string etag = Etag(entry);
  Response r;
  r.headers.Set("ETag", etag);
  r.headers.Set("Last-Modified", HttpTime(entry.modified_ns / 1'000'000'000));
  r.headers.Set("Accept-Ranges", "bytes");
  r.headers.Set("Cache-Control", "private, no-cache");
  if (auto match = request.headers.Get("If-None-Match"); match && (*match == etag || *match == "*")) {
    r.status = 304;
    co_return r;
  }
  bool inline_view = request.Query("inline").value_or("") == "1" && SafeInline(content_type);
  r.headers.Set("Content-Type", content_type);
  r.headers.Set("Content-Disposition", ContentDisposition(inline_view, entry.name));
  std::uint64_t offset = 0, length = entry.size;
  if (auto header = request.headers.Get("Range")) {
    auto range = http::ParseRange(*header, entry.size);
    if (!range) {
      Response bad = ErrorResponse(range.error());
      bad.headers.Set("Content-Range", "bytes */" + std::to_string(entry.size));
      co_return bad;
    }
    if (*range) {
      offset = (*range)->first;
      length = (*range)->length();
      r.status = 206;
      r.headers.Set("Content-Range", "bytes " + std::to_string((*range)->first) + "-" + std::to_string((*range)->last) +
                                         "/" + std::to_string(entry.size));
    }
  }
  r.content_length = length;
  std::shared_ptr<files::FileReader> reader = std::move(readable.reader);
  if (reader->native_handle() >= 0) {
    r.file_fd = reader->native_handle();
    r.file_offset = offset;
    r.file_owner = reader;
    co_return r;
  }
  r.stream = [&pool, reader, offset, length](http::ResponseStream& out) -> asio::awaitable<void> {
    std::string buffer(256 * 1024, '\0');
    std::uint64_t position = offset, end = offset + length;
    while (position < end) {
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), end - position));
      auto n = co_await pool.Run([&] { return reader->ReadAt(position, buffer.data(), want); });
      if (!n || *n == 0) co_return;
      if (!co_await out.Write(std::string_view(buffer.data(), *n))) co_return;
      position += *n;
    }
  };
  co_return r;
}

struct ContentRange {
  std::uint64_t start = 0;
  std::optional<std::uint64_t> total;
};

// "bytes START-END/TOTAL" or "bytes START-END/*"; without the header the body starts at 0 and,
// with a Content-Length, is the whole file.
Result<ContentRange> ParseContentRange(const Request& request) {
  auto length = request.body_stream->content_length();
  auto header = request.headers.Get("Content-Range");
  if (!header) return ContentRange{0, length};
  static const std::regex kPattern(R"(bytes (\d{1,19})-(\d{1,19})/(\d{1,19}|\*))");
  std::match_results<std::string_view::const_iterator> m;
  if (!std::regex_match(header->begin(), header->end(), m, kPattern))
    return Err(Status::InvalidArgument("Content-Range must look like 'bytes 0-1023/4096' or 'bytes 0-1023/*'",
                                       "Content-Range"));
  ContentRange range;
  range.start = std::stoull(m[1].str());
  std::uint64_t last = std::stoull(m[2].str());
  if (m[3].str() != "*") range.total = std::stoull(m[3].str());
  if (last < range.start || (range.total && last >= *range.total) || (length && *length != last - range.start + 1))
    return Err(Status::InvalidArgument("Content-Range does not match the body", "Content-Range"));
  return range;
}

Response WithUploadOffset(Response r, const Status& status) {
  if (auto it = status.details().find("offset"); it != status.details().end()) r.headers.Set("Upload-Offset", it->second);
  return r;
}

// Reads the request body until `buffer` is full or the body ends.
struct Filled {
  std::size_t bytes = 0;
  bool end = false;
  Status failure;
};
asio::awaitable<Filled> FillBuffer(http::BodyStream& body, std::string& buffer) {
  Filled f;
  while (f.bytes < buffer.size()) {
    auto n = co_await body.Read(buffer.data() + f.bytes, buffer.size() - f.bytes);
    if (!n) {
      f.failure = Status::Unavailable("the client stopped sending: " + n.error().message());
      co_return f;
    }
    if (*n == 0) {
      f.end = true;
      co_return f;
    }
    f.bytes += *n;
  }
  co_return f;
}

asio::awaitable<Response> PutUpload(FileService& files, blocking::WorkPool& pool, Request& request) {
  using namespace asio::experimental::awaitable_operators;
  const Principal& principal = *request.principal;
  std::string id(request.PathParam("upload"));
  auto range = ParseContentRange(request);
  if (!range) {
    // Report where the upload stands even when the request itself is malformed.
    auto known = co_await pool.Run([&] { return files.GetUpload(principal, id); });
    if (!known) co_return ErrorResponse(known.error());
    co_return ErrorResponse(range.error());
  }
  auto write = co_await pool.Run([&] { return files.BeginUploadWrite(principal, id, range->start, range->total); });
  if (!write) co_return WithUploadOffset(ErrorResponse(write.error()), write.error());
  // Two buffers: the disk writes one while the network fills the other.
  std::array<std::string, 2> buffers{std::string(1 << 20, '\0'), std::string(1 << 20, '\0')};
  int current = 0;
  std::uint64_t received = range->start;
  Status failure;
  Filled filled = co_await FillBuffer(*request.body_stream, buffers[current]);
  while (true) {
    if (!filled.failure.ok()) failure = filled.failure;
    if (filled.bytes > 0 && received + filled.bytes > write->limit) {
      failure = write->limit_is_quota
                    ? Status::QuotaExceeded("the upload was stopped: it exceeds the storage quota; its data was removed")
                    : Status::InvalidArgument("the body is longer than the upload's size", "Content-Range");
      break;
    }
    received += filled.bytes;
    std::string_view chunk(buffers[current].data(), filled.bytes);
    auto append = [&pool, &write, chunk]() { return pool.Run([&write, chunk] { return write->writer->Append(chunk); }); };
    if (filled.end || !failure.ok()) {
      if (!chunk.empty()) {
        Status appended = co_await append();
        if (!appended.ok()) failure = appended;
      }
      break;
    }
    auto [appended, next] = co_await (append() && FillBuffer(*request.body_stream, buffers[1 - current]));
    if (!appended.ok()) {
      failure = appended;
      break;
    }
    current = 1 - current;
    filled = std::move(next);
  }
  auto finished = co_await pool.Run([&] { return files.FinishUploadWrite(principal, *write, failure); });
  if (!finished) co_return ErrorResponse(finished.error());
  Response r = JsonResponse(200, UploadJson(*finished));
  r.headers.Set("Upload-Offset", std::to_string(finished->offset));
  co_return r;
}

}  // namespace

void AddFileRoutes(http::Router& router, FileService& files, blocking::WorkPool& pool, AuditRecorder audit) {
  auto list = [&](Request& request) -> asio::awaitable<Response> {
    auto options = ListOptionsOf(request);
    if (!options) co_return ErrorResponse(options.error());
    std::string path(request.PathParam("path"));
    auto listing = co_await pool.Run([&] { return files.List(*request.principal, path, *options); });
    if (!listing) co_return ErrorResponse(listing.error());
    co_return JsonResponse(200, ListingJson(*listing));
  };
  router.Add("GET", "/api/v1/files", "The top-level folders: datasets, models, workspace, public, shared", list);
  router.Add("GET", "/api/v1/files/{path...}",
             "A folder's listing (sort, order, limit, cursor) or a file's entry", list);

  router.Add("GET", "/api/v1/download/{path...}",
             "A file's bytes (Range, ETag, If-None-Match; inline=1 for previews) or a folder as a tar stream",
             [&](Request& request) -> asio::awaitable<Response> {
               std::string path(request.PathParam("path"));
               auto readable = co_await pool.Run([&] { return files.Read(*request.principal, path); });
               if (!readable) co_return ErrorResponse(readable.error());
               co_return co_await DownloadResponse(files, pool, request, std::move(*readable));
             });

  router.Add("PATCH", "/api/v1/files/{path...}", "Rename or move a file or folder: {\"path\": new path}",
             [&](Request& request) -> asio::awaitable<Response> {
               std::string from(request.PathParam("path"));
               // The source first: another tenant's path is 404 whatever the body says.
               auto exists = co_await pool.Run([&] { return files.Stat(*request.principal, from); });
               if (!exists) co_return ErrorResponse(exists.error());
               auto object = http::ParseJsonObject(request.body);
               if (!object) co_return ErrorResponse(object.error());
               http::JsonReader reader(*object);
               auto to = reader.String("path");
               if (!to) co_return ErrorResponse(to.error());
               if (Status s = reader.Finish(); !s.ok()) co_return ErrorResponse(s);
               auto entry = co_await pool.Run([&] { return files.Move(*request.principal, from, *to); });
               if (!entry) co_return ErrorResponse(entry.error());
               co_return JsonResponse(200, EntryJson(*entry));
             });

  router.Add("DELETE", "/api/v1/files/{path...}", "Delete a file or folder (recursive=true for a non-empty folder)",
             [&](Request& request) -> asio::awaitable<Response> {
               std::string path(request.PathParam("path"));
               bool recursive = request.Query("recursive").value_or("") == "true";
               Status removed = co_await pool.Run([&] { return files.Remove(*request.principal, path, recursive); });
               if (!removed.ok()) co_return ErrorResponse(removed);
               co_return Response{.status = 204};
             });

  router.Add("POST", "/api/v1/folders", "Create a folder (and its parents): {\"path\"}",
             [&](Request& request) -> asio::awaitable<Response> {
               auto object = http::ParseJsonObject(request.body);
               if (!object) co_return ErrorResponse(object.error());
               http::JsonReader reader(*object);
               auto path = reader.String("path");
               if (!path) co_return ErrorResponse(path.error());
               if (Status s = reader.Finish(); !s.ok()) co_return ErrorResponse(s);
               auto entry = co_await pool.Run([&] { return files.MakeFolder(*request.principal, *path); });
               if (!entry) co_return ErrorResponse(entry.error());
               co_return JsonResponse(201, EntryJson(*entry));
             });

  router.Add("POST", "/api/v1/copies", "Copy a file or folder from anywhere readable into your space: {\"from\", \"to\"}",
             [&](Request& request) -> asio::awaitable<Response> {
               auto object = http::ParseJsonObject(request.body);
               if (!object) co_return ErrorResponse(object.error());
               http::JsonReader reader(*object);
               auto from = reader.String("from");
               auto to = reader.String("to");
               if (!from) co_return ErrorResponse(from.error());
               if (!to) co_return ErrorResponse(to.error());
               if (Status s = reader.Finish(); !s.ok()) co_return ErrorResponse(s);
               auto entry = co_await pool.Run([&] { return files.Copy(*request.principal, *from, *to); });
               if (!entry) co_return ErrorResponse(entry.error());
               co_return JsonResponse(201, EntryJson(*entry));
             });

  router.Add("GET", "/api/v1/storage",
             "The account's storage use and quota in bytes: used_bytes = files_bytes + published_bytes + package_bytes",
             [&](Request& request) -> asio::awaitable<Response> {
               auto usage = co_await pool.Run([&] { return files.Usage(*request.principal); });
               if (!usage) co_return ErrorResponse(usage.error());
               co_return JsonResponse(200, {{"used_bytes", usage->used_bytes},
                                            {"files_bytes", usage->files_bytes},
                                            {"published_bytes", usage->published_bytes},
                                            {"package_bytes", usage->package_bytes},
                                            {"quota_bytes", usage->quota_bytes}});
             });

  router.Add("POST", "/api/v1/uploads", "Start a resumable upload: {\"path\", \"size\"?, \"sha256\"?}",
             [&](Request& request) -> asio::awaitable<Response> {
               auto object = http::ParseJsonObject(request.body);
               if (!object) co_return ErrorResponse(object.error());
               http::JsonReader reader(*object);
               auto path = reader.String("path");
               auto size = reader.OptionalInt("size");
               auto sha256 = reader.OptionalString("sha256");
               if (!path) co_return ErrorResponse(path.error());
               if (!size) co_return ErrorResponse(size.error());
               if (!sha256) co_return ErrorResponse(sha256.error());
               if (Status s = reader.Finish(); !s.ok()) co_return ErrorResponse(s);
               if (*size && **size < 0) co_return ErrorResponse(Status::InvalidArgument("size must be >= 0", "size"));
               std::optional<std::uint64_t> bytes;
               if (*size) bytes = static_cast<std::uint64_t>(**size);
               auto upload = co_await pool.Run([&] { return files.CreateUpload(*request.principal, *path, bytes, *sha256); });
               if (!upload) co_return ErrorResponse(upload.error());
               // An empty file is complete at once.
               if (bytes && *bytes == 0) {
                 auto write = co_await pool.Run([&] { return files.BeginUploadWrite(*request.principal, upload->id, 0, 0); });
                 if (!write) co_return ErrorResponse(write.error());
                 auto done = co_await pool.Run([&] { return files.FinishUploadWrite(*request.principal, *write, Status::Ok()); });
                 if (!done) co_return ErrorResponse(done.error());
                 co_return JsonResponse(201, UploadJson(*done));
               }
               Response r = JsonResponse(201, UploadJson(*upload));
               r.headers.Set("Location", "/api/v1/uploads/" + upload->id);
               co_return r;
             });

  router.Add("GET", "/api/v1/uploads/{upload}", "Where an upload stands: its offset tells where to continue",
             [&](Request& request) -> asio::awaitable<Response> {
               std::string id(request.PathParam("upload"));
               auto upload = co_await pool.Run([&] { return files.GetUpload(*request.principal, id); });
               if (!upload) co_return ErrorResponse(upload.error());
               Response r = JsonResponse(200, UploadJson(*upload));
               r.headers.Set("Upload-Offset", std::to_string(upload->offset));
               co_return r;
             });

  router.Add("PUT", "/api/v1/uploads/{upload}",
             "Send an upload's bytes from its offset (Content-Range: bytes START-END/TOTAL); completes it at its size",
             [&](Request& request) { return PutUpload(files, pool, request); }, http::RouteOptions::Streaming());

  router.Add("DELETE", "/api/v1/uploads/{upload}", "Cancel an upload and remove its data",
             [&](Request& request) -> asio::awaitable<Response> {
               std::string id(request.PathParam("upload"));
               Status cancelled = co_await pool.Run([&] { return files.CancelUpload(*request.principal, id); });
               if (!cancelled.ok()) co_return ErrorResponse(cancelled);
               co_return Response{.status = 204};
             });

  router.Add("POST", "/api/v1/shares",
             "Share a dataset or model read-only: {\"path\", \"account\"} or {\"path\", \"link\": true, \"expires_at\"?}",
             [&files, &pool, audit](Request& request) -> asio::awaitable<Response> {
               auto object = http::ParseJsonObject(request.body);
               if (!object) co_return ErrorResponse(object.error());
               http::JsonReader reader(*object);
               auto path = reader.String("path");
               auto account = reader.OptionalString("account");
               auto link = reader.OptionalBool("link");
               auto expires_at = reader.OptionalInt("expires_at");
               if (!path) co_return ErrorResponse(path.error());
               if (!account) co_return ErrorResponse(account.error());
               if (!link) co_return ErrorResponse(link.error());
               if (!expires_at) co_return ErrorResponse(expires_at.error());
               if (Status s = reader.Finish(); !s.ok()) co_return ErrorResponse(s);
               auto share = co_await pool.Run([&]() -> Result<files::Share> {
                 auto made = files.CreateShare(*request.principal, *path, account->value_or(""), link->value_or(false),
                                               *expires_at);
                 if (made) audit(*request.principal, ShareAuditEvent(*made, "created"), MetaOf(request), ShareAuditDetails(*made));
                 return made;
               });
               if (!share) co_return ErrorResponse(share.error());
               co_return JsonResponse(201, ShareJson(*share));
             });

  router.Add("GET", "/api/v1/shares", "What the account has shared, with accounts and as links",
             [&](Request& request) -> asio::awaitable<Response> {
               auto shares = co_await pool.Run([&] { return files.ListShares(*request.principal); });
               if (!shares) co_return ErrorResponse(shares.error());
               json::array items;
               for (const auto& s : *shares) items.push_back(ShareJson(s));
               co_return JsonResponse(200, {{"shares", std::move(items)}});
             });

  router.Add("DELETE", "/api/v1/shares/{share}", "Revoke a share or link",
             [&files, &pool, audit](Request& request) -> asio::awaitable<Response> {
               auto id = IdParam(request, "share", "share");
               if (!id) co_return ErrorResponse(id.error());
               Status revoked = co_await pool.Run([&] {
                 auto shares = files.ListShares(*request.principal);
                 Status s = files.RevokeShare(*request.principal, *id);
                 if (!s.ok() || !shares) return s;
                 for (const auto& share : *shares)
                   if (share.id == *id)
                     audit(*request.principal, ShareAuditEvent(share, "revoked"), MetaOf(request), ShareAuditDetails(share));
                 return s;
               });
               if (!revoked.ok()) co_return ErrorResponse(revoked);
               co_return Response{.status = 204};
             });

  router.Add("GET", "/api/v1/shared-with-me", "What other accounts shared with this one (read-only, under shared/)",
             [&](Request& request) -> asio::awaitable<Response> {
               auto shares = co_await pool.Run([&] { return files.SharedWithMe(*request.principal); });
               if (!shares) co_return ErrorResponse(shares.error());
               json::array items;
               for (const auto& s : *shares) items.push_back(ShareJson(s));
               co_return JsonResponse(200, {{"shares", std::move(items)}});
             });

  auto link_list = [&](Request& request) -> asio::awaitable<Response> {
    auto options = ListOptionsOf(request);
    if (!options) co_return ErrorResponse(options.error());
    std::string link(request.PathParam("link")), path(request.PathParam("path"));
    auto listing = co_await pool.Run([&] { return files.ListLink(link, path, *options); });
    if (!listing) co_return ErrorResponse(listing.error());
    co_return JsonResponse(200, ListingJson(*listing));
  };
  router.Add("GET", "/api/v1/links/{link}/files/{path...}",
             "Through a public link (no sign-in): a listing or entry inside the shared folder", link_list,
             http::RouteOptions::Public());
  router.Add("GET", "/api/v1/links/{link}/download/{path...}",
             "Through a public link (no sign-in): a file's bytes or a folder as a tar stream",
             [&](Request& request) -> asio::awaitable<Response> {
               std::string link(request.PathParam("link")), path(request.PathParam("path"));
               auto readable = co_await pool.Run([&] { return files.ReadLink(link, path); });
               if (!readable) co_return ErrorResponse(readable.error());
               co_return co_await DownloadResponse(files, pool, request, std::move(*readable));
             },
             http::RouteOptions::Public());

  router.Add("POST", "/api/v1/publications",
             "Publish a model or dataset from a folder or archive: {\"kind\", \"name\", \"version\", \"description\", "
             "\"path\"}",
             [&files, &pool, audit](Request& request) -> asio::awaitable<Response> {
               auto object = http::ParseJsonObject(request.body);
               if (!object) co_return ErrorResponse(object.error());
               http::JsonReader reader(*object);
               files::PublishRequest publish;
               auto kind = reader.OptionalString("kind");
               auto name = reader.String("name");
               auto version = reader.String("version");
               auto description = reader.OptionalString("description");
               auto path = reader.String("path");
               if (!kind) co_return ErrorResponse(kind.error());
               if (!name) co_return ErrorResponse(name.error());
               if (!version) co_return ErrorResponse(version.error());
               if (!description) co_return ErrorResponse(description.error());
               if (!path) co_return ErrorResponse(path.error());
               if (Status s = reader.Finish(); !s.ok()) co_return ErrorResponse(s);
               publish.kind = kind->value_or("model");
               publish.name = *name;
               publish.version = *version;
               publish.description = description->value_or("");
               publish.path = *path;
               auto p = co_await pool.Run([&] {
                 auto published = files.Publish(*request.principal, publish);
                 if (published)
                   audit(*request.principal, "publication.created", MetaOf(request), PublicationAuditDetails(*published));
                 return published;
               });
               if (!p) co_return ErrorResponse(p.error());
               co_return JsonResponse(201, PublicationJson(*p));
             });

  router.Add("GET", "/api/v1/publications", "Published models and public datasets, newest first (kind, q)",
             [&](Request& request) -> asio::awaitable<Response> {
               std::string kind(request.Query("kind").value_or("")), q(request.Query("q").value_or(""));
               auto list = co_await pool.Run([&] { return files.ListPublications(kind, q); });
               if (!list) co_return ErrorResponse(list.error());
               json::array items;
               for (const auto& p : *list) items.push_back(PublicationJson(p));
               co_return JsonResponse(200, {{"publications", std::move(items)}});
             });

  router.Add("GET", "/api/v1/publications/{publication}", "One publication (visible to every signed-in user)",
             [&](Request& request) -> asio::awaitable<Response> {
               auto id = IdParam(request, "publication", "publication");
               if (!id) co_return ErrorResponse(id.error());
               auto p = co_await pool.Run([&] { return files.GetPublication(*id); });
               if (!p) co_return ErrorResponse(p.error());
               co_return JsonResponse(200, PublicationJson(*p));
             });

  router.Add("DELETE", "/api/v1/publications/{publication}", "Withdraw a publication of your account",
             [&files, &pool, audit](Request& request) -> asio::awaitable<Response> {
               auto id = IdParam(request, "publication", "publication");
               if (!id) co_return ErrorResponse(id.error());
               Status deleted = co_await pool.Run([&] {
                 auto publication = files.GetPublication(*id);
                 Status s = files.DeletePublication(*request.principal, *id);
                 if (s.ok() && publication)
                   audit(*request.principal, "publication.withdrawn", MetaOf(request), PublicationAuditDetails(*publication));
                 return s;
               });
               if (!deleted.ok()) co_return ErrorResponse(deleted);
               co_return Response{.status = 204};
             });
}

}  // namespace paddlecloud::api
