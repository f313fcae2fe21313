#include "api/account_routes.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "api/auth_middleware.h"
#include "http/json.h"

#include <boost/json/parse.hpp>

namespace paddlecloud::api {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using accounts::AccountService;
using http::ErrorResponse;
using http::JsonReader;
using http::JsonResponse;
using http::Request;
using http::Response;

json::object UserJson(const accounts::User& u) {
  return {{"id", u.id},           {"account_id", u.account_id}, {"email", u.email},
          {"display_name", u.display_name}, {"role", u.master ? "master" : "member"},
          {"verified", u.verified}, {"created_at", u.created_at}};
}

json::value OptionalInt(const std::optional<std::int64_t>& v) { return v ? json::value(*v) : json::value(nullptr); }

json::object TokenJson(const accounts::ApiToken& t) {
  return {{"id", t.id},
          {"name", t.name},
          {"prefix", t.prefix},
          {"created_at", t.created_at},
          {"expires_at", OptionalInt(t.expires_at)},
          {"last_used_at", OptionalInt(t.last_used_at)},
          {"scope", t.scope}};
}

json::object InvitationJson(const accounts::Invitation& i) {
  return {{"id", i.id}, {"email", i.email}, {"invited_by", i.invited_by}, {"created_at", i.created_at},
          {"expires_at", i.expires_at}};
}

Result<std::int64_t> IdParam(const Request& request, const std::string& name) {
  std::string_view text = request.PathParam(name);
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0)
    return Err(Status::NotFound("no such " + name + ": '" + std::string(text) + "'"));
  return id;
}

// Parses the body and reads fields with `read`, then rejects unknown fields.
template <typename F>
Status ReadBody(const Request& request, F read) {
  auto object = http::ParseJsonObject(request.body);
  if (!object) return object.error();
  JsonReader reader(*object);
  PC_RETURN_IF_ERROR(read(reader));
  return reader.Finish();
}

// `field` read into `out` as a string; missing is an error unless `optional`.
Status ReadString(JsonReader& reader, std::string_view field, std::string& out, bool optional = false) {
  if (optional) {
    auto v = reader.OptionalString(field);
    if (!v) return v.error();
    out = v->value_or("");
    return Status::Ok();
  }
  auto v = reader.String(field);
  if (!v) return v.error();
  out = std::move(*v);
  return Status::Ok();
}

Response NoContent() { return Response{.status = 204}; }

// Audit details are stored as JSON object text; a damaged row shows as an empty object.
json::value DetailsObject(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return !ec && v.is_object() ? v : json::object{};
}

// The audit log's query: limit, cursor, kind (comma-separated kinds), since, until.
Result<accounts::AuditFilter> AuditFilterOf(const Request& request) {
  accounts::AuditFilter filter;
  std::int64_t limit = 50, before = 0, since = 0, until = 0;
  for (auto [name, out] : {std::pair{"limit", &limit}, std::pair{"cursor", &before}, std::pair{"since", &since},
                           std::pair{"until", &until}}) {
    auto v = request.Query(name);
    if (!v) continue;
    auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), *out);
    if (ec != std::errc() || end != v->data() + v->size())
      return Err(Status::InvalidArgument(std::string(name) + " must be an integer", name));
  }
  if (limit < 1 || limit > 500) return Err(Status::InvalidArgument("limit must be from 1 to 500", "limit"));
  filter.limit = static_cast<int>(limit);
  filter.before_id = before;
  if (request.Query("since")) filter.since = since;
  if (request.Query("until")) filter.until = until;
  std::string kinds(request.Query("kind").value_or(""));
  for (std::size_t start = 0; start < kinds.size();) {
    std::size_t comma = std::min(kinds.find(',', start), kinds.size());
    if (comma > start) filter.kinds.push_back(kinds.substr(start, comma - start));
    start = comma + 1;
  }
  return filter;
}

Response ErrorWithRetryAfter(const Status& s) {
  Response r = ErrorResponse(s);
  if (s.code() == Code::kResourceExhausted && s.details().count("retry_after"))
    r.headers.Set("Retry-After", s.details().at("retry_after"));
  return r;
}

