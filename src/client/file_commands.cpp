#include "client/file_commands.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "client/api_client.h"
#include "client/output.h"
#include "client/terminal.h"
#include "common/fs.h"
#include "common/units.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::string_view kCloudPrefix = "pc:";
constexpr int kListPage = 1000;        // the server's largest page
constexpr int kTransportRetries = 3;   // a dropped connection is retried (resuming) this often
constexpr int kConflictRetries = 40;   // a PUT refused because another PUT of the upload still runs

const json::array& ArrayAt(const json::value& v, std::string_view key) {
  static const json::array kEmpty;
  if (!v.is_object()) return kEmpty;
  const json::value* found = v.as_object().if_contains(key);
  return found && found->is_array() ? found->as_array() : kEmpty;
}

bool BoolAt(const json::value& v, std::string_view key) {
  if (!v.is_object()) return false;
  const json::value* found = v.as_object().if_contains(key);
  return found && found->is_bool() && found->as_bool();
}

bool Has(const json::value& v, std::string_view key) { return v.is_object() && v.as_object().contains(key); }

std::uint64_t UintAt(const json::value& v, std::string_view key) {
  std::int64_t n = IntAt(v, {key}, 0);
  return n < 0 ? 0 : static_cast<std::uint64_t>(n);
}

std::int64_t Now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::string Join(const std::string& folder, const std::string& name) {
  if (folder.empty()) return name;
  if (name.empty()) return folder;
  return folder + "/" + name;
}

std::string BaseName(const std::string& cloud) {
  auto slash = cloud.rfind('/');
  return slash == std::string::npos ? cloud : cloud.substr(slash + 1);
}

std::string ParentOf(const std::string& cloud) {
  auto slash = cloud.rfind('/');
  return slash == std::string::npos ? "" : cloud.substr(0, slash);
}

bool IsCloudArg(const std::string& arg) { return arg.starts_with(kCloudPrefix); }

// The absolute, lexically normal form of a local path, without a trailing separator.
std::string AbsoluteLocal(const std::string& path) {
  std::error_code ec;
  fs::path abs = fs::absolute(path, ec);
  if (ec) abs = fs::path(path);
  std::string text = abs.lexically_normal().string();
  while (text.size() > 1 && text.back() == '/') text.pop_back();
  return text;
}

// The last component of a local path as typed ("./data/" → "data", "." → the current folder's name).
std::string LocalName(const std::string& path) { return fs::path(AbsoluteLocal(path)).filename().string(); }

