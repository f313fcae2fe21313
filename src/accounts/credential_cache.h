// CredentialCache: verified credentials by the hash of their secret, and users by id, so that the
// I/O threads can authenticate without blocking. Entries are re-checked against the database after
// kRecheckSeconds; every revocation must drop what it revokes (Forget, ForgetUser, ForgetJob,
// Clear). Bounded: when full, it starts over (a miss only costs a database lookup). Thread-safe.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "accounts/account_types.h"
#include "common/principal.h"

namespace paddlecloud::accounts {

class CredentialCache {
 public:
  static constexpr std::int64_t kRecheckSeconds = 60;
  static constexpr std::size_t kMaxEntries = 100'000;

  std::optional<Principal> Find(const std::string& hash, std::int64_t now) {
    std::lock_guard lock(mu_);
    auto it = credentials_.find(hash);
    if (it == credentials_.end()) return std::nullopt;
    if (now >= it->second.valid_until || now - it->second.checked_at >= kRecheckSeconds) {
      credentials_.erase(it);
      return std::nullopt;
    }
    return it->second.principal;
  }
  void Put(const std::string& hash, const Principal& principal, std::int64_t valid_until, std::int64_t now) {
    std::lock_guard lock(mu_);
    if (credentials_.size() >= kMaxEntries) credentials_.clear();
    credentials_[hash] = {principal, valid_until, now};
  }
  std::optional<User> FindUser(std::int64_t user_id, std::int64_t now) {
    std::lock_guard lock(mu_);
    auto it = users_.find(user_id);
    if (it == users_.end() || now - it->second.second >= kRecheckSeconds) return std::nullopt;
    return it->second.first;
  }
  void PutUser(const User& user, std::int64_t now) {
    std::lock_guard lock(mu_);
    if (users_.size() >= kMaxEntries) users_.clear();
    users_[user.id] = {user, now};
  }
  void Forget(const std::string& hash) {
    std::lock_guard lock(mu_);
    credentials_.erase(hash);
  }
  // Everything of the user: their sessions and tokens (jobs' included) and their profile.
  void ForgetUser(std::int64_t user_id) {
    std::lock_guard lock(mu_);
    std::erase_if(credentials_, [&](const auto& e) { return e.second.principal.user_id == user_id; });
    users_.erase(user_id);
  }
  void ForgetJob(std::int64_t job_id) {
    std::lock_guard lock(mu_);
    std::erase_if(credentials_, [&](const auto& e) { return e.second.principal.job_id == job_id; });
  }
  void ForgetNotebook(std::int64_t user_id) {
    std::lock_guard lock(mu_);
    std::erase_if(credentials_, [&](const auto& e) { return e.second.principal.notebook && e.second.principal.user_id == user_id; });
  }
  void Clear() {
    std::lock_guard lock(mu_);
    credentials_.clear();
    users_.clear();
  }

 private:
  struct Credential {
    Principal principal;
    std::int64_t valid_until = 0;  // expiry of the token, or of the session (absolute or idle)
    std::int64_t checked_at = 0;
  };
  std::mutex mu_;  // guards both maps
  std::unordered_map<std::string, Credential> credentials_;
  std::unordered_map<std::int64_t, std::pair<User, std::int64_t>> users_;  // with when it was read
};

}  // namespace paddlecloud::accounts
