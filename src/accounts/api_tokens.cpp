#include "accounts/api_tokens.h"

namespace paddlecloud::accounts {

Result<std::pair<ApiToken, std::string>> ApiTokens::CreateToken(const Principal& principal,
                                                                const std::string& name,
                                                                std::optional<std::int64_t> expires_in_days,
                                                                const RequestMeta& meta, const std::string& scope) {
  if (scope != "full" && scope != "invoke")
    return Err(Status::InvalidArgument("scope must be full or invoke", "scope"));
  if (principal.invoke_only && scope != "invoke")
    return Err(Status::PermissionDenied("an invoke-only token cannot create tokens"));
  if (name.empty() || name.size() > 100) return Err(Status::InvalidArgument("name must be 1 to 100 bytes", "name"));
  if (expires_in_days && (*expires_in_days < 1 || *expires_in_days > 3650))
    return Err(Status::InvalidArgument("expires_in_days must be from 1 to 3650", "expires_in_days"));
  std::int64_t now = ctx_.Now();
  std::string secret = NewSecret("pct_");
  ApiToken token{.id = 0, .name = name, .prefix = secret.substr(0, 10), .created_at = now,
                 .expires_at = expires_in_days ? std::optional<std::int64_t>(now + *expires_in_days * 86400) : std::nullopt,
                 .last_used_at = std::nullopt, .scope = scope};
  auto r = Tenant(ctx_.db(), principal).Query(
      "INSERT INTO api_tokens (user_id, account_id, name, token_hash, prefix, created_at, expires_at, scope) "
      "VALUES (?, :account, ?, ?, ?, ?, ?, ?) RETURNING id",
      {principal.user_id, name, HashSecret(secret), token.prefix, now,
       token.expires_at ? db::Value(*token.expires_at) : db::Value(), scope});
  if (!r) return Err(r.error());
  token.id = r->Int(0, "id");
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, "token.created", meta,
        {{"name", name}, {"id", token.id}, {"scope", scope}});
  return std::make_pair(token, secret);
}

Result<std::pair<ApiToken, std::string>> ApiTokens::CreateTokenWithPassword(const std::string& email,
                                                                            const std::string& password,
                                                                            const std::string& name,
                                                                            const RequestMeta& meta) {
  auto user = sign_in_.CheckPasswordLogin(email, password, meta);
  if (!user) return Err(user.error());
  Principal p{.user_id = user->id, .account_id = user->account_id, .email = user->email, .master = user->master,
              .method = "password", .credential_id = "", .csrf_token = ""};
  return CreateToken(p, name, std::nullopt, meta);
}

Result<std::vector<ApiToken>> ApiTokens::ListTokens(const Principal& principal) {
  auto rows = Tenant(ctx_.db(), principal).Query("SELECT id, name, prefix, created_at, expires_at, last_used_at, scope FROM api_tokens "
      "WHERE user_id = ? AND account_id = :account AND revoked_at IS NULL AND job_id IS NULL AND notebook = 0 ORDER BY id DESC",
      {principal.user_id});
  if (!rows) return Err(rows.error());
  std::vector<ApiToken> out;
  for (std::size_t i = 0; i < rows->size(); ++i) {
    ApiToken t{.id = rows->Int(i, "id"), .name = rows->Text(i, "name"), .prefix = rows->Text(i, "prefix"),
               .created_at = rows->Int(i, "created_at"), .expires_at = std::nullopt, .last_used_at = std::nullopt,
               .scope = rows->Text(i, "scope")};
    if (!rows->IsNull(i, "expires_at")) t.expires_at = rows->Int(i, "expires_at");
    if (!rows->IsNull(i, "last_used_at")) t.last_used_at = rows->Int(i, "last_used_at");
    out.push_back(std::move(t));
  }
  return out;
}

Status ApiTokens::RevokeToken(const Principal& principal, std::int64_t token_id, const RequestMeta& meta) {
  // Its name goes in the audit log: "token 5" alone means nothing to a reader.
  auto named = Tenant(ctx_.db(), principal).Query(
      "SELECT name FROM api_tokens WHERE id = ? AND user_id = ? AND account_id = :account", {token_id, principal.user_id});
  std::string name = named && !named->empty() ? named->Text(0, "name") : "";
  auto r = Tenant(ctx_.db(), principal)
               .Execute("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND account_id = :account "
                        "AND revoked_at IS NULL",
                        {ctx_.Now(), token_id, principal.user_id});
  if (!r) return r.error();
  if (r->rows_affected == 0) return Status::NotFound("no token with id " + std::to_string(token_id));
  ctx_.cache().ForgetUser(principal.user_id);
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, "token.revoked", meta,
        {{"name", name}, {"id", token_id}});
  return Status::Ok();
}

Result<std::string> ApiTokens::CreateJobToken(const Principal& principal, std::int64_t job_id) {
  std::string secret = NewSecret("pct_");
  auto r = Tenant(ctx_.db(), principal).Execute(
      "INSERT INTO api_tokens (user_id, account_id, name, token_hash, prefix, created_at, job_id) "
      "VALUES (?, :account, ?, ?, ?, ?, ?)",
      {principal.user_id, "job " + std::to_string(job_id), HashSecret(secret), secret.substr(0, 10), ctx_.Now(), job_id});
  if (!r) return Err(r.error());
  return secret;
}

Status ApiTokens::RevokeJobTokens(const std::string& account_id, std::int64_t job_id) {
  auto r = db::TenantScope(ctx_.db(), account_id)
               .Execute("UPDATE api_tokens SET revoked_at = ? WHERE job_id = ? AND account_id = :account AND revoked_at IS NULL",
                        {ctx_.Now(), job_id});
  ctx_.cache().ForgetJob(job_id);
  return r ? Status::Ok() : r.error();
}

Result<std::string> ApiTokens::CreateNotebookToken(const Principal& principal) {
  std::string secret = NewSecret("pct_");
  auto r = Tenant(ctx_.db(), principal).Execute(
      "INSERT INTO api_tokens (user_id, account_id, name, token_hash, prefix, created_at, notebook) "
      "VALUES (?, :account, 'notebook', ?, ?, ?, 1)",
      {principal.user_id, HashSecret(secret), secret.substr(0, 10), ctx_.Now()});
  if (!r) return Err(r.error());
  return secret;
}

Status ApiTokens::RevokeNotebookTokens(const std::string& account_id, std::int64_t user_id) {
  auto r = db::TenantScope(ctx_.db(), account_id)
               .Execute("UPDATE api_tokens SET revoked_at = ? WHERE notebook = 1 AND user_id = ? AND account_id = :account "
                        "AND revoked_at IS NULL",
                        {ctx_.Now(), user_id});
  ctx_.cache().ForgetNotebook(user_id);
  return r ? Status::Ok() : r.error();
}

}  // namespace paddlecloud::accounts