std::string Display(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// A name in a listing must be one path segment; anything else is never written locally.
bool SafeName(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

std::string FilesTarget(const std::string& path) { return "/api/v1/files/" + EncodePath(path); }
std::string UploadTarget(const std::string& id) { return "/api/v1/uploads/" + EncodePath(id); }

bool IsFolder(const json::value& entry) { return StringAt(entry, {"kind"}) == "folder"; }

// The entry at `path`: a file's entry, or the head of a folder's listing.
Result<json::value> Stat(ApiClient& client, const std::string& path) {
  return client.Call("GET", FilesTarget(path) + "?limit=1");
}

// Every entry of the folder at `path` (all pages). `head` gets the first answer (a file's entry
// when `path` is a file; then the list is empty).
Result<std::vector<json::value>> ListAll(ApiClient& client, const std::string& path, const std::string& sort,
                                         bool descending, json::value* head = nullptr) {
  std::vector<json::value> entries;
  std::string cursor;
  for (int page = 0;; ++page) {
    std::string target = FilesTarget(path) + "?sort=" + sort + "&order=" + (descending ? "desc" : "asc") +
                         "&limit=" + std::to_string(kListPage);
    if (!cursor.empty()) target += "&cursor=" + EncodePath(cursor);
    auto answer = client.Call("GET", target);
    if (!answer) return Err(answer.error());
    if (page == 0 && head) *head = *answer;
    if (!Has(*answer, "entries")) break;  // a file
    for (const auto& entry : ArrayAt(*answer, "entries")) entries.push_back(entry);
    std::string next = StringAt(*answer, {"next_cursor"});
    if (next.empty() || next == cursor) break;
    cursor = next;
  }
  return entries;
}

// Creates the cloud folder `path` (and its parents); one that exists already is fine.
Status EnsureFolder(ApiClient& client, const std::string& path) {
  if (path.empty()) return Status::Ok();
  auto made = client.Call("POST", "/api/v1/folders", json::object{{"path", path}});
  if (made) return Status::Ok();
  if (made.error().code() != Code::kConflict) return made.error();
  auto existing = Stat(client, path);
  if (existing && IsFolder(*existing)) return Status::Ok();
  return Status::Conflict(path + " exists and is not a folder");
}

// --- local files --------------------------------------------------------------------------

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

// Creates `dir` and missing parents with mode 0700 (the CLI's config directory holds secrets).
Status MakePrivateDirs(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return Status::Ok();
  if (dir.has_parent_path() && dir.parent_path() != dir) {
    if (Status parent = MakePrivateDirs(dir.parent_path()); !parent.ok()) return parent;
  }
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return Status::InvalidArgument("cannot create " + dir.string() + ": " + std::strerror(errno));
  return Status::Ok();
}

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

Result<std::string> StateDir(const Environment& env, const std::string& kind) {
  auto config = ConfigPath(env);
  if (!config) return Err(config.error());
  return (fs::path(*config).parent_path() / kind).string();
}

Result<std::string> DownloadStatePath(const Environment& env, const std::string& server, const std::string& local,
                                      const std::string& cloud) {
  auto dir = StateDir(env, "downloads");
  if (!dir) return Err(dir.error());
  return *dir + "/" + Sha256Hex(server + "\n" + local + "\n" + cloud) + ".json";
}

// --- progress and rate --------------------------------------------------------------------

// Progress of transfers on stderr: on a terminal a line per file, redrawn in place (bytes, percent,
// rate); otherwise nothing until Summary. Also keeps transfers under the rate limit: Update blocks
// while a file's bytes are ahead of it.
class TransferProgress {
 public:
  explicit TransferProgress(std::uint64_t rate_limit)
      : tty_(StderrIsTerminal()), rate_(rate_limit), start_(Clock::now()) {}

  // A file starts; `done` of its `total` bytes are there already (a resumed transfer).
  void Begin(const std::string& label, std::uint64_t total, std::uint64_t done) {
    label_ = label;
    total_ = total;
    base_ = done;
    done_ = done;
    file_start_ = Clock::now();
    last_draw_ = {};
    open_line_ = false;
    Draw(true);
  }

  // `done` bytes of the file are there now.
  void Update(std::uint64_t done) {
    if (done > done_) moved_ += done - done_;
    done_ = done;
    if (rate_ > 0 && done_ > base_) {
      auto due = file_start_ + std::chrono::nanoseconds(static_cast<std::int64_t>(
                                   static_cast<double>(done_ - base_) * 1e9 / static_cast<double>(rate_)));
      if (due > Clock::now()) std::this_thread::sleep_until(due);
    }
    Draw(false);
  }

  // The file is done (ok) or the transfer stopped.
  void End(bool ok) {
    if (ok) {
      ++files_;
      bytes_ += total_;
      done_ = total_;
      if (!open_line_ || drawn_ != total_) Draw(true);
    }
    if (open_line_) std::cerr << "\n" << std::flush;
    open_line_ = false;
  }

  // "Uploaded 3 files (1.2 MiB) in 0.4 s (3.0 MiB/s)": what this run moved, on stderr.
  void Summary(const std::string& verb) const {
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start_);
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%.1f", static_cast<double>(elapsed.count()) / 1000.0);
    std::cerr << verb << " " << files_ << (files_ == 1 ? " file" : " files") << " (" << FormatBytes(bytes_) << ") in "
              << seconds << " s";
    if (elapsed.count() > 0 && moved_ > 0)
      std::cerr << " (" << FormatBytes(static_cast<std::uint64_t>(static_cast<double>(moved_) * 1000.0 /
                                                                  static_cast<double>(elapsed.count())))
                << "/s)";
    std::cerr << "\n";
  }

  bool tty() const { return tty_; }

 private:
  void Draw(bool force) {
    if (!tty_) return;
    auto now = Clock::now();
    if (!force && now - last_draw_ < 100ms) return;
    last_draw_ = now;
    int percent = total_ == 0 ? 100 : static_cast<int>(std::min<std::uint64_t>(done_, total_) * 100 / total_);
    char head[16];
    std::snprintf(head, sizeof head, "%3d%%", percent);
    std::string line = label_ + "  " + head + " " + FormatBytes(done_) + " / " + FormatBytes(total_);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - file_start_).count();
    if (ms > 0 && done_ > base_)
      line += "  " + FormatBytes(static_cast<std::uint64_t>(static_cast<double>(done_ - base_) * 1000.0 /
                                                           static_cast<double>(ms))) + "/s";
    std::cerr << "\r" << line << "\x1b[K" << std::flush;
    open_line_ = true;
    drawn_ = done_;
  }

  bool tty_;
  std::uint64_t rate_;
  Clock::time_point start_;
  Clock::time_point file_start_{};
  Clock::time_point last_draw_{};
  std::string label_;
  std::uint64_t total_ = 0, base_ = 0, done_ = 0;
  std::uint64_t drawn_ = 0;  // done_ when the line was last drawn
  std::uint64_t moved_ = 0;  // bytes sent or received in this run
  std::uint64_t files_ = 0, bytes_ = 0;
  bool open_line_ = false;
};

struct Context {
  ApiClient& client;
  const Environment& env;
  TransferProgress& progress;
};

