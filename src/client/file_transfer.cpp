#include "client/file_transfer.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "client/cloud_files.h"
#include "client/command_support.h"
#include "common/fs.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr int kTransportRetries = 3;   // a dropped connection is retried (resuming) this often
constexpr int kConflictRetries = 40;   // a PUT refused because another PUT of the upload still runs
constexpr std::uint64_t kChecksumNote = 64u << 20;  // files this large say they are being checksummed

// The outcome of one attempt of a transfer that did not fail for good.
enum class Next { kDone, kAgain };

std::string UploadTarget(const std::string& id) { return "/api/v1/uploads/" + EncodePath(id); }

// The absolute, lexically normal form of a local path, without a trailing separator.
std::string AbsoluteLocal(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = fs::path(path);
  std::string text = abs.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

Status WithResumeHint(const Status& s) {
  return Status::Of(s.code(), s.message() + "; run the same command again to resume", s.field());
}

// --- state files --------------------------------------------------------------------------

// Replaces `path` with `content` atomically (temporary file + rename), mode 0600.
Status WriteSmallFile(const std::string& path, const std::string& content) {
  if (Status dirs = MakePrivateDirs(fs::path(path).parent_path()); !dirs.ok()) return dirs;
  Status written = fsutil::WriteFileAtomic(path, content, {.mode = 0600, .durable = false});
  return written.ok() ? written : Status::InvalidArgument(written.message());
}

std::optional<json::value> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  boost::system::error_code ec;
  json::value value = json::parse(text, ec);
  if (ec || !value.is_object()) return std::nullopt;
  return value;
}

void RemoveQuietly(const std::string& path) {
  std::error_code ec;
  fs::remove(path, ec);
}

// <config dir>/<kind>/<sha256(server "\n" local "\n" cloud)>.json
Result<std::string> StatePath(const Environment& env, const std::string& kind, const std::string& server,
                              const std::string& local, const std::string& cloud) {
  auto config = ConfigPath(env);
  if (!config) return Err(config.error());
  return (fs::path(*config).parent_path() / kind).string() + "/" + Sha256Hex(server + "\n" + local + "\n" + cloud) +
         ".json";
}

// --- uploads ------------------------------------------------------------------------------

