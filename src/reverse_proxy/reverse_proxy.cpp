#include "reverse_proxy/reverse_proxy.h"

#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <variant>
#include <algorithm>
#include <array>
#include <cstdio>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "http/json.h"

namespace paddlecloud::reverse_proxy {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using http::Request;
using http::Response;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

// One upstream connection with the parser of its current response; pooled whole between requests
// (its stream and buffer are reused).
struct Connection {
  explicit Connection(tcp::socket socket) : stream(std::move(socket)) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::optional<bhttp::response_parser<bhttp::buffer_body>> parser;
  char idle_byte = 0;  // where a byte the upstream sends while the connection is idle goes
};

}  // namespace

// Idle upstream connections by (I/O context, host, port): a connection is only used on its own
// context. Each idle connection has a read pending: an idle connection that turns readable has
// either been closed by the upstream or sent something unasked (both unusable), so it leaves the
// pool at once (it no longer holds a descriptor until a request happens to take it, and taking one
// needs no check).
struct ReverseProxy::Pool : std::enable_shared_from_this<ReverseProxy::Pool> {
  using Key = std::tuple<const void*, std::string, std::uint16_t>;
  std::mutex mutex;
  std::map<Key, std::vector<std::shared_ptr<Connection>>> idle;
  std::size_t max_per_key;

  std::shared_ptr<Connection> Take(const Key& key) {
    std::lock_guard lock(mutex);
    auto it = idle.find(key);
    if (it == idle.end() || it->second.empty()) return nullptr;
    std::shared_ptr<Connection> connection = std::move(it->second.back());
    it->second.pop_back();
    boost::system::error_code ignored;
    connection->stream.socket().cancel(ignored);  // ends the idle read
    return connection;
  }
  void Give(const Key& key, std::shared_ptr<Connection> connection) {
    std::lock_guard lock(mutex);
    auto& connections = idle[key];
    if (connections.size() >= max_per_key) return;
    // A one-byte read rather than a wait: Asio tries it at once (one recv, EAGAIN) where a wait
    // re-arms epoll (one epoll_ctl): either is the one system call the former poll() at take was.
    connection->stream.socket().async_read_some(
        asio::buffer(&connection->idle_byte, 1),
        [pool = weak_from_this(), key, raw = connection.get()](boost::system::error_code ec, std::size_t) {
          if (ec == asio::error::operation_aborted) return;  // taken, or closed with the pool
          if (auto self = pool.lock()) self->Drop(key, raw);
        });
    connections.push_back(std::move(connection));
  }
  void Drop(const Key& key, const Connection* connection) {
    std::lock_guard lock(mutex);
    auto it = idle.find(key);
    if (it == idle.end()) return;
    std::erase_if(it->second, [connection](const auto& c) { return c.get() == connection; });
  }
  std::size_t size() {
    std::lock_guard lock(mutex);
    std::size_t n = 0;
    for (auto& [key, connections] : idle) n += connections.size();
    return n;
  }
};

namespace {

Response GatewayError(int status, std::string_view code, std::string message) {
  boost::json::object error{{"code", code}, {"message", std::move(message)}};
  return http::JsonResponse(status, {{"error", std::move(error)}});
}
Response BadGateway(std::string message) { return GatewayError(502, "bad_gateway", std::move(message)); }
Response GatewayTimeout() {
  return GatewayError(504, "gateway_timeout", "the upstream server did not answer in time");
}

bool IsHopByHop(std::string_view name) {
  static constexpr std::string_view kNames[] = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
                                                "proxy-authorization", "te", "trailer", "transfer-encoding",
                                                "upgrade"};
  for (auto n : kNames)
    if (beast::iequals(name, n)) return true;
  return false;
}

