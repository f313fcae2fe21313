#include "files/shares.h"

#include "accounts/secrets.h"
#include "db/tenant_scope.h"
#include "files/cloud_path.h"

namespace paddlecloud::files {
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

std::vector<Share> SharesOf(const db::Rows& rows) {
  std::vector<Share> out;
  for (std::size_t i = 0; i < rows.size(); ++i) out.push_back(ShareOf(rows, i));
  return out;
}

}  // namespace

Status Shares::CheckGrantee(const Principal& principal, const std::string& account) {
  if (account == principal.account_id) return Status::InvalidArgument("this is your own account", "account");
  if (!account_exists_ || !account_exists_(account))
    return Status::InvalidArgument("there is no account '" + account + "'", "account");
  return Status::Ok();
}

Result<Share> Shares::Create(const Principal& principal, std::string_view path, const std::string& account, bool link,
                             std::optional<std::int64_t> expires_at) {
  if (link == !account.empty())
    return Err(Status::InvalidArgument("give either an account to share with or link: true", "account"));
  auto l = space_.ResolveWritable(principal, path);
  if (!l) return Err(l.error());
  if (l->segments[0] != "datasets" && l->segments[0] != "models")
    return Err(Status::InvalidArgument("only files and folders in datasets/ and models/ can be shared", "path"));
  auto entry = space_.EntryAt(*l);
  if (!entry) return Err(entry.error());
  if (expires_at && *expires_at <= UnixNow())
    return Err(Status::InvalidArgument("expires_at must be in the future", "expires_at"));
  db::TenantScope scope(space_.database(), principal.account_id);
  if (!account.empty()) {
    PC_RETURN_IF_ERROR(CheckGrantee(principal, account));
    auto existing = scope.Query(
        "SELECT id FROM shares WHERE account_id = :account AND path = ? AND grantee_account = ?", {l->path, account});
    if (!existing) return Err(existing.error());
    if (!existing->empty())
      return Err(Status::Conflict("'" + l->path + "' is already shared with '" + account + "'"));
  }
  std::string token = link ? accounts::NewSecret("") : "";
  std::int64_t now = UnixNow();
  auto inserted = scope.Query(
      "INSERT INTO shares (account_id, path, folder, grantee_account, link_token, expires_at, created_at, created_by) "
      "VALUES (:account, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {l->path, entry->folder ? 1 : 0, account.empty() ? db::Value() : db::Value(account),
       token.empty() ? db::Value() : db::Value(token), expires_at ? db::Value(*expires_at) : db::Value(), now,
       principal.email});
  if (!inserted) return Err(inserted.error());
  return Share{.id = inserted->Int(0, "id"), .owner_account = principal.account_id, .path = l->path,
               .folder = entry->folder, .account = account, .link_token = token, .expires_at = expires_at,
               .created_at = now, .created_by = principal.email};
}

Result<std::vector<Share>> Shares::List(const Principal& principal) {
  db::TenantScope scope(space_.database(), principal.account_id);
  auto rows = scope.Query(std::string("SELECT ") + kShareColumns +
                          " FROM shares WHERE account_id = :account ORDER BY path, id");
  if (!rows) return Err(rows.error());
  return SharesOf(*rows);
}

Status Shares::Revoke(const Principal& principal, std::int64_t id) {
  db::TenantScope scope(space_.database(), principal.account_id);
  auto deleted = scope.Execute("DELETE FROM shares WHERE account_id = :account AND id = ?", {id});
  if (!deleted) return deleted.error();
  if (deleted->rows_affected == 0) return Status::NotFound("no share " + std::to_string(id));
  return Status::Ok();
}

Result<std::vector<Share>> Shares::SharedWithMe(const Principal& principal) {
  db::TenantScope scope(space_.database(), principal.account_id);
  auto rows = scope.Query(std::string("SELECT ") + kShareColumns +
                              " FROM shares WHERE grantee_account = :account AND (expires_at IS NULL OR expires_at > ?) "
                              "ORDER BY created_at DESC, id DESC",
                          {UnixNow()});
  if (!rows) return Err(rows.error());
  return SharesOf(*rows);
}

Result<Location> Shares::ResolveLink(std::string_view token, std::string_view path) {
  auto segments = ParseCloudPath(path);
  if (!segments) return Err(segments.error());
  auto rows = space_.database().Query(std::string("SELECT ") + kShareColumns +
                                          " FROM shares WHERE link_token = ? AND (expires_at IS NULL OR expires_at > ?)",
                                      {std::string(token), UnixNow()});
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

Result<Listing> Shares::ListLink(std::string_view token, std::string_view path, const ListOptions& options) {
  if (options.limit < 1 || options.limit > 1000) return Err(Status::InvalidArgument("limit must be 1..1000", "limit"));
  auto location = ResolveLink(token, path);
  if (!location) return Err(location.error());
  return space_.ListAt(*location, options);
}

Result<Readable> Shares::ReadLink(std::string_view token, std::string_view path) {
  auto location = ResolveLink(token, path);
  if (!location) return Err(location.error());
  return space_.ReadAt(*location);
}

Result<std::vector<SharedMount>> Shares::SharedMountsFor(const std::string& account) {
  db::TenantScope scope(space_.database(), account);
  auto rows = scope.Query(
      "SELECT account_id, path FROM shares WHERE grantee_account = :account AND (expires_at IS NULL OR expires_at > ?)",
      {UnixNow()});
  if (!rows) return Err(rows.error());
  std::vector<SharedMount> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    std::string relative = JoinPath(rows->Text(i, "account_id"), rows->Text(i, "path"));
    out.push_back({.key = relative, .mount = relative});
  }
  return out;
}

}  // namespace paddlecloud::files
