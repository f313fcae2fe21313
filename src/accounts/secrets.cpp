#include "accounts/secrets.h"

#include <sodium.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>

#include "accounts/common_passwords.h"

namespace paddlecloud::accounts {
namespace {

void EnsureSodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) std::abort();  // no usable randomness: nothing secure can run
    return true;
  }();
  (void)ready;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

PasswordParams DefaultPasswordParams() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

PasswordParams TestPasswordParams() { return {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN}; }

Status CheckNewPassword(std::string_view password, std::string_view email, std::string_view account_id,
                        const std::string& field) {
  std::size_t characters = 0;
  for (unsigned char c : password) characters += (c & 0xC0) != 0x80;  // count UTF-8 code points
  if (characters < 10) return Status::InvalidArgument("password must be at least 10 characters long", field);
  if (password.size() > 1024) return Status::InvalidArgument("password must be at most 1024 bytes", field);
  std::string lowered = Lower(password);
  for (const char* common : kCommonPasswords)
    if (lowered == common) return Status::InvalidArgument("this password is too common; choose another", field);
  bool all_same = std::all_of(password.begin(), password.end(), [&](char c) { return c == password.front(); });
  if (all_same) return Status::InvalidArgument("password must not repeat a single character", field);
  if (!email.empty() && (lowered == Lower(email) || lowered == Lower(email.substr(0, email.find('@')))))
    return Status::InvalidArgument("password must not be your email address", field);
  if (!account_id.empty() && lowered == Lower(account_id))
    return Status::InvalidArgument("password must not be the account ID", field);
  return Status::Ok();
}

Result<std::string> HashPassword(std::string_view password, const PasswordParams& params) {
  EnsureSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), params.ops_limit, params.mem_limit,
                            crypto_pwhash_ALG_ARGON2ID13) != 0)
    return Err(Status::Unavailable("password hashing ran out of memory"));
  return std::string(out);
}

bool VerifyPassword(std::string_view password, const std::string& stored_hash) {
  EnsureSodium();
  if (stored_hash.empty()) return false;
  return crypto_pwhash_str_verify(stored_hash.c_str(), password.data(), password.size()) == 0;
}

bool PasswordNeedsRehash(const std::string& stored_hash, const PasswordParams& params) {
  EnsureSodium();
  return crypto_pwhash_str_needs_rehash(stored_hash.c_str(), params.ops_limit, params.mem_limit) != 0;
}

std::string NewSecret(std::string_view prefix) {
  EnsureSodium();
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char encoded[sodium_base64_ENCODED_LEN(32, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(encoded, sizeof encoded, bytes, sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  return std::string(prefix) + encoded;
}

std::string HashSecret(std::string_view secret) {
  EnsureSodium();
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(secret.data()), secret.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return hex;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  EnsureSodium();
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace paddlecloud::accounts
