// SignIn: who a request comes from. Password sign-in (throttled), sessions, and the principal
// behind a session cookie, API token or client certificate, from the in-process cache when it can.
// Everything but the Cached* lookups blocks: call it on the blocking pool.
#pragma once

#include <mutex>
#include <optional>
#include <string>

#include "accounts/account_context.h"
#include "accounts/account_types.h"
#include "common/principal.h"
#include "common/status.h"

namespace paddlecloud::accounts {

class SignIn {
 public:
  explicit SignIn(AccountContext& ctx) : ctx_(ctx) {}

  // ResourceExhausted (details.retry_after seconds) while throttled; Unauthenticated for a wrong
  // email or password alike; PermissionDenied until the email is verified.
  Result<Session> Login(const std::string& email, const std::string& password, const RequestMeta& meta);
  Status Logout(const Principal& principal, const RequestMeta& meta);
  // The user of an email and password, with Login's throttling and answers, without a session.
  Result<User> CheckPasswordLogin(const std::string& email, const std::string& password, const RequestMeta& meta);

  // The principal behind a session cookie, bearer token or verified client certificate;
  // Unauthenticated when unknown, expired or revoked.
  Result<Principal> AuthenticateSession(const std::string& session_id);
  Result<Principal> AuthenticateToken(const std::string& token);
  // A client certificate is known by the SHA-256 fingerprint of the whole certificate recorded at
  // issue: one with the same serial but another subject or key is another certificate.
  Result<Principal> AuthenticateCertificate(const std::string& fingerprint_sha256);

  // The principal of a token or session cookie from the in-process cache, without blocking: for
  // the I/O threads, which fall back to AuthenticateToken/AuthenticateSession on a miss. Entries
  // are re-checked against the database once a minute; every revocation (token, logout, password
  // change or reset, member removal, job end) drops them at once. With several server replicas a
  // revocation on another replica is seen at that re-check: a shared invalidation is future work.
  std::optional<Principal> CachedTokenPrincipal(const std::string& token);
  std::optional<Principal> CachedSessionPrincipal(const std::string& session_id);

  // What an unknown email's password is checked against: a hash made with the same parameters as
  // real ones, so a sign-in takes as long whether the email exists or not.
  const std::string& DummyPasswordHash();

 private:
  Result<Principal> PrincipalForUser(std::int64_t user_id, std::string method, std::string credential);

  AccountContext& ctx_;
  std::once_flag dummy_hash_once_;
  std::string dummy_hash_;
};

}  // namespace paddlecloud::accounts
