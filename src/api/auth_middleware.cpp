#include "api/auth_middleware.h"

#include <boost/beast/core/string.hpp>

#include "http/json.h"

namespace paddlecloud::api {

namespace asio = boost::asio;

std::string CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    auto semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    if (pair.size() > name.size() && pair.substr(0, name.size()) == name && pair[name.size()] == '=')
      return std::string(pair.substr(name.size() + 1));
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return "";
}

std::string SessionCookie(const std::string& session_id, std::int64_t max_age_seconds, bool secure) {
  std::string cookie = std::string(kSessionCookie) + "=" + session_id + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                       std::to_string(session_id.empty() ? 0 : max_age_seconds);
  if (secure) cookie += "; Secure";
  return cookie;
}

accounts::RequestMeta MetaOf(const http::Request& request) {
  return {.remote_address = request.remote_address,
          .user_agent = std::string(request.headers.Get("User-Agent").value_or(""))};
}

namespace {

bool UnsafeMethod(const std::string& method) {
  return method != "GET" && method != "HEAD" && method != "OPTIONS";
}

// True when the Origin header, if any, names this server (scheme://Host).
bool SameOrigin(const http::Request& request) {
  auto origin = request.headers.Get("Origin");
  if (!origin || *origin == "null") return !origin.has_value();
  auto host = request.headers.Get("Host");
  if (!host) return false;
  std::string expected = std::string(request.tls ? "https://" : "http://") + std::string(*host);
  return *origin == expected;
}

http::Response Unauthenticated(const std::string& message, bool bearer) {
  http::Response r = http::ErrorResponse(Status::Unauthenticated(message));
  if (bearer) r.headers.Set("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  return r;
}

// Adds `Secure` to session cookies set without it (routes decide by request.tls alone).
void MakeSessionCookiesSecure(http::Headers& headers) {
  std::vector<std::pair<std::string, std::string>> cookies;
  for (const auto& [name, value] : headers.fields())
    if (boost::beast::iequals(name, "Set-Cookie")) cookies.emplace_back(name, value);
  if (cookies.empty()) return;
  headers.Remove("Set-Cookie");
  for (auto& [name, value] : cookies) {
    if (value.starts_with(std::string(kSessionCookie) + "=") && value.find("; Secure") == std::string::npos)
      value += "; Secure";
    headers.Add(std::move(name), std::move(value));
  }
}

bool Under(std::string_view path, std::string_view prefix) {
  return path == prefix || (path.starts_with(prefix) && path[prefix.size()] == '/');
}

}  // namespace

bool WorkloadTokenMayCall(std::string_view method, std::string_view path, std::int64_t job_id) {
  if (Under(path, "/serving")) return true;  // the account's serving instances
  if (method == "GET" || method == "HEAD") {
    for (std::string_view prefix : {"/api/v1/me", "/api/v1/session", "/api/v1/version", "/api/v1/storage",
                                    "/api/v1/files", "/api/v1/download", "/api/v1/uploads", "/api/v1/publications",
                                    "/api/v1/shared-with-me", "/api/v1/jobs", "/api/v1/board"})
      if (Under(path, prefix) && !Under(path, "/api/v1/me/tokens") && !Under(path, "/api/v1/me/certificates"))
        return true;
    return false;
  }
  if (method == "POST")
    return path == "/api/v1/uploads" || path == "/api/v1/folders" || path == "/api/v1/copies" ||
           path == "/api/v1/jobs" || path == "/api/v1/jobs/packages" ||
           (job_id != 0 ? path == "/api/v1/jobs/" + std::to_string(job_id) + "/stop"
                        : Under(path, "/api/v1/jobs") && path.ends_with("/stop")) ||
           path == "/api/v1/board/runs" ||
           (Under(path, "/api/v1/board/runs") && path.ends_with("/points"));
  if (method == "PUT") return Under(path, "/api/v1/uploads") && path != "/api/v1/uploads";
  if (method == "PATCH") return Under(path, "/api/v1/files") && path != "/api/v1/files";
  if (method == "DELETE")
    return (Under(path, "/api/v1/files") || Under(path, "/api/v1/uploads")) && path != "/api/v1/files" &&
           path != "/api/v1/uploads";
  return false;
}

namespace {

// Sets request.principal from the bearer token, else the session cookie, else the verified client
// certificate. A token or certificate that is not valid answers 401 (returned); a session that
// ended leaves the request anonymous and sets `session_ended`, so the cookie is cleared.
asio::awaitable<std::optional<http::Response>> Identify(accounts::AccountService& accounts, blocking::WorkPool& pool,
                                                         http::Request& request, bool& session_ended) {
  if (auto authorization = request.headers.Get("Authorization")) {
    if (!authorization->starts_with("Bearer ") || authorization->size() <= 7)
      co_return Unauthenticated("Authorization must be 'Bearer <token>'", true);
    std::string token(authorization->substr(7));
    // A cached credential is checked here, on the I/O thread; only a miss goes to the database.
    if (auto cached = accounts.sign_in().CachedTokenPrincipal(token)) {
      request.principal = std::move(*cached);
    } else {
      auto principal = co_await pool.Run([&] { return accounts.sign_in().AuthenticateToken(token); });
      if (!principal) co_return Unauthenticated(principal.error().message(), true);
      request.principal = std::move(*principal);
    }
  } else if (auto cookies = request.headers.Get("Cookie"); cookies && !CookieValue(*cookies, kSessionCookie).empty()) {
    std::string session_id = CookieValue(*cookies, kSessionCookie);
    if (auto cached = accounts.sign_in().CachedSessionPrincipal(session_id)) {
      request.principal = std::move(*cached);
    } else {
      auto principal = co_await pool.Run([&] { return accounts.sign_in().AuthenticateSession(session_id); });
      if (principal) request.principal = std::move(*principal);
      else session_ended = true;
    }
  } else if (!request.client_certificate_fingerprint.empty()) {
    auto principal = co_await pool.Run(
        [&] { return accounts.sign_in().AuthenticateCertificate(request.client_certificate_fingerprint); });
    if (!principal) co_return Unauthenticated(principal.error().message(), false);
    request.principal = std::move(*principal);
  }
  co_return std::nullopt;
}

// What a signed-in principal may not do here: a job's token outside its scope, or an unsafe
// browser request without the session's CSRF token.
std::optional<http::Response> RefusedForPrincipal(const http::Request& request) {
  if (request.principal && request.principal->invoke_only && !Under(request.path, "/serving"))
    return http::ErrorResponse(
        Status::PermissionDenied("an invoke-only token may only call serving instances (/serving/...): not " +
                                 request.method + " " + request.path)
            .WithDetail("reason", "token_scope"));
  if (request.principal && (request.principal->job_id != 0 || request.principal->notebook) &&
      !WorkloadTokenMayCall(request.method, request.path, request.principal->job_id)) {
    std::string_view workload = request.principal->notebook ? "notebook" : "job";
    return http::ErrorResponse(
        Status::PermissionDenied("a " + std::string(workload) +
                                 "'s token may only read and write the account's files and submit, read or stop "
                                 "jobs: not " + request.method + " " + request.path)
            .WithDetail("reason", std::string(workload) + "_token_scope"));
  }
  if (request.principal && request.principal->method == "session" && UnsafeMethod(request.method) &&
      !request.public_route) {
    auto csrf = request.headers.Get("X-CSRF-Token");
    if (!csrf || !accounts::ConstantTimeEquals(*csrf, request.principal->csrf_token))
      return http::ErrorResponse(
          Status::PermissionDenied("missing or wrong CSRF token: send the session's token in X-CSRF-Token")
              .WithDetail("reason", "csrf_token"));
  }
  return std::nullopt;
}

}  // namespace

http::Middleware AuthMiddleware(accounts::AccountService& accounts, blocking::WorkPool& pool, bool https_public_url) {
  return [&accounts, &pool, https_public_url](http::Request& request,
                                              const http::Handler& next) -> asio::awaitable<http::Response> {
    bool secure = request.tls || https_public_url;
    if (UnsafeMethod(request.method) && !SameOrigin(request))
      co_return http::ErrorResponse(Status::PermissionDenied("cross-origin requests are not accepted"));

    bool clear_cookie = false;
    if (auto refused = co_await Identify(accounts, pool, request, clear_cookie)) co_return std::move(*refused);
    if (auto refused = RefusedForPrincipal(request)) co_return std::move(*refused);
    if (!request.public_route && !request.principal) {
      http::Response r = Unauthenticated(clear_cookie ? "your session has ended; sign in again" : "sign in first", false);
      if (clear_cookie) r.headers.Add("Set-Cookie", SessionCookie("", 0, secure));
      co_return r;
    }
    http::Response response = co_await next(request);
    if (clear_cookie && !response.headers.Has("Set-Cookie"))
      response.headers.Add("Set-Cookie", SessionCookie("", 0, secure));
    if (secure && !request.tls) MakeSessionCookiesSecure(response.headers);
    co_return response;
  };
}

}  // namespace paddlecloud::api