// What every handler needs; copied into each call (two references and a duration).
struct Deps {
  AccountService& accounts;
  blocking::WorkPool& pool;
  std::chrono::seconds session_lifetime;
};

// A created API token with its secret, shown this once.
Response NewTokenResponse(const std::pair<accounts::ApiToken, std::string>& created) {
  json::object body = TokenJson(created.first);
  body["token"] = created.second;
  Response r = JsonResponse(201, body);
  r.headers.Set("Cache-Control", "no-store");
  return r;
}

// Runs `call` (returning a Status) on the blocking pool: 204, or the error.
template <typename Call>
asio::awaitable<Response> NoContentAfter(blocking::WorkPool& pool, Call call) {
  Status s = co_await pool.Run(std::move(call));
  if (!s.ok()) co_return ErrorResponse(s);
  co_return NoContent();
}

// Runs `list` (returning a Result of a vector) on the blocking pool: {"items": [to_json(each)]},
// or the error.
template <typename List, typename ToJson>
asio::awaitable<Response> ItemsAfter(blocking::WorkPool& pool, List list, ToJson to_json) {
  auto found = co_await pool.Run(std::move(list));
  if (!found) co_return ErrorResponse(found.error());
  json::array items;
  for (const auto& item : *found) items.push_back(to_json(item));
  co_return JsonResponse(200, {{"items", std::move(items)}});
}

// A link anyone may ask to be mailed to {"email"}: 202 with `message` whether or not one was sent,
// so the answer does not tell which addresses exist.
template <typename Send>
asio::awaitable<Response> MailRequested(Deps d, Request& request, Send send, std::string message) {
  std::string email;
  Status parsed = ReadBody(request, [&](JsonReader& r) { return ReadString(r, "email", email); });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  Status s = co_await d.pool.Run([&] { return send(d.accounts, email, MetaOf(request)); });
  if (!s.ok()) co_return ErrorWithRetryAfter(s);
  co_return JsonResponse(202, {{"message", message}});
}

// A body-less answer to a request that ended the browser's session.
Response SignedOut(const Request& request) {
  Response r = NoContent();
  r.headers.Add("Set-Cookie", SessionCookie("", 0, request.tls));
  return r;
}

// ---- registration and sign-in (public) ----

asio::awaitable<Response> Register(Deps d, Request& request) {
  std::string email, password, account_id, display_name;
  Status parsed = ReadBody(request, [&](JsonReader& r) -> Status {
    PC_RETURN_IF_ERROR(ReadString(r, "email", email));
    PC_RETURN_IF_ERROR(ReadString(r, "password", password));
    PC_RETURN_IF_ERROR(ReadString(r, "account_id", account_id));
    return ReadString(r, "display_name", display_name, true);
  });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  auto user = co_await d.pool.Run(
      [&] { return d.accounts.registration().Register(email, password, account_id, display_name, MetaOf(request)); });
  if (!user) co_return ErrorWithRetryAfter(user.error());
  co_return JsonResponse(201, {{"user", UserJson(*user)}, {"verification_sent", true}});
}

asio::awaitable<Response> VerifyEmail(Deps d, Request& request) {
  std::string token;
  Status parsed = ReadBody(request, [&](JsonReader& r) { return ReadString(r, "token", token); });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  auto user = co_await d.pool.Run([&] { return d.accounts.registration().VerifyEmail(token, MetaOf(request)); });
  if (!user) co_return ErrorResponse(user.error());
  co_return JsonResponse(200, {{"user", UserJson(*user)}});
}

asio::awaitable<Response> ResendVerification(Deps d, Request& request) {
  return MailRequested(
      d, request,
      [](AccountService& accounts, const std::string& email, const accounts::RequestMeta& meta) {
        return accounts.registration().ResendVerification(email, meta);
      },
      "if this address waits for verification, a new link is on its way");
}

