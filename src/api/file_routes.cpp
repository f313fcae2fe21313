#include "api/file_routes.h"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json/serialize.hpp>

#include <array>
#include <charconv>
#include <ctime>
#include <regex>

#include "api/auth_middleware.h"
#include "api/request_params.h"
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
                 {"written_by_job", e.written_by_job.empty() ? json::value(nullptr) : json::value(e.written_by_job)},
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

// A folder as a tar stream named after it.
Response DownloadFolder(FileService& files, blocking::WorkPool& pool, const files::Readable& readable,
                        std::vector<std::pair<std::string, files::FileInfo>> entries) {
  std::string root_name = readable.entry.name.empty() ? "files" : readable.entry.name;
  Response r;
  r.headers.Set("Content-Type", "application/x-tar");
  r.headers.Set("Content-Disposition", ContentDisposition(false, root_name + ".tar"));
  r.stream = [&files, &pool, key = readable.key, root_name, entries = std::move(entries)](http::ResponseStream& out) {
    return StreamTar(files.store(), pool, key, root_name, entries, out);
  };
  return r;
}

// Sends `length` bytes from `offset`: sendfile() from the store's descriptor when it has one.
void SetFileBody(Response& r, blocking::WorkPool& pool, std::shared_ptr<files::FileReader> reader,
                 std::uint64_t offset, std::uint64_t length) {
  r.content_length = length;
  if (reader->native_handle() >= 0) {
    r.file_fd = reader->native_handle();
    r.file_offset = offset;
    r.file_owner = reader;
    return;
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
}

// A file's bytes with ETag, Last-Modified and Range support.
Response DownloadFile(blocking::WorkPool& pool, const Request& request, files::Readable readable) {
  const files::Entry& entry = readable.entry;
  std::string content_type(http::MimeTypeFor(entry.name));
  std::string etag = Etag(entry);
  Response r;
  r.headers.Set("ETag", etag);
  r.headers.Set("Last-Modified", HttpTime(entry.modified_ns / 1'000'000'000));
  r.headers.Set("Accept-Ranges", "bytes");
  r.headers.Set("Cache-Control", "private, no-cache");
  if (auto match = request.headers.Get("If-None-Match"); match && (*match == etag || *match == "*")) {
    r.status = 304;
    return r;
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
      return bad;
    }
    if (*range) {
      offset = (*range)->first;
      length = (*range)->length();
      r.status = 206;
      r.headers.Set("Content-Range", "bytes " + std::to_string((*range)->first) + "-" + std::to_string((*range)->last) +
                                         "/" + std::to_string(entry.size));
    }
  }
  SetFileBody(r, pool, std::move(readable.reader), offset, length);
  return r;
}

asio::awaitable<Response> DownloadResponse(FileService& files, blocking::WorkPool& pool, const Request& request,
                                           files::Readable readable) {
  if (!readable.entry.folder) co_return DownloadFile(pool, request, std::move(readable));
  auto walked = co_await pool.Run([&] { return files.store().Walk(readable.key); });
  if (!walked) co_return ErrorResponse(walked.error());
  co_return DownloadFolder(files, pool, readable, std::move(*walked));
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

// What every handler needs; the router keeps one copy for its lifetime.
struct Deps {
  FileService& files;
  blocking::WorkPool& pool;
  AuditRecorder audit;
};

using Handler = asio::awaitable<Response> (*)(const Deps&, Request&);

asio::awaitable<Response> ListFiles(const Deps& d, Request& request) {
  auto options = ListOptionsOf(request);
  if (!options) co_return ErrorResponse(options.error());
  std::string path(request.PathParam("path"));
  auto listing = co_await d.pool.Run([&] { return d.files.browser().List(*request.principal, path, *options); });
  if (!listing) co_return ErrorResponse(listing.error());
  co_return JsonResponse(200, ListingJson(*listing));
}

asio::awaitable<Response> Download(const Deps& d, Request& request) {
  std::string path(request.PathParam("path"));
  auto readable = co_await d.pool.Run([&] { return d.files.browser().Read(*request.principal, path); });
  if (!readable) co_return ErrorResponse(readable.error());
  co_return co_await DownloadResponse(d.files, d.pool, request, std::move(*readable));
}

asio::awaitable<Response> MoveFile(const Deps& d, Request& request) {
  std::string from(request.PathParam("path"));
  // The source first: another tenant's path is 404 whatever the body says.
  auto exists = co_await d.pool.Run([&] { return d.files.browser().Stat(*request.principal, from); });
  if (!exists) co_return ErrorResponse(exists.error());
  auto object = http::ParseJsonObject(request.body);
  if (!object) co_return ErrorResponse(object.error());
  http::JsonReader reader(*object);
  auto to = reader.String("path");
  if (!to) co_return ErrorResponse(to.error());
  if (Status s = reader.Finish(); !s.ok()) co_return ErrorResponse(s);
  auto entry = co_await d.pool.Run([&] { return d.files.browser().Move(*request.principal, from, *to); });
  if (!entry) co_return ErrorResponse(entry.error());
  co_return JsonResponse(200, EntryJson(*entry));
}

asio::awaitable<Response> RemoveFile(const Deps& d, Request& request) {
  std::string path(request.PathParam("path"));
  bool recursive = request.Query("recursive").value_or("") == "true";
  Status removed = co_await d.pool.Run([&] { return d.files.browser().Remove(*request.principal, path, recursive); });
  if (!removed.ok()) co_return ErrorResponse(removed);
  co_return Response{.status = 204};
}

asio::awaitable<Response> MakeFolder(const Deps& d, Request& request) {
  auto object = http::ParseJsonObject(request.body);
  if (!object) co_return ErrorResponse(object.error());
  http::JsonReader reader(*object);
  auto path = reader.String("path");
  if (!path) co_return ErrorResponse(path.error());
  if (Status s = reader.Finish(); !s.ok()) co_return ErrorResponse(s);
  auto entry = co_await d.pool.Run([&] { return d.files.browser().MakeFolder(*request.principal, *path); });
  if (!entry) co_return ErrorResponse(entry.error());
  co_return JsonResponse(201, EntryJson(*entry));
}

asio::awaitable<Response> CopyFile(const Deps& d, Request& request) {
  auto object = http::ParseJsonObject(request.body);
  if (!object) co_return ErrorResponse(object.error());
  http::JsonReader reader(*object);
  auto from = reader.String("from");
  auto to = reader.String("to");
  if (!from) co_return ErrorResponse(from.error());
  if (!to) co_return ErrorResponse(to.error());
  if (Status s = reader.Finish(); !s.ok()) co_return ErrorResponse(s);
  auto entry = co_await d.pool.Run([&] { return d.files.browser().Copy(*request.principal, *from, *to); });
  if (!entry) co_return ErrorResponse(entry.error());
  co_return JsonResponse(201, EntryJson(*entry));
}

asio::awaitable<Response> StorageUsage(const Deps& d, Request& request) {
  auto usage = co_await d.pool.Run([&] { return d.files.quota().Usage(request.principal->account_id); });
  if (!usage) co_return ErrorResponse(usage.error());
  co_return JsonResponse(200, {{"used_bytes", usage->used_bytes},
                               {"files_bytes", usage->files_bytes},
                               {"published_bytes", usage->published_bytes},
                               {"package_bytes", usage->package_bytes},
                               {"quota_bytes", usage->quota_bytes}});
}

// An empty file is complete as soon as its upload starts.
asio::awaitable<Response> CompleteEmptyUpload(const Deps& d, const Request& request, const files::Upload& upload) {
  auto write = co_await d.pool.Run([&] { return d.files.uploads().BeginWrite(*request.principal, upload.id, 0, 0); });
  if (!write) co_return ErrorResponse(write.error());
  auto done = co_await d.pool.Run([&] { return d.files.uploads().FinishWrite(*request.principal, *write, Status::Ok()); });
  if (!done) co_return ErrorResponse(done.error());
  co_return JsonResponse(201, UploadJson(*done));
}

asio::awaitable<Response> CreateUpload(const Deps& d, Request& request) {
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
  auto upload = co_await d.pool.Run([&] { return d.files.uploads().Create(*request.principal, *path, bytes, *sha256); });
  if (!upload) co_return ErrorResponse(upload.error());
  if (bytes && *bytes == 0) co_return co_await CompleteEmptyUpload(d, request, *upload);
  Response r = JsonResponse(201, UploadJson(*upload));
  r.headers.Set("Location", "/api/v1/uploads/" + upload->id);
  co_return r;
}

asio::awaitable<Response> GetUpload(const Deps& d, Request& request) {
  std::string id(request.PathParam("upload"));
  auto upload = co_await d.pool.Run([&] { return d.files.uploads().Get(*request.principal, id); });
  if (!upload) co_return ErrorResponse(upload.error());
  Response r = JsonResponse(200, UploadJson(*upload));
  r.headers.Set("Upload-Offset", std::to_string(upload->offset));
  co_return r;
}

asio::awaitable<Response> PutUpload(const Deps& d, Request& request) {
  using namespace asio::experimental::awaitable_operators;
  const Principal& principal = *request.principal;
  std::string id(request.PathParam("upload"));
  auto range = ParseContentRange(request);
  if (!range) {
    // Report where the upload stands even when the request itself is malformed.
    auto known = co_await d.pool.Run([&] { return d.files.uploads().Get(principal, id); });
    if (!known) co_return ErrorResponse(known.error());
    co_return ErrorResponse(range.error());
  }
  auto write = co_await d.pool.Run([&] { return d.files.uploads().BeginWrite(principal, id, range->start, range->total); });
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
    auto append = [&d, &write, chunk]() { return d.pool.Run([&write, chunk] { return write->writer->Append(chunk); }); };
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
  auto finished = co_await d.pool.Run([&] { return d.files.uploads().FinishWrite(principal, *write, failure); });
  if (!finished) co_return ErrorResponse(finished.error());
  Response r = JsonResponse(200, UploadJson(*finished));
  r.headers.Set("Upload-Offset", std::to_string(finished->offset));
  co_return r;
}

asio::awaitable<Response> CancelUpload(const Deps& d, Request& request) {
  std::string id(request.PathParam("upload"));
  Status cancelled = co_await d.pool.Run([&] { return d.files.uploads().Cancel(*request.principal, id); });
  if (!cancelled.ok()) co_return ErrorResponse(cancelled);
  co_return Response{.status = 204};
}

asio::awaitable<Response> CreateShare(const Deps& d, Request& request) {
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
  auto share = co_await d.pool.Run([&]() -> Result<files::Share> {
    auto made =
        d.files.shares().Create(*request.principal, *path, account->value_or(""), link->value_or(false), *expires_at);
    if (made) d.audit(*request.principal, ShareAuditEvent(*made, "created"), MetaOf(request), ShareAuditDetails(*made));
    return made;
  });
  if (!share) co_return ErrorResponse(share.error());
  co_return JsonResponse(201, ShareJson(*share));
}

Response SharesResponse(const std::vector<files::Share>& shares) {
  json::array items;
  for (const auto& s : shares) items.push_back(ShareJson(s));
  return JsonResponse(200, {{"shares", std::move(items)}});
}

asio::awaitable<Response> ListShares(const Deps& d, Request& request) {
  auto shares = co_await d.pool.Run([&] { return d.files.shares().List(*request.principal); });
  if (!shares) co_return ErrorResponse(shares.error());
  co_return SharesResponse(*shares);
}

asio::awaitable<Response> RevokeShare(const Deps& d, Request& request) {
  auto id = PathId(request, "share", "share");
  if (!id) co_return ErrorResponse(id.error());
  Status revoked = co_await d.pool.Run([&] {
    auto shares = d.files.shares().List(*request.principal);
    Status s = d.files.shares().Revoke(*request.principal, *id);
    if (!s.ok() || !shares) return s;
    for (const auto& share : *shares)
      if (share.id == *id)
        d.audit(*request.principal, ShareAuditEvent(share, "revoked"), MetaOf(request), ShareAuditDetails(share));
    return s;
  });
  if (!revoked.ok()) co_return ErrorResponse(revoked);
  co_return Response{.status = 204};
}

asio::awaitable<Response> SharedWithMe(const Deps& d, Request& request) {
  auto shares = co_await d.pool.Run([&] { return d.files.shares().SharedWithMe(*request.principal); });
  if (!shares) co_return ErrorResponse(shares.error());
  co_return SharesResponse(*shares);
}

asio::awaitable<Response> ListLink(const Deps& d, Request& request) {
  auto options = ListOptionsOf(request);
  if (!options) co_return ErrorResponse(options.error());
  std::string link(request.PathParam("link")), path(request.PathParam("path"));
  auto listing = co_await d.pool.Run([&] { return d.files.shares().ListLink(link, path, *options); });
  if (!listing) co_return ErrorResponse(listing.error());
  co_return JsonResponse(200, ListingJson(*listing));
}

asio::awaitable<Response> DownloadLink(const Deps& d, Request& request) {
  std::string link(request.PathParam("link")), path(request.PathParam("path"));
  auto readable = co_await d.pool.Run([&] { return d.files.shares().ReadLink(link, path); });
  if (!readable) co_return ErrorResponse(readable.error());
  co_return co_await DownloadResponse(d.files, d.pool, request, std::move(*readable));
}

Result<files::PublishRequest> PublishRequestOf(const Request& request) {
  auto object = http::ParseJsonObject(request.body);
  if (!object) return Err(object.error());
  http::JsonReader reader(*object);
  auto kind = reader.OptionalString("kind");
  auto name = reader.String("name");
  auto version = reader.String("version");
  auto description = reader.OptionalString("description");
  auto path = reader.String("path");
  if (!kind) return Err(kind.error());
  if (!name) return Err(name.error());
  if (!version) return Err(version.error());
  if (!description) return Err(description.error());
  if (!path) return Err(path.error());
  if (Status s = reader.Finish(); !s.ok()) return Err(s);
  return files::PublishRequest{.kind = kind->value_or("model"), .name = *name, .version = *version,
                               .description = description->value_or(""), .path = *path};
}

asio::awaitable<Response> Publish(const Deps& d, Request& request) {
  auto publish = PublishRequestOf(request);
  if (!publish) co_return ErrorResponse(publish.error());
  auto p = co_await d.pool.Run([&] {
    auto published = d.files.publications().Publish(*request.principal, *publish);
    if (published)
      d.audit(*request.principal, "publication.created", MetaOf(request), PublicationAuditDetails(*published));
    return published;
  });
  if (!p) co_return ErrorResponse(p.error());
  co_return JsonResponse(201, PublicationJson(*p));
}

asio::awaitable<Response> ListPublications(const Deps& d, Request& request) {
  std::string kind(request.Query("kind").value_or("")), q(request.Query("q").value_or(""));
  auto list = co_await d.pool.Run([&] { return d.files.publications().List(kind, q); });
  if (!list) co_return ErrorResponse(list.error());
  json::array items;
  for (const auto& p : *list) items.push_back(PublicationJson(p));
  co_return JsonResponse(200, {{"publications", std::move(items)}});
}

asio::awaitable<Response> GetPublication(const Deps& d, Request& request) {
  auto id = PathId(request, "publication", "publication");
  if (!id) co_return ErrorResponse(id.error());
  auto p = co_await d.pool.Run([&] { return d.files.publications().Get(*id); });
  if (!p) co_return ErrorResponse(p.error());
  co_return JsonResponse(200, PublicationJson(*p));
}

asio::awaitable<Response> WithdrawPublication(const Deps& d, Request& request) {
  auto id = PathId(request, "publication", "publication");
  if (!id) co_return ErrorResponse(id.error());
  Status deleted = co_await d.pool.Run([&] {
    auto publication = d.files.publications().Get(*id);
    Status s = d.files.publications().Withdraw(*request.principal, *id);
    if (s.ok() && publication)
      d.audit(*request.principal, "publication.withdrawn", MetaOf(request), PublicationAuditDetails(*publication));
    return s;
  });
  if (!deleted.ok()) co_return ErrorResponse(deleted);
  co_return Response{.status = 204};
}

struct Endpoint {
  const char* method;
  const char* pattern;
  const char* summary;
  Handler handler;
  http::RouteOptions options;
};

}  // namespace

void AddFileRoutes(http::Router& router, FileService& files, blocking::WorkPool& pool, AuditRecorder audit) {
  const Endpoint endpoints[] = {
      {"GET", "/api/v1/files", "The top-level folders: datasets, models, workspace, public, shared", ListFiles, {}},
      {"GET", "/api/v1/files/{path...}", "A folder's listing (sort, order, limit, cursor) or a file's entry",
       ListFiles, {}},
      {"GET", "/api/v1/download/{path...}",
       "A file's bytes (Range, ETag, If-None-Match; inline=1 for previews) or a folder as a tar stream", Download, {}},
      {"PATCH", "/api/v1/files/{path...}", "Rename or move a file or folder: {\"path\": new path}", MoveFile, {}},
      {"DELETE", "/api/v1/files/{path...}", "Delete a file or folder (recursive=true for a non-empty folder)",
       RemoveFile, {}},
      {"POST", "/api/v1/folders", "Create a folder (and its parents): {\"path\"}", MakeFolder, {}},
      {"POST", "/api/v1/copies", "Copy a file or folder from anywhere readable into your space: {\"from\", \"to\"}",
       CopyFile, {}},
      {"GET", "/api/v1/storage",
       "The account's storage use and quota in bytes: used_bytes = files_bytes + published_bytes + package_bytes",
       StorageUsage, {}},
      {"POST", "/api/v1/uploads", "Start a resumable upload: {\"path\", \"size\"?, \"sha256\"?}", CreateUpload, {}},
      {"GET", "/api/v1/uploads/{upload}", "Where an upload stands: its offset tells where to continue", GetUpload, {}},
      {"PUT", "/api/v1/uploads/{upload}",
       "Send an upload's bytes from its offset (Content-Range: bytes START-END/TOTAL); completes it at its size",
       PutUpload, http::RouteOptions::Streaming()},
      {"DELETE", "/api/v1/uploads/{upload}", "Cancel an upload and remove its data", CancelUpload, {}},
      {"POST", "/api/v1/shares",
       "Share a dataset or model read-only: {\"path\", \"account\"} or {\"path\", \"link\": true, \"expires_at\"?}",
       CreateShare, {}},
      {"GET", "/api/v1/shares", "What the account has shared, with accounts and as links", ListShares, {}},
      {"DELETE", "/api/v1/shares/{share}", "Revoke a share or link", RevokeShare, {}},
      {"GET", "/api/v1/shared-with-me", "What other accounts shared with this one (read-only, under shared/)",
       SharedWithMe, {}},
      {"GET", "/api/v1/links/{link}/files/{path...}",
       "Through a public link (no sign-in): a listing or entry inside the shared folder", ListLink,
       http::RouteOptions::Public()},
      {"GET", "/api/v1/links/{link}/download/{path...}",
       "Through a public link (no sign-in): a file's bytes or a folder as a tar stream", DownloadLink,
       http::RouteOptions::Public()},
      {"POST", "/api/v1/publications",
       "Publish a model or dataset from a folder or archive: {\"kind\", \"name\", \"version\", \"description\", "
       "\"path\"}",
       Publish, {}},
      {"GET", "/api/v1/publications", "Published models and public datasets, newest first (kind, q)",
       ListPublications, {}},
      {"GET", "/api/v1/publications/{publication}", "One publication (visible to every signed-in user)",
       GetPublication, {}},
      {"DELETE", "/api/v1/publications/{publication}", "Withdraw a publication of your account", WithdrawPublication,
       {}},
  };
  auto deps = std::make_shared<const Deps>(Deps{files, pool, std::move(audit)});
  for (const Endpoint& e : endpoints)
    router.Add(e.method, e.pattern, e.summary, [deps, h = e.handler](Request& request) { return h(*deps, request); },
               e.options);
}

}  // namespace paddlecloud::api
