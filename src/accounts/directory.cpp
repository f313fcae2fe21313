#include "accounts/directory.h"

#include <set>

namespace paddlecloud::accounts {

bool AccountDirectory::AccountExists(const std::string& account_id) {
  auto rows = ctx_.db().Query("SELECT 1 FROM accounts WHERE id = ?", {account_id});
  return rows && !rows->empty();
}

Result<std::string> AccountDirectory::FindAccount(const std::string& id_or_master_email) {
  auto rows = ctx_.db().Query(
      "SELECT id FROM accounts WHERE id = ? UNION SELECT account_id AS id FROM users WHERE email = ? AND is_master = 1",
      {id_or_master_email, NormalizeEmail(id_or_master_email)});
  if (!rows) return Err(rows.error());
  if (rows->empty())
    return Err(Status::NotFound("no account '" + id_or_master_email + "' (give an account id or its master user's email)"));
  return rows->Text(0, "id");
}

Result<std::map<std::int64_t, std::string>> AccountDirectory::EmailsOf(const std::vector<std::int64_t>& user_ids) {
  std::map<std::int64_t, std::string> emails;
  std::set<std::int64_t> wanted(user_ids.begin(), user_ids.end());
  if (wanted.empty()) return emails;
  std::string sql = "SELECT id, email FROM users WHERE id IN (";
  db::Params params;
  for (std::int64_t id : wanted) {
    sql += params.empty() ? "?" : ", ?";
    params.emplace_back(id);
  }
  auto rows = ctx_.db().Query(sql + ")", params);
  if (!rows) return Err(rows.error());
  for (std::size_t i = 0; i < rows->size(); ++i) emails[rows->Int(i, "id")] = rows->Text(i, "email");
  return emails;
}

}  // namespace paddlecloud::accounts
