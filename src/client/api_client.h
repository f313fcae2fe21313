// ApiClient: the command line's synchronous HTTP/1.1 client of the PaddleCloud REST API.
//
// One request per connection (the CLI makes a handful), over http:// or https://. Under TLS the
// server certificate is verified against the system trust store, or only against `ca_file` when
// given, and must name the host (DNS name or IP address) of the URL. An optional client
// certificate signs in by mutual TLS. Every phase (resolve, connect, handshake, write, read) is
// bounded by `timeout`. Requests go through the HTTP proxy that `proxy` names for the server
// (client/proxy.h: the Python SDK's rule): absolute-form requests for http://, a CONNECT tunnel
// for https:// (TLS and its checks still with the server).
//
// Error contract: a transport failure (DNS, refused, timeout, TLS) is Unavailable
// "cannot reach the PaddleCloud server at <server>: <reason>" with details()["reason"] =
// "unreachable" (the SDK's and the web's code for it); a proxy that cannot be reached, refuses the
// tunnel or asks for credentials (407, or 401 to a CONNECT) is the same error with a reason naming the proxy's URL; an error answer of the API
// ({"error":{"code","message","details"}}) becomes a Status with the server's code mapped back
// (unknown codes by HTTP status), its message kept, details.field as field() and the other
// details as details() (Retry-After as details()["retry_after"]); the Open Inference Protocol's
// {"error": "<message>"} (a model server behind the inference gateway) is "HTTP <status>: <message>"
// with the Code of the HTTP status. Secrets (the token, request
// bodies) never appear in a Status message.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

#include "client/proxy.h"
#include "common/status.h"

namespace paddlecloud::client {

struct ClientOptions {
  std::string server;     // base URL: "http://host:port" or "https://host[:port][/prefix]"
  std::string token;      // sent as "Authorization: Bearer <token>"; empty: none
  std::string ca_file;    // PEM CA bundle that alone is trusted for https; empty: the system store
  std::string cert_file;  // PEM client certificate (chain) for mutual TLS; needs key_file
  std::string key_file;   // PEM private key of cert_file
  std::chrono::milliseconds timeout = std::chrono::seconds(30);
  std::string user_agent = "paddlecloud-cli";
  ProxyEnvironment proxy;  // the HTTP proxy to go through (client/proxy.h); empty: direct
};

// A raw answer: any HTTP status.
struct ApiResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// Called while a body is sent: bytes sent so far and the body's size.
using UploadProgress = std::function<void(std::uint64_t sent, std::uint64_t total)>;

class ApiClient {
 public:
  // InvalidArgument (field "server") when the URL is not http(s)://host[:port][/path], or when only
  // one of cert_file/key_file is set.
  static Result<ApiClient> Create(ClientOptions options);

  // Sends `method target` (target relative to the server URL, e.g. "/api/v1/me") with `body` as
  // JSON unless it is null. Returns the decoded JSON answer of a 2xx (null when empty); an error
  // answer or transport failure as described above.
  Result<boost::json::value> Call(std::string_view method, std::string_view target,
                                  const boost::json::value& body = nullptr);

  // One request with a raw body and extra headers; any HTTP status is a value. Errors are
  // transport failures only.
  Result<ApiResponse> Send(std::string_view method, std::string_view target, std::string_view body = {},
                           const HeaderList& headers = {});

  // Sends the file at `path` as the body of `method target` with `content_type`: Content-Length is
  // the file's size and the body is read and written in chunks (never held whole), `progress` is
  // called after each chunk. The answer is handled as by Call. A file that cannot be read is
  // InvalidArgument naming it. The answer may take up to `answer_timeout` after the last byte (the
  // server unpacks it first); when the server answers early (an error before the whole body was
  // read) that answer is returned.
  Result<boost::json::value> Upload(std::string_view method, std::string_view target, const std::string& path,
                                    std::string_view content_type, const UploadProgress& progress = {},
                                    std::chrono::milliseconds answer_timeout = std::chrono::minutes(10));

  // Sends `length` bytes of the file at `path`, starting at byte `offset`, as the body of `method target`
  // with `headers` (e.g. Content-Range) and `content_type`: Content-Length is `length` and the bytes are
  // read and written in chunks (never held whole); `progress` gets the bytes of this body sent so far
  // and `length` after each chunk (it may block, e.g. to limit the rate). Any HTTP status is a value
  // (its body collected); errors are a file that cannot be read (InvalidArgument naming it) and
  // transport failures. When the server answers before the whole body was read, that answer is
  // returned. The answer may take up to `answer_timeout` after the last byte.
  Result<ApiResponse> SendFileRange(std::string_view method, std::string_view target, const std::string& path,
                                    std::uint64_t offset, std::uint64_t length, const HeaderList& headers = {},
                                    std::string_view content_type = "application/octet-stream",
                                    const UploadProgress& progress = {},
                                    std::chrono::milliseconds answer_timeout = std::chrono::minutes(10));

  // Streaming GET that shows the answer's head (for Range requests): for a 2xx answer `on_head` gets
  // its status and headers (empty body) before any byte of the body (returning false stops there),
  // then `on_chunk` gets the body as it arrives until it ends or `on_chunk` returns false.
  // `idle_timeout` bounds the wait for each chunk (zero: no bound). Returns the status and headers;
  // a non-2xx answer is a value too, with its body (up to 1 MiB) and neither callback called.
  // Errors are transport failures only.
  Result<ApiResponse> Fetch(std::string_view target, const HeaderList& headers,
                            const std::function<bool(const ApiResponse& head)>& on_head,
                            const std::function<bool(std::string_view chunk)>& on_chunk,
                            std::chrono::milliseconds idle_timeout = std::chrono::seconds(60));

  // Streaming GET: calls `on_chunk` with body bytes as they arrive until the body ends (OK) or
  // `on_chunk` returns false (OK). `idle_timeout` bounds the wait for each chunk (zero: no bound).
  // A non-2xx answer is returned as its error Status without calling `on_chunk`.
  Status Stream(std::string_view target, const std::function<bool(std::string_view chunk)>& on_chunk,
                std::chrono::milliseconds idle_timeout = std::chrono::milliseconds(0),
                const HeaderList& headers = {});

  const std::string& server() const { return options_.server; }
  const ClientOptions& options() const { return options_; }

 private:
  explicit ApiClient(ClientOptions options) : options_(std::move(options)) {}
  ClientOptions options_;
};

// Percent-encoding for request targets (RFC 3986; Boost.URL): a path keeps its '/', a component
// (one path segment or a query value) keeps only the unreserved characters.
std::string EncodePath(std::string_view path);
std::string EncodeComponent(std::string_view text);

// The Status for a non-2xx answer: the API's error format mapped back to a Code, else a Status
// from the HTTP status with the start of the body. `retry_after` (header value) is kept as a detail.
Status ErrorFromResponse(int http_status, std::string_view body, std::string_view retry_after = {});

// The Code whose stable name is `name` ("not_found"); nullopt-like kOk when unknown.
Code CodeFromName(std::string_view name);
// The Code an HTTP status stands for when the body names none.
Code CodeFromHttpStatus(int http_status);

}  // namespace paddlecloud::client