asio::awaitable<Response> Login(Deps d, Request& request) {
  std::string email, password;
  Status parsed = ReadBody(request, [&](JsonReader& r) -> Status {
    PC_RETURN_IF_ERROR(ReadString(r, "email", email));
    return ReadString(r, "password", password);
  });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  auto session = co_await d.pool.Run([&] {
    // A session the browser still holds is ended: the id always rotates at sign-in.
    if (request.principal && request.principal->method == "session")
      if (Status ended = d.accounts.sign_in().Logout(*request.principal, MetaOf(request)); !ended.ok())
        spdlog::warn("the session replaced by a sign-in was not ended: {}", ended.message());
    return d.accounts.sign_in().Login(email, password, MetaOf(request));
  });
  if (!session) co_return ErrorWithRetryAfter(session.error());
  Response r = JsonResponse(200, {{"user", UserJson(session->user)}, {"csrf_token", session->csrf_token}});
  r.headers.Add("Set-Cookie", SessionCookie(session->id, d.session_lifetime.count(), request.tls));
  r.headers.Set("Cache-Control", "no-store");
  co_return r;
}

asio::awaitable<Response> Logout(Deps d, Request& request) {
  Status s = co_await d.pool.Run([&] { return d.accounts.sign_in().Logout(*request.principal, MetaOf(request)); });
  if (!s.ok()) co_return ErrorResponse(s);
  co_return SignedOut(request);
}

asio::awaitable<Response> CreateTokenWithPassword(Deps d, Request& request) {
  std::string email, password, name;
  Status parsed = ReadBody(request, [&](JsonReader& r) -> Status {
    PC_RETURN_IF_ERROR(ReadString(r, "email", email));
    PC_RETURN_IF_ERROR(ReadString(r, "password", password));
    return ReadString(r, "name", name);
  });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  auto created = co_await d.pool.Run(
      [&] { return d.accounts.tokens().CreateTokenWithPassword(email, password, name, MetaOf(request)); });
  if (!created) co_return ErrorWithRetryAfter(created.error());
  co_return NewTokenResponse(*created);
}

asio::awaitable<Response> RequestPasswordReset(Deps d, Request& request) {
  return MailRequested(
      d, request,
      [](AccountService& accounts, const std::string& email, const accounts::RequestMeta& meta) {
        return accounts.passwords().RequestPasswordReset(email, meta);
      },
      "if this address has an account, a reset link is on its way");
}

asio::awaitable<Response> ResetPassword(Deps d, Request& request) {
  std::string token, password;
  Status parsed = ReadBody(request, [&](JsonReader& r) -> Status {
    PC_RETURN_IF_ERROR(ReadString(r, "token", token));
    return ReadString(r, "password", password);
  });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  co_return co_await NoContentAfter(d.pool, [&] {
    return d.accounts.passwords().ResetPassword(token, password, MetaOf(request));
  });
}

asio::awaitable<Response> DescribeInvitation(Deps d, Request& request) {
  std::string token;
  Status parsed = ReadBody(request, [&](JsonReader& r) { return ReadString(r, "token", token); });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  std::string account_id;
  auto invitation =
      co_await d.pool.Run([&] { return d.accounts.invitations().DescribeInvitation(token, &account_id); });
  if (!invitation) co_return ErrorResponse(invitation.error());
  json::object body = InvitationJson(*invitation);
  body["account_id"] = account_id;
  co_return JsonResponse(200, body);
}

asio::awaitable<Response> AcceptInvitation(Deps d, Request& request) {
  std::string token, password, display_name;
  Status parsed = ReadBody(request, [&](JsonReader& r) -> Status {
    PC_RETURN_IF_ERROR(ReadString(r, "token", token));
    PC_RETURN_IF_ERROR(ReadString(r, "password", password));
    return ReadString(r, "display_name", display_name, true);
  });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  auto user = co_await d.pool.Run(
      [&] { return d.accounts.invitations().AcceptInvitation(token, password, display_name, MetaOf(request)); });
  if (!user) co_return ErrorResponse(user.error());
  co_return JsonResponse(201, {{"user", UserJson(*user)}});
}

