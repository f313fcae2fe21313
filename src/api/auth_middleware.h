// Authentication for every request, and the rules that follow from it:
// - `Authorization: Bearer <token>` (CLI, SDK), the `pc_session` cookie (browser), or a TLS client
//   certificate verified by the platform CA establish Request::principal. A bad bearer token is a
//   401 at once; a stale cookie is cleared and the request continues anonymous.
// - Unsafe methods (POST, PUT, PATCH, DELETE) authenticated by cookie must carry the session's
//   CSRF token in X-CSRF-Token; any unsafe request whose Origin is not this server is refused.
// - Routes that are not public answer 401 without a principal.
// - A job's token (Principal::job_id) may only call what a job needs (JobTokenMayCall): read the
//   account's files and write its space, read publications, submit jobs and read the user's
//   jobs, stop its own job, read /api/v1/me; anything else (tokens, certificates, members,
//   invitations, password, settings, shares, publishing) is 403 with details.reason
//   "job_token_scope". A notebook's token (Principal::notebook) may do the same, and stop any of the
//   user's jobs ("notebook_token_scope").
#pragma once

#include "accounts/account_service.h"
#include "blocking/work_pool.h"
#include "http/server.h"

namespace paddlecloud::api {

inline constexpr char kSessionCookie[] = "pc_session";

// `https_public_url`: users reach the server over HTTPS (public_url is https://) even if a proxy in
// front terminates TLS, so the session cookie is always `Secure`, whatever sets it.
http::Middleware AuthMiddleware(accounts::AccountService& accounts, blocking::WorkPool& pool,
                                bool https_public_url = false);

// The value of cookie `name` in a Cookie header, or empty.
std::string CookieValue(std::string_view cookie_header, std::string_view name);
// A Set-Cookie value for the session (Secure when the request came over TLS); empty id clears it.
std::string SessionCookie(const std::string& session_id, std::int64_t max_age_seconds, bool secure);

accounts::RequestMeta MetaOf(const http::Request& request);

// Whether a workload's token may call `method` on the (decoded) `path`: a job's (`job_id`, it may
// stop only that job) or a notebook's (`job_id` 0: it may stop any of its user's jobs).
bool WorkloadTokenMayCall(std::string_view method, std::string_view path, std::int64_t job_id);

}  // namespace paddlecloud::api