struct LocalFile {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

Result<LocalFile> StatLocal(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return Err(Status::InvalidArgument("cannot read " + path + ": " + std::strerror(errno)));
  return LocalFile{static_cast<std::uint64_t>(st.st_size),
                   static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

struct UploadState {
  std::string id;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
};

std::optional<UploadState> ReadUploadState(const std::string& path) {
  auto value = ReadJsonFile(path);
  if (!value) return std::nullopt;
  UploadState state{StringAt(*value, {"id"}), UintAt(*value, "size"), IntAt(*value, {"mtime_ns"})};
  if (state.id.empty()) return std::nullopt;
  return state;
}

// Where the server is in an upload: the GET answer's offset. NotFound when the session is gone.
Result<std::uint64_t> ServerOffset(ApiClient& client, const std::string& id) {
  auto session = client.Call("GET", UploadTarget(id));
  if (!session) return Err(session.error());
  return UintAt(*session, "offset");
}

// Cancels an upload session that is of no use any more (it holds quota until it expires), best
// effort. A PUT of it may still be running for a moment (an interrupted run the server has not seen
// end yet): that is a conflict, tried again briefly.
void CancelSession(ApiClient& client, const std::string& id) {
  for (int attempt = 0; attempt < 20; ++attempt) {
    auto answer = client.Send("DELETE", UploadTarget(id));
    if (!answer || answer->status != 409) return;
    std::this_thread::sleep_for(150ms);
  }
}

// One upload of a local file to a cloud path, across its attempts.
struct Upload {
  TransferContext& ctx;
  std::string local, label, cloud, state_path;
  LocalFile file;
  std::string id;            // the session; empty: none yet
  std::uint64_t offset = 0;  // where the server is
  bool restarted = false;    // a session the server lost was started over once
  bool noted = false;        // "resuming ..." was said
  int transport_failures = 0, conflicts = 0;

  void Forget() {
    id.clear();
    offset = 0;
    RemoveQuietly(state_path);
  }
};

// Continues the session of the state file when it is of the local file as it is now and the server
// still has it; otherwise cancels it and removes the state file.
Status ResumeSaved(Upload& up) {
  auto saved = ReadUploadState(up.state_path);
  if (!saved) return Status::Ok();
  if (saved->size == up.file.size && saved->mtime_ns == up.file.mtime_ns) {
    auto at = ServerOffset(up.ctx.client, saved->id);
    if (at && *at < up.file.size) {
      up.id = saved->id;
      up.offset = *at;
      return Status::Ok();
    }
    if (!at && at.error().code() != Code::kNotFound) return at.error();
    if (at) CancelSession(up.ctx.client, saved->id);
  } else {  // the file changed since: that session is of no use
    CancelSession(up.ctx.client, saved->id);
  }
  RemoveQuietly(up.state_path);
  return Status::Ok();
}

void SaveUploadState(const Upload& up, const std::string& sha256) {
  json::object state{{"id", up.id},          {"server", up.ctx.client.server()}, {"local", AbsoluteLocal(up.local)},
                     {"path", up.cloud},     {"size", up.file.size},             {"mtime_ns", up.file.mtime_ns},
                     {"sha256", sha256},     {"created_at", NowSeconds()}};
  if (Status saved = WriteSmallFile(up.state_path, json::serialize(state)); !saved.ok())
    Warn(saved.message() + " (this upload cannot be resumed if interrupted)");
}

// Opens a session for the whole file, creating the cloud folder it goes into when that is missing,
// and remembers it in the state file. True when the server has the whole file already.
Result<bool> StartSession(Upload& up) {
  bool note = up.file.size >= kChecksumNote;
  if (note) up.ctx.progress.Note("checksumming " + up.label + " ...");
  auto sha = Sha256OfFile(up.local);
  if (note) up.ctx.progress.Note("");
  if (!sha) return Err(sha.error());
  json::object body{{"path", up.cloud}, {"size", up.file.size}, {"sha256", *sha}};
  auto created = up.ctx.client.Call("POST", "/api/v1/uploads", body);
  if (!created && created.error().code() == Code::kNotFound && !ParentOf(up.cloud).empty()) {
    // The folder it goes into does not exist yet.
    if (Status parent = EnsureFolder(up.ctx.client, ParentOf(up.cloud)); !parent.ok()) return Err(parent);
    created = up.ctx.client.Call("POST", "/api/v1/uploads", body);
  }
  if (!created) return Err(created.error());
  up.id = StringAt(*created, {"id"});
  if (up.id.empty()) return Err(Status::Internal("the server's answer to a new upload names no id"));
  up.offset = UintAt(*created, "offset");
  SaveUploadState(up, *sha);
  return BoolAt(*created, "complete");
}

Result<Next> AfterTransportFailure(Upload& up, const Status& error) {
  if (error.code() != Code::kUnavailable) return Err(error);  // e.g. the local file shrank
  if (++up.transport_failures > kTransportRetries) return Err(WithResumeHint(error));
  std::this_thread::sleep_for(std::chrono::seconds(up.transport_failures));  // back off
  auto at = ServerOffset(up.ctx.client, up.id);
  if (!at && at.error().code() != Code::kNotFound) return Err(WithResumeHint(at.error()));
  if (at) {
    up.offset = *at;
  } else {
    up.Forget();
  }
  return Next::kAgain;
}

Result<Next> AfterAccepted(Upload& up, const ApiResponse& answer) {
  boost::system::error_code ec;
  json::value done = json::parse(answer.body, ec);
  if (!ec && BoolAt(done, "complete")) {
    up.ctx.progress.End(true);
    RemoveQuietly(up.state_path);
    return Next::kDone;
  }
  up.ctx.progress.End(false);
  if (++up.transport_failures > kTransportRetries)
    return Err(WithResumeHint(Status::Unavailable("the upload of " + up.label + " did not complete")));
  if (!ec) up.offset = UintAt(done, "offset");
  return Next::kAgain;
}

Result<Next> AfterRefused(Upload& up, const ApiResponse& answer) {
  if (answer.status == 409 && ++up.conflicts <= kConflictRetries) {
    // The server is elsewhere (its offset), or a PUT of this upload is still running (an earlier,
    // interrupted run whose connection the server has not seen end yet): ask and try again.
    std::this_thread::sleep_for(up.conflicts < 4 ? 100ms : 500ms);
    auto at = ServerOffset(up.ctx.client, up.id);
    if (!at) return Err(at.error());
    up.offset = *at;
    return Next::kAgain;
  }
  if (answer.status == 404 && !up.restarted) {  // the session expired: start over
    up.restarted = true;
    up.Forget();
    return Next::kAgain;
  }
  if (answer.status >= 400 && answer.status < 500 && answer.status != 408 && answer.status != 409 &&
      answer.status != 429)
    RemoveQuietly(up.state_path);  // refused for good (checksum, quota): the session is no use
  return Err(ErrorFromResponse(answer.status, answer.body, answer.header("retry-after")));
}

// Sends the rest of the file from the server's offset; then done, again (from where the server is
// now), or an error that ends the upload.
Result<Next> SendRest(Upload& up) {
  TransferProgress& progress = up.ctx.progress;
  progress.Begin(up.label, up.file.size, up.offset);
  const std::uint64_t start = up.offset, size = up.file.size;
  HeaderList headers;
  if (size > 0)
    headers.emplace_back("Content-Range",
                         "bytes " + std::to_string(start) + "-" + std::to_string(size - 1) + "/" + std::to_string(size));
  auto answer = up.ctx.client.SendFileRange("PUT", UploadTarget(up.id), up.local, start, size - start, headers,
                                            "application/octet-stream",
                                            [&](std::uint64_t sent, std::uint64_t) { progress.Update(start + sent); });
  if (!answer) {
    progress.End(false);
    return AfterTransportFailure(up, answer.error());
  }
  if (answer->status >= 200 && answer->status < 300) return AfterAccepted(up, *answer);
  progress.End(false);
  return AfterRefused(up, *answer);
}

// --- downloads ----------------------------------------------------------------------------

// "bytes START-END/TOTAL" → START, TOTAL (TOTAL 0 when "*").
bool ParseContentRange(const std::string& text, std::uint64_t& start, std::uint64_t& total) {
  unsigned long long s = 0, e = 0, t = 0;
  if (std::sscanf(text.c_str(), "bytes %llu-%llu/%llu", &s, &e, &t) == 3) {
    start = s;
    total = t;
    return true;
  }
  if (std::sscanf(text.c_str(), "bytes %llu-%llu/*", &s, &e) == 2) {
    start = s;
    total = 0;
    return true;
  }
  return false;
}

// One download of a cloud file through `local`.part, across its attempts.
struct Download {
  TransferContext& ctx;
  std::string cloud, local, part, state_path;
  std::uint64_t size;
  int failures = 0;
  bool noted = false;  // "resuming ..." was said
};

// One answer's body written into the .part file: appended to for a Range answer that continues
// where the .part ends and is of the same file (its ETag), else the .part is written anew.
struct PartWriter {
  Download& d;
  std::uint64_t have;      // bytes of the .part asked to be continued
  std::string saved_etag;  // of the file the .part was begun with
  std::ofstream out;
  std::string local_failure;  // why the .part could not be written
  bool changed = false;       // the answer does not continue the .part: start over
  bool begun = false;         // the progress line was begun
  std::uint64_t written = 0, total = 0;

  bool OnHead(const ApiResponse& head) {
    std::string etag = head.header("etag");
    if (head.status == 206) {
      std::uint64_t start = 0, whole = 0;
      if (!ParseContentRange(head.header("content-range"), start, whole) || start != have ||
          (!saved_etag.empty() && !etag.empty() && etag != saved_etag)) {
        changed = true;
        return false;
      }
      if (whole > 0) total = whole;
      out.open(d.part, std::ios::binary | std::ios::app);
    } else {
      written = 0;
      std::string length = head.header("content-length");
      if (!length.empty()) total = std::strtoull(length.c_str(), nullptr, 10);
      out.open(d.part, std::ios::binary | std::ios::trunc);
    }
    if (!out) return Failed();
    if (!etag.empty()) {
      json::object state{{"etag", etag}, {"path", d.cloud}, {"local", AbsoluteLocal(d.local)}, {"size", total}};
      if (Status saved = WriteSmallFile(d.state_path, json::serialize(state)); !saved.ok()) Warn(saved.message());
    }
    d.ctx.progress.Begin(d.cloud, total, written);
    begun = true;
    return true;
  }

  bool OnChunk(std::string_view chunk) {
    out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
    if (!out) return Failed();
    written += chunk.size();
    d.ctx.progress.Update(written);
    return true;
  }

  bool Failed() {
    local_failure = "cannot write " + d.part + ": " + std::strerror(errno);
    return false;
  }
};

// The bytes of the .part that a Range request can continue: 0 unless it is shorter than the file
// and its ETag is remembered (`saved_etag`).
std::uint64_t ResumableBytes(const Download& d, std::string& saved_etag) {
  std::error_code ec;
  std::uint64_t have = fs::is_regular_file(d.part, ec) ? fs::file_size(d.part, ec) : 0;
  if (ec) return 0;
  if (auto saved = ReadJsonFile(d.state_path)) saved_etag = StringAt(*saved, {"etag"});
  return have > 0 && (have >= d.size || saved_etag.empty()) ? 0 : have;
}

// What one answer (written by `w`) means: done (renamed into place), again, or an error.
Result<Next> AfterDownload(Download& d, PartWriter& w, const Result<ApiResponse>& answer, int attempt) {
  w.out.close();
  bool complete = answer && answer->status >= 200 && answer->status < 300 && w.local_failure.empty() && !w.changed &&
                  (w.total == 0 || w.written == w.total) && w.out.good();
  if (w.begun && !complete) d.ctx.progress.End(false);
  if (!w.local_failure.empty()) return Err(Status::InvalidArgument(w.local_failure));
  if (w.changed || (answer && answer->status == 416 && w.have > 0)) {
    RemoveQuietly(d.part);
    RemoveQuietly(d.state_path);
    if (attempt >= 2) return Err(Status::Conflict(d.cloud + " keeps changing while it is downloaded"));
    return Next::kAgain;
  }
  if (!answer) {
    if (answer.error().code() != Code::kUnavailable || ++d.failures > kTransportRetries)
      return Err(WithResumeHint(answer.error()));
    std::this_thread::sleep_for(std::chrono::seconds(d.failures));  // back off
    return Next::kAgain;
  }
  if (answer->status < 200 || answer->status >= 300)
    return Err(ErrorFromResponse(answer->status, answer->body, answer->header("retry-after")));
  if (!w.out.good()) return Err(Status::InvalidArgument("cannot write " + d.part));
  if (w.total > 0 && w.written != w.total) {  // the body ended early
    if (++d.failures > kTransportRetries)
      return Err(WithResumeHint(Status::Unavailable("the download of " + d.cloud + " was cut short")));
    return Next::kAgain;
  }
  std::error_code ec;
  fs::rename(d.part, d.local, ec);
  if (ec) {
    d.ctx.progress.End(false);
    return Err(Status::InvalidArgument("cannot write " + d.local + ": " + ec.message()));
  }
  RemoveQuietly(d.state_path);
  d.ctx.progress.End(true);
  return Next::kDone;
}

}  // namespace

Status UploadFile(TransferContext& ctx, const std::string& local, const std::string& label, const std::string& cloud) {
  auto file = StatLocal(local);
  if (!file) return file.error();
  auto state_path = UploadStatePath(ctx.env, ctx.client.server(), AbsoluteLocal(local), cloud);
  if (!state_path) return state_path.error();
  Upload up{ctx, local, label, cloud, *state_path, *file};
  if (Status resumed = ResumeSaved(up); !resumed.ok()) return resumed;
  while (true) {
    if (up.id.empty()) {
      auto complete = StartSession(up);
      if (!complete) return complete.error();
      if (*complete) {
        ctx.progress.Begin(label, file->size, file->size);
        ctx.progress.End(true);
        RemoveQuietly(up.state_path);
        return Status::Ok();
      }
    } else if (up.offset > 0 && !up.noted) {
      std::cerr << "resuming " << label << " at " << up.offset << " bytes\n" << std::flush;
      up.noted = true;
    }
    auto next = SendRest(up);
    if (!next) return next.error();
    if (*next == Next::kDone) return Status::Ok();
  }
}

Status DownloadFile(TransferContext& ctx, const std::string& cloud, const std::string& local, std::uint64_t size) {
  auto state_path = StatePath(ctx.env, "downloads", ctx.client.server(), AbsoluteLocal(local), cloud);
  if (!state_path) return state_path.error();
  Download d{ctx, cloud, local, local + ".part", *state_path, size};
  for (int attempt = 0;; ++attempt) {
    PartWriter writer{d};
    writer.have = ResumableBytes(d, writer.saved_etag);
    writer.written = writer.have;
    writer.total = size;
    HeaderList headers;
    if (writer.have > 0) {
      headers.emplace_back("Range", "bytes=" + std::to_string(writer.have) + "-");
      if (!d.noted) std::cerr << "resuming " << cloud << " at " << writer.have << " bytes\n" << std::flush;
      d.noted = true;
    }
    auto answer = ctx.client.Fetch(
        "/api/v1/download/" + EncodePath(cloud), headers, [&](const ApiResponse& head) { return writer.OnHead(head); },
        [&](std::string_view chunk) { return writer.OnChunk(chunk); });
    auto next = AfterDownload(d, writer, answer, attempt);
    if (!next) return next.error();
    if (*next == Next::kDone) return Status::Ok();
  }
}

Status UploadTree(TransferContext& ctx, const std::string& local, const std::string& cloud) {
  std::vector<fs::path> folders, files;
  std::error_code ec;
  fs::recursive_directory_iterator it(local, fs::directory_options::skip_permission_denied, ec), end;
  if (ec) return Status::InvalidArgument("cannot read " + local + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Status::InvalidArgument("cannot read " + local + ": " + ec.message());
    const auto& entry = *it;
    fs::path rel = entry.path().lexically_relative(local);
    std::error_code sec;
    if (entry.is_symlink(sec)) {
      if (fs::is_regular_file(entry.path(), sec)) {
        files.push_back(rel);  // a link to a file: its contents
      } else {
        Warn("left out " + entry.path().string() + " (a symbolic link to a folder or to nothing)");
      }
    } else if (entry.is_directory(sec)) {
      folders.push_back(rel);
    } else if (entry.is_regular_file(sec)) {
      files.push_back(rel);
    } else {
      Warn("left out " + entry.path().string() + " (not a regular file)");
    }
  }
  std::sort(folders.begin(), folders.end());
  std::sort(files.begin(), files.end());
  // Creating the innermost folders creates the others.
  std::set<std::string> leaves = {""};
  for (const auto& folder : folders) {
    std::string rel = folder.generic_string();
    leaves.erase(ParentOf(rel));
    leaves.insert(rel);
  }
  for (const auto& leaf : leaves) {
    if (Status made = EnsureFolder(ctx.client, JoinCloud(cloud, leaf)); !made.ok()) return made;
  }
  std::string base = DisplayPath(local);
  for (const auto& file : files) {
    std::string rel = file.generic_string();
    if (Status sent = UploadFile(ctx, (fs::path(local) / file).string(), base + "/" + rel, JoinCloud(cloud, rel)); !sent.ok())
      return sent;
  }
  return Status::Ok();
}

// --- downloads ----------------------------------------------------------------------------

Status DownloadTree(TransferContext& ctx, const std::string& cloud, const std::string& local) {
  std::error_code ec;
  fs::create_directories(local, ec);
  if (ec || !fs::is_directory(local, ec))
    return Status::InvalidArgument("cannot create the folder " + local + (ec ? ": " + ec.message() : ""));
  auto entries = ListAll(ctx.client, cloud, "name", false);
  if (!entries) return entries.error();
  for (const auto& entry : *entries) {
    std::string name = StringAt(entry, {"name"});
    if (!SafeName(name)) {
      Warn("left out an entry of " + cloud + " named '" + name + "'");
      continue;
    }
    std::string target = (fs::path(local) / name).string();
    Status done = IsFolder(entry) ? DownloadTree(ctx, JoinCloud(cloud, name), target)
                                  : DownloadFile(ctx, JoinCloud(cloud, name), target, UintAt(entry, "size"));
    if (!done.ok()) return done;
  }
  return Status::Ok();
}


std::string LocalName(const std::string& path) { return fs::path(AbsoluteLocal(path)).filename().string(); }

std::string DisplayPath(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

Result<std::string> Sha256OfFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Err(Status::InvalidArgument("cannot read " + path));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    return Err(Status::Internal("SHA-256 is not available"));
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    auto got = in.gcount();
    if (got > 0) EVP_DigestUpdate(ctx.get(), buffer.data(), static_cast<std::size_t>(got));
  }
  if (in.bad()) return Err(Status::InvalidArgument("cannot read " + path));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  return fsutil::ToHex(std::string_view(reinterpret_cast<const char*>(md), len));
}

Result<std::string> UploadStatePath(const Environment& env, const std::string& server, const std::string& local,
                                    const std::string& cloud) {
  return StatePath(env, "uploads", server, local, cloud);
}

}  // namespace paddlecloud::client
