// The HTTP request and response as handlers see them, free of Beast types.
//
// A handler is a coroutine `Response(Request&)`. Request bodies of ordinary routes arrive whole in
// `body` (bounded by the route's body limit); streaming routes read `body_stream` chunk by chunk.
// Responses carry a small body in `body`, or a `stream` producer that writes chunks as they come
// (files, Server-Sent Events, tar streams), so nothing large is held whole in memory.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "common/principal.h"
#include "common/status.h"

namespace paddlecloud::http {

// Header fields in arrival order; lookups are case-insensitive.
class Headers {
 public:
  void Add(std::string name, std::string value) { fields_.emplace_back(std::move(name), std::move(value)); }
  // Replaces every field named `name` with one.
  void Set(std::string_view name, std::string value);
  std::optional<std::string_view> Get(std::string_view name) const;
  bool Has(std::string_view name) const { return Get(name).has_value(); }
  void Remove(std::string_view name);
  const std::vector<std::pair<std::string, std::string>>& fields() const { return fields_; }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Reads a streaming request body. Read returns 0 at the end of the body.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Reads up to `size` bytes into `data`; an error Status when the client fails or times out.
  virtual boost::asio::awaitable<Result<std::size_t>> Read(char* data, std::size_t size) = 0;
  // The declared Content-Length, if the client sent one.
  virtual std::optional<std::uint64_t> content_length() const = 0;
};

struct Response;

struct Request {
  std::string method;   // "GET"
  std::string target;   // as sent: "/api/v1/jobs?limit=5"
  std::string path;     // percent-decoded path: "/api/v1/jobs"
  std::map<std::string, std::string> query;         // decoded query parameters (last one wins)
  std::map<std::string, std::string> path_params;   // from the route pattern: {"job": "x"}
  Headers headers;
  std::string body;                  // whole body, for routes that are not streaming
  BodyStream* body_stream = nullptr; // set for streaming routes instead of `body`
  std::string remote_address;        // peer IP
  std::string request_id;            // from X-Request-Id when well-formed, else generated
  std::string route;                 // the matched pattern ("/api/v1/jobs/{job}") for logs and metrics
  bool tls = false;
  std::string client_certificate_fingerprint;  // SHA-256 of a TLS client certificate the platform CA verified
  bool public_route = true;               // false: the auth middleware requires a principal
  std::optional<Principal> principal;     // set by the auth middleware
  const std::function<boost::asio::awaitable<Response>(Request&)>* handler = nullptr;  // the matched route's handler
  std::chrono::steady_clock::time_point received_at{};

  std::string_view PathParam(const std::string& name) const;
  std::optional<std::string_view> Query(const std::string& name) const;
};

// Writes chunks of a streamed response body. Write returns false once the client is gone, after
// which the producer should return.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual boost::asio::awaitable<bool> Write(std::string_view chunk) = 0;
  // True once the server is shutting down: long-lived streams (SSE) should finish.
  virtual bool stopping() const = 0;
};

// The client's connection after a "101 Switching Protocols" answer: raw bytes both ways (a
// WebSocket relayed without parsing). One ReadSome and one Write may be pending at once.
class UpgradedConnection {
 public:
  virtual ~UpgradedConnection() = default;
  // Reads what has arrived (bytes the client sent right after its request first); 0 or an error
  // once the client has closed or Close() was called.
  virtual boost::asio::awaitable<Result<std::size_t>> ReadSome(char* data, std::size_t size) = 0;
  // Writes all of `bytes`; false once the client is gone.
  virtual boost::asio::awaitable<bool> Write(std::string_view bytes) = 0;
  // Ends pending and later reads and writes (the server closes the connection afterwards).
  virtual void Close() = 0;
  // True once the server is shutting down: the relay should end.
  virtual bool stopping() const = 0;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;
  // When set, the body is produced by this coroutine instead of `body`. With `content_length`
  // the length is announced up front; otherwise the body is sent chunked.
  std::function<boost::asio::awaitable<void>(ResponseStream&)> stream;
  std::optional<std::uint64_t> content_length;
  // Alternatively the body is `content_length` bytes of the open file `file_fd` from
  // `file_offset`, sent with sendfile() over plain TCP (no copy through user space).
  // `file_owner` keeps the descriptor open until the response has been sent.
  int file_fd = -1;
  std::uint64_t file_offset = 0;
  std::shared_ptr<void> file_owner;
  // With status 101: after the header (with its Connection and Upgrade fields) is sent, the
  // connection belongs to this coroutine; the server closes it when the coroutine returns. The
  // connection has no timeouts meanwhile: the coroutine keeps its own.
  std::function<boost::asio::awaitable<void>(UpgradedConnection&)> upgrade;

  static Response Text(int status, std::string text, std::string content_type = "text/plain; charset=utf-8");
};

// A request handler. It may co_await I/O and the blocking pool; it should not throw (the server
// turns an exception into a 500 without details, and logs it).
using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

}  // namespace paddlecloud::http
