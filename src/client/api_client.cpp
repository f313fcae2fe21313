#include "client/api_client.h"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <array>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>

namespace paddlecloud::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t kMaxBody = 256u << 20;       // whole answers read by Send/Call
constexpr std::size_t kMaxErrorBody = 1u << 20;    // an error answer of a stream

struct Endpoint {
  bool tls = false;
  std::string host;         // for DNS and certificate checks: "example.com", "127.0.0.1", "::1"
  std::string port;         // "8080"
  std::string written_port; // the port as the URL writes it; "" when it names none
  std::string host_header;  // as in the URL: "example.com:8080", "[::1]:8443"
  std::string base_path;    // "" or "/prefix" (no trailing slash)
};

Result<Endpoint> ParseServer(const std::string& server) {
  auto bad = [&](const std::string& why) {
    return Err(Status::InvalidArgument("server URL '" + server + "' " + why, "server"));
  };
  if (server.empty()) return bad("is empty; expected http://HOST:PORT or https://HOST[:PORT]");
  auto parsed = boost::urls::parse_absolute_uri(server);
  if (!parsed) return bad("is not a URL; expected http://HOST:PORT or https://HOST[:PORT]");
  Endpoint e;
  std::string scheme(parsed->scheme());
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme == "https") {
    e.tls = true;
  } else if (scheme != "http") {
    return bad("must start with http:// or https://");
  }
  if (!parsed->has_authority() || parsed->host_address().empty()) return bad("has no host");
  if (parsed->has_userinfo()) return bad("must not carry a user name or password");
  if (parsed->has_query() || parsed->has_fragment()) return bad("must not have a query or fragment");
  e.host = parsed->host_address();
  e.written_port = parsed->has_port() ? std::string(parsed->port()) : "";
  e.port = e.written_port.empty() ? (e.tls ? "443" : "80") : e.written_port;
  e.host_header = parsed->encoded_host_and_port();
  e.base_path = parsed->encoded_path();
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  return e;
}

