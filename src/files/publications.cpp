#include "files/publications.h"

#include <spdlog/spdlog.h>

#include <archive.h>
#include <archive_entry.h>

#include <regex>

#include "accounts/secrets.h"
#include "db/tenant_scope.h"
#include "files/archive_limits.h"
#include "files/cloud_path.h"

namespace paddlecloud::files {
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

Status CheckPublishRequest(const PublishRequest& request) {
  static const std::regex kName("[a-z0-9][a-z0-9._-]{0,62}");
  static const std::regex kVersion("[A-Za-z0-9][A-Za-z0-9._+-]{0,62}");
  if (request.kind != "model" && request.kind != "dataset")
    return Status::InvalidArgument("kind must be model or dataset", "kind");
  if (!std::regex_match(request.name, kName))
    return Status::InvalidArgument("name must be 1-63 of a-z, 0-9, '-', '_', '.' starting with a letter or digit", "name");
  if (!std::regex_match(request.version, kVersion))
    return Status::InvalidArgument("version must be 1-63 of A-Z, a-z, 0-9, '-', '_', '.', '+'", "version");
  if (request.description.size() > 4000)
    return Status::InvalidArgument("description is longer than 4000 bytes", "description");
  return Status::Ok();
}

}  // namespace

// Under the account's lock (Publish): the source's bytes must fit in `storage_left`.
Status Publications::CopyForPublication(const Location& source, const FileInfo& info, const std::string& target,
                                        std::uint64_t storage_left) {
  FileStore& store = space_.store();
  if (!info.folder && IsArchiveName(info.name)) {
    auto reader = store.Open(source.key);
    if (!reader) return reader.error();
    return ExtractArchive(store, **reader, target, ArchiveLimits{.quota_left = storage_left});
  }
  auto bytes = info.folder ? store.Usage(source.key) : Result<std::uint64_t>(info.size);
  if (!bytes) return bytes.error();
  if (*bytes > storage_left) return QuotaLeftError("publishing", *bytes, storage_left);
  if (info.folder) return store.Copy(source.key, target);
  PC_RETURN_IF_ERROR(store.MakeFolder(target));
  return store.Copy(source.key, JoinPath(target, info.name));
}

// Copies the source to the publication's folder and counts what is there; on failure removes it.
Status Publications::StorePublished(Publication& p, const Location& source, const FileInfo& info,
                                    std::uint64_t storage_left) {
  FileStore& store = space_.store();
  const std::string target = p.path();
  Status copied = CopyForPublication(source, info, target, storage_left);
  auto walked = copied.ok() ? store.Walk(target) : Result<std::vector<std::pair<std::string, FileInfo>>>(Err(copied));
  if (walked) {
    for (const auto& [path, file] : *walked) {
      if (file.folder) continue;
      ++p.files;
      p.bytes += static_cast<std::int64_t>(file.size);
    }
    // A job may have written into the source while it was copied.
    if (static_cast<std::uint64_t>(p.bytes) > storage_left)
      walked = Err(QuotaLeftError("publishing", static_cast<std::uint64_t>(p.bytes), storage_left));
  }
  if (!walked)
    if (Status removed = RemovePublished(store, p); !removed.ok())
      spdlog::warn("files: publication {} failed and its copy was not removed: {}", p.id, removed.message());
  return walked ? Status::Ok() : walked.error();
}

Result<Publication> Publications::Publish(const Principal& principal, const PublishRequest& request) {
  PC_RETURN_IF_ERROR(CheckPublishRequest(request));
  auto source = space_.Resolve(principal, request.path);
  if (!source) return Err(source.error());
  PC_RETURN_IF_ERROR(CheckPublishable(source->segments, principal.account_id, source->path));
  if (source->virtual_children) return Err(Status::InvalidArgument("'" + source->path + "' cannot be published", "path"));
  auto info = space_.store().Stat(source->key);
  if (!info) return Err(Status::NotFound("no such file or folder '" + source->path + "'"));
  auto account_lock = quota_.LockAccount(principal.account_id);  // until the publication's bytes are recorded
  auto left = quota_.StorageLeft(principal.account_id);
  if (!left) return Err(left.error());

  Publication p{.kind = request.kind, .name = request.name, .version = request.version,
                .description = request.description, .account = principal.account_id,
                .published_by = principal.email, .published_at = UnixNow()};
  db::TenantScope scope(space_.database(), principal.account_id);
  auto inserted = scope.Query(
      "INSERT INTO publications (kind, name, version, description, account_id, published_by, published_at) "
      "VALUES (?, ?, ?, ?, :account, ?, ?) RETURNING id",
      {p.kind, p.name, p.version, p.description, p.published_by, p.published_at});
  if (!inserted) {
    if (inserted.error().code() == Code::kConflict)
      return Err(Status::Conflict(p.kind + " '" + p.name + "' version '" + p.version + "' is already published"));
    return Err(inserted.error());
  }
  p.id = inserted->Int(0, "id");
  if (Status stored = StorePublished(p, *source, *info, *left); !stored.ok()) {
    if (auto dropped = scope.Execute("DELETE FROM publications WHERE account_id = :account AND id = ?", {p.id}); !dropped)
      spdlog::warn("files: failed publication {} is still listed: {}", p.id, dropped.error().message());
    return Err(stored);
  }
  auto sized = scope.Execute("UPDATE publications SET files = ?, bytes = ? WHERE account_id = :account AND id = ?",
                             {p.files, p.bytes, p.id});
  if (!sized) return Err(sized.error());
  return p;
}

Result<std::vector<Publication>> Publications::List(const std::string& kind, const std::string& query) {
  if (!kind.empty() && kind != "model" && kind != "dataset")
    return Err(Status::InvalidArgument("kind must be model or dataset", "kind"));
  auto rows = space_.database().Query(
      std::string("SELECT ") + kPublicationColumns +
          " FROM publications WHERE (? = '' OR kind = ?) AND (? = '' OR instr(lower(name || ' ' || description || ' ' "
          "|| account_id || ' ' || version), lower(?)) > 0) ORDER BY published_at DESC, id DESC LIMIT 500",
      {kind, kind, query, query});
  if (!rows) return Err(rows.error());
  std::vector<Publication> out;
  for (std::size_t i = 0; i < rows->size(); ++i) out.push_back(PublicationOf(*rows, i));
  return out;
}

Result<Publication> Publications::Get(std::int64_t id) {
  auto rows = space_.database().Query(std::string("SELECT ") + kPublicationColumns + " FROM publications WHERE id = ?", {id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("no publication " + std::to_string(id)));
  return PublicationOf(*rows, 0);
}

Status Publications::Withdraw(const Principal& principal, std::int64_t id) {
  auto p = Get(id);
  if (!p) return p.error();
  if (p->account != principal.account_id)
    return Status::PermissionDenied("only account '" + p->account + "' can withdraw this publication");
  PC_RETURN_IF_ERROR(RemovePublished(space_.store(), *p));
  db::TenantScope scope(space_.database(), principal.account_id);
  auto deleted = scope.Execute("DELETE FROM publications WHERE account_id = :account AND id = ?", {id});
  return deleted ? Status::Ok() : deleted.error();
}

}  // namespace paddlecloud::files
