#include "files/file_service.h"

#include <archive.h>
#include <archive_entry.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <regex>

#include "accounts/secrets.h"
#include "db/tenant_scope.h"
#include "files/archive_limits.h"
#include "files/cloud_path.h"

namespace paddlecloud::files {
namespace {

std::int64_t Now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool StartsWithSegments(const std::vector<std::string>& path, const std::vector<std::string>& prefix) {
  return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

// "key" itself or anything below it, for SQL on key/path columns.
constexpr char kUnderSql[] = "(%1 = ? OR substr(%1, 1, ?) = ?)";
std::string UnderSql(const std::string& column) {
  std::string out = kUnderSql;
  for (std::size_t at; (at = out.find("%1")) != std::string::npos;) out.replace(at, 2, column);
  return out;
}
db::Params UnderParams(const std::string& key) {
  return {key, static_cast<std::int64_t>(key.size() + 1), key + "/"};
}

Status QuotaLeftError(const std::string& doing, std::uint64_t size, std::uint64_t left) {
  return Status::QuotaExceeded(doing + " " + std::to_string(size) + " bytes would exceed the storage quota (" +
                               std::to_string(left) + " bytes left)")
      .WithDetail("quota_left_bytes", std::to_string(left));
}

Status CheckSpaceWritable(const std::vector<std::string>& segments) {
  if (!segments.empty() && (segments[0] == "public" || segments[0] == "shared"))
    return Status::PermissionDenied("'" + segments[0] + "/' is read-only");
  return Status::Ok();
}

}  // namespace

std::vector<db::Migration> FileMigrations() {
  return {{4, "file service: upload sessions, who uploaded what, shares, publications",
           R"sql(
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  user_email TEXT NOT NULL,
  path TEXT NOT NULL,
  key TEXT NOT NULL,
  size INTEGER,
  sha256 TEXT,
  created_at INTEGER NOT NULL,
  touched_at INTEGER NOT NULL
);
CREATE INDEX uploads_touched ON uploads (touched_at);
CREATE TABLE file_meta (
  account_id TEXT NOT NULL,
  key TEXT NOT NULL,
  uploaded_by TEXT NOT NULL,
  uploaded_at INTEGER NOT NULL,
  PRIMARY KEY (account_id, key)
);
CREATE TABLE shares (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id TEXT NOT NULL,
  path TEXT NOT NULL,
  folder INTEGER NOT NULL,
  grantee_account TEXT,
  link_token TEXT UNIQUE,
  expires_at INTEGER,
  created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL
);
CREATE INDEX shares_account ON shares (account_id);
CREATE INDEX shares_grantee ON shares (grantee_account);
CREATE TABLE publications (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  version TEXT NOT NULL,
  description TEXT NOT NULL,
  account_id TEXT NOT NULL,
  published_by TEXT NOT NULL,
  published_at INTEGER NOT NULL,
  files INTEGER NOT NULL DEFAULT 0,
  bytes INTEGER NOT NULL DEFAULT 0,
  UNIQUE (kind, account_id, name, version)
);
)sql"}};
}

struct FileService::Location {
  std::string path;                       // normalized cloud path
  std::vector<std::string> segments;
  std::string key;                        // store key; empty for virtual folders
  bool writable = false;
  bool space_root = false;                // datasets/, models/, workspace/: never moved or removed
  std::optional<std::vector<std::string>> virtual_children;  // a folder made of names, not of the store
  std::string meta_account;               // whose file_meta describes these keys
};

FileService::FileService(db::Database& database, FileStore& store, FilesOptions options)
    : database_(database), store_(store), options_(std::move(options)) {}

Result<FileService::Location> FileService::Resolve(const Principal& principal, std::string_view path) {
  auto segments = ParseCloudPath(path);
  if (!segments) return Err(segments.error());
  Location l;
  l.segments = *segments;
  l.path = JoinSegments(l.segments);
  if (l.segments.empty()) {
    l.virtual_children = std::vector<std::string>{"datasets", "models", "workspace", "public", "shared"};
    return l;
  }
  const std::string& space = l.segments[0];
  const std::string& account = principal.account_id;
  if (space == "datasets" || space == "models" || space == "workspace") {
    std::string base = account + "/" + space;
    if (space == "workspace") base += "/" + std::to_string(principal.user_id);
    PC_RETURN_IF_ERROR(store_.MakeFolder(base));
    l.key = JoinPath(base, JoinSegments(l.segments, 1));
    l.writable = true;
    l.space_root = l.segments.size() == 1;
    l.meta_account = account;
    return l;
  }
  if (space == "public") {
    if (l.segments.size() == 1) {
      l.virtual_children = std::vector<std::string>{"datasets", "models"};
      return l;
    }
    if (l.segments[1] != "datasets" && l.segments[1] != "models")
      return Err(Status::NotFound("no such file or folder '" + l.path + "'"));
    PC_RETURN_IF_ERROR(store_.MakeFolder("public/" + l.segments[1]));
    l.key = l.path;
    return l;
  }
  if (space == "shared") {
    db::TenantScope scope(database_, account);
    auto rows = scope.Query(
        "SELECT account_id, path FROM shares WHERE grantee_account = :account AND (expires_at IS NULL OR expires_at > ?) "
        "ORDER BY account_id, path",
        {Now()});
    if (!rows) return Err(rows.error());
    std::set<std::string> children;
    for (std::size_t i = 0; i < rows->size(); ++i) {
      std::string owner = rows->Text(i, "account_id");
      if (l.segments.size() == 1) {
        children.insert(owner);
        continue;
      }
      if (owner != l.segments[1]) continue;
      auto shared = ParseCloudPath(rows->Text(i, "path"));
      if (!shared) continue;
      std::vector<std::string> rest(l.segments.begin() + 2, l.segments.end());
      if (StartsWithSegments(rest, *shared)) {
        l.key = JoinPath(owner, JoinSegments(rest));
        l.meta_account = owner;
        l.virtual_children.reset();
        return l;
      }
      if (StartsWithSegments(*shared, rest)) children.insert((*shared)[rest.size()]);
    }
    if (l.segments.size() > 1 && children.empty()) return Err(Status::NotFound("no such file or folder '" + l.path + "'"));
    l.virtual_children = std::vector<std::string>(children.begin(), children.end());
    return l;
  }
  return Err(Status::NotFound("no such file or folder '" + l.path + "'; top-level folders are datasets, models, "
                              "workspace, public and shared"));
}

Result<FileService::Location> FileService::WritableLocation(const Principal& principal, std::string_view path) {
  auto segments = ParseCloudPath(path);
  if (!segments) return Err(segments.error());
  PC_RETURN_IF_ERROR(CheckSpaceWritable(*segments));
  auto location = Resolve(principal, path);
  if (!location) return Err(location.error());
  if (!location->writable) return Err(Status::PermissionDenied("'" + location->path + "' is read-only"));
  return location;
}

Result<Entry> FileService::EntryAt(const Location& l) {
  Entry e;
  e.path = l.path;
  e.name = l.segments.empty() ? "" : l.segments.back();
  e.folder = true;
  e.writable = l.writable;
  if (l.virtual_children) return e;
  auto info = store_.Stat(l.key);
  if (!info) return Err(Status::NotFound("no such file or folder '" + l.path + "'"));
  e.folder = info->folder;
  e.size = info->size;
  e.modified_ns = info->modified_ns;
  if (!l.meta_account.empty() && !e.folder) {
    db::TenantScope scope(database_, l.meta_account);
    auto rows = scope.Query("SELECT uploaded_by FROM file_meta WHERE account_id = :account AND key = ?", {l.key});
    if (rows && !rows->empty()) e.uploaded_by = rows->Text(0, "uploaded_by");
  }
  return e;
}

Result<Listing> FileService::ListLocation(const Location& l, const ListOptions& options) {
  auto self = EntryAt(l);
  if (!self) return Err(self.error());
  Listing listing;
  listing.folder = *self;
  if (!self->folder) return listing;
  std::vector<Entry> all;
  if (l.virtual_children) {
    for (const auto& name : *l.virtual_children) {
      Entry e;
      e.name = name;
      e.path = JoinPath(l.path, name);
      e.folder = true;
      e.writable = l.segments.empty() && (name == "datasets" || name == "models" || name == "workspace");
      all.push_back(std::move(e));
    }
  } else {
    auto infos = store_.List(l.key);
    if (!infos) return Err(infos.error());
    std::map<std::string, std::string> uploaded_by;
    if (!l.meta_account.empty()) {
      db::TenantScope scope(database_, l.meta_account);
      std::string prefix = l.key + "/";
      auto rows = scope.Query(
          "SELECT key, uploaded_by FROM file_meta WHERE account_id = :account AND substr(key, 1, ?) = ?",
          {static_cast<std::int64_t>(prefix.size()), prefix});
      if (rows)
        for (std::size_t i = 0; i < rows->size(); ++i)
          uploaded_by[rows->Text(i, "key").substr(prefix.size())] = rows->Text(i, "uploaded_by");
    }
    for (auto& info : *infos) {
      Entry e;
      e.path = JoinPath(l.path, info.name);
      e.folder = info.folder;
      e.size = info.size;
      e.modified_ns = info.modified_ns;
      e.writable = l.writable;
      if (auto it = uploaded_by.find(info.name); it != uploaded_by.end()) e.uploaded_by = it->second;
      e.name = std::move(info.name);
      all.push_back(std::move(e));
    }
  }
  auto less = [&](const Entry& a, const Entry& b) {
    if (options.sort == "size") return std::tie(a.size, a.name) < std::tie(b.size, b.name);
    if (options.sort == "modified") return std::tie(a.modified_ns, a.name) < std::tie(b.modified_ns, b.name);
    return std::tie(b.folder, a.name) < std::tie(a.folder, b.name);  // folders first, then by name
  };
  std::sort(all.begin(), all.end(), [&](const Entry& a, const Entry& b) { return options.descending ? less(b, a) : less(a, b); });
  listing.total = all.size();
  std::size_t begin = std::min(options.offset, all.size());
  std::size_t end = std::min(all.size(), begin + static_cast<std::size_t>(options.limit));
  listing.entries.assign(std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(begin)),
                         std::make_move_iterator(all.begin() + static_cast<std::ptrdiff_t>(end)));
  if (end < all.size()) listing.next_offset = end;
  return listing;
}

Result<Listing> FileService::List(const Principal& principal, std::string_view path, const ListOptions& options) {
  if (options.sort != "name" && options.sort != "size" && options.sort != "modified")
    return Err(Status::InvalidArgument("sort must be name, size or modified", "sort"));
  if (options.limit < 1 || options.limit > 1000) return Err(Status::InvalidArgument("limit must be 1..1000", "limit"));
  auto location = Resolve(principal, path);
  if (!location) return Err(location.error());
  return ListLocation(*location, options);
}

Result<Entry> FileService::Stat(const Principal& principal, std::string_view path) {
  auto location = Resolve(principal, path);
  if (!location) return Err(location.error());
  return EntryAt(*location);
}

Result<Readable> FileService::ReadLocation(const Location& l) {
  auto entry = EntryAt(l);
  if (!entry) return Err(entry.error());
  Readable r;
  r.entry = *entry;
  if (l.virtual_children) return Err(Status::InvalidArgument("'" + l.path + "' cannot be downloaded; open a folder in it", "path"));
  r.key = l.key;
  if (!entry->folder) {
    auto reader = store_.Open(l.key);
    if (!reader) return Err(reader.error());
    r.reader = std::move(*reader);
  }
  return r;
}

Result<Readable> FileService::Read(const Principal& principal, std::string_view path) {
  auto location = Resolve(principal, path);
  if (!location) return Err(location.error());
  return ReadLocation(*location);
}

Result<Entry> FileService::MakeFolder(const Principal& principal, std::string_view path) {
  auto l = WritableLocation(principal, path);
  if (!l) return Err(l.error());
  if (store_.Stat(l->key)) return Err(Status::Conflict("'" + l->path + "' already exists"));
  PC_RETURN_IF_ERROR(store_.MakeFolder(l->key));
  return EntryAt(*l);
}

Result<Entry> FileService::Move(const Principal& principal, std::string_view from, std::string_view to) {
  auto source = WritableLocation(principal, from);
  if (!source) return Err(source.error());
  auto target = WritableLocation(principal, to);
  if (!target) return Err(target.error());
  if (source->space_root) return Err(Status::PermissionDenied("'" + source->path + "' cannot be moved"));
  if (target->space_root) return Err(Status::Conflict("'" + target->path + "' already exists"));
  if (StartsWithSegments(target->segments, source->segments))
    return Err(Status::InvalidArgument("cannot move '" + source->path + "' into itself", "path"));
  if (!store_.Stat(source->key)) return Err(Status::NotFound("no such file or folder '" + source->path + "'"));
  if (store_.Stat(target->key)) return Err(Status::Conflict("'" + target->path + "' already exists"));
  PC_RETURN_IF_ERROR(store_.Move(source->key, target->key));
  // The records follow in one transaction (who uploaded what, shares); when they cannot, the
  // files go back, so no share is left pointing at a path that is gone.
  Status recorded = database_.Transaction([&](db::Session& session) -> Status {
    db::TenantScope scope(session, principal.account_id);
    db::Params params = {target->key, static_cast<std::int64_t>(source->key.size() + 1)};
    for (auto& p : UnderParams(source->key)) params.push_back(p);
    auto meta = scope.Execute(
        "UPDATE OR REPLACE file_meta SET key = ? || substr(key, ?) WHERE account_id = :account AND " + UnderSql("key"),
        params);
    if (!meta) return meta.error();
    db::Params share_params = {target->path, static_cast<std::int64_t>(source->path.size() + 1)};
    for (auto& p : UnderParams(source->path)) share_params.push_back(p);
    auto shares =
        scope.Execute("UPDATE shares SET path = ? || substr(path, ?) WHERE account_id = :account AND " + UnderSql("path"),
                      share_params);
    return shares ? Status::Ok() : shares.error();
  });
  if (!recorded.ok()) {
    if (Status back = store_.Move(target->key, source->key); !back.ok())
      spdlog::error("files: {} stays at {}: its records could not follow ({}) nor could it move back ({})",
                    source->path, target->path, recorded.message(), back.message());
    return Err(recorded);
  }
  return EntryAt(*target);
}

Result<Entry> FileService::Copy(const Principal& principal, std::string_view from, std::string_view to) {
  auto source = Resolve(principal, from);
  if (!source) return Err(source.error());
  if (source->virtual_children) return Err(Status::InvalidArgument("'" + source->path + "' cannot be copied", "from"));
  auto segments = ParseCloudPath(to, "to");
  if (!segments) return Err(segments.error());
  auto target = WritableLocation(principal, to);
  if (!target) return Err(target.error());
  if (!store_.Stat(source->key)) return Err(Status::NotFound("no such file or folder '" + source->path + "'"));
  if (store_.Stat(target->key)) return Err(Status::Conflict("'" + target->path + "' already exists"));
  auto bytes = store_.Usage(source->key);
  if (!bytes) return Err(bytes.error());
  auto info = store_.Stat(source->key);
  std::uint64_t size = info->folder ? *bytes : info->size;
  auto account_lock = LockAccount(principal.account_id);
  auto left = StorageLeft(principal.account_id);
  if (!left) return Err(left.error());
  if (size > *left) return Err(QuotaLeftError("copying", size, *left));
  PC_RETURN_IF_ERROR(store_.Copy(source->key, target->key));
  return EntryAt(*target);
}

Status FileService::Remove(const Principal& principal, std::string_view path, bool recursive) {
  auto l = WritableLocation(principal, path);
  if (!l) return l.error();
  if (l->space_root) return Status::PermissionDenied("'" + l->path + "' cannot be removed");
  PC_RETURN_IF_ERROR(store_.Remove(l->key, recursive));
  // The files are gone: their records go too, and a failure to drop them is reported, not hidden.
  return database_.Transaction([&](db::Session& session) -> Status {
    db::TenantScope scope(session, principal.account_id);
    auto meta = scope.Execute("DELETE FROM file_meta WHERE account_id = :account AND " + UnderSql("key"), UnderParams(l->key));
    if (!meta) return meta.error();
    auto shares = scope.Execute("DELETE FROM shares WHERE account_id = :account AND " + UnderSql("path"), UnderParams(l->path));
    return shares ? Status::Ok() : shares.error();
  });
}

Result<StorageUsage> FileService::Usage(const Principal& principal) { return UsageOf(principal.account_id); }

Result<StorageUsage> FileService::UsageOf(const std::string& account) {
  auto files = store_.Usage(account);
  if (!files) return Err(files.error());
  db::TenantScope scope(database_, account);
  auto published = scope.Query("SELECT COALESCE(SUM(bytes), 0) AS bytes FROM publications WHERE account_id = :account");
  if (!published) return Err(published.error());
  StorageUsage usage{.files_bytes = *files,
                     .published_bytes = static_cast<std::uint64_t>(published->Int(0, "bytes")),
                     .package_bytes = options_.package_bytes ? options_.package_bytes(account) : 0,
                     .quota_bytes = options_.quota_bytes};
  usage.used_bytes = usage.files_bytes + usage.published_bytes + usage.package_bytes;
  return usage;
}

Result<std::uint64_t> FileService::StorageLeft(const std::string& account) {
  auto usage = UsageOf(account);
  if (!usage) return Err(usage.error());
  auto reserved = Reserved(account, "");
  if (!reserved) return Err(reserved.error());
  std::uint64_t taken = usage->used_bytes + *reserved;
  return taken >= usage->quota_bytes ? 0 : usage->quota_bytes - taken;
}

std::unique_lock<std::mutex> FileService::LockAccount(const std::string& account) {
  std::mutex* mutex;
  {
    std::lock_guard guard(account_locks_mutex_);
    auto& slot = account_locks_[account];
    if (!slot) slot = std::make_unique<std::mutex>();
    mutex = slot.get();
  }
  return std::unique_lock(*mutex);
}

// Bytes promised to open uploads of `account` (their declared size, or what they hold so far).
Result<std::uint64_t> FileService::Reserved(const std::string& account, std::string_view except_upload) {
  db::TenantScope scope(database_, account);
  auto rows = scope.Query("SELECT id, size FROM uploads WHERE account_id = :account AND id <> ?", {std::string(except_upload)});
  if (!rows) return Err(rows.error());
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    auto held = store_.StagedSize(rows->Text(i, "id"));
    std::uint64_t size = rows->IsNull(i, "size") ? 0 : static_cast<std::uint64_t>(rows->Int(i, "size"));
    total += std::max(size, held.value_or(0));
  }
  return total;
}