// --- uploads ------------------------------------------------------------------------------

struct UploadState {
  std::string id;
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::string sha256;
};

std::optional<UploadState> ReadUploadState(const std::string& path) {
  auto value = ReadJsonFile(path);
  if (!value) return std::nullopt;
  UploadState state{StringAt(*value, {"id"}), UintAt(*value, "size"), IntAt(*value, {"mtime_ns"}),
                    StringAt(*value, {"sha256"})};
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

Status WithResumeHint(const Status& s) {
  return Status::Of(s.code(), s.message() + "; run the same command again to resume", s.field());
}

// Uploads the local file `local` to the cloud path `cloud` with a resumable upload session.
Status UploadFile(Context& ctx, const std::string& local, const std::string& label, const std::string& cloud) {
  auto file = StatLocal(local);
  if (!file) return file.error();
  auto state_path = UploadStatePath(ctx.env, ctx.client.server(), AbsoluteLocal(local), cloud);
  if (!state_path) return state_path.error();

  std::string id;
  std::uint64_t offset = 0;
  if (auto saved = ReadUploadState(*state_path)) {
    if (saved->size == file->size && saved->mtime_ns == file->mtime_ns) {
      auto at = ServerOffset(ctx.client, saved->id);
      if (at && *at < file->size) {
        id = saved->id;
        offset = *at;
      } else if (at || at.error().code() == Code::kNotFound) {
        if (at) CancelSession(ctx.client, saved->id);
      } else {
        return at.error();
      }
    } else {  // the file changed since: that session is of no use
      CancelSession(ctx.client, saved->id);
    }
    if (id.empty()) RemoveQuietly(*state_path);
  }

  bool noted = false, made_parent = false, restarted = false;
  int transport_failures = 0, conflicts = 0;
  while (true) {
    if (id.empty()) {
      if (ctx.progress.tty() && file->size >= (64u << 20))
        std::cerr << "\rchecksumming " << label << " ...\x1b[K" << std::flush;
      auto sha = Sha256OfFile(local);
      if (ctx.progress.tty() && file->size >= (64u << 20)) std::cerr << "\r\x1b[K" << std::flush;
      if (!sha) return sha.error();
      json::object body{{"path", cloud}, {"size", file->size}, {"sha256", *sha}};
      auto created = ctx.client.Call("POST", "/api/v1/uploads", body);
      if (!created && created.error().code() == Code::kNotFound && !made_parent && !ParentOf(cloud).empty()) {
        made_parent = true;  // the folder it goes into does not exist yet
        if (Status parent = EnsureFolder(ctx.client, ParentOf(cloud)); !parent.ok()) return parent;
        continue;
      }
      if (!created) return created.error();
      id = StringAt(*created, {"id"});
      if (id.empty()) return Status::Internal("the server's answer to a new upload names no id");
      offset = UintAt(*created, "offset");
      json::object state{{"id", id},         {"server", ctx.client.server()}, {"local", AbsoluteLocal(local)},
                         {"path", cloud},    {"size", file->size},           {"mtime_ns", file->mtime_ns},
                         {"sha256", *sha},   {"created_at", Now()}};
      if (Status saved = WriteSmallFile(*state_path, json::serialize(state)); !saved.ok())
        Warn(saved.message() + " (this upload cannot be resumed if interrupted)");
      if (BoolAt(*created, "complete")) {
        ctx.progress.Begin(label, file->size, file->size);
        ctx.progress.End(true);
        RemoveQuietly(*state_path);
        return Status::Ok();
      }
    } else if (offset > 0 && !noted) {
      std::cerr << "resuming " << label << " at " << offset << " bytes\n" << std::flush;
      noted = true;
    }

    ctx.progress.Begin(label, file->size, offset);
    HeaderList headers;
    if (file->size > 0)
      headers.emplace_back("Content-Range", "bytes " + std::to_string(offset) + "-" + std::to_string(file->size - 1) +
                                                "/" + std::to_string(file->size));
    const std::uint64_t start = offset;
    auto answer = ctx.client.SendFileRange(
        "PUT", UploadTarget(id), local, offset, file->size - offset, headers, "application/octet-stream",
        [&](std::uint64_t sent, std::uint64_t) { ctx.progress.Update(start + sent); });
    if (!answer) {
      ctx.progress.End(false);
      if (answer.error().code() != Code::kUnavailable) return answer.error();  // e.g. the local file shrank
      if (++transport_failures > kTransportRetries) return WithResumeHint(answer.error());
      std::this_thread::sleep_for(std::chrono::seconds(transport_failures));
      auto at = ServerOffset(ctx.client, id);
      if (!at && at.error().code() != Code::kNotFound) return WithResumeHint(at.error());
      if (!at) {
        id.clear();
        RemoveQuietly(*state_path);
      } else {
        offset = *at;
      }
      continue;
    }
    if (answer->status >= 200 && answer->status < 300) {
      boost::system::error_code ec;
      json::value done = json::parse(answer->body, ec);
      if (!ec && BoolAt(done, "complete")) {
        ctx.progress.End(true);
        RemoveQuietly(*state_path);
        return Status::Ok();
      }
      ctx.progress.End(false);
      if (++transport_failures > kTransportRetries)
        return WithResumeHint(Status::Unavailable("the upload of " + label + " did not complete"));
      offset = ec ? offset : UintAt(done, "offset");
      continue;
    }
    ctx.progress.End(false);
    Status error = ErrorFromResponse(answer->status, answer->body, answer->header("retry-after"));
    if (answer->status == 409 && ++conflicts <= kConflictRetries) {
      // The server is elsewhere (its offset), or a PUT of this upload is still running (an earlier,
      // interrupted run whose connection the server has not seen end yet): ask and try again.
      std::this_thread::sleep_for(conflicts < 4 ? 100ms : 500ms);
      auto at = ServerOffset(ctx.client, id);
      if (!at) return at.error();
      offset = *at;
      continue;
    }
    if (answer->status == 404 && !restarted) {  // the session expired: start over
      restarted = true;
      id.clear();
      offset = 0;
      RemoveQuietly(*state_path);
      continue;
    }
    if (answer->status >= 400 && answer->status < 500 && answer->status != 408 && answer->status != 429)
      RemoveQuietly(*state_path);  // refused for good (checksum, quota): the session is no use
    return error;
  }
}

// Uploads the local folder `local` as the cloud folder `cloud`, file by file, creating its folders.
Status UploadTree(Context& ctx, const std::string& local, const std::string& cloud) {
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
    if (Status made = EnsureFolder(ctx.client, Join(cloud, leaf)); !made.ok()) return made;
  }
  std::string base = Display(local);
  for (const auto& file : files) {
    std::string rel = file.generic_string();
    if (Status sent = UploadFile(ctx, (fs::path(local) / file).string(), base + "/" + rel, Join(cloud, rel)); !sent.ok())
      return sent;
  }
  return Status::Ok();
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

// Downloads the cloud file `cloud` (of `size` bytes, for the progress) to `local` through
// `local`.part, continuing a .part an earlier run left.
Status DownloadFile(Context& ctx, const std::string& cloud, const std::string& local, std::uint64_t size) {
  std::string part = local + ".part";
  auto state_path = DownloadStatePath(ctx.env, ctx.client.server(), AbsoluteLocal(local), cloud);
  if (!state_path) return state_path.error();
  const std::string label = cloud;
  int failures = 0;
  bool noted = false;
  for (int attempt = 0;; ++attempt) {
    std::error_code ec;
    std::uint64_t have = fs::is_regular_file(part, ec) ? fs::file_size(part, ec) : 0;
    if (ec) have = 0;
    std::string saved_etag;
    if (auto saved = ReadJsonFile(*state_path)) saved_etag = StringAt(*saved, {"etag"});
    if (have > 0 && (have >= size || saved_etag.empty())) have = 0;  // not a part of this file we know
    HeaderList headers;
    if (have > 0) {
      headers.emplace_back("Range", "bytes=" + std::to_string(have) + "-");
      if (!noted) std::cerr << "resuming " << label << " at " << have << " bytes\n" << std::flush;
      noted = true;
    }
    std::ofstream out;
    std::string local_failure;
    bool changed = false;
    std::uint64_t written = have, total = size;
    bool begun = false;
    auto on_head = [&](const ApiResponse& head) {
      std::string etag = head.header("etag");
      if (head.status == 206) {
        std::uint64_t start = 0, whole = 0;
        if (!ParseContentRange(head.header("content-range"), start, whole) || start != have ||
            (!saved_etag.empty() && !etag.empty() && etag != saved_etag)) {
          changed = true;  // another file, or not where we are: start over
          return false;
        }
        if (whole > 0) total = whole;
        out.open(part, std::ios::binary | std::ios::app);
      } else {
        written = 0;
        std::string length = head.header("content-length");
        if (!length.empty()) total = std::strtoull(length.c_str(), nullptr, 10);
        out.open(part, std::ios::binary | std::ios::trunc);
      }
      if (!out) {
        local_failure = "cannot write " + part + ": " + std::strerror(errno);
        return false;
      }
      if (!etag.empty()) {
        json::object state{{"etag", etag}, {"path", cloud}, {"local", AbsoluteLocal(local)}, {"size", total}};
        if (Status saved = WriteSmallFile(*state_path, json::serialize(state)); !saved.ok()) Warn(saved.message());
      }
      ctx.progress.Begin(label, total, written);
      begun = true;
      return true;
    };
    auto on_chunk = [&](std::string_view chunk) {
      out.write(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      if (!out) {
        local_failure = "cannot write " + part + ": " + std::strerror(errno);
        return false;
      }
      written += chunk.size();
      ctx.progress.Update(written);
      return true;
    };
    auto answer = ctx.client.Fetch("/api/v1/download/" + EncodePath(cloud), headers, on_head, on_chunk);
    out.close();
    bool complete = answer && answer->status >= 200 && answer->status < 300 && local_failure.empty() && !changed &&
                    (total == 0 || written == total) && out.good();
    if (begun && !complete) ctx.progress.End(false);
    if (!local_failure.empty()) return Status::InvalidArgument(local_failure);
    if (changed || (answer && answer->status == 416 && have > 0)) {
      RemoveQuietly(part);
      RemoveQuietly(*state_path);
      if (attempt >= 2) return Status::Conflict(cloud + " keeps changing while it is downloaded");
      continue;
    }
    if (!answer) {
      if (answer.error().code() != Code::kUnavailable || ++failures > kTransportRetries)
        return WithResumeHint(answer.error());
      std::this_thread::sleep_for(std::chrono::seconds(failures));
      continue;
    }
    if (answer->status < 200 || answer->status >= 300)
      return ErrorFromResponse(answer->status, answer->body, answer->header("retry-after"));
    if (!out.good()) return Status::InvalidArgument("cannot write " + part);
    if (total > 0 && written != total) {  // the body ended early
      if (++failures > kTransportRetries)
        return WithResumeHint(Status::Unavailable("the download of " + cloud + " was cut short"));
      continue;
    }
    fs::rename(part, local, ec);
    if (ec) {
      ctx.progress.End(false);
      return Status::InvalidArgument("cannot write " + local + ": " + ec.message());
    }
    RemoveQuietly(*state_path);
    ctx.progress.End(true);
    return Status::Ok();
  }
}

// Downloads the cloud folder `cloud` into the local folder `local`, file by file.
Status DownloadTree(Context& ctx, const std::string& cloud, const std::string& local) {
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
    Status done = IsFolder(entry) ? DownloadTree(ctx, Join(cloud, name), target)
                                  : DownloadFile(ctx, Join(cloud, name), target, UintAt(entry, "size"));
    if (!done.ok()) return done;
  }
  return Status::Ok();
}

// --- commands' shared parts -------------------------------------------------------------

// Normalizes a cloud path argument; prints a usage error and returns nullopt when it is bad.
std::optional<std::string> CloudArg(const std::string& text, int& exit_code, bool* trailing = nullptr) {
  auto path = NormalizeCloudPath(text, trailing);
  if (!path) {
    exit_code = FailUsage(path.error().message());
    return std::nullopt;
  }
  return *path;
}

// Whether the cloud `dest` of a copy or move is a folder that things go into.
Result<bool> CloudFolderExists(ApiClient& client, const std::string& dest) {
  if (dest.empty()) return true;
  auto entry = Stat(client, dest);
  if (entry) return IsFolder(*entry);
  if (entry.error().code() == Code::kNotFound) return false;
  return Err(entry.error());
}

std::string SizeText(const json::value& entry, bool human) {
  if (IsFolder(entry)) return "-";
  std::uint64_t size = UintAt(entry, "size");
  return human ? FormatBytes(size) : std::to_string(size);
}

std::string ShareLink(const ApiClient& client, const json::value& share) {
  std::string link = StringAt(share, {"link"});
  if (link.empty()) return "";
  return link.starts_with("/") ? client.server() + link : link;
}

}  // namespace