std::string DurationText(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

// What the request looks like and what to do with the body.
struct Exchange {
  std::string method;
  std::string target;  // already prefixed with base_path
  std::string body;
  std::string content_type;
  std::string accept;
  HeaderList headers;
  std::chrono::milliseconds read_timeout{0};  // per read of the body; zero: the client's timeout
  bool idle_unbounded = false;                // streaming with no idle bound
  // Called for 2xx body chunks when set (streaming); otherwise the body is collected.
  const std::function<bool(std::string_view)>* on_chunk = nullptr;
  // Streaming: called with a 2xx answer's status and headers before its body; false stops there.
  const std::function<bool(const ApiResponse&)>* on_head = nullptr;
  // When set, the body is this file (of body_file_size bytes), sent in chunks instead of `body`.
  const std::string* body_file = nullptr;
  std::uint64_t body_file_size = 0;
  std::uint64_t body_file_offset = 0;  // where in the file the body starts
  const UploadProgress* progress = nullptr;
  std::chrono::milliseconds answer_timeout{0};  // for the answer's header; zero: the client's timeout
};

class Transport {
 public:
  Transport(const ClientOptions& options, const Endpoint& endpoint) : options_(options), endpoint_(endpoint) {}

  Result<ApiResponse> Run(const Exchange& exchange) {
    asio::io_context ioc;
    std::optional<Result<ApiResponse>> result;
    asio::co_spawn(ioc, Do(ioc, exchange, result), [&](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        result = Err(Unreachable(ex.what()));
      } catch (...) {
        result = Err(Unreachable("unknown failure"));
      }
    });
    ioc.run();
    if (!result) return Err(Status::Internal("request to " + options_.server + " ended without an answer"));
    return std::move(*result);
  }

 private:
  // The one name every client gives this (docs/jobs-logs.md): "unreachable".
  Status Unreachable(const std::string& reason) const {
    return Status::Unavailable("cannot reach the PaddleCloud server at " + options_.server + ": " + reason)
        .WithDetail("reason", "unreachable");
  }
  std::string Reason(const boost::system::error_code& ec) const {
    if (ec == beast::error::timeout) return "timed out after " + DurationText(options_.timeout);
    return ec.message();
  }

  // Builds the TLS context: trust store, client certificate, TLS >= 1.2.
  Result<std::unique_ptr<ssl::context>> MakeTlsContext() const {
    auto ctx = std::make_unique<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                     ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (!options_.ca_file.empty()) {
      ctx->load_verify_file(options_.ca_file, ec);
      if (ec) return Err(Status::InvalidArgument("cannot use CA file " + options_.ca_file + ": " + ec.message(), "cacert"));
    } else {
      ctx->set_default_verify_paths(ec);
      if (ec) return Err(Status::Unavailable("cannot load the system's trusted certificates: " + ec.message()));
    }
    if (!options_.cert_file.empty()) {
      ctx->use_certificate_chain_file(options_.cert_file, ec);
      if (ec) return Err(Status::InvalidArgument("cannot use client certificate " + options_.cert_file + ": " + ec.message(), "cert"));
      ctx->use_private_key_file(options_.key_file, ssl::context::pem, ec);
      if (ec) return Err(Status::InvalidArgument("cannot use client key " + options_.key_file + ": " + ec.message(), "key"));
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
  }

  // Resolves and connects to the server, or to the proxy that leads to it (`proxy_`).
  asio::awaitable<Status> Connect(asio::io_context& ioc, beast::tcp_stream& stream) {
    auto route = ProxyFor(options_.proxy, endpoint_.tls, endpoint_.host, endpoint_.written_port);
    if (!route) co_return route.error();
    proxy_ = *route;
    const std::string& host = proxy_ ? proxy_->host : endpoint_.host;
    tcp::resolver resolver(ioc);
    auto [rec, endpoints] = co_await resolver.async_resolve(host, proxy_ ? proxy_->port : endpoint_.port, kNoThrow);
    if (rec)
      co_return Unreachable("cannot resolve " + std::string(proxy_ ? "the proxy host '" : "'") + host + "': " + rec.message());
    stream.expires_after(options_.timeout);
    auto [cec, ep] = co_await stream.async_connect(endpoints, kNoThrow);
    if (cec && proxy_) co_return Unreachable("cannot connect to the proxy " + proxy_->url + ": " + Reason(cec));
    if (cec) co_return Unreachable(Reason(cec));
    co_return Status::Ok();
  }

  // Asks the proxy for a tunnel to the server (CONNECT host:port); OK once it answers 2xx.
  asio::awaitable<Status> OpenTunnel(beast::tcp_stream& stream) {
    std::string authority =
        endpoint_.written_port.empty() ? endpoint_.host_header + ":" + endpoint_.port : endpoint_.host_header;
    bhttp::request<bhttp::empty_body> request(bhttp::verb::connect, authority, 11);
    request.set(bhttp::field::host, authority);
    request.set(bhttp::field::user_agent, options_.user_agent);
    if (!proxy_->authorization.empty()) request.set(bhttp::field::proxy_authorization, proxy_->authorization);
    stream.expires_after(options_.timeout);
    auto [wec, written] = co_await bhttp::async_write(stream, request, kNoThrow);
    (void)written;
    if (wec) co_return Unreachable("the proxy " + proxy_->url + " closed the connection: " + Reason(wec));
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::empty_body> parser;
    parser.skip(true);  // an answer to CONNECT has no body: the tunnel follows
    auto [rec, read] = co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
    (void)read;
    if (rec) co_return Unreachable("the proxy " + proxy_->url + " did not answer the tunnel request: " + Reason(rec));
    int status = static_cast<int>(parser.get().result_int());
    if (status == 407 || status == 401) co_return ProxyWantsCredentials(status);  // tinyproxy answers 401
    if (status < 200 || status >= 300)
      co_return Unreachable("the proxy " + proxy_->url + " refused the tunnel to " + authority + ": HTTP " +
                            std::to_string(status) + " " + std::string(parser.get().reason()));
    co_return Status::Ok();
  }

  Status ProxyWantsCredentials(int status) const {
    return Unreachable("the proxy " + proxy_->url + " asks for credentials (HTTP " + std::to_string(status) +
                       "): write them into $" +
                       (endpoint_.tls ? "https_proxy" : "http_proxy") + " as http://USER:PASSWORD@HOST:PORT");
  }

  asio::awaitable<void> Do(asio::io_context& ioc, const Exchange& exchange, std::optional<Result<ApiResponse>>& out) {
    if (!endpoint_.tls) {
      beast::tcp_stream stream(ioc);
      if (Status connected = co_await Connect(ioc, stream); !connected.ok()) {
        out = Err(connected);
        co_return;
      }
      out = co_await Talk(stream, exchange);
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
      co_return;
    }
    auto ctx = MakeTlsContext();
    if (!ctx) {
      out = Err(ctx.error());
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(ioc, **ctx);
    SSL* handle = stream.native_handle();
    X509_VERIFY_PARAM* param = SSL_get0_param(handle);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    boost::system::error_code aec;
    asio::ip::make_address(endpoint_.host, aec);
    if (!aec) {
      X509_VERIFY_PARAM_set1_ip_asc(param, endpoint_.host.c_str());
    } else {
      X509_VERIFY_PARAM_set1_host(param, endpoint_.host.c_str(), 0);
      SSL_set_tlsext_host_name(handle, endpoint_.host.c_str());
    }
    Status connected = co_await Connect(ioc, beast::get_lowest_layer(stream));
    if (connected.ok() && proxy_) connected = co_await OpenTunnel(beast::get_lowest_layer(stream));
    if (!connected.ok()) {
      out = Err(connected);
      co_return;
    }
    beast::get_lowest_layer(stream).expires_after(options_.timeout);
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::client, kNoThrow);
    if (hec) {
      long verify = SSL_get_verify_result(handle);
      std::string reason = verify != X509_V_OK
                               ? std::string("server certificate not trusted: ") + X509_verify_cert_error_string(verify)
                               : "TLS handshake failed: " + Reason(hec);
      out = Err(Unreachable(reason));
      co_return;
    }
    out = co_await Talk(stream, exchange);
    if (stopped_early_) co_return;  // the server is still sending: no orderly TLS close to wait for
    beast::get_lowest_layer(stream).expires_after(std::min<std::chrono::milliseconds>(options_.timeout, std::chrono::seconds(2)));
    co_await stream.async_shutdown(kNoThrow);  // best effort: the answer is already complete
  }

  template <typename Request>
  void SetHeaders(Request& request, const Exchange& exchange) const {
    request.method_string(exchange.method);
    bool absolute = proxy_ && !endpoint_.tls;  // to an HTTP proxy: the whole URL
    request.target(absolute ? "http://" + endpoint_.host_header + exchange.target : exchange.target);
    if (absolute && !proxy_->authorization.empty())
      request.set(bhttp::field::proxy_authorization, proxy_->authorization);
    request.version(11);
    request.set(bhttp::field::host, endpoint_.host_header);
    request.set(bhttp::field::user_agent, options_.user_agent);
    request.set(bhttp::field::connection, "close");
    if (!exchange.accept.empty()) request.set(bhttp::field::accept, exchange.accept);
    if (!options_.token.empty()) request.set(bhttp::field::authorization, "Bearer " + options_.token);
    for (const auto& [name, value] : exchange.headers) request.set(name, value);
    if (!exchange.content_type.empty()) request.set(bhttp::field::content_type, exchange.content_type);
  }

  // Writes the header, then the file in chunks. A local read failure is a Status; a transport
  // failure is left in `write_error` (the server may have answered early and closed).
  template <typename Stream>
  asio::awaitable<Status> WriteFileRequest(Stream& stream, const Exchange& exchange,
                                           boost::system::error_code& write_error) {
    auto& lowest = beast::get_lowest_layer(stream);
    std::ifstream in(*exchange.body_file, std::ios::binary);
    if (!in) co_return Status::InvalidArgument("cannot read " + *exchange.body_file);
    if (exchange.body_file_offset > 0) {
      in.seekg(static_cast<std::streamoff>(exchange.body_file_offset));
      if (!in) co_return Status::InvalidArgument("cannot read " + *exchange.body_file + " from byte " +
                                                 std::to_string(exchange.body_file_offset));
    }
    bhttp::request<bhttp::empty_body> request;
    SetHeaders(request, exchange);
    request.content_length(exchange.body_file_size);
    bhttp::request_serializer<bhttp::empty_body> serializer(request);
    lowest.expires_after(options_.timeout);
    auto [hec, hn] = co_await bhttp::async_write_header(stream, serializer, kNoThrow);
    (void)hn;
    if (hec) {
      write_error = hec;
      co_return Status::Ok();
    }
    std::vector<char> chunk(256 * 1024);
    std::uint64_t sent = 0, total = exchange.body_file_size;
    while (sent < total) {
      in.read(chunk.data(), static_cast<std::streamsize>(std::min<std::uint64_t>(chunk.size(), total - sent)));
      auto got = static_cast<std::size_t>(in.gcount());
      if (got == 0)
        co_return Status::InvalidArgument(*exchange.body_file + " became shorter while it was sent");
      lowest.expires_after(options_.timeout);
      auto [bec, bn] = co_await asio::async_write(stream, asio::buffer(chunk.data(), got), kNoThrow);
      (void)bn;
      if (bec) {
        write_error = bec;
        co_return Status::Ok();
      }
      sent += got;
      if (exchange.progress && *exchange.progress) (*exchange.progress)(sent, total);
    }
    co_return Status::Ok();
  }

  // The status and headers (names lower-cased) of an answer's head.
  template <typename Message>
  static ApiResponse HeadOf(const Message& head) {
    ApiResponse response;
    response.status = static_cast<int>(head.result_int());
    for (const auto& field : head) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = std::string(field.value());
    }
    return response;
  }

  template <typename Stream>
  asio::awaitable<Result<ApiResponse>> Talk(Stream& stream, const Exchange& exchange) {
    auto& lowest = beast::get_lowest_layer(stream);
    boost::system::error_code write_error;
    if (exchange.body_file) {
      Status local = co_await WriteFileRequest(stream, exchange, write_error);
      if (!local.ok()) co_return Err(local);
    } else {
      bhttp::request<bhttp::string_body> request;
      SetHeaders(request, exchange);
      request.body() = exchange.body;
      if (!exchange.body.empty() || exchange.method == "POST" || exchange.method == "PUT" || exchange.method == "PATCH")
        request.prepare_payload();
      lowest.expires_after(options_.timeout);
      auto [wec, written] = co_await bhttp::async_write(stream, request, kNoThrow);
      (void)written;
      write_error = wec;
    }
    // A failed write may still have an answer waiting (a server that refused the body early).
    if (write_error && !exchange.body_file)
      co_return Err(Unreachable("sending the request failed: " + Reason(write_error)));

    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::buffer_body> parser;
    parser.body_limit(boost::none);
    if (exchange.method == "HEAD") parser.skip(true);
    if (write_error) {
      lowest.expires_after(std::min<std::chrono::milliseconds>(options_.timeout, std::chrono::seconds(5)));
    } else {
      lowest.expires_after(exchange.answer_timeout.count() > 0 ? exchange.answer_timeout : options_.timeout);
    }
    auto [hec, hread] = co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
    (void)hread;
    if (hec && write_error) co_return Err(Unreachable("sending the request failed: " + Reason(write_error)));
    if (hec) co_return Err(Unreachable("no answer: " + Reason(hec)));

    ApiResponse response = HeadOf(parser.get());
    if (response.status == 407 && proxy_) co_return Err(ProxyWantsCredentials(407));
    bool streaming = exchange.on_chunk && response.status >= 200 && response.status < 300;
    if (streaming && exchange.on_head && *exchange.on_head && !(*exchange.on_head)(response)) {
      stopped_early_ = true;
      co_return response;
    }
    std::size_t limit = exchange.on_chunk ? kMaxErrorBody : kMaxBody;
    std::array<char, 16 * 1024> chunk;
    while (!parser.is_done()) {
      parser.get().body().data = chunk.data();
      parser.get().body().size = chunk.size();
      if (streaming && exchange.idle_unbounded) {
        lowest.expires_never();
      } else {
        lowest.expires_after(streaming && exchange.read_timeout.count() > 0 ? exchange.read_timeout : options_.timeout);
      }
      auto [rec, n] = co_await bhttp::async_read_some(stream, buffer, parser, kNoThrow);
      (void)n;
      if (rec == bhttp::error::need_buffer) rec = {};
      if (rec) {
        if (rec == beast::error::timeout && streaming)
          co_return Err(Unreachable("no data for " + DurationText(exchange.read_timeout)));
        co_return Err(Unreachable("the answer was cut short: " + Reason(rec)));
      }
      std::size_t got = chunk.size() - parser.get().body().size;
      if (got == 0) continue;
      if (streaming) {
        if (!(*exchange.on_chunk)(std::string_view(chunk.data(), got))) {
          stopped_early_ = true;
          co_return response;
        }
        continue;
      }
      if (response.body.size() + got > limit)
        co_return Err(Status::PayloadTooLarge("the answer of " + options_.server + " is larger than " +
                                              std::to_string(limit >> 20) + " MiB"));
      response.body.append(chunk.data(), got);
    }
    co_return response;
  }

  const ClientOptions& options_;
  const Endpoint& endpoint_;
  std::optional<ProxyRoute> proxy_;  // the proxy this exchange goes through, once connected
  bool stopped_early_ = false;
};