// True when `list` (a comma-separated header value) contains `token`, case-insensitively.
bool HasToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (beast::iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

// Fields the Connection header names are hop-by-hop too.
bool NamedByConnection(const http::Headers& headers, std::string_view name) {
  for (const auto& [n, v] : headers.fields())
    if (beast::iequals(n, "Connection") && HasToken(v, name)) return true;
  return false;
}

// The Cookie value without the named cookies; empty when none remain.
std::string WithoutCookies(std::string_view cookie, const std::vector<std::string>& names) {
  std::string kept;
  while (!cookie.empty()) {
    auto semi = cookie.find(';');
    auto pair = cookie.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    auto name = pair.substr(0, pair.find('='));
    bool drop = false;
    for (const auto& n : names) drop = drop || name == n;
    if (!drop && !pair.empty()) kept.append(kept.empty() ? "" : "; ").append(pair);
    if (semi == std::string_view::npos) break;
    cookie.remove_prefix(semi + 1);
  }
  return kept;
}

bool IsWebSocketUpgrade(const Request& request) {
  auto upgrade = request.headers.Get("Upgrade");
  auto connection = request.headers.Get("Connection");
  return request.method == "GET" && upgrade && connection && HasToken(*upgrade, "websocket") &&
         HasToken(*connection, "upgrade");
}

enum class Framing { kNone, kLength, kChunked };

Framing RequestFraming(const Request& request) {
  if (request.body_stream) {
    if (request.body_stream->content_length()) return Framing::kLength;
    return request.headers.Has("Transfer-Encoding") ? Framing::kChunked : Framing::kNone;
  }
  return request.body.empty() && !request.headers.Has("Content-Length") ? Framing::kNone : Framing::kLength;
}

std::string RequestHead(const Request& request, const std::string& target, const Upstream& upstream,
                        const ProxyOptions& options, Framing framing, bool websocket) {
  std::string head;
  head.reserve(1024);
  head.append(request.method).append(" ").append(target).append(" HTTP/1.1\r\n");
  for (const auto& [name, value] : request.headers.fields()) {
    if (IsHopByHop(name) || NamedByConnection(request.headers, name) || beast::iequals(name, "Content-Length") ||
        beast::iequals(name, "Expect") || beast::iequals(name, "Authorization") || beast::iequals(name, "Forwarded") ||
        beast::iequals(name, "X-Forwarded-For") || beast::iequals(name, "X-Forwarded-Proto") ||
        beast::iequals(name, "X-Forwarded-Host"))
      continue;
    if (beast::iequals(name, "Cookie")) {
      std::string kept = WithoutCookies(value, options.private_cookies);
      if (!kept.empty()) head.append("Cookie: ").append(kept).append("\r\n");
      continue;
    }
    head.append(name).append(": ").append(value).append("\r\n");
  }
  if (websocket) {
    head.append("Connection: Upgrade\r\nUpgrade: ").append(*request.headers.Get("Upgrade")).append("\r\n");
  }
  if (!upstream.token.empty()) head.append("Authorization: token ").append(upstream.token).append("\r\n");
  head.append("X-Forwarded-For: ").append(request.remote_address).append("\r\n");
  head.append("X-Forwarded-Proto: ").append(request.tls ? "https" : "http").append("\r\n");
  if (auto host = request.headers.Get("Host")) head.append("X-Forwarded-Host: ").append(*host).append("\r\n");
  if (framing == Framing::kChunked) head.append("Transfer-Encoding: chunked\r\n");
  if (framing == Framing::kLength) {
    auto length = request.body_stream ? *request.body_stream->content_length() : request.body.size();
    head.append("Content-Length: ").append(std::to_string(length)).append("\r\n");
  }
  head.append("\r\n");
  return head;
}

}  // namespace

ReverseProxy::ReverseProxy(ProxyOptions options) : options_(std::move(options)), pool_(std::make_shared<Pool>()) {
  pool_->max_per_key = options_.max_idle_per_upstream;
}
ReverseProxy::~ReverseProxy() = default;

std::size_t ReverseProxy::idle_connections() const { return pool_->size(); }

