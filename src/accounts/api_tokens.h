// ApiTokens: personal API tokens (the CLI's and SDK's credential) and jobs' own tokens. A secret
// is returned once, at creation; only its hash is kept. Blocking: call on the blocking pool.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "accounts/account_context.h"
#include "accounts/account_types.h"
#include "accounts/sign_in.h"
#include "common/principal.h"
#include "common/status.h"

namespace paddlecloud::accounts {

class ApiTokens {
 public:
  ApiTokens(AccountContext& ctx, SignIn& sign_in) : ctx_(ctx), sign_in_(sign_in) {}

  // `scope`: "full" (everything the user may do) or "invoke" (only calls to the account's serving
  // instances, for client applications); anything else is InvalidArgument naming `scope`.
  Result<std::pair<ApiToken, std::string>> CreateToken(const Principal& principal, const std::string& name,
                                                       std::optional<std::int64_t> expires_in_days,
                                                       const RequestMeta& meta, const std::string& scope = "full");
  // Signs in with email and password and returns a new token (the CLI's login); throttled as Login.
  Result<std::pair<ApiToken, std::string>> CreateTokenWithPassword(const std::string& email,
                                                                   const std::string& password,
                                                                   const std::string& name, const RequestMeta& meta);
  Result<std::vector<ApiToken>> ListTokens(const Principal& principal);
  Status RevokeToken(const Principal& principal, std::int64_t token_id, const RequestMeta& meta);

  // A job's own token (PADDLE_CLOUD_TOKEN): it authenticates as the principal with job_id set, so
  // that it acts only for the job's work (api/auth_middleware.h); not listed among the user's
  // tokens and not audited one by one. RevokeJobTokens ends it with the job.
  Result<std::string> CreateJobToken(const Principal& principal, std::int64_t job_id);
  Status RevokeJobTokens(const std::string& account_id, std::int64_t job_id);
  // The token of the principal's notebook, scoped as a job's (it may stop any of the user's
  // jobs); RevokeNotebookTokens ends it when the notebook stops.
  Result<std::string> CreateNotebookToken(const Principal& principal);
  Status RevokeNotebookTokens(const std::string& account_id, std::int64_t user_id);

 private:
  AccountContext& ctx_;
  SignIn& sign_in_;
};

}  // namespace paddlecloud::accounts