namespace {

Status QuotaError(std::uint64_t used, std::uint64_t quota, std::uint64_t wanted) {
  return Status::QuotaExceeded("the upload of " + std::to_string(wanted) + " bytes would exceed the storage quota (" +
                               std::to_string(used) + " of " + std::to_string(quota) + " bytes used)")
      .WithDetail("used_bytes", std::to_string(used))
      .WithDetail("quota_bytes", std::to_string(quota));
}

Upload UploadOf(const db::Rows& rows, std::size_t i, std::uint64_t offset, std::int64_t ttl) {
  Upload u;
  u.id = rows.Text(i, "id");
  u.path = rows.Text(i, "path");
  if (!rows.IsNull(i, "size")) u.size = static_cast<std::uint64_t>(rows.Int(i, "size"));
  u.offset = offset;
  u.expires_at = rows.Int(i, "touched_at") + ttl;
  return u;
}

}  // namespace

Status FileService::CheckUploadFits(const std::string& account, std::string_view upload_id, const std::string& key,
                                    std::uint64_t size) {
  auto usage = UsageOf(account);
  if (!usage) return usage.error();
  auto reserved = Reserved(account, upload_id);
  if (!reserved) return reserved.error();
  std::uint64_t replaced = 0;  // only a file still there now is replaced, and so credited
  if (auto existing = store_.Stat(key); existing && !existing->folder) replaced = existing->size;
  std::uint64_t used = usage->used_bytes - std::min(usage->used_bytes, replaced) + *reserved;
  if (used + size > usage->quota_bytes) return QuotaError(used, usage->quota_bytes, size);
  return Status::Ok();
}