// ---- the signed-in user ----

// GET /api/v1/me, and /api/v1/session with `with_signed_in` (which answers a visitor too).
asio::awaitable<Response> SignedInUser(Deps d, Request& request, bool with_signed_in) {
  if (!request.principal) {
    json::object visitor{{"signed_in", false}};
    Response r = JsonResponse(200, visitor);
    r.headers.Set("Cache-Control", "no-store");
    co_return r;
  }
  Result<accounts::User> user = Err(Status::NotFound("user not found"));
  if (auto cached = d.accounts.members().CachedUser(*request.principal)) user = std::move(*cached);
  else user = co_await d.pool.Run([&] { return d.accounts.members().GetUser(*request.principal); });
  if (!user) co_return ErrorResponse(user.error());
  json::object body{{"user", UserJson(*user)}, {"auth_method", request.principal->method}};
  if (request.principal->method == "session") body["csrf_token"] = request.principal->csrf_token;
  if (with_signed_in) body["signed_in"] = true;
  Response r = JsonResponse(200, body);
  r.headers.Set("Cache-Control", "no-store");
  co_return r;
}

asio::awaitable<Response> Me(Deps d, Request& request) { return SignedInUser(d, request, false); }

// What a page asks at start-up: a visitor who is not signed in is an answer, not an error.
asio::awaitable<Response> WhoIsSignedIn(Deps d, Request& request) { return SignedInUser(d, request, true); }

asio::awaitable<Response> UpdateProfile(Deps d, Request& request) {
  std::string display_name;
  Status parsed = ReadBody(request, [&](JsonReader& r) { return ReadString(r, "display_name", display_name); });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  auto user = co_await d.pool.Run([&] { return d.accounts.members().UpdateProfile(*request.principal, display_name); });
  if (!user) co_return ErrorResponse(user.error());
  co_return JsonResponse(200, {{"user", UserJson(*user)}});
}

asio::awaitable<Response> ChangePassword(Deps d, Request& request) {
  std::string current, replacement;
  bool keep_tokens = false;
  Status parsed = ReadBody(request, [&](JsonReader& r) -> Status {
    PC_RETURN_IF_ERROR(ReadString(r, "current_password", current));
    auto keep = r.OptionalBool("keep_tokens");
    if (!keep) return keep.error();
    keep_tokens = keep->value_or(false);
    return ReadString(r, "new_password", replacement);
  });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  co_return co_await NoContentAfter(d.pool, [&] {
    return d.accounts.passwords().ChangePassword(*request.principal, current, replacement, MetaOf(request),
                                                 keep_tokens);
  });
}

asio::awaitable<Response> ListTokens(Deps d, Request& request) {
  co_return co_await ItemsAfter(d.pool, [&] { return d.accounts.tokens().ListTokens(*request.principal); }, TokenJson);
}

asio::awaitable<Response> CreateToken(Deps d, Request& request) {
  std::string name;
  std::optional<std::int64_t> days;
  std::string scope = "full";
  Status parsed = ReadBody(request, [&](JsonReader& r) -> Status {
    PC_RETURN_IF_ERROR(ReadString(r, "name", name));
    auto v = r.OptionalInt("expires_in_days");
    if (!v) return v.error();
    days = *v;
    auto s = r.OptionalString("scope");
    if (!s) return s.error();
    scope = s->value_or("full");
    return Status::Ok();
  });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  auto created = co_await d.pool.Run(
      [&] { return d.accounts.tokens().CreateToken(*request.principal, name, days, MetaOf(request), scope); });
  if (!created) co_return ErrorResponse(created.error());
  co_return NewTokenResponse(*created);
}

asio::awaitable<Response> RevokeToken(Deps d, Request& request) {
  auto id = IdParam(request, "token");
  if (!id) co_return ErrorResponse(id.error());
  co_return co_await NoContentAfter(d.pool, [&] {
    return d.accounts.tokens().RevokeToken(*request.principal, *id, MetaOf(request));
  });
}