std::string Printable(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out += (c >= 0x20 && c < 0x7f) ? c : ' ';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (text.size() > max) out += "...";
  return out;
}

}  // namespace

Code CodeFromName(std::string_view name) {
  for (Code code : {Code::kInvalidArgument, Code::kUnauthenticated, Code::kPermissionDenied, Code::kNotFound,
                    Code::kMethodNotAllowed, Code::kConflict, Code::kPayloadTooLarge, Code::kUnsupportedMedia,
                    Code::kRangeNotSatisfiable, Code::kResourceExhausted, Code::kQuotaExceeded,
                    Code::kInsufficientStorage, Code::kUnavailable, Code::kInternal}) {
    if (CodeName(code) == name) return code;
  }
  return Code::kOk;
}

Code CodeFromHttpStatus(int status) {
  switch (status) {
    case 400: return Code::kInvalidArgument;
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kPermissionDenied;
    case 404: return Code::kNotFound;
    case 405: return Code::kMethodNotAllowed;
    case 409: return Code::kConflict;
    case 413: return Code::kPayloadTooLarge;
    case 415: return Code::kUnsupportedMedia;
    case 416: return Code::kRangeNotSatisfiable;
    case 429: return Code::kResourceExhausted;
    case 507: return Code::kInsufficientStorage;
    case 502:
    case 503:
    case 504: return Code::kUnavailable;
    default: break;
  }
  if (status >= 400 && status < 500) return Code::kInvalidArgument;
  return Code::kInternal;
}