Result<Upload> FileService::CreateUpload(const Principal& principal, std::string_view path,
                                         std::optional<std::uint64_t> size, std::optional<std::string> sha256) {
  auto l = WritableLocation(principal, path);
  if (!l) return Err(l.error());
  if (l->space_root) return Err(Status::Conflict("'" + l->path + "' is a folder"));
  if (sha256) {
    static const std::regex kHex("[0-9a-f]{64}");
    std::transform(sha256->begin(), sha256->end(), sha256->begin(), [](unsigned char c) { return std::tolower(c); });
    if (!std::regex_match(*sha256, kHex)) return Err(Status::InvalidArgument("sha256 must be 64 hex digits", "sha256"));
  }
  if (auto existing = store_.Stat(l->key); existing && existing->folder)
    return Err(Status::Conflict("'" + l->path + "' is a folder"));
  if (size) PC_RETURN_IF_ERROR(CheckUploadFits(principal.account_id, "", l->key, *size));
  std::string id = accounts::NewSecret("up_");
  auto writer = store_.OpenStaged(id, 0);
  if (!writer) return Err(writer.error());
  writer->reset();
  std::int64_t now = Now();
  db::TenantScope scope(database_, principal.account_id);
  auto inserted = scope.Execute(
      "INSERT INTO uploads (id, account_id, user_id, user_email, path, key, size, sha256, created_at, touched_at) "
      "VALUES (?, :account, ?, ?, ?, ?, ?, ?, ?, ?)",
      {id, principal.user_id, principal.email, l->path, l->key,
       size ? db::Value(static_cast<std::int64_t>(*size)) : db::Value(), sha256 ? db::Value(*sha256) : db::Value(), now,
       now});
  if (!inserted) {
    (void)store_.DiscardStaged(id);
    return Err(inserted.error());
  }
  Upload u{.id = id, .path = l->path, .size = size, .offset = 0, .expires_at = now + options_.upload_ttl.count()};
  return u;
}