// ---- the account ----

asio::awaitable<Response> GetAccount(Deps d, Request& request) {
  auto account = co_await d.pool.Run([&] { return d.accounts.members().GetAccount(*request.principal); });
  if (!account) co_return ErrorResponse(account.error());
  co_return JsonResponse(200, {{"id", account->id},
                               {"display_name", account->display_name},
                               {"created_at", account->created_at},
                               {"members", account->members}});
}

asio::awaitable<Response> ListMembers(Deps d, Request& request) {
  co_return co_await ItemsAfter(d.pool, [&] { return d.accounts.members().ListMembers(*request.principal); }, UserJson);
}

asio::awaitable<Response> RemoveMember(Deps d, Request& request) {
  auto id = IdParam(request, "user");
  if (!id) co_return ErrorResponse(id.error());
  co_return co_await NoContentAfter(d.pool, [&] {
    return d.accounts.members().RemoveMember(*request.principal, *id, MetaOf(request));
  });
}

asio::awaitable<Response> TransferMaster(Deps d, Request& request) {
  std::int64_t user_id = 0;
  Status parsed = ReadBody(request, [&](JsonReader& r) -> Status {
    auto v = r.Int("user_id");
    if (!v) return v.error();
    user_id = *v;
    return Status::Ok();
  });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  co_return co_await NoContentAfter(d.pool, [&] {
    return d.accounts.members().TransferMaster(*request.principal, user_id, MetaOf(request));
  });
}

asio::awaitable<Response> Leave(Deps d, Request& request) {
  Status s = co_await d.pool.Run([&] { return d.accounts.members().Leave(*request.principal, MetaOf(request)); });
  if (!s.ok()) co_return ErrorResponse(s);
  co_return SignedOut(request);
}

asio::awaitable<Response> ListInvitations(Deps d, Request& request) {
  co_return co_await ItemsAfter(d.pool, [&] {
    return d.accounts.invitations().ListInvitations(*request.principal);
  }, InvitationJson);
}

asio::awaitable<Response> Invite(Deps d, Request& request) {
  std::string email;
  Status parsed = ReadBody(request, [&](JsonReader& r) { return ReadString(r, "email", email); });
  if (!parsed.ok()) co_return ErrorResponse(parsed);
  auto invitation = co_await d.pool.Run(
      [&] { return d.accounts.invitations().Invite(*request.principal, email, MetaOf(request)); });
  if (!invitation) co_return ErrorWithRetryAfter(invitation.error());
  co_return JsonResponse(201, InvitationJson(*invitation));
}

asio::awaitable<Response> RevokeInvitation(Deps d, Request& request) {
  auto id = IdParam(request, "invitation");
  if (!id) co_return ErrorResponse(id.error());
  co_return co_await NoContentAfter(d.pool, [&] {
    return d.accounts.invitations().RevokeInvitation(*request.principal, *id, MetaOf(request));
  });
}

asio::awaitable<Response> ListAudit(Deps d, Request& request) {
  auto filter = AuditFilterOf(request);
  if (!filter) co_return ErrorResponse(filter.error());
  std::int64_t next = 0;
  auto events = co_await d.pool.Run([&] { return d.accounts.audit().ListAudit(*request.principal, *filter, &next); });
  if (!events) co_return ErrorResponse(events.error());
  json::array items;
  for (const auto& e : *events)
    items.push_back({{"id", e.id}, {"at", e.at}, {"actor", e.actor}, {"event", e.event},
                     {"remote_address", e.remote_address}, {"details", DetailsObject(e.details)}});
  co_return JsonResponse(200, {{"items", std::move(items)},
                               {"next_cursor", next ? json::value(std::to_string(next)) : json::value(nullptr)}});
}

struct Endpoint {
  const char* method;
  const char* pattern;
  const char* summary;
  asio::awaitable<Response> (*handler)(Deps, Request&);
  http::RouteOptions options;
};

}  // namespace

