#include "accounts/members.h"

namespace paddlecloud::accounts {

Result<User> Members::GetUser(const Principal& principal) {
  if (auto cached = CachedUser(principal)) return *cached;
  auto rows = Tenant(ctx_.db(), principal).Query(UserSelect("id = ? AND account_id = :account"), {principal.user_id});
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("user not found"));
  User user = UserFrom(*rows, 0);
  ctx_.cache().PutUser(user, ctx_.Now());
  return user;
}

std::optional<User> Members::CachedUser(const Principal& principal) {
  auto user = ctx_.cache().FindUser(principal.user_id, ctx_.Now());
  if (!user || user->account_id != principal.account_id) return std::nullopt;
  return user;
}

Result<User> Members::UpdateProfile(const Principal& principal, const std::string& display_name) {
  if (display_name.empty() || display_name.size() > 100)
    return Err(Status::InvalidArgument("display name must be 1 to 100 bytes", "display_name"));
  auto r = Tenant(ctx_.db(), principal).Execute("UPDATE users SET display_name = ? WHERE id = ? AND account_id = :account",
                                          {display_name, principal.user_id});
  if (!r) return Err(r.error());
  ctx_.cache().ForgetUser(principal.user_id);
  return GetUser(principal);
}

Result<Account> Members::GetAccount(const Principal& principal) {
  auto rows = Tenant(ctx_.db(), principal).Query(
      "SELECT a.id, a.display_name, a.created_at, (SELECT COUNT(*) FROM users u WHERE u.account_id = a.id) AS members "
      "FROM accounts a WHERE a.id = :account");
  if (!rows) return Err(rows.error());
  if (rows->empty()) return Err(Status::NotFound("account not found"));
  return Account{.id = rows->Text(0, "id"), .display_name = rows->Text(0, "display_name"),
                 .created_at = rows->Int(0, "created_at"), .members = rows->Int(0, "members")};
}

Result<std::vector<User>> Members::ListMembers(const Principal& principal) {
  auto rows = Tenant(ctx_.db(), principal).Query(UserSelect("account_id = :account ORDER BY is_master DESC, email"));
  if (!rows) return Err(rows.error());
  std::vector<User> out;
  for (std::size_t i = 0; i < rows->size(); ++i) out.push_back(UserFrom(*rows, i));
  return out;
}

Status Members::RemoveMember(const Principal& principal, std::int64_t user_id, const RequestMeta& meta) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  if (user_id == principal.user_id)
    return Status::InvalidArgument("the master user cannot remove themselves; hand the master role to a member first",
                                   "user_id");
  db::TenantScope tenant = Tenant(ctx_.db(), principal);
  auto target = tenant.Query("SELECT email FROM users WHERE id = ? AND account_id = :account", {user_id});
  if (!target) return target.error();
  if (target->empty()) return Status::NotFound("no member with id " + std::to_string(user_id));
  auto r = tenant.Execute("DELETE FROM users WHERE id = ? AND account_id = :account", {user_id});
  if (!r) return r.error();
  ctx_.cache().ForgetUser(user_id);
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, "member.removed", meta,
        {{"email", target->Text(0, "email")}});
  return Status::Ok();
}

Status Members::TransferMaster(const Principal& principal, std::int64_t user_id, const RequestMeta& meta) {
  PC_RETURN_IF_ERROR(RequireMaster(principal));
  if (user_id == principal.user_id) return Status::InvalidArgument("you are already the master user", "user_id");
  std::string email;
  PC_RETURN_IF_ERROR(ctx_.db().Transaction([&](db::Session& tx) -> Status {
    db::TenantScope tenant = Tenant(tx, principal);
    auto target = tenant.Query("SELECT email FROM users WHERE id = ? AND account_id = :account", {user_id});
    if (!target) return target.error();
    if (target->empty()) return Status::NotFound("no member with id " + std::to_string(user_id));
    email = target->Text(0, "email");
    PC_RETURN_IF_ERROR(
        StatusOf(tenant.Execute("UPDATE users SET is_master = 0 WHERE id = ? AND account_id = :account", {principal.user_id})));
    return StatusOf(tenant.Execute("UPDATE users SET is_master = 1 WHERE id = ? AND account_id = :account", {user_id}));
  }));
  ctx_.cache().Clear();  // two principals changed role
  ctx_.Audit(principal.account_id, principal.user_id, principal.email, "member.master_transferred", meta,
        {{"to", email}});
  return Status::Ok();
}

Status Members::Leave(const Principal& principal, const RequestMeta& meta) {
  if (principal.master)
    return Status::InvalidArgument("the master user cannot leave; hand the master role to another member first");
  auto r = Tenant(ctx_.db(), principal)
               .Execute("DELETE FROM users WHERE id = ? AND account_id = :account AND is_master = 0", {principal.user_id});
  if (!r) return r.error();
  ctx_.cache().ForgetUser(principal.user_id);
  ctx_.Audit(principal.account_id, 0, principal.email, "member.left", meta);
  return Status::Ok();
}

}  // namespace paddlecloud::accounts