Result<Upload> FileService::GetUpload(const Principal& principal, std::string_view id) {
  db::TenantScope scope(database_, principal.account_id);
  auto rows = scope.Query("SELECT * FROM uploads WHERE account_id = :account AND id = ? AND user_id = ?",
                          {std::string(id), principal.user_id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("no upload '" + std::string(id) + "' (it may have expired)"));
  auto offset = store_.StagedSize(id);
  if (!offset) return Err(offset.error());
  return UploadOf(*rows, 0, *offset, options_.upload_ttl.count());
}

Result<UploadWrite> FileService::BeginUploadWrite(const Principal& principal, std::string_view id, std::uint64_t offset,
                                                  std::optional<std::uint64_t> total) {
  auto upload = GetUpload(principal, id);
  if (!upload) return Err(upload.error());
  db::TenantScope scope(database_, principal.account_id);
  if (total && upload->size && *total != *upload->size)
    return Err(Status::InvalidArgument("Content-Range total " + std::to_string(*total) + " differs from the upload's size " +
                                           std::to_string(*upload->size),
                                       "Content-Range"));
  if (total && !upload->size) {
    auto usage = Usage(principal);
    if (!usage) return Err(usage.error());
    auto reserved = Reserved(principal.account_id, id);
    if (!reserved) return Err(reserved.error());
    if (usage->used_bytes + *reserved + *total > usage->quota_bytes)
      return Err(QuotaError(usage->used_bytes + *reserved, usage->quota_bytes, *total));
    auto set = scope.Execute("UPDATE uploads SET size = ? WHERE account_id = :account AND id = ?",
                             {static_cast<std::int64_t>(*total), std::string(id)});
    if (!set) return Err(set.error());
    upload->size = total;
  }
  {
    std::lock_guard lock(busy_mutex_);
    if (!busy_uploads_.insert(std::string(id)).second)
      return Err(Status::Conflict("another request is writing to upload '" + std::string(id) + "'")
                     .WithDetail("offset", std::to_string(upload->offset)));
  }
  auto release = [&] {
    std::lock_guard lock(busy_mutex_);
    busy_uploads_.erase(std::string(id));
  };
  if (offset != upload->offset) {
    release();
    return Err(Status::Conflict("the upload continues at byte " + std::to_string(upload->offset) + ", not " +
                                std::to_string(offset))
                   .WithDetail("offset", std::to_string(upload->offset)));
  }
  UploadWrite w;
  if (upload->size) {
    w.limit = *upload->size;
  } else {
    auto usage = Usage(principal);
    auto reserved = Reserved(principal.account_id, id);
    if (!usage || !reserved) {
      release();
      return Err(!usage ? usage.error() : reserved.error());
    }
    std::uint64_t others = usage->used_bytes + *reserved;
    w.limit = others >= usage->quota_bytes ? offset : offset + (usage->quota_bytes - others);
    w.limit_is_quota = true;
  }
  auto writer = store_.OpenStaged(id, offset);
  if (!writer) {
    release();
    return Err(writer.error());
  }
  w.writer = std::move(*writer);
  w.upload = std::move(*upload);
  (void)scope.Execute("UPDATE uploads SET touched_at = ? WHERE account_id = :account AND id = ?", {Now(), std::string(id)});
  return w;
}

Result<Upload> FileService::FinishUploadWrite(const Principal& principal, UploadWrite& write, const Status& failure) {
  const std::string id = write.upload.id;
  if (write.writer) write.upload.offset = write.writer->size();
  write.writer.reset();
  {
    std::lock_guard lock(busy_mutex_);
    busy_uploads_.erase(id);
  }
  db::TenantScope scope(database_, principal.account_id);
  auto discard = [&] {
    (void)store_.DiscardStaged(id);
    (void)scope.Execute("DELETE FROM uploads WHERE account_id = :account AND id = ?", {id});
  };
  (void)scope.Execute("UPDATE uploads SET touched_at = ? WHERE account_id = :account AND id = ?", {Now(), id});
  if (!failure.ok()) {
    Code code = failure.code();
    if (code == Code::kQuotaExceeded || code == Code::kInsufficientStorage || code == Code::kInvalidArgument) discard();
    return Err(failure);
  }
  if (!write.upload.size || write.upload.offset < *write.upload.size) return write.upload;

  auto rows = scope.Query("SELECT key, sha256 FROM uploads WHERE account_id = :account AND id = ?", {id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("no upload '" + id + "' (it was cancelled)"));
  std::string key = rows->Text(0, "key");
  std::optional<std::string> sha256;
  if (!rows->IsNull(0, "sha256")) sha256 = rows->Text(0, "sha256");
  auto account_lock = LockAccount(principal.account_id);  // until the file is in place
  if (Status fits = CheckUploadFits(principal.account_id, id, key, write.upload.offset); !fits.ok()) {
    discard();
    return Err(fits);
  }
  Status committed = store_.CommitStaged(id, key, sha256);
  if (!committed.ok()) {
    if (committed.code() != Code::kUnavailable) discard();
    return Err(committed);
  }
  (void)scope.Execute("DELETE FROM uploads WHERE account_id = :account AND id = ?", {id});
  (void)scope.Execute(
      "INSERT OR REPLACE INTO file_meta (account_id, key, uploaded_by, uploaded_at) VALUES (:account, ?, ?, ?)",
      {key, principal.email, Now()});
  account_lock.unlock();
  write.upload.complete = true;
  auto entry = Stat(principal, write.upload.path);
  if (entry) write.upload.file = *entry;
  return write.upload;
}

Status FileService::CancelUpload(const Principal& principal, std::string_view id) {
  auto upload = GetUpload(principal, id);
  if (!upload) return upload.error();
  {
    std::lock_guard lock(busy_mutex_);
    if (busy_uploads_.contains(std::string(id)))
      return Status::Conflict("upload '" + std::string(id) + "' is being written; stop that request first");
  }
  PC_RETURN_IF_ERROR(store_.DiscardStaged(id));
  db::TenantScope scope(database_, principal.account_id);
  auto deleted = scope.Execute("DELETE FROM uploads WHERE account_id = :account AND id = ?", {std::string(id)});
  return deleted ? Status::Ok() : deleted.error();
}

int FileService::ExpireUploads() {
  auto rows = database_.Query("SELECT id FROM uploads WHERE touched_at <= ?", {Now() - options_.upload_ttl.count()});
  if (!rows) return 0;
  int expired = 0;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    std::string id = rows->Text(i, "id");
    {
      std::lock_guard lock(busy_mutex_);
      if (busy_uploads_.contains(id)) continue;
    }
    if (!store_.DiscardStaged(id).ok()) continue;
    if (database_.Execute("DELETE FROM uploads WHERE id = ?", {id})) ++expired;
  }
  return expired;
}

// ---- Sharing ----

namespace {

constexpr char kShareColumns[] =
    "id, account_id, path, folder, grantee_account, link_token, expires_at, created_at, created_by";

Share ShareOf(const db::Rows& rows, std::size_t i) {
  Share s;
  s.id = rows.Int(i, "id");
  s.owner_account = rows.Text(i, "account_id");
  s.path = rows.Text(i, "path");
  s.folder = rows.Int(i, "folder") != 0;
  s.account = rows.Text(i, "grantee_account");
  s.link_token = rows.Text(i, "link_token");
  if (!rows.IsNull(i, "expires_at")) s.expires_at = rows.Int(i, "expires_at");
  s.created_at = rows.Int(i, "created_at");
  s.created_by = rows.Text(i, "created_by");
  return s;
}

}  // namespace

Result<Share> FileService::CreateShare(const Principal& principal, std::string_view path, const std::string& account,
                                       bool link, std::optional<std::int64_t> expires_at) {
  if (link == !account.empty())
    return Err(Status::InvalidArgument("give either an account to share with or link: true", "account"));
  auto l = WritableLocation(principal, path);
  if (!l) return Err(l.error());
  if (l->segments[0] != "datasets" && l->segments[0] != "models")
    return Err(Status::InvalidArgument("only files and folders in datasets/ and models/ can be shared", "path"));
  auto entry = EntryAt(*l);
  if (!entry) return Err(entry.error());
  if (expires_at && *expires_at <= Now())
    return Err(Status::InvalidArgument("expires_at must be in the future", "expires_at"));
  if (!account.empty()) {
    if (account == principal.account_id)
      return Err(Status::InvalidArgument("this is your own account", "account"));
    if (!options_.account_exists || !options_.account_exists(account))
      return Err(Status::InvalidArgument("there is no account '" + account + "'", "account"));
  }
  db::TenantScope scope(database_, principal.account_id);
  if (!account.empty()) {
    auto existing = scope.Query(
        "SELECT id FROM shares WHERE account_id = :account AND path = ? AND grantee_account = ?", {l->path, account});
    if (!existing) return Err(existing.error());
    if (!existing->empty())
      return Err(Status::Conflict("'" + l->path + "' is already shared with '" + account + "'"));
  }
  std::string token = link ? accounts::NewSecret("") : "";
  std::int64_t now = Now();
  auto inserted = scope.Execute(
      "INSERT INTO shares (account_id, path, folder, grantee_account, link_token, expires_at, created_at, created_by) "
      "VALUES (:account, ?, ?, ?, ?, ?, ?, ?)",
      {l->path, entry->folder ? 1 : 0, account.empty() ? db::Value() : db::Value(account),
       token.empty() ? db::Value() : db::Value(token), expires_at ? db::Value(*expires_at) : db::Value(), now,
       principal.email});
  if (!inserted) return Err(inserted.error());
  return Share{.id = inserted->last_insert_id, .owner_account = principal.account_id, .path = l->path,
               .folder = entry->folder, .account = account, .link_token = token, .expires_at = expires_at,
               .created_at = now, .created_by = principal.email};
}

Result<std::vector<Share>> FileService::ListShares(const Principal& principal) {
  db::TenantScope scope(database_, principal.account_id);
  auto rows = scope.Query(std::string("SELECT ") + kShareColumns +
                          " FROM shares WHERE account_id = :account ORDER BY path, id");
  if (!rows) return Err(rows.error());
  std::vector<Share> out;
  for (std::size_t i = 0; i < rows->size(); ++i) out.push_back(ShareOf(*rows, i));
  return out;
}

Status FileService::RevokeShare(const Principal& principal, std::int64_t id) {
  db::TenantScope scope(database_, principal.account_id);
  auto deleted = scope.Execute("DELETE FROM shares WHERE account_id = :account AND id = ?", {id});
  if (!deleted) return deleted.error();
  if (deleted->rows_affected == 0) return Status::NotFound("no share " + std::to_string(id));
  return Status::Ok();
}

Result<std::vector<Share>> FileService::SharedWithMe(const Principal& principal) {
  db::TenantScope scope(database_, principal.account_id);
  auto rows = scope.Query(std::string("SELECT ") + kShareColumns +
                              " FROM shares WHERE grantee_account = :account AND (expires_at IS NULL OR expires_at > ?) "
                              "ORDER BY created_at DESC, id DESC",
                          {Now()});
  if (!rows) return Err(rows.error());
  std::vector<Share> out;
  for (std::size_t i = 0; i < rows->size(); ++i) out.push_back(ShareOf(*rows, i));
  return out;
}

Result<FileService::Location> FileService::ResolveLink(std::string_view token, std::string_view path) {
  auto segments = ParseCloudPath(path);
  if (!segments) return Err(segments.error());
  auto rows = database_.Query(std::string("SELECT ") + kShareColumns +
                                  " FROM shares WHERE link_token = ? AND (expires_at IS NULL OR expires_at > ?)",
                              {std::string(token), Now()});
  if (!rows) return Err(rows.error());
  if (rows->empty() || token.empty()) return Err(Status::NotFound("this link does not exist, has expired or was revoked"));
  Share share = ShareOf(*rows, 0);
  if (!share.folder && !segments->empty()) return Err(Status::NotFound("no such file '" + std::string(path) + "'"));
  Location l;
  l.segments = *segments;
  l.path = JoinSegments(l.segments);
  l.key = JoinPath(JoinPath(share.owner_account, share.path), l.path);
  l.meta_account = share.owner_account;
  if (l.segments.empty()) l.segments.push_back(std::string(BaseName(share.path)));  // the entry's name
  return l;
}

Result<Listing> FileService::ListLink(std::string_view token, std::string_view path, const ListOptions& options) {
  if (options.limit < 1 || options.limit > 1000) return Err(Status::InvalidArgument("limit must be 1..1000", "limit"));
  auto location = ResolveLink(token, path);
  if (!location) return Err(location.error());
  return ListLocation(*location, options);
}

Result<Readable> FileService::ReadLink(std::string_view token, std::string_view path) {
  auto location = ResolveLink(token, path);
  if (!location) return Err(location.error());
  return ReadLocation(*location);
}

Result<std::vector<SharedMount>> FileService::SharedMountsFor(const std::string& account) {
  db::TenantScope scope(database_, account);
  auto rows = scope.Query(
      "SELECT account_id, path FROM shares WHERE grantee_account = :account AND (expires_at IS NULL OR expires_at > ?)",
      {Now()});
  if (!rows) return Err(rows.error());
  std::vector<SharedMount> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    std::string relative = JoinPath(rows->Text(i, "account_id"), rows->Text(i, "path"));
    out.push_back({.key = relative, .mount = relative});
  }
  return out;
}

