#include "files/file_space.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "db/tenant_scope.h"
#include "files/cloud_path.h"
#include "files/job_outputs.h"

namespace paddlecloud::files {

std::int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool StartsWithSegments(const std::vector<std::string>& path, const std::vector<std::string>& prefix) {
  return path.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

namespace {

Status CheckSpaceWritable(const std::vector<std::string>& segments) {
  if (!segments.empty() && (segments[0] == "public" || segments[0] == "shared"))
    return Status::PermissionDenied("'" + segments[0] + "/' is read-only");
  return Status::Ok();
}

Status NoSuchPath(const Location& l) { return Status::NotFound("no such file or folder '" + l.path + "'"); }

}  // namespace

Result<Location> FileSpace::Resolve(const Principal& principal, std::string_view path) {
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
    if (l.segments[1] != "datasets" && l.segments[1] != "models") return Err(NoSuchPath(l));
    PC_RETURN_IF_ERROR(store_.MakeFolder("public/" + l.segments[1]));
    l.key = l.path;
    return l;
  }
  if (space == "shared") return ResolveShared(principal, std::move(l));
  return Err(Status::NotFound("no such file or folder '" + l.path + "'; top-level folders are datasets, models, "
                              "workspace, public and shared"));
}

// shared/<owner>/<path>: inside a share, its owner's key; above one, a virtual folder of what leads to shares.
Result<Location> FileSpace::ResolveShared(const Principal& principal, Location l) {
  db::TenantScope scope(database_, principal.account_id);
  auto rows = scope.Query(
      "SELECT account_id, path FROM shares WHERE grantee_account = :account AND (expires_at IS NULL OR expires_at > ?) "
      "ORDER BY account_id, path",
      {UnixNow()});
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
  if (l.segments.size() > 1 && children.empty()) return Err(NoSuchPath(l));
  l.virtual_children = std::vector<std::string>(children.begin(), children.end());
  return l;
}

Result<Location> FileSpace::ResolveWritable(const Principal& principal, std::string_view path) {
  auto segments = ParseCloudPath(path);
  if (!segments) return Err(segments.error());
  PC_RETURN_IF_ERROR(CheckSpaceWritable(*segments));
  auto location = Resolve(principal, path);
  if (!location) return Err(location.error());
  if (!location->writable) return Err(Status::PermissionDenied("'" + location->path + "' is read-only"));
  return location;
}

Result<Entry> FileSpace::EntryAt(const Location& l) {
  Entry e;
  e.path = l.path;
  e.name = l.segments.empty() ? "" : l.segments.back();
  e.folder = true;
  e.writable = l.writable;
  if (l.virtual_children) return e;
  auto info = store_.Stat(l.key);
  if (!info) return Err(NoSuchPath(l));
  e.folder = info->folder;
  e.size = info->size;
  e.modified_ns = info->modified_ns;
  if (!l.meta_account.empty() && !e.folder) {
    db::TenantScope scope(database_, l.meta_account);
    auto rows = scope.Query(
        "SELECT uploaded_by, written_by_job FROM file_meta WHERE account_id = :account AND key = ?", {l.key});
    if (rows && !rows->empty()) SetWriter(e, *rows, 0);
  }
  return e;
}

namespace {

std::vector<Entry> VirtualEntries(const Location& l) {
  std::vector<Entry> all;
  for (const auto& name : *l.virtual_children) {
    Entry e;
    e.name = name;
    e.path = JoinPath(l.path, name);
    e.folder = true;
    e.writable = l.segments.empty() && (name == "datasets" || name == "models" || name == "workspace");
    all.push_back(std::move(e));
  }
  return all;
}

void SortAndPage(std::vector<Entry> all, const ListOptions& options, Listing& listing) {
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
}

}  // namespace

Result<Listing> FileSpace::ListAt(const Location& l, const ListOptions& options) {
  auto self = EntryAt(l);
  if (!self) return Err(self.error());
  Listing listing;
  listing.folder = *self;
  if (!self->folder) return listing;
  if (l.virtual_children) {
    SortAndPage(VirtualEntries(l), options, listing);
    return listing;
  }
  auto infos = store_.List(l.key);
  if (!infos) return Err(infos.error());
  std::map<std::string, std::size_t> writers;  // name -> its row of `meta`
  std::optional<db::Rows> meta;
  if (!l.meta_account.empty()) {
    db::TenantScope scope(database_, l.meta_account);
    std::string prefix = l.key + "/";
    auto rows = scope.Query(
        "SELECT key, uploaded_by, written_by_job FROM file_meta WHERE account_id = :account AND substr(key, 1, ?) = ?",
        {static_cast<std::int64_t>(prefix.size()), prefix});
    if (rows) {
      meta = std::move(*rows);
      for (std::size_t i = 0; i < meta->size(); ++i) writers[meta->Text(i, "key").substr(prefix.size())] = i;
    }
  }
  std::vector<Entry> all;
  for (auto& info : *infos) {
    Entry e;
    e.path = JoinPath(l.path, info.name);
    e.folder = info.folder;
    e.size = info.size;
    e.modified_ns = info.modified_ns;
    e.writable = l.writable;
    if (auto it = writers.find(info.name); it != writers.end()) SetWriter(e, *meta, it->second);
    e.name = std::move(info.name);
    all.push_back(std::move(e));
  }
  SortAndPage(std::move(all), options, listing);
  return listing;
}

Result<Readable> FileSpace::ReadAt(const Location& l) {
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

}  // namespace paddlecloud::files
