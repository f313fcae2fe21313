// UserContentGateway: the separate origin that serves user content (notebooks; later model
// replicas), so a notebook's arbitrary HTML/JS never runs on the platform's origin.
//
// Paths are `/user/<user id>/...`; only that user reaches them (anyone else: 404). The gateway has
// its own cookie (HttpOnly, SameSite=Lax, Secure under TLS, host-only), set by a one-time handoff:
//   1. the platform (signed in, on its origin) calls StartHandoff and redirects the browser to
//      `<gateway origin>/hub/handoff?token=...&next=/user/<id>/...`;
//   2. the gateway accepts the token once, before it expires, sets its cookie and redirects to
//      `next` (bound to the token on the platform side: never another origin, never another
//      user's prefix).
// A request without a valid gateway cookie is redirected (GET) to the platform's handoff start, or
// refused with 401. A WebSocket upgrade or an unsafe method whose Origin is not the gateway's own
// is refused with 403 (upstreams authenticated by the proxy's token check no Origin themselves). Tokens and sessions live in memory, stored hashed: after a restart the browser
// simply goes through the handoff again.
//
// Browsers share cookies between ports of one host, so the gateway's origin must differ from the
// platform's by host name (e.g. the platform on http://127.0.0.1:P, notebooks on
// http://localhost:Q); the proxy also removes the platform's cookies from what it forwards.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "common/principal.h"
#include "common/status.h"
#include "http/router.h"
#include "reverse_proxy/reverse_proxy.h"

namespace paddlecloud::reverse_proxy {

struct GatewayUser {
  std::int64_t user_id = 0;
  std::string account_id;
};

// Names the upstream for a signed-in user's request path (which is under the user's prefix):
// their Jupyter, or one replica of a model. kNotFound when they have none.
using UpstreamResolver =
    std::function<boost::asio::awaitable<Result<Upstream>>(const GatewayUser& user, std::string_view path)>;

struct GatewayOptions {
  // Where a browser without the gateway's cookie is sent: the platform's handoff start, given
  // `?next=<the path it asked for>`.
  std::string handoff_start_url = "http://127.0.0.1:8080/api/v1/notebook/handoff";
  std::string cookie_name = "pc_user_content";
  std::chrono::seconds handoff_ttl{60};
  std::chrono::seconds session_ttl{12 * 3600};
  std::function<std::chrono::steady_clock::time_point()> now = [] { return std::chrono::steady_clock::now(); };
  ProxyOptions proxy;  // the gateway's own cookie is added to `private_cookies`
};

// Destroy the gateway after its server has stopped and before that server is destroyed (the
// proxy keeps idle sockets of the server's I/O contexts).
class UserContentGateway {
 public:
  UserContentGateway(GatewayOptions options, UpstreamResolver resolver);

  // "/user/<id>/": the prefix of a user's paths.
  static std::string PrefixOf(std::int64_t user_id);

  // Platform side, for a signed-in user: a one-time token bound to the user and to `next` (a path
  // under their prefix; anything else is kInvalidArgument), and the gateway URL to redirect the
  // browser to, under `gateway_origin` ("http://localhost:8081").
  Result<std::string> StartHandoff(const Principal& user, std::string_view next, std::string_view gateway_origin);

  // Adds GET /hub/handoff and the proxied /user/{user}/... routes (all methods, streaming bodies,
  // public: the gateway's server has no platform sign-in) to the gateway server's router.
  void AddRoutes(http::Router& router);

  ReverseProxy& proxy() { return proxy_; }

 private:
  struct Grant {
    GatewayUser user;
    std::string next;  // handoffs only
    std::chrono::steady_clock::time_point expires;
  };
  boost::asio::awaitable<http::Response> Handoff(http::Request& request);
  boost::asio::awaitable<http::Response> Proxy(http::Request& request);
  std::optional<Grant> TakeHandoff(const std::string& token);
  std::optional<GatewayUser> SessionUser(const http::Request& request);

  GatewayOptions options_;
  UpstreamResolver resolver_;
  ReverseProxy proxy_;
  std::mutex mutex_;
  std::map<std::string, Grant> handoffs_;  // by the token's hash
  std::map<std::string, Grant> sessions_;  // by the cookie's hash
};

}  // namespace paddlecloud::reverse_proxy