Status ErrorFromResponse(int http_status, std::string_view body, std::string_view retry_after) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  Status status;
  const json::object* error = nullptr;
  if (!ec && parsed.is_object()) {
    if (auto* e = parsed.as_object().if_contains("error"); e && e->is_object()) error = &e->as_object();
  }
  if (error && error->if_contains("message") && error->at("message").is_string()) {
    Code code = Code::kOk;
    if (auto* c = error->if_contains("code"); c && c->is_string()) code = CodeFromName(c->as_string());
    if (code == Code::kOk) code = CodeFromHttpStatus(http_status);
    std::string field;
    const json::object* details = nullptr;
    if (auto* d = error->if_contains("details"); d && d->is_object()) {
      details = &d->as_object();
      if (auto* f = details->if_contains("field"); f && f->is_string()) field = f->as_string();
    }
    status = Status::Of(code, std::string(error->at("message").as_string()), field);
    if (details) {
      for (const auto& [key, value] : *details) {
        if (key == "field") continue;
        status.WithDetail(std::string(key), value.is_string() ? std::string(value.as_string()) : json::serialize(value));
      }
    }
  } else if (const json::value* text = !ec && parsed.is_object() ? parsed.as_object().if_contains("error") : nullptr;
             text && text->is_string()) {
    // The Open Inference Protocol's error (a model server behind the inference gateway).
    status = Status::Of(CodeFromHttpStatus(http_status),
                        "HTTP " + std::to_string(http_status) + ": " + Printable(text->as_string(), 2000));
  } else {
    std::string message = "server answered HTTP " + std::to_string(http_status);
    std::string snippet = Printable(body, 200);
    if (!snippet.empty()) message += ": " + snippet;
    status = Status::Of(CodeFromHttpStatus(http_status), message);
  }
  if (!retry_after.empty() && !status.details().count("retry_after"))
    status.WithDetail("retry_after", std::string(retry_after));
  return status;
}