// --- pieces -------------------------------------------------------------------------------

Result<std::string> NormalizeCloudPath(const std::string& text, bool* trailing) {
  auto bad = [&](const std::string& why) {
    return Err(Status::InvalidArgument("invalid cloud path '" + text + "': " + why, "path"));
  };
  std::string path = text;
  if (path.find('\0') != std::string::npos) return bad("it contains a NUL byte");
  if (path.find('\\') != std::string::npos) return bad("use '/' to separate folders, not '\\'");
  std::size_t first = path.find_first_not_of('/');
  path = first == std::string::npos ? "" : path.substr(first);
  bool slash = !path.empty() && path.back() == '/';
  while (!path.empty() && path.back() == '/') path.pop_back();
  if (trailing) *trailing = slash;
  if (path.empty()) return path;
  std::size_t start = 0;
  while (true) {
    std::size_t end = path.find('/', start);
    std::string segment = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (segment.empty()) return bad("it has an empty segment ('//')");
    if (segment == "." || segment == "..") return bad("'" + segment + "' segments are not allowed");
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return path;
}

Result<std::uint64_t> ParseRate(const std::string& text) {
  std::string_view size = text;
  if (size.ends_with("/s")) size.remove_suffix(2);
  auto bytes = units::ParseByteSize(size);
  if (!bytes || *bytes == 0)
    return Err(Status::InvalidArgument("'" + text + "' is not a rate: use bytes per second, e.g. 500K, 2Mi or 1G",
                                       "limit-rate"));
  return static_cast<std::uint64_t>(*bytes);
}

Result<std::int64_t> ParseExpirySeconds(const std::string& text) {
  auto duration = units::ParseDuration(text);
  if (!duration || duration->count() == 0)
    return Err(Status::InvalidArgument("'" + text + "' is not a duration: use e.g. 7d, 12h, 30m, 90s or 2w", "expires"));
  return (duration->count() + 999) / 1000;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return fsutil::ToHex(std::string_view(reinterpret_cast<const char*>(md), len));
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
  auto dir = StateDir(env, "uploads");
  if (!dir) return Err(dir.error());
  return *dir + "/" + Sha256Hex(server + "\n" + local + "\n" + cloud) + ".json";
}

// --- commands -----------------------------------------------------------------------------

int ListFiles(const LsFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto path = CloudArg(flags.path, exit_code);
  if (!path) return exit_code;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  json::value head;
  auto entries = ListAll(*client, *path, flags.sort, flags.reverse, &head);
  if (!entries) return FailSignedIn(*client, entries.error());
  bool single = !Has(head, "entries");
  if (single) entries->push_back(head);
  if (!flags.long_format) {
    for (const auto& entry : *entries) {
      std::string name = single ? *path : StringAt(entry, {"name"});
      std::cout << name << (IsFolder(entry) ? "/" : "") << "\n";
    }
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& entry : *entries) {
    std::string by = StringAt(entry, {"uploaded_by"});
    std::string name = single ? *path : StringAt(entry, {"name"});
    rows.push_back({SizeText(entry, flags.human), FormatTime(IntAt(entry, {"modified_at"})), by.empty() ? "-" : by,
                    name + (IsFolder(entry) ? "/" : "")});
  }
  std::cout << FormatTable({"SIZE", "MODIFIED", "UPLOADED BY", "NAME"}, rows);
  return kExitOk;
}

int CopyFiles(const CpFlags& flags, const Environment& env) {
  if (flags.args.size() < 2) return FailUsage("cp needs a source and a destination: cp SRC... DEST");
  std::uint64_t rate = 0;
  if (!flags.limit_rate.empty()) {
    auto parsed = ParseRate(flags.limit_rate);
    if (!parsed) return FailUsage("--limit-rate: " + parsed.error().message());
    rate = *parsed;
  }
  std::vector<std::string> sources(flags.args.begin(), flags.args.end() - 1);
  const std::string& dest_arg = flags.args.back();
  bool dest_cloud = IsCloudArg(dest_arg);
  std::size_t cloud_sources = static_cast<std::size_t>(std::count_if(sources.begin(), sources.end(), IsCloudArg));
  if (cloud_sources != 0 && cloud_sources != sources.size())
    return FailUsage("cp copies either local files to the cloud or cloud files here, not both at once");
  bool src_cloud = cloud_sources != 0;
  if (!src_cloud && !dest_cloud)
    return FailUsage("cp copies to or from the cloud: write cloud paths as pc:PATH (e.g. pc:datasets/mnist)");

  int exit_code = kExitOk;
  std::vector<std::string> cloud_srcs;
  if (src_cloud) {
    for (const auto& s : sources) {
      auto p = CloudArg(s.substr(kCloudPrefix.size()), exit_code);
      if (!p) return exit_code;
      if (p->empty()) return FailUsage("cp cannot copy the top level (" + s + "); name a folder or file in it");
      cloud_srcs.push_back(*p);
    }
  } else {
    for (const auto& s : sources) {
      std::error_code ec;
      auto status = fs::status(s, ec);
      if (ec || !fs::exists(status)) return FailUsage("cannot copy " + s + ": no such file or folder");
      if (fs::is_directory(status) && !flags.recursive) return FailUsage(s + " is a folder: copy it with -r");
      if (!fs::is_directory(status) && !fs::is_regular_file(status))
        return FailUsage("cannot copy " + s + ": not a regular file or folder");
    }
  }
  bool dest_trailing = false;
  std::string dest_local;
  std::optional<std::string> dest_path;
  if (dest_cloud) {
    dest_path = CloudArg(dest_arg.substr(kCloudPrefix.size()), exit_code, &dest_trailing);
    if (!dest_path) return exit_code;
  } else {
    dest_local = dest_arg;
    dest_trailing = dest_arg.ends_with("/");
  }

  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  TransferProgress progress(rate);
  Context ctx{*client, env, progress};
  bool several = sources.size() > 1;

  if (!src_cloud) {  // upload
    bool into = dest_trailing || several;
    if (!into) {
      auto folder = CloudFolderExists(*client, *dest_path);
      if (!folder) return FailSignedIn(*client, folder.error());
      into = *folder;
    } else if (Status made = EnsureFolder(*client, *dest_path); !made.ok()) {
      return FailSignedIn(*client, made);
    }
    for (const auto& source : sources) {
      std::string target = into ? Join(*dest_path, LocalName(source)) : *dest_path;
      std::error_code ec;
      Status done = fs::is_directory(source, ec) ? UploadTree(ctx, source, target)
                                                 : UploadFile(ctx, source, Display(source), target);
      if (!done.ok()) return FailSignedIn(*client, done);
    }
    progress.Summary("Uploaded");
    return kExitOk;
  }

  if (dest_cloud) {  // cloud → cloud: copied by the server
    bool into = dest_trailing || several;
    if (!into) {
      auto folder = CloudFolderExists(*client, *dest_path);
      if (!folder) return FailSignedIn(*client, folder.error());
      into = *folder;
    }
    for (const auto& source : cloud_srcs) {
      auto entry = Stat(*client, source);
      if (!entry) return FailSignedIn(*client, entry.error());
      if (IsFolder(*entry) && !flags.recursive) return FailUsage("pc:" + source + " is a folder: copy it with -r");
      std::string target = into ? Join(*dest_path, BaseName(source)) : *dest_path;
      auto copied = client->Call("POST", "/api/v1/copies", json::object{{"from", source}, {"to", target}});
      if (!copied) return FailSignedIn(*client, copied.error());
      std::cerr << "Copied pc:" << source << " to pc:" << target << "\n";
    }
    return kExitOk;
  }

  // download
  std::error_code ec;
  bool into = dest_trailing || several || fs::is_directory(dest_local, ec);
  if (into) {
    fs::create_directories(dest_local, ec);
    if (!fs::is_directory(dest_local, ec)) return Fail(Status::InvalidArgument("cannot create the folder " + dest_local));
  }
  for (const auto& source : cloud_srcs) {
    auto entry = Stat(*client, source);
    if (!entry) return FailSignedIn(*client, entry.error());
    std::string target = into ? (fs::path(dest_local) / BaseName(source)).string() : dest_local;
    Status done;
    if (IsFolder(*entry)) {
      if (!flags.recursive) return FailUsage("pc:" + source + " is a folder: copy it with -r");
      done = DownloadTree(ctx, source, target);
    } else {
      if (fs::is_directory(target, ec)) target = (fs::path(target) / BaseName(source)).string();
      done = DownloadFile(ctx, source, target, UintAt(*entry, "size"));
    }
    if (!done.ok()) return FailSignedIn(*client, done);
  }
  progress.Summary("Downloaded");
  return kExitOk;
}

// The cloud paths of `args`, each below the top level; nullopt (with `exit_code` set) after
// reporting the first bad one.
std::optional<std::vector<std::string>> CloudArgsBelowTop(const std::vector<std::string>& args,
                                                         const std::string& top_level_error, int& exit_code) {
  std::vector<std::string> paths;
  for (const auto& arg : args) {
    auto path = CloudArg(arg, exit_code);
    if (!path) return std::nullopt;
    if (path->empty()) {
      exit_code = FailUsage(top_level_error);
      return std::nullopt;
    }
    paths.push_back(*path);
  }
  return paths;
}

int RemoveFiles(const RmFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto paths = CloudArgsBelowTop(flags.paths, "rm cannot remove the top level", exit_code);
  if (!paths) return exit_code;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  int result = kExitOk;
  for (const auto& path : *paths) {
    auto removed = client->Call("DELETE", FilesTarget(path) + (flags.recursive ? "?recursive=true" : ""));
    if (removed) continue;
    Status error = removed.error();
    if (error.code() == Code::kConflict && !flags.recursive)
      error = Status::Conflict(error.message() + " (rm -r removes a folder with its contents)");
    result = FailSignedIn(*client, error);
  }
  return result;
}

int MakeFolders(const MkdirFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto paths = CloudArgsBelowTop(flags.paths, "mkdir needs a folder path, e.g. datasets/mnist", exit_code);
  if (!paths) return exit_code;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  int result = kExitOk;
  for (const auto& path : *paths) {
    Status made = flags.parents ? EnsureFolder(*client, path)
                                : [&] {
                                    auto answer = client->Call("POST", "/api/v1/folders", json::object{{"path", path}});
                                    return answer ? Status::Ok() : answer.error();
                                  }();
    if (!made.ok()) result = FailSignedIn(*client, made);
  }
  return result;
}

int MoveFile(const MvFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto source = CloudArg(flags.source, exit_code);
  if (!source) return exit_code;
  auto dest = CloudArg(flags.dest, exit_code);
  if (!dest) return exit_code;
  if (source->empty()) return FailUsage("mv cannot move the top level");
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  std::string target = *dest;
  if (target != *source) {
    auto folder = CloudFolderExists(*client, target);
    if (!folder) return FailSignedIn(*client, folder.error());
    if (*folder) target = Join(target, BaseName(*source));
  }
  auto moved = client->Call("PATCH", FilesTarget(*source), json::object{{"path", target}});
  if (!moved) return FailSignedIn(*client, moved.error());
  return kExitOk;
}

int ShareFiles(const ShareFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto path = CloudArg(flags.path, exit_code);
  if (!path) return exit_code;
  if (flags.link == !flags.account.empty()) return FailUsage("share needs either --account ID or --link");
  std::optional<std::int64_t> expires_at;
  if (!flags.expires.empty()) {
    auto seconds = ParseExpirySeconds(flags.expires);
    if (!seconds) return FailUsage("--expires: " + seconds.error().message());
    expires_at = Now() + *seconds;
  }
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  json::object body{{"path", *path}};
  if (flags.link) {
    body["link"] = true;
  } else {
    body["account"] = flags.account;
  }
  if (expires_at) body["expires_at"] = *expires_at;
  auto share = client->Call("POST", "/api/v1/shares", body);
  if (!share) return FailSignedIn(*client, share.error());
  std::int64_t id = IntAt(*share, {"id"});
  std::int64_t expires = IntAt(*share, {"expires_at"});
  std::string until = expires > 0 ? ", until " + FormatTime(expires) : "";
  if (flags.link) {
    std::cout << "Share " << id << ": " << *path << " by link" << until << "\n" << ShareLink(*client, *share) << "\n";
  } else {
    std::cout << "Share " << id << ": " << *path << " with " << StringAt(*share, {"account"}) << until << "\n";
  }
  return kExitOk;
}

int Unshare(const UnshareFlags& flags, const Environment& env) {
  if (flags.id.empty() || !std::all_of(flags.id.begin(), flags.id.end(), [](unsigned char c) { return std::isdigit(c); }))
    return FailUsage("unshare takes a share id (a number; `paddlecloud shares` lists them), not '" + flags.id + "'");
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  auto revoked = client->Call("DELETE", "/api/v1/shares/" + flags.id);
  if (!revoked) return FailSignedIn(*client, revoked.error());
  std::cout << "Revoked share " << flags.id << "\n";
  return kExitOk;
}

int ListShares(const SharesFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  auto list = client->Call("GET", flags.with_me ? "/api/v1/shared-with-me" : "/api/v1/shares");
  if (!list) return FailSignedIn(*client, list.error());
  const auto& shares = ArrayAt(*list, "shares");
  if (shares.empty()) {
    std::cout << (flags.with_me ? "Nothing is shared with you.\n" : "No shares.\n");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& share : shares) {
    std::int64_t expires = IntAt(share, {"expires_at"});
    std::string until = expires > 0 ? FormatTime(expires) : "never";
    if (flags.with_me) {
      rows.push_back({std::to_string(IntAt(share, {"id"})), StringAt(share, {"owner_account"}),
                      StringAt(share, {"mount"}), StringAt(share, {"kind"}), until});
    } else {
      std::string with = StringAt(share, {"account"});
      if (with.empty()) with = ShareLink(*client, share);
      rows.push_back({std::to_string(IntAt(share, {"id"})), StringAt(share, {"path"}), StringAt(share, {"kind"}), with,
                      until, FormatTime(IntAt(share, {"created_at"}))});
    }
  }
  if (flags.with_me) {
    std::cout << FormatTable({"ID", "OWNER", "PATH", "KIND", "EXPIRES"}, rows);
  } else {
    std::cout << FormatTable({"ID", "PATH", "KIND", "SHARED WITH", "EXPIRES", "CREATED"}, rows);
  }
  return kExitOk;
}

int Publish(const PublishFlags& flags, const Environment& env) {
  int exit_code = kExitOk;
  auto path = CloudArg(flags.path, exit_code);
  if (!path) return exit_code;
  std::string kind = flags.kind;
  if (kind.empty()) {
    if (path->starts_with("models/")) kind = "model";
    else if (path->starts_with("datasets/")) kind = "dataset";
    else return FailUsage("--kind model|dataset is needed to publish " + *path);
  }
  auto client = ConnectSignedIn(flags.connection, env, exit_code);
  if (!client) return exit_code;
  json::object body{{"kind", kind}, {"name", flags.name}, {"version", flags.version}, {"path", *path}};
  if (!flags.description.empty()) body["description"] = flags.description;
  auto published = client->Call("POST", "/api/v1/publications", body);
  if (!published) return FailRequest(*client, published.error());
  std::int64_t files = IntAt(*published, {"files"});
  std::cout << "Published " << StringAt(*published, {"kind"}) << " " << StringAt(*published, {"name"}) << " "
            << StringAt(*published, {"version"}) << " (id " << IntAt(*published, {"id"}) << ") as "
            << StringAt(*published, {"path"}) << ": " << files << (files == 1 ? " file, " : " files, ")
            << FormatBytes(UintAt(*published, "bytes")) << "\n";
  return kExitOk;
}

}  // namespace paddlecloud::client