// ---- Publishing ----

namespace {

constexpr char kPublicationColumns[] =
    "id, kind, name, version, description, account_id, published_by, published_at, files, bytes";

Publication PublicationOf(const db::Rows& rows, std::size_t i) {
  return Publication{.id = rows.Int(i, "id"), .kind = rows.Text(i, "kind"), .name = rows.Text(i, "name"),
                     .version = rows.Text(i, "version"), .description = rows.Text(i, "description"),
                     .account = rows.Text(i, "account_id"), .published_by = rows.Text(i, "published_by"),
                     .published_at = rows.Int(i, "published_at"), .files = rows.Int(i, "files"),
                     .bytes = rows.Int(i, "bytes")};
}

bool IsArchiveName(std::string_view name) {
  for (std::string_view ext : {".tar", ".tar.gz", ".tgz", ".zip"})
    if (name.ends_with(ext)) return true;
  return false;
}

// Extracts an archive read from `reader` into the folder `target` through the store's staged
// writes, within `limits` (files/archive_limits.h). The caller removes `target` on failure.
Status ExtractArchive(FileStore& store, FileReader& reader, const std::string& target, const ArchiveLimits& limits) {
  ExtractionBudget budget(limits, reader.info().size);
  struct Source {
    FileReader* reader;
    std::uint64_t offset = 0;
    std::string buffer = std::string(1 << 20, '\0');
  } source{&reader};
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_zip(a.get());
  auto read = [](archive*, void* data, const void** out) -> la_ssize_t {
    auto* s = static_cast<Source*>(data);
    auto n = s->reader->ReadAt(s->offset, s->buffer.data(), s->buffer.size());
    if (!n) return -1;
    s->offset += *n;
    *out = s->buffer.data();
    return static_cast<la_ssize_t>(*n);
  };
  if (archive_read_open(a.get(), &source, nullptr, read, nullptr) != ARCHIVE_OK)
    return Status::InvalidArgument("not a readable archive: " + std::string(archive_error_string(a.get()) ?: ""), "path");
  PC_RETURN_IF_ERROR(store.MakeFolder(target));
  std::string staged = accounts::NewSecret("pub_");
  std::string chunk(1 << 20, '\0');
  archive_entry* entry = nullptr;
  int r;
  while ((r = archive_read_next_header(a.get(), &entry)) == ARCHIVE_OK) {
    std::string_view name = archive_entry_pathname(entry) ?: "";
    while (name.starts_with("./")) name.remove_prefix(2);
    if (name.empty() || name == ".") continue;
    PC_RETURN_IF_ERROR(budget.AddEntry());
    auto segments = ParseCloudPath(name, "path");
    if (!segments) return Status::InvalidArgument("the archive holds an unsafe name '" + std::string(name) + "'", "path");
    std::string key = JoinPath(target, JoinSegments(*segments));
    auto type = archive_entry_filetype(entry);
    if (type == AE_IFDIR) {
      PC_RETURN_IF_ERROR(store.MakeFolder(key));
      continue;
    }
    if (type != AE_IFREG) continue;  // links and devices are not published
    auto writer = store.OpenStaged(staged, 0);
    if (!writer) return writer.error();
    while (true) {
      la_ssize_t n = archive_read_data(a.get(), chunk.data(), chunk.size());
      if (n < 0) {
        (void)store.DiscardStaged(staged);
        return Status::InvalidArgument("the archive is damaged: " + std::string(archive_error_string(a.get()) ?: ""), "path");
      }
      if (n == 0) break;
      Status appended = budget.AddBytes(static_cast<std::uint64_t>(n));
      if (appended.ok()) appended = (*writer)->Append(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
      if (!appended.ok()) {
        (void)store.DiscardStaged(staged);
        return appended;
      }
    }
    writer->reset();
    PC_RETURN_IF_ERROR(store.CommitStaged(staged, key, std::nullopt));
  }
  if (r != ARCHIVE_EOF)
    return Status::InvalidArgument("the archive is damaged: " + std::string(archive_error_string(a.get()) ?: ""), "path");
  return Status::Ok();
}

// Removes a publication's files, and its name's and account's folders when nothing else is left in them.
Status RemovePublished(FileStore& store, const Publication& p) {
  std::string path = p.path();
  PC_RETURN_IF_ERROR(store.Remove(path, true));
  for (int up = 0; up < 2; ++up) {
    path = std::string(ParentPath(path));
    if (!store.Remove(path, false).ok()) break;  // not empty: other versions or names
  }
  return Status::Ok();
}

// Only what the account owns may be published: not what others shared with it, nor their publications.
Status CheckPublishable(const std::vector<std::string>& segments, const std::string& account, const std::string& path) {
  bool others = !segments.empty() && (segments[0] == "shared" || (segments[0] == "public" &&
                                                                   (segments.size() < 3 || segments[2] != account)));
  if (!others) return Status::Ok();
  return Status::PermissionDenied("'" + path + "' is another account's data, readable by you only: it cannot be "
                                  "published; publish what is in your own datasets/ or models/")
      .WithDetail("reason", "republish_forbidden");
}

}  // namespace

// Under the account's lock (Publish): the source's bytes must fit in `storage_left`.
Status FileService::CopyForPublication(const Location& source, const FileInfo& info, const std::string& target,
                                       std::uint64_t storage_left) {
  if (!info.folder && IsArchiveName(info.name)) {
    auto reader = store_.Open(source.key);
    if (!reader) return reader.error();
    return ExtractArchive(store_, **reader, target, ArchiveLimits{.quota_left = storage_left});
  }
  auto bytes = info.folder ? store_.Usage(source.key) : Result<std::uint64_t>(info.size);
  if (!bytes) return bytes.error();
  if (*bytes > storage_left) return QuotaLeftError("publishing", *bytes, storage_left);
  if (info.folder) return store_.Copy(source.key, target);
  PC_RETURN_IF_ERROR(store_.MakeFolder(target));
  return store_.Copy(source.key, JoinPath(target, info.name));
}

Result<Publication> FileService::Publish(const Principal& principal, const PublishRequest& request) {
  static const std::regex kName("[a-z0-9][a-z0-9._-]{0,62}");
  static const std::regex kVersion("[A-Za-z0-9][A-Za-z0-9._+-]{0,62}");
  if (request.kind != "model" && request.kind != "dataset")
    return Err(Status::InvalidArgument("kind must be model or dataset", "kind"));
  if (!std::regex_match(request.name, kName))
    return Err(Status::InvalidArgument("name must be 1-63 of a-z, 0-9, '-', '_', '.' starting with a letter or digit", "name"));
  if (!std::regex_match(request.version, kVersion))
    return Err(Status::InvalidArgument("version must be 1-63 of A-Z, a-z, 0-9, '-', '_', '.', '+'", "version"));
  if (request.description.size() > 4000)
    return Err(Status::InvalidArgument("description is longer than 4000 bytes", "description"));
  auto source = Resolve(principal, request.path);
  if (!source) return Err(source.error());
  PC_RETURN_IF_ERROR(CheckPublishable(source->segments, principal.account_id, source->path));
  if (source->virtual_children) return Err(Status::InvalidArgument("'" + source->path + "' cannot be published", "path"));
  auto info = store_.Stat(source->key);
  if (!info) return Err(Status::NotFound("no such file or folder '" + source->path + "'"));
  auto account_lock = LockAccount(principal.account_id);  // until the publication's bytes are recorded
  auto left = StorageLeft(principal.account_id);
  if (!left) return Err(left.error());

  Publication p{.kind = request.kind, .name = request.name, .version = request.version,
                .description = request.description, .account = principal.account_id,
                .published_by = principal.email, .published_at = Now()};
  db::TenantScope scope(database_, principal.account_id);
  auto inserted = scope.Execute(
      "INSERT INTO publications (kind, name, version, description, account_id, published_by, published_at) "
      "VALUES (?, ?, ?, ?, :account, ?, ?)",
      {p.kind, p.name, p.version, p.description, p.published_by, p.published_at});
  if (!inserted) {
    if (inserted.error().code() == Code::kConflict)
      return Err(Status::Conflict(p.kind + " '" + p.name + "' version '" + p.version + "' is already published"));
    return Err(inserted.error());
  }
  p.id = inserted->last_insert_id;
  const std::string target = p.path();
  Status copied = CopyForPublication(*source, *info, target, *left);
  auto walked = copied.ok() ? store_.Walk(target) : Result<std::vector<std::pair<std::string, FileInfo>>>(Err(copied));
  if (walked) {
    for (const auto& [path, file] : *walked) {
      if (file.folder) continue;
      ++p.files;
      p.bytes += static_cast<std::int64_t>(file.size);
    }
    // A job may have written into the source while it was copied.
    if (static_cast<std::uint64_t>(p.bytes) > *left)
      walked = Err(QuotaLeftError("publishing", static_cast<std::uint64_t>(p.bytes), *left));
  }
  if (!walked) {
    (void)RemovePublished(store_, p);
    (void)scope.Execute("DELETE FROM publications WHERE account_id = :account AND id = ?", {p.id});
    return Err(walked.error());
  }
  (void)scope.Execute("UPDATE publications SET files = ?, bytes = ? WHERE account_id = :account AND id = ?",
                      {p.files, p.bytes, p.id});
  return p;
}

Result<std::vector<Publication>> FileService::ListPublications(const std::string& kind, const std::string& query) {
  if (!kind.empty() && kind != "model" && kind != "dataset")
    return Err(Status::InvalidArgument("kind must be model or dataset", "kind"));
  auto rows = database_.Query(
      std::string("SELECT ") + kPublicationColumns +
          " FROM publications WHERE (? = '' OR kind = ?) AND (? = '' OR instr(lower(name || ' ' || description || ' ' "
          "|| account_id || ' ' || version), lower(?)) > 0) ORDER BY published_at DESC, id DESC LIMIT 500",
      {kind, kind, query, query});
  if (!rows) return Err(rows.error());
  std::vector<Publication> out;
  for (std::size_t i = 0; i < rows->size(); ++i) out.push_back(PublicationOf(*rows, i));
  return out;
}

Result<Publication> FileService::GetPublication(std::int64_t id) {
  auto rows = database_.Query(std::string("SELECT ") + kPublicationColumns + " FROM publications WHERE id = ?", {id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("no publication " + std::to_string(id)));
  return PublicationOf(*rows, 0);
}

Status FileService::DeletePublication(const Principal& principal, std::int64_t id) {
  auto p = GetPublication(id);
  if (!p) return p.error();
  if (p->account != principal.account_id)
    return Status::PermissionDenied("only account '" + p->account + "' can withdraw this publication");
  PC_RETURN_IF_ERROR(RemovePublished(store_, *p));
  db::TenantScope scope(database_, principal.account_id);
  auto deleted = scope.Execute("DELETE FROM publications WHERE account_id = :account AND id = ?", {id});
  return deleted ? Status::Ok() : deleted.error();
}

}  // namespace paddlecloud::files