Result<ApiClient> ApiClient::Create(ClientOptions options) {
  while (!options.server.empty() && options.server.back() == '/') options.server.pop_back();
  auto endpoint = ParseServer(options.server);
  if (!endpoint) return Err(endpoint.error());
  if (options.cert_file.empty() != options.key_file.empty())
    return Err(Status::InvalidArgument("a client certificate needs both --cert and --key",
                                       options.cert_file.empty() ? "cert" : "key"));
  if (options.timeout.count() <= 0) options.timeout = std::chrono::seconds(30);
  return ApiClient(std::move(options));
}

Result<ApiResponse> ApiClient::Send(std::string_view method, std::string_view target, std::string_view body,
                                    const HeaderList& headers) {
  auto endpoint = ParseServer(options_.server);
  if (!endpoint) return Err(endpoint.error());
  Exchange exchange{.method = std::string(method), .target = endpoint->base_path + std::string(target),
                    .body = std::string(body), .headers = headers};
  Transport transport(options_, *endpoint);
  return transport.Run(exchange);
}

namespace {

Result<std::uint64_t> FileSizeOf(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return Err(Status::InvalidArgument("cannot read " + path + ": " + ec.message()));
  return static_cast<std::uint64_t>(size);
}

// Runs `exchange` and reads a JSON answer: an error answer becomes its Status, an empty one null.
// The JSON of a 2xx answer (null when empty); an error answer becomes its Status.
Result<json::value> JsonAnswer(const Result<ApiResponse>& response, const std::string& server, std::string_view target) {
  if (!response) return Err(response.error());
  if (response->status < 200 || response->status >= 300)
    return Err(ErrorFromResponse(response->status, response->body, response->header("retry-after")));
  if (response->body.empty()) return json::value(nullptr);
  boost::system::error_code ec;
  json::value value = json::parse(response->body, ec);
  if (ec)
    return Err(Status::Internal("the answer of " + server + std::string(target) + " is not JSON: " +
                                Printable(response->body, 120)));
  return value;
}

}  // namespace

