// Who is calling: the authenticated user, their account (the tenant) and how they proved it.
// Set on a request by the auth middleware; every service scopes its data by `account_id`.
#pragma once

#include <cstdint>
#include <string>

namespace paddlecloud {

struct Principal {
  std::int64_t user_id = 0;
  std::string account_id;
  std::string email;
  bool master = false;            // the account's master user
  std::string method;             // "session", "token" or "certificate"
  std::string credential_id;      // the session's hash, the token's id or the certificate's serial
  std::string csrf_token;         // sessions only
  std::int64_t job_id = 0;        // a job's token (PADDLE_CLOUD_TOKEN): it acts only for that job's work
  bool notebook = false;          // a notebook's token: it acts only for the notebook's work
  bool invoke_only = false;       // a token of scope "invoke": it may only call serving instances
};

}  // namespace paddlecloud
