#include "reverse_proxy/user_content_gateway.h"

#include <boost/beast/core/string.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>

#include "accounts/secrets.h"
#include "http/json.h"

namespace paddlecloud::reverse_proxy {

namespace asio = boost::asio;
using http::Request;
using http::Response;

namespace {

// A path the handoff may send the browser to: under `prefix`, with nothing a browser could read
// as another origin or another request.
bool SafeNext(std::string_view next, std::string_view prefix) {
  if (!next.starts_with(prefix)) return false;
  for (char c : next)
    if (c == '\\' || static_cast<unsigned char>(c) < 0x21 || c == 0x7f) return false;
  return true;
}

std::string CookieValue(const Request& request, std::string_view name) {
  for (const auto& [field, value] : request.headers.fields()) {
    if (!boost::beast::iequals(field, "Cookie")) continue;
    std::string_view rest = value;
    while (!rest.empty()) {
      auto semi = rest.find(';');
      auto pair = rest.substr(0, semi);
      while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
      if (pair.size() > name.size() && pair.starts_with(name) && pair[name.size()] == '=')
        return std::string(pair.substr(name.size() + 1));
      if (semi == std::string_view::npos) break;
      rest.remove_prefix(semi + 1);
    }
  }
  return "";
}

// Whether an Origin ("http://localhost:8081") names the authority the request was sent to (Host).
bool SameOrigin(std::string_view origin, std::string_view host) {
  auto scheme_end = origin.find("://");
  if (scheme_end == std::string_view::npos || host.empty()) return false;
  return boost::beast::iequals(origin.substr(scheme_end + 3), host);
}

template <typename Map>
void DropExpired(Map& grants, std::chrono::steady_clock::time_point now) {
  std::erase_if(grants, [now](const auto& entry) { return entry.second.expires <= now; });
}

}  // namespace

UserContentGateway::UserContentGateway(GatewayOptions options, UpstreamResolver resolver)
    : options_([&] {
        options.proxy.private_cookies.push_back(options.cookie_name);
        return std::move(options);
      }()),
      resolver_(std::move(resolver)),
      proxy_(options_.proxy) {}

std::string UserContentGateway::PrefixOf(std::int64_t user_id) { return "/user/" + std::to_string(user_id) + "/"; }

Result<std::string> UserContentGateway::StartHandoff(const Principal& user, std::string_view next,
                                                     std::string_view gateway_origin) {
  std::string prefix = PrefixOf(user.user_id);
  if (next.empty()) next = prefix;
  if (!SafeNext(next, prefix))
    return Err(Status::InvalidArgument("next must be a path under " + prefix, "next"));
  std::string token = accounts::NewSecret("pch_");
  auto now = options_.now();
  {
    std::lock_guard lock(mutex_);
    DropExpired(handoffs_, now);
    handoffs_[accounts::HashSecret(token)] =
        Grant{{user.user_id, user.account_id}, std::string(next), now + options_.handoff_ttl};
  }
  return std::string(gateway_origin) + "/hub/handoff?token=" + token +
         "&next=" + boost::urls::encode(next, boost::urls::unreserved_chars + '/');
}

std::optional<UserContentGateway::Grant> UserContentGateway::TakeHandoff(const std::string& token) {
  std::lock_guard lock(mutex_);
  auto it = handoffs_.find(accounts::HashSecret(token));
  if (it == handoffs_.end()) return std::nullopt;
  Grant grant = std::move(it->second);
  handoffs_.erase(it);  // single use, valid or not
  if (grant.expires <= options_.now()) return std::nullopt;
  return grant;
}

asio::awaitable<Response> UserContentGateway::Handoff(Request& request) {
  auto grant = TakeHandoff(std::string(request.Query("token").value_or("")));
  if (!grant)
    co_return http::ErrorResponse(Status::PermissionDenied("the sign-in link is invalid, expired or already used"));
  if (request.Query("next").value_or(grant->next) != grant->next)
    co_return http::ErrorResponse(Status::InvalidArgument("next does not match the sign-in link", "next"));
  std::string session = accounts::NewSecret("pcs_");
  auto now = options_.now();
  {
    std::lock_guard lock(mutex_);
    DropExpired(sessions_, now);
    sessions_[accounts::HashSecret(session)] = Grant{grant->user, "", now + options_.session_ttl};
  }
  Response response = http::RedirectResponse(grant->next);
  response.headers.Add("Set-Cookie", options_.cookie_name + "=" + session + "; Path=/; Max-Age=" +
                                         std::to_string(options_.session_ttl.count()) + "; HttpOnly; SameSite=Lax" +
                                         (request.tls ? "; Secure" : ""));
  response.headers.Add("Referrer-Policy", "no-referrer");  // the token is in this page's URL
  co_return response;
}

std::optional<GatewayUser> UserContentGateway::SessionUser(const Request& request) {
  std::string cookie = CookieValue(request, options_.cookie_name);
  if (cookie.empty()) return std::nullopt;
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(accounts::HashSecret(cookie));
  if (it == sessions_.end() || it->second.expires <= options_.now()) return std::nullopt;
  return it->second.user;
}

asio::awaitable<Response> UserContentGateway::Proxy(Request& request) {
  auto user = SessionUser(request);
  if (!user) {
    if (request.method == "GET" && !request.headers.Has("Upgrade"))
      co_return http::RedirectResponse(options_.handoff_start_url + "?next=" +
                         boost::urls::encode(request.target, boost::urls::unreserved_chars));
    co_return http::ErrorResponse(Status::Unauthenticated("sign in through the platform first"));
  }
  // The raw target must carry the signed-in user's own prefix (a decoded path could hide another).
  if (request.PathParam("user") != std::to_string(user->user_id) || !request.target.starts_with(PrefixOf(user->user_id)))
    co_return http::ErrorResponse(Status::NotFound("no such page"));
  // The upstream trusts the token the proxy adds and so checks no Origin: a WebSocket or an unsafe
  // request must come from this origin's own pages.
  if (auto origin = request.headers.Get("Origin");
      origin && (request.headers.Has("Upgrade") || !(request.method == "GET" || request.method == "HEAD")) &&
      !SameOrigin(*origin, request.headers.Get("Host").value_or("")))
    co_return http::ErrorResponse(Status::PermissionDenied("cross-origin request refused: Origin " + std::string(*origin)));
  auto upstream = co_await resolver_(*user, request.path);
  if (!upstream && upstream.error().code() == Code::kNotFound && !options_.not_running_url.empty() &&
      request.method == "GET" && !request.headers.Has("Upgrade") &&
      request.headers.Get("Accept").value_or("").find("text/html") != std::string_view::npos)
    co_return http::RedirectResponse(options_.not_running_url);
  if (!upstream) co_return http::ErrorResponse(upstream.error());
  co_return co_await proxy_.Forward(request, *upstream, request.target);
}

void UserContentGateway::AddRoutes(http::Router& router) {
  router.Add("GET", "/hub/handoff", "Sign in to user content with a one-time token from the platform",
             [this](Request& r) { return Handoff(r); }, http::RouteOptions::Public());
  http::RouteOptions proxied = http::RouteOptions::Streaming();
  proxied.public_access = true;
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    router.Add(method, "/user/{user}/{rest...}", "User content (proxied)", [this](Request& r) { return Proxy(r); },
               proxied);
  }
}

}  // namespace paddlecloud::reverse_proxy