Result<json::value> ApiClient::Call(std::string_view method, std::string_view target, const json::value& body) {
  auto endpoint = ParseServer(options_.server);
  if (!endpoint) return Err(endpoint.error());
  Exchange exchange{.method = std::string(method), .target = endpoint->base_path + std::string(target),
                    .accept = "application/json"};
  if (!body.is_null()) {
    exchange.body = json::serialize(body);
    exchange.content_type = "application/json";
  }
  return JsonAnswer(Transport(options_, *endpoint).Run(exchange), options_.server, target);
}

Result<json::value> ApiClient::Upload(std::string_view method, std::string_view target, const std::string& path,
                                      std::string_view content_type, const UploadProgress& progress,
                                      std::chrono::milliseconds answer_timeout) {
  auto size = FileSizeOf(path);
  if (!size) return Err(size.error());
  return JsonAnswer(SendFileRange(method, target, path, 0, *size, {}, content_type, progress, answer_timeout),
                    options_.server, target);
}

Result<ApiResponse> ApiClient::SendFileRange(std::string_view method, std::string_view target, const std::string& path,
                                             std::uint64_t offset, std::uint64_t length, const HeaderList& headers,
                                             std::string_view content_type, const UploadProgress& progress,
                                             std::chrono::milliseconds answer_timeout) {
  auto endpoint = ParseServer(options_.server);
  if (!endpoint) return Err(endpoint.error());
  auto size = FileSizeOf(path);
  if (!size) return Err(size.error());
  if (offset > *size || length > *size - offset)
    return Err(Status::InvalidArgument(path + " is shorter than " + std::to_string(offset + length) + " bytes"));
  Exchange exchange{.method = std::string(method), .target = endpoint->base_path + std::string(target),
                    .content_type = std::string(content_type), .accept = "application/json", .headers = headers,
                    .body_file = &path, .body_file_size = length, .body_file_offset = offset, .progress = &progress,
                    .answer_timeout = answer_timeout};
  Transport transport(options_, *endpoint);
  return transport.Run(exchange);
}

