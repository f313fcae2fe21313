// ReverseProxy: forwards one request to an upstream HTTP server on a trusted (loopback) address,
// as a reverse proxy in front of a per-user Jupyter or a model replica.
//
// - The request body is relayed as it arrives (a streaming route's Request::body_stream; a body
//   read whole is sent as it is) and the response body as the upstream sends it, through
//   fixed-size buffers: memory per request is bounded whatever the sizes.
// - Headers: hop-by-hop fields (RFC 9110 §7.6.1: Connection and the fields it names, Keep-Alive,
//   Proxy-*, TE, Trailer, Transfer-Encoding, Upgrade) are dropped both ways, except that a
//   WebSocket upgrade keeps Connection/Upgrade. Host and Origin pass unchanged (Jupyter compares
//   them). X-Forwarded-For/-Proto/-Host are set from what this server saw (incoming ones are
//   replaced: the proxy is the trust boundary). The client's Authorization is replaced by
//   `Authorization: token <Upstream::token>` (or removed), and the cookies named in
//   `ProxyOptions::private_cookies` are removed from Cookie, so platform credentials never reach
//   the upstream.
// - `Upgrade: websocket`: the upgrade is forwarded; on 101 the bytes are relayed both ways until
//   either side closes or nothing moves for `websocket_idle_timeout`.
// - Errors use the API's error shape: 502 bad_gateway when the upstream cannot be reached or
//   answers garbage, 504 gateway_timeout when it does not answer in time.
// - Upstream connections that end a response cleanly are kept (up to `max_idle_per_upstream` per
//   upstream and I/O thread) and reused.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "http/message.h"

namespace paddlecloud::reverse_proxy {

struct Upstream {
  std::string host;            // an IP address or a name ("127.0.0.1")
  std::uint16_t port = 0;
  std::string token;           // sent as "Authorization: token <token>" when not empty
};

// How Forward's answer came about, for a caller that may send the request to another upstream.
enum class ForwardOutcome {
  kAnswered,     // the response is the upstream's own, whatever its status
  kNotAnswered,  // 502 (504 for a connect timeout): the upstream could not be connected to (refused,
                 // unreachable, too slow to accept), or the connection failed or closed before a
                 // response header came
  kTimedOut,     // 504: the upstream took longer than `response_timeout`
  kFailed,       // 502 or 4xx: the upstream's answer was not valid HTTP, or the client's body failed
};

struct ProxyOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // How long the upstream may be silent while a response is awaited or relayed.
  std::chrono::milliseconds response_timeout{60'000};
  std::chrono::milliseconds websocket_idle_timeout{600'000};
  std::size_t buffer_bytes = 64 * 1024;
  std::size_t max_idle_per_upstream = 256;
  // Cookies of the platform that must not reach an upstream (matched by name).
  std::vector<std::string> private_cookies;
};

// Idle pooled sockets belong to the I/O contexts of the server calling Forward: destroy the proxy
// after that server has stopped and before it is destroyed.
class ReverseProxy {
 public:
  explicit ReverseProxy(ProxyOptions options);
  ~ReverseProxy();
  ReverseProxy(const ReverseProxy&) = delete;
  ReverseProxy& operator=(const ReverseProxy&) = delete;

  // Forwards `request` to `upstream` with the request target `target` (usually request.target).
  // Always answers: the upstream's response, or a 502/504 in the API's error shape; `outcome`
  // (when given) tells which. A pooled connection that the upstream closed before answering is
  // retried once on a new connection when nothing of the request is lost: a request without a
  // body, or one whose body was read whole (not a streaming route).
  boost::asio::awaitable<http::Response> Forward(http::Request& request, const Upstream& upstream,
                                                 std::string target, ForwardOutcome* outcome = nullptr);

  // Idle upstream connections kept now (for tests and metrics).
  std::size_t idle_connections() const;

  struct Pool;  // opaque: keeps Asio sockets out of this header

 private:
  ProxyOptions options_;
  std::shared_ptr<Pool> pool_;
};

}  // namespace paddlecloud::reverse_proxy