void AddAccountRoutes(http::Router& router, AccountService& accounts, blocking::WorkPool& pool,
                      std::chrono::seconds session_lifetime) {
  const auto publicly = http::RouteOptions::Public().WithBodyLimit(64 * 1024);
  const auto signed_in = http::RouteOptions().WithBodyLimit(64 * 1024);
  const http::RouteOptions read_only;
  const Endpoint endpoints[] = {
      {"POST", "/api/v1/auth/register", "Register an account and its master user; mails a verification link",
       Register, publicly},
      {"POST", "/api/v1/auth/verify", "Verify an email address with the token from the mailed link", VerifyEmail,
       publicly},
      {"POST", "/api/v1/auth/verify/resend", "Mail a new verification link (same answer for any email)",
       ResendVerification, publicly},
      {"POST", "/api/v1/auth/login", "Sign in with email and password; sets the session cookie", Login, publicly},
      {"POST", "/api/v1/auth/logout", "Sign out: ends this session", Logout, signed_in},
      {"POST", "/api/v1/auth/tokens", "Sign in with email and password and get a new API token (CLI login)",
       CreateTokenWithPassword, publicly},
      {"POST", "/api/v1/auth/password-reset", "Mail a password reset link (same answer for any email)",
       RequestPasswordReset, publicly},
      {"POST", "/api/v1/auth/password-reset/confirm", "Set a new password with the token from the mailed link",
       ResetPassword, publicly},
      {"POST", "/api/v1/auth/invitation", "Describe an invitation from its token", DescribeInvitation, publicly},
      {"POST", "/api/v1/auth/invitation/accept", "Join an account by invitation: creates the user", AcceptInvitation,
       publicly},
      {"GET", "/api/v1/me", "The signed-in user, their account, and the session's CSRF token", Me, read_only},
      {"GET", "/api/v1/session",
       "Who is signed in: {signed_in: false}, or true with the user, account and CSRF token as /me", WhoIsSignedIn,
       http::RouteOptions::Public()},
      {"PATCH", "/api/v1/me", "Change the signed-in user's profile", UpdateProfile, signed_in},
      {"POST", "/api/v1/me/password",
       "Change the password (needs the current one); ends other sessions and revokes API tokens and client "
       "certificates unless keep_tokens",
       ChangePassword, signed_in},
      {"GET", "/api/v1/me/tokens", "The signed-in user's API tokens", ListTokens, read_only},
      {"POST", "/api/v1/me/tokens", "Create a named API token; the secret is shown once", CreateToken, signed_in},
      {"DELETE", "/api/v1/me/tokens/{token}", "Revoke one of the signed-in user's API tokens", RevokeToken,
       signed_in},
      {"GET", "/api/v1/account", "The signed-in user's account", GetAccount, read_only},
      {"GET", "/api/v1/account/members", "The account's users", ListMembers, read_only},
      {"DELETE", "/api/v1/account/members/{user}", "Remove a member (master only)", RemoveMember, signed_in},
      {"POST", "/api/v1/account/master", "Hand the master role to another member (master only)", TransferMaster,
       signed_in},
      {"POST", "/api/v1/account/leave", "Leave the account (members only)", Leave, signed_in},
      {"GET", "/api/v1/account/invitations", "Open invitations (master only)", ListInvitations, read_only},
      {"POST", "/api/v1/account/invitations", "Invite someone by email (master only)", Invite, signed_in},
      {"DELETE", "/api/v1/account/invitations/{invitation}", "Withdraw an open invitation (master only)",
       RevokeInvitation, signed_in},
      {"GET", "/api/v1/account/audit",
       "The account's security events, newest first (master only); filters: kind (comma-separated), since, "
       "until (unix seconds)",
       ListAudit, read_only},
  };
  Deps deps{accounts, pool, session_lifetime};
  for (const Endpoint& e : endpoints)
    router.Add(e.method, e.pattern, e.summary, [deps, h = e.handler](Request& request) { return h(deps, request); },
               e.options);
}

}  // namespace paddlecloud::api