Result<ApiResponse> ApiClient::Fetch(std::string_view target, const HeaderList& headers,
                                     const std::function<bool(const ApiResponse&)>& on_head,
                                     const std::function<bool(std::string_view)>& on_chunk,
                                     std::chrono::milliseconds idle_timeout) {
  auto endpoint = ParseServer(options_.server);
  if (!endpoint) return Err(endpoint.error());
  Exchange exchange{.method = "GET", .target = endpoint->base_path + std::string(target), .headers = headers,
                    .read_timeout = idle_timeout, .idle_unbounded = idle_timeout.count() <= 0, .on_chunk = &on_chunk,
                    .on_head = &on_head};
  Transport transport(options_, *endpoint);
  return transport.Run(exchange);
}

Status ApiClient::Stream(std::string_view target, const std::function<bool(std::string_view)>& on_chunk,
                         std::chrono::milliseconds idle_timeout, const HeaderList& headers) {
  auto endpoint = ParseServer(options_.server);
  if (!endpoint) return endpoint.error();
  Exchange exchange{.method = "GET", .target = endpoint->base_path + std::string(target), .headers = headers,
                    .read_timeout = idle_timeout, .idle_unbounded = idle_timeout.count() <= 0, .on_chunk = &on_chunk};
  Transport transport(options_, *endpoint);
  auto response = transport.Run(exchange);
  if (!response) return response.error();
  if (response->status < 200 || response->status >= 300)
    return ErrorFromResponse(response->status, response->body, response->header("retry-after"));
  return Status::Ok();
}

std::string EncodePath(std::string_view path) {
  return boost::urls::encode(path, boost::urls::unreserved_chars + '/');
}

std::string EncodeComponent(std::string_view text) { return boost::urls::encode(text, boost::urls::unreserved_chars); }

}  // namespace paddlecloud::client
