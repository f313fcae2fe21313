#include "files/file_browser.h"

#include <spdlog/spdlog.h>

#include "db/tenant_scope.h"
#include "files/cloud_path.h"

namespace paddlecloud::files {
namespace {

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

}  // namespace

Result<Listing> FileBrowser::List(const Principal& principal, std::string_view path, const ListOptions& options) {
  if (options.sort != "name" && options.sort != "size" && options.sort != "modified")
    return Err(Status::InvalidArgument("sort must be name, size or modified", "sort"));
  if (options.limit < 1 || options.limit > 1000) return Err(Status::InvalidArgument("limit must be 1..1000", "limit"));
  auto location = space_.Resolve(principal, path);
  if (!location) return Err(location.error());
  return space_.ListAt(*location, options);
}

Result<Entry> FileBrowser::Stat(const Principal& principal, std::string_view path) {
  auto location = space_.Resolve(principal, path);
  if (!location) return Err(location.error());
  return space_.EntryAt(*location);
}

Result<Readable> FileBrowser::Read(const Principal& principal, std::string_view path) {
  auto location = space_.Resolve(principal, path);
  if (!location) return Err(location.error());
  return space_.ReadAt(*location);
}

Result<Entry> FileBrowser::MakeFolder(const Principal& principal, std::string_view path) {
  auto l = space_.ResolveWritable(principal, path);
  if (!l) return Err(l.error());
  if (space_.store().Stat(l->key)) return Err(Status::Conflict("'" + l->path + "' already exists"));
  PC_RETURN_IF_ERROR(space_.store().MakeFolder(l->key));
  return space_.EntryAt(*l);
}

Result<Entry> FileBrowser::Move(const Principal& principal, std::string_view from, std::string_view to) {
  FileStore& store = space_.store();
  auto source = space_.ResolveWritable(principal, from);
  if (!source) return Err(source.error());
  auto target = space_.ResolveWritable(principal, to);
  if (!target) return Err(target.error());
  if (source->space_root) return Err(Status::PermissionDenied("'" + source->path + "' cannot be moved"));
  if (target->space_root) return Err(Status::Conflict("'" + target->path + "' already exists"));
  if (StartsWithSegments(target->segments, source->segments))
    return Err(Status::InvalidArgument("cannot move '" + source->path + "' into itself", "path"));
  if (!store.Stat(source->key)) return Err(Status::NotFound("no such file or folder '" + source->path + "'"));
  if (store.Stat(target->key)) return Err(Status::Conflict("'" + target->path + "' already exists"));
  PC_RETURN_IF_ERROR(store.Move(source->key, target->key));
  // When the records cannot follow, the files go back, so no share is left pointing at a path that is gone.
  if (Status recorded = MoveRecords(principal, *source, *target); !recorded.ok()) {
    if (Status back = store.Move(target->key, source->key); !back.ok())
      spdlog::error("files: {} stays at {}: its records could not follow ({}) nor could it move back ({})",
                    source->path, target->path, recorded.message(), back.message());
    return Err(recorded);
  }
  return space_.EntryAt(*target);
}

// Who uploaded what and the shares follow a move, in one transaction.
Status FileBrowser::MoveRecords(const Principal& principal, const Location& source, const Location& target) {
  return space_.database().Transaction([&](db::Session& session) -> Status {
    db::TenantScope scope(session, principal.account_id);
    db::Params params = {target.key, static_cast<std::int64_t>(source.key.size() + 1)};
    for (auto& p : UnderParams(source.key)) params.push_back(p);
    // Records of files the move replaces go first (the keys are unique).
    auto replaced = scope.Execute(
        "DELETE FROM file_meta WHERE account_id = :account AND key IN (SELECT ? || substr(key, ?) FROM file_meta "
        "WHERE account_id = :account AND " + UnderSql("key") + ")",
        params);
    if (!replaced) return replaced.error();
    auto meta = scope.Execute(
        "UPDATE file_meta SET key = ? || substr(key, ?) WHERE account_id = :account AND " + UnderSql("key"), params);
    if (!meta) return meta.error();
    db::Params share_params = {target.path, static_cast<std::int64_t>(source.path.size() + 1)};
    for (auto& p : UnderParams(source.path)) share_params.push_back(p);
    auto shares =
        scope.Execute("UPDATE shares SET path = ? || substr(path, ?) WHERE account_id = :account AND " + UnderSql("path"),
                      share_params);
    return shares ? Status::Ok() : shares.error();
  });
}

Result<Entry> FileBrowser::Copy(const Principal& principal, std::string_view from, std::string_view to) {
  FileStore& store = space_.store();
  auto source = space_.Resolve(principal, from);
  if (!source) return Err(source.error());
  if (source->virtual_children) return Err(Status::InvalidArgument("'" + source->path + "' cannot be copied", "from"));
  auto segments = ParseCloudPath(to, "to");
  if (!segments) return Err(segments.error());
  auto target = space_.ResolveWritable(principal, to);
  if (!target) return Err(target.error());
  if (!store.Stat(source->key)) return Err(Status::NotFound("no such file or folder '" + source->path + "'"));
  if (store.Stat(target->key)) return Err(Status::Conflict("'" + target->path + "' already exists"));
  auto bytes = store.Usage(source->key);
  if (!bytes) return Err(bytes.error());
  auto info = store.Stat(source->key);
  std::uint64_t size = info->folder ? *bytes : info->size;
  auto account_lock = quota_.LockAccount(principal.account_id);
  auto left = quota_.StorageLeft(principal.account_id);
  if (!left) return Err(left.error());
  if (size > *left) return Err(QuotaLeftError("copying", size, *left));
  PC_RETURN_IF_ERROR(store.Copy(source->key, target->key));
  return space_.EntryAt(*target);
}

Status FileBrowser::Remove(const Principal& principal, std::string_view path, bool recursive) {
  auto l = space_.ResolveWritable(principal, path);
  if (!l) return l.error();
  if (l->space_root) return Status::PermissionDenied("'" + l->path + "' cannot be removed");
  PC_RETURN_IF_ERROR(space_.store().Remove(l->key, recursive));
  // The files are gone: their records go too, and a failure to drop them is reported, not hidden.
  return space_.database().Transaction([&](db::Session& session) -> Status {
    db::TenantScope scope(session, principal.account_id);
    auto meta = scope.Execute("DELETE FROM file_meta WHERE account_id = :account AND " + UnderSql("key"), UnderParams(l->key));
    if (!meta) return meta.error();
    auto shares = scope.Execute("DELETE FROM shares WHERE account_id = :account AND " + UnderSql("path"), UnderParams(l->path));
    return shares ? Status::Ok() : shares.error();
  });
}

}  // namespace paddlecloud::files
