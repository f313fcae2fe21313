#include "accounts/account_types.h"

#include <cctype>

#include "common/names.h"

namespace paddlecloud::accounts {

std::string NormalizeEmail(const std::string& email) {
  std::string out;
  std::size_t b = 0, e = email.size();
  while (b < e && std::isspace(static_cast<unsigned char>(email[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(email[e - 1]))) --e;
  for (std::size_t i = b; i < e; ++i) out += static_cast<char>(std::tolower(static_cast<unsigned char>(email[i])));
  return out;
}

Status ValidateEmail(const std::string& email) {
  auto at = email.find('@');
  bool ok = email.size() <= 254 && at != std::string::npos && at > 0 && at == email.rfind('@') &&
            email.find('.', at) != std::string::npos && email.back() != '.' && email.find('.', at) > at + 1;
  for (unsigned char c : email) ok &= c > 0x20 && c != 0x7f && c != '<' && c != '>' && c != ',' && c != '"';
  if (!ok) return Status::InvalidArgument("email must be an address like name@example.com", "email");
  return Status::Ok();
}

Status ValidateAccountId(const std::string& id) {
  PC_RETURN_IF_ERROR(names::CheckDnsLabel(id, "account ID", "account_id", 3, 40));
  static const char* kReserved[] = {"default", "kube-system", "kube-public", "kube-node-lease", "public", "admin",
                                    "paddlecloud", "system"};
  for (const char* r : kReserved)
    if (id == r) return Status::Of(Code::kConflict, "account ID '" + id + "' is reserved", "account_id");
  return Status::Ok();
}

}  // namespace paddlecloud::accounts
