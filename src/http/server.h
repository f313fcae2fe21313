// HttpServer: HTTP/1.1 (optionally over TLS) on Boost.Beast with C++20 coroutines.
//
// Each connection is a coroutine on its own strand. The server reads a request header within
// `header_timeout` (a client trickling bytes is disconnected), routes it, reads the body whole
// (bounded by the route's limit; 413 past it) or hands the handler a BodyStream, runs the middleware
// chain and the handler, and writes the response (streamed when it has a producer). Malformed
// requests get a 4xx in the API's error format; a handler that throws yields a 500 without details.
//
// Connections are capped in total and per TCP peer (over a cap: 503 with Retry-After, closed at
// once); conditions that repeat per accept (caps, a full descriptor table) are logged at most once
// per 10 s. A streaming body must keep up `min_body_rate` or the read fails (the handler still
// answers, so a resumable upload keeps what arrived). With `trusted_proxies`, Request::remote_address
// comes from X-Forwarded-For as client_address.h describes.
//
// Requests are checked against RFC 9112's framing rules before routing: a Transfer-Encoding other
// than a single final `chunked`, or one together with Content-Length, is a 400 and the connection
// closes (a lenient proxy in front could otherwise read the body as a second request).
//
// Shutdown() is graceful: listeners close, idle connections close, in-flight requests finish (then
// their connections close) and Run() returns once none remain or `shutdown_timeout` has passed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/status.h"
#include "http/message.h"
#include "http/router.h"

namespace boost::asio {
class io_context;
}

namespace paddlecloud::http {

struct HttpServerOptions {
  std::string listen = "127.0.0.1:8080";  // HOST:PORT, port 0 = any free port
  std::string tls_cert_file;              // PEM; TLS when set together with the key
  std::string tls_key_file;
  int io_threads = 1;
  std::uint64_t max_body_bytes = 1 << 20;
  std::size_t max_header_bytes = 16 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds shutdown_timeout{30'000};
  // Connections past either cap are answered 503 (Retry-After) and closed at once; the per-client
  // cap counts TCP peers, so clients behind one proxy share it. 0 = no cap.
  std::size_t max_connections = 10'000;
  std::size_t max_connections_per_client = 256;
  // A streaming body is cut when it arrives slower than this many bytes per second of waiting,
  // averaged over `min_body_rate_window` (a client earns wait time by sending; it starts with one
  // window of credit and can save up no more). 0 = only `body_timeout` applies.
  std::uint64_t min_body_rate = 1024;
  std::chrono::milliseconds min_body_rate_window{10'000};
  // Peers whose X-Forwarded-For names the client (IPs or CIDR blocks); see client_address.h.
  std::vector<std::string> trusted_proxies;
  // TLS hooks, with OpenSSL's SSL_CTX* / SSL* as void* to keep OpenSSL out of this header:
  // adjust the context (e.g. request client certificates), and name the verified client
  // certificate of a connection (the SHA-256 fingerprint of the whole certificate; empty when
  // none), copied to each Request.
  std::function<Status(void* ssl_ctx)> configure_tls;
  std::function<std::string(void* ssl)> client_certificate_fingerprint;
  // Headers added to the answers the server gives before any route runs (malformed requests,
  // bodies over the limit), which the middleware never sees.
  std::vector<std::pair<std::string, std::string>> rejection_headers;
};

// Wraps the rest of the chain: call `next(request)` to continue, or answer directly.
using Middleware = std::function<boost::asio::awaitable<Response>(Request&, const Handler& next)>;

class HttpServer {
 public:
  HttpServer(HttpServerOptions options, const Router& router);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Adds a middleware; the first added is the outermost. Call before Start().
  void Use(Middleware middleware);

  // Binds and listens. Fails with a clear message when the address is taken or TLS files are bad.
  Status Start();
  // The bound "HOST:PORT" (the real port when 0 was asked for). Valid after Start().
  std::string bound_address() const;
  bool tls() const;

  // Runs the I/O threads (the caller's thread is one of them) until shutdown completes.
  void Run();
  // Begins a graceful shutdown; safe from any thread and from signal-handling coroutines.
  void Shutdown();
  bool stopping() const;

  // The I/O context, for timers and background coroutines that belong to the server's lifetime.
  boost::asio::io_context& io();

  // Connections open right now.
  std::size_t connection_count() const;

  struct Impl;  // opaque: keeps Beast out of this header

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace paddlecloud::http
