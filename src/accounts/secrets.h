// Secrets: password hashing (argon2id) and random bearer secrets stored only as hashes.
//
// Password hashing is deliberately slow (tens of milliseconds, 64 MiB): call it on the blocking
// pool. Everything here is thread-safe. Comparisons of secrets are constant-time.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace paddlecloud::accounts {

// Parameters of new password hashes; a stored hash made with other parameters is rehashed at the
// next successful login.
struct PasswordParams {
  unsigned long long ops_limit;
  std::size_t mem_limit;
};
PasswordParams DefaultPasswordParams();
// Cheap parameters for tests only (the library's minimum).
PasswordParams TestPasswordParams();

// Rules for a new password: at least 10 characters, at most 1024 bytes, not on the list of common
// passwords, not the email or account id. InvalidArgument naming `field` otherwise.
Status CheckNewPassword(std::string_view password, std::string_view email, std::string_view account_id,
                        const std::string& field = "password");

Result<std::string> HashPassword(std::string_view password, const PasswordParams& params);
bool VerifyPassword(std::string_view password, const std::string& stored_hash);
bool PasswordNeedsRehash(const std::string& stored_hash, const PasswordParams& params);

// A new random secret: `prefix` + 43 characters of base64url (256 bits), e.g. "pct_...".
std::string NewSecret(std::string_view prefix);
// SHA-256 of a secret, hex; what the database stores instead of the secret.
std::string HashSecret(std::string_view secret);
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace paddlecloud::accounts