namespace {

// Connects within `timeout`; the error response otherwise.
asio::awaitable<std::variant<tcp::socket, Response>> Connect(const Upstream& upstream,
                                                             std::chrono::milliseconds timeout) {
  auto executor = co_await asio::this_coro::executor;
  boost::system::error_code ec;
  std::vector<tcp::endpoint> endpoints;
  auto address = asio::ip::make_address(upstream.host, ec);
  if (!ec) {
    endpoints.emplace_back(address, upstream.port);
  } else {
    tcp::resolver resolver(executor);
    auto [rec, results] = co_await resolver.async_resolve(upstream.host, std::to_string(upstream.port), kNoThrow);
    if (rec) co_return BadGateway("the upstream server's name does not resolve");
    for (const auto& entry : results) endpoints.push_back(entry.endpoint());
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(timeout);
  auto [cec, endpoint] = co_await stream.async_connect(endpoints, kNoThrow);
  if (cec == beast::error::timeout) co_return GatewayTimeout();
  if (cec) co_return BadGateway("the upstream server is not reachable");
  stream.expires_never();
  stream.socket().set_option(tcp::no_delay(true), ec);
  co_return stream.release_socket();
}

// Sends the request's body (its framing is not kNone); the error response when the client or the
// upstream fails.
asio::awaitable<std::optional<Response>> SendBody(Connection& connection, Request& request, Framing framing,
                                                  const ProxyOptions& options) {
  if (!request.body_stream) {
    if (request.body.empty()) co_return std::nullopt;
    connection.stream.expires_after(options.response_timeout);
    auto [ec, n] = co_await asio::async_write(connection.stream, asio::buffer(request.body), kNoThrow);
    if (ec) co_return BadGateway("the upstream server closed the connection");
    co_return std::nullopt;
  }
  std::vector<char> buffer(options.buffer_bytes);
  for (;;) {
    auto n = co_await request.body_stream->Read(buffer.data(), buffer.size());
    if (!n) co_return http::ErrorResponse(n.error());
    std::string chunk_head;
    if (framing == Framing::kChunked) {
      char hex[32];
      std::snprintf(hex, sizeof hex, "%zx\r\n", *n);
      chunk_head = *n ? hex : "0\r\n";
    }
    std::array<asio::const_buffer, 3> parts{asio::buffer(chunk_head), asio::buffer(buffer.data(), *n),
                                            asio::buffer(framing == Framing::kChunked ? "\r\n" : "", framing == Framing::kChunked ? 2 : 0)};
    connection.stream.expires_after(options.response_timeout);
    auto [ec, w] = co_await asio::async_write(connection.stream, parts, kNoThrow);
    if (ec) co_return BadGateway("the upstream server closed the connection");
    if (*n == 0) co_return std::nullopt;
  }
}

// The response's fields without hop-by-hop ones (and without the framing, which the server sets).
void CopyResponseHeaders(const bhttp::response_header<>& from, http::Headers& to, bool keep_all) {
  for (const auto& field : from) {
    std::string_view name = field.name_string();
    if (!keep_all && (IsHopByHop(name) || beast::iequals(name, "Content-Length") ||
                      HasToken(from[bhttp::field::connection], name)))
      continue;
    if (beast::iequals(name, "Date")) continue;  // the server adds its own
    to.Add(std::string(name), std::string(field.value()));
  }
}

// Relays bytes both ways until either side closes, the idle timeout passes or the server stops.
asio::awaitable<void> Relay(std::shared_ptr<Connection> connection, http::UpgradedConnection& client,
                            ProxyOptions options) {
  using namespace asio::experimental::awaitable_operators;
  using Clock = std::chrono::steady_clock;
  auto executor = co_await asio::this_coro::executor;
  auto& upstream = connection->stream.socket();
  connection->stream.expires_never();
  Clock::time_point last_activity = Clock::now();
  bool done = false;
  asio::steady_timer watchdog_timer(executor);
  auto close_both = [&] {
    if (done) return;
    done = true;
    client.Close();
    boost::system::error_code ignored;
    upstream.shutdown(tcp::socket::shutdown_both, ignored);
    upstream.cancel(ignored);
    watchdog_timer.cancel();
  };
  auto client_to_upstream = [&]() -> asio::awaitable<void> {
    std::vector<char> buffer(options.buffer_bytes);
    for (;;) {
      auto n = co_await client.ReadSome(buffer.data(), buffer.size());
      if (!n || *n == 0 || done) break;
      last_activity = Clock::now();
      auto [ec, w] = co_await asio::async_write(upstream, asio::buffer(buffer.data(), *n), kNoThrow);
      if (ec) break;
    }
    close_both();
  };
  auto upstream_to_client = [&]() -> asio::awaitable<void> {
    std::vector<char> buffer(options.buffer_bytes);
    if (connection->buffer.size() > 0) {  // frames that came with the 101
      auto data = connection->buffer.data();
      std::string early(static_cast<const char*>(data.data()), data.size());
      connection->buffer.consume(data.size());
      if (!co_await client.Write(early)) close_both();
    }
    while (!done) {
      auto [ec, n] = co_await upstream.async_read_some(asio::buffer(buffer), kNoThrow);
      if (ec || done) break;
      last_activity = Clock::now();
      if (!co_await client.Write(std::string_view(buffer.data(), n))) break;
    }
    close_both();
  };
  auto watchdog = [&]() -> asio::awaitable<void> {
    auto tick = std::min<Clock::duration>(options.websocket_idle_timeout / 4, std::chrono::seconds(1));
    while (!done) {
      watchdog_timer.expires_after(tick);
      co_await watchdog_timer.async_wait(kNoThrow);
      if (done) break;
      if (client.stopping() || Clock::now() - last_activity > options.websocket_idle_timeout) close_both();
    }
  };
  co_await (client_to_upstream() && upstream_to_client() && watchdog());
}

// Keeps a connection whose response ended cleanly for the next request.
void Release(std::shared_ptr<Connection> connection, ReverseProxy::Pool& pool, const ReverseProxy::Pool::Key& key) {
  if (connection->buffer.size() > 0 || !connection->stream.socket().is_open()) return;
  connection->stream.expires_never();
  pool.Give(key, std::move(connection));
}

// The upstream's answer, whose header has been read: a relay after 101, or the status and
// headers with the body streamed behind them.
asio::awaitable<Response> Respond(std::shared_ptr<Connection> connection, const Request& request, bool websocket,
                                  std::shared_ptr<ReverseProxy::Pool> pool, ReverseProxy::Pool::Key key,
                                  const ProxyOptions& options, ForwardOutcome& outcome) {
  outcome = ForwardOutcome::kFailed;
  auto& parser = *connection->parser;
  const auto& header = parser.get().base();
  Response response;
  response.status = header.result_int();
  if (response.status == 101) {
    if (!websocket) co_return BadGateway("the upstream server switched protocols unasked");
    CopyResponseHeaders(header, response.headers, /*keep_all=*/true);
    response.upgrade = [connection, options](http::UpgradedConnection& client) {
      return Relay(connection, client, options);
    };
    outcome = ForwardOutcome::kAnswered;
    co_return response;
  }
  CopyResponseHeaders(header, response.headers, /*keep_all=*/false);
  bool reusable = parser.get().keep_alive() && !websocket;
  if (parser.is_done()) {
    auto length = parser.content_length();
    if (request.method == "HEAD" && length) {
      response.content_length = *length;
      response.stream = [](http::ResponseStream&) -> asio::awaitable<void> { co_return; };
    }
    if (reusable) Release(std::move(connection), *pool, key);
    outcome = ForwardOutcome::kAnswered;
    co_return response;
  }
  auto length = parser.content_length();
  if (length && *length <= options.buffer_bytes) {
    // A short body is read whole and answered in one write (the common case of API calls).
    response.body.resize(*length);
    parser.get().body().data = response.body.data();
    parser.get().body().size = response.body.size();
    connection->stream.expires_after(options.response_timeout);
    auto [ec, n] = co_await bhttp::async_read(connection->stream, connection->buffer, parser, kNoThrow);
    if (ec == beast::error::timeout) {
      outcome = ForwardOutcome::kTimedOut;
      co_return GatewayTimeout();
    }
    if (ec && ec != bhttp::error::need_buffer) co_return BadGateway("the upstream server sent no valid answer");
    if (reusable) Release(std::move(connection), *pool, key);
    outcome = ForwardOutcome::kAnswered;
    co_return response;
  }
  if (length) response.content_length = *length;
  response.stream = [connection, pool, key, reusable, buffer_bytes = options.buffer_bytes,
                     timeout = options.response_timeout](http::ResponseStream& out) -> asio::awaitable<void> {
    auto& parser = *connection->parser;
    auto length = parser.content_length();
    std::vector<char> buffer(length ? std::clamp<std::uint64_t>(*length, 1, buffer_bytes) : buffer_bytes);
    for (;;) {
      parser.get().body().data = buffer.data();
      parser.get().body().size = buffer.size();
      connection->stream.expires_after(timeout);
      auto [ec, n] = co_await bhttp::async_read(connection->stream, connection->buffer, parser, kNoThrow);
      if (ec == bhttp::error::need_buffer) ec = {};
      std::size_t got = buffer.size() - parser.get().body().size;
      bool done = !ec && parser.is_done();
      // Released before the last bytes go out: the next request may use it (and its parser) at once.
      if (done && reusable) Release(connection, *pool, key);
      if (got && !co_await out.Write(std::string_view(buffer.data(), got))) co_return;
      if (done || ec) co_return;  // ec: the upstream failed mid-body, the client sees the body cut short
    }
  };
  outcome = ForwardOutcome::kAnswered;
  co_return response;
}

// True when a read of a response header failed because the upstream closed or reset the connection.
bool ConnectionEnded(const boost::system::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
}

}  // namespace

asio::awaitable<Response> ReverseProxy::Forward(Request& request, const Upstream& upstream, std::string target,
                                                ForwardOutcome* outcome) {
  ForwardOutcome ignored_outcome;
  ForwardOutcome& result = outcome ? *outcome : ignored_outcome;
  result = ForwardOutcome::kNotAnswered;
  auto executor = co_await asio::this_coro::executor;
  Pool::Key key{&asio::query(executor, asio::execution::context), upstream.host, upstream.port};
  bool websocket = IsWebSocketUpgrade(request);
  Framing framing = RequestFraming(request);
  std::string head = RequestHead(request, target, upstream, options_, framing, websocket);
  // A pooled connection the upstream closed just as it was taken fails before any answer; the
  // request is then sent again on a new connection, if no body was consumed from a stream.
  std::shared_ptr<Connection> connection;
  for (int attempt = 0;; ++attempt) {
    connection = attempt == 0 && !websocket ? pool_->Take(key) : nullptr;
    bool pooled = connection != nullptr;
    if (!pooled) {
      auto connected = co_await Connect(upstream, options_.connect_timeout);
      if (auto* error = std::get_if<Response>(&connected)) co_return std::move(*error);
      connection = std::make_shared<Connection>(std::move(std::get<tcp::socket>(connected)));
    }
    connection->stream.expires_after(options_.response_timeout);
    auto [ec, n] = co_await asio::async_write(connection->stream, asio::buffer(head), kNoThrow);
    bool retry = pooled && (framing == Framing::kNone || !request.body_stream);
    if (ec && retry) continue;
    if (ec) co_return BadGateway("the upstream server closed the connection");
    if (framing != Framing::kNone) {
      if (auto failed = co_await SendBody(*connection, request, framing, options_)) {
        bool upstream_closed = failed->status == 502;  // else the client's body failed
        if (upstream_closed && retry) continue;
        if (!upstream_closed) result = ForwardOutcome::kFailed;
        co_return std::move(*failed);
      }
    }
    // Informational answers (100, 103) are skipped; 101 ends the exchange.
    for (;;) {
      connection->parser.emplace();
      connection->parser->body_limit(boost::none);
      if (request.method == "HEAD") connection->parser->skip(true);
      connection->stream.expires_after(options_.response_timeout);
      auto [rec, rn] = co_await bhttp::async_read_header(connection->stream, connection->buffer, *connection->parser,
                                                         kNoThrow);
      if (rec == beast::error::timeout) {
        result = ForwardOutcome::kTimedOut;
        co_return GatewayTimeout();
      }
      if (rec && retry && ConnectionEnded(rec)) break;
      if (rec && ConnectionEnded(rec)) co_return BadGateway("the upstream server closed the connection without answering");
      if (rec) {
        result = ForwardOutcome::kFailed;
        co_return BadGateway("the upstream server sent no valid answer");
      }
      int status = connection->parser->get().result_int();
      if (status >= 200 || status == 101)
        co_return co_await Respond(std::move(connection), request, websocket, pool_, key, options_, result);
    }
  }
}

}  // namespace paddlecloud::reverse_proxy
