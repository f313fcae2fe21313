#include "http/server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <cstring>
#include <ctime>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/url/parse.hpp>
#include <spdlog/spdlog.h>

#include "http/client_address.h"
#include "http/json.h"

namespace paddlecloud::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);

namespace {

// "Sun, 29 Nov 2026 04:10:00 GMT", recomputed at most once a second per thread.
const std::string& HttpDate() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    cached = buf;
  }
  return cached;
}

// Splits "HOST:PORT" / "[v6]:PORT".
Result<tcp::endpoint> ResolveListen(const std::string& listen) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos) return Err(Status::InvalidArgument("listen address must be HOST:PORT"));
  std::string host = listen.substr(0, colon);
  std::string port_text = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    port = std::stoul(port_text);
  } catch (...) {
    return Err(Status::InvalidArgument("listen port '" + port_text + "' is not a number"));
  }
  if (port > 65535) return Err(Status::InvalidArgument("listen port must be 0..65535"));
  if (host.empty() || host == "*") host = "0.0.0.0";
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) return Err(Status::InvalidArgument("listen host '" + host + "' must be an IP address or localhost"));
  return tcp::endpoint(address, static_cast<unsigned short>(port));
}

// Percent-decodes the origin-form target into path and query; rejects what routing must never see.
Status ParseTarget(std::string_view target, Request& request) {
  if (target.empty() || target.front() != '/')
    return Status::InvalidArgument("request target must be an absolute path");
  auto parsed = boost::urls::parse_origin_form(target);
  if (!parsed) return Status::InvalidArgument("request target is not a valid URL path");
  if (parsed->encoded_path().find("%00") != std::string_view::npos)
    return Status::InvalidArgument("request path must not contain NUL");
  request.path = parsed->path();
  if (request.path.find('\0') != std::string::npos) return Status::InvalidArgument("request path must not contain NUL");
  for (auto segment : parsed->segments()) {
    if (segment == "..") return Status::InvalidArgument("request path must not contain '..' segments");
  }
  for (auto param : parsed->params()) request.query[std::string(param.key)] = std::string(param.value);
  return Status::Ok();
}

bool WellFormedRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  return true;
}

std::string NewRequestId() {
  thread_local std::uint64_t state = [] {
    std::uint64_t seed = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    return seed ^ (std::hash<std::thread::id>()(std::this_thread::get_id()) << 1) ^ 0x9e3779b97f4a7c15ull;
  }();
  // splitmix64: unique enough for correlating log lines (not a secret).
  state += 0x9e3779b97f4a7c15ull;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(z));
  return buf;
}

// A warning for a condition that can repeat on every accept (a full fd table, a client over its
// connection cap): logged at most once per interval, with how often it happened meanwhile.
class ThrottledWarning {
 public:
  explicit ThrottledWarning(std::chrono::seconds interval) : interval_(interval) {}
  void Note(std::string_view message) {
    std::lock_guard lock(mutex_);
    ++count_;
    auto now = std::chrono::steady_clock::now();
    if (logged_once_ && now - last_ < interval_) return;
    spdlog::warn("{} ({} time(s) since the last report; reported at most every {}s)", message, count_,
                 interval_.count());
    logged_once_ = true;
    last_ = now;
    count_ = 0;
  }

 private:
  std::chrono::seconds interval_;
  std::mutex mutex_;  // guards logged_once_, last_ and count_
  bool logged_once_ = false;
  std::chrono::steady_clock::time_point last_;
  std::uint64_t count_ = 0;
};

// The Transfer-Encoding rules of RFC 9112 §6.1/§6.3 this server supports: none, or exactly
// `chunked` and no Content-Length. Anything else could be framed differently by a proxy in front.
template <typename Fields>
Status CheckFraming(const Fields& header) {
  auto codings = header.equal_range(bhttp::field::transfer_encoding);
  if (codings.first == codings.second) return Status::Ok();
  if (header.count(bhttp::field::content_length) > 0)
    return Status::InvalidArgument("a request must not carry both Transfer-Encoding and Content-Length",
                                   "Transfer-Encoding");
  std::string_view value = codings.first->value();
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  if (std::next(codings.first) != codings.second || !beast::iequals(value, "chunked"))
    return Status::InvalidArgument("unsupported Transfer-Encoding: only a single 'chunked' is accepted",
                                   "Transfer-Encoding");
  return Status::Ok();
}

}  // namespace

struct ConnectionState {
  asio::any_io_executor executor;
  std::atomic<bool> idle{true};
  std::function<void()> close = [] {};  // run on `executor`
  std::string client;                   // TCP peer address, for the per-client cap
};

struct HttpServer::Impl {
  HttpServerOptions options;
  const Router& router;
  std::vector<Middleware> middleware;
  Handler chain;  // middleware composed around Dispatch

  // One single-threaded io_context per I/O thread: a connection lives on one of them, so its
  // operations never need a strand. io is the first; it also runs the acceptor and timers.
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  asio::io_context& io;
  std::size_t next_context = 0;
  std::unique_ptr<asio::ssl::context> ssl;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::string bound;
  std::atomic<bool> stopping{false};
  std::unique_ptr<asio::steady_timer> shutdown_deadline;

  mutable std::mutex connections_mutex;  // guards connections, next_connection_id and connections_per_client
  std::unordered_map<std::uint64_t, std::shared_ptr<ConnectionState>> connections;
  std::uint64_t next_connection_id = 0;
  std::unordered_map<std::string, std::size_t> connections_per_client;
  TrustedProxies trusted_proxies;
  ThrottledWarning accept_failures{std::chrono::seconds(10)};
  ThrottledWarning over_limit{std::chrono::seconds(10)};

  Impl(HttpServerOptions o, const Router& r)
      : options(std::move(o)), router(r), contexts(MakeContexts(std::max(1, options.io_threads))), io(*contexts[0]) {}

  static std::vector<std::unique_ptr<asio::io_context>> MakeContexts(int n) {
    std::vector<std::unique_ptr<asio::io_context>> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(std::make_unique<asio::io_context>(1));
      // Creates the context's reactor (it needs descriptors) now rather than at its first accepted
      // socket, which may come when the descriptor table is full.
      tcp::socket warm_up(*out.back());
    }
    return out;
  }
  void StopAll() {
    for (auto& c : contexts) c->stop();
  }

  void BuildChain();
  asio::awaitable<void> Accept();
  void RefuseOverLimit(int fd);  // answers 503 where it can; the caller closes
  // The session loop of one connection: request after request until either side closes.
  template <typename Stream>
  asio::awaitable<void> Serve(Stream& stream, std::shared_ptr<ConnectionState> state, std::string remote, bool tls,
                              std::string client_fingerprint);
  template <typename Stream>
  asio::awaitable<bool> WriteResponse(Stream& stream, Response& response, bool head, bool keep_alive);

  // The steps of Serve. A step answering false (or nullopt) means: close the connection (after
  // answering why, when the client can still read it).
  using HeaderParser = bhttp::request_parser<bhttp::empty_body>;
  struct Handled {
    Response response;
    bool body_consumed = true;  // false: unread body bytes remain, the connection cannot be reused
  };
  template <typename Stream>
  asio::awaitable<bool> WaitForRequest(Stream& stream, ConnectionState& state, beast::flat_buffer& buffer, bool first);
  template <typename Stream>
  asio::awaitable<bool> ReadHeader(Stream& stream, beast::flat_buffer& buffer, HeaderParser& parser);
  Request RequestOf(const HeaderParser::value_type& header, const std::string& remote, bool tls,
                    const std::string& client_fingerprint) const;
  const RouteOptions* MatchRoute(Request& request) const;
  template <typename Stream>
  asio::awaitable<std::optional<Handled>> HandleStreaming(Stream& stream, beast::flat_buffer& buffer,
                                                          HeaderParser& header_parser, Request& request);
  template <typename Stream>
  asio::awaitable<std::optional<Handled>> HandleWholeBody(Stream& stream, beast::flat_buffer& buffer,
                                                          HeaderParser& header_parser, Request& request,
                                                          const RouteOptions* route);
  template <typename Stream>
  asio::awaitable<bool> ReadBody(Stream& stream, beast::flat_buffer& buffer, HeaderParser& header_parser,
                                 Request& request, std::uint64_t limit);
  template <typename Stream>
  asio::awaitable<bool> SendContinue(Stream& stream, const Request& request);
  template <typename Stream>
  asio::awaitable<void> Reject(Stream& stream, const Status& status);

  // Counts the connection in, or says which cap it is over (then it is not counted).
  Result<std::uint64_t> Register(std::shared_ptr<ConnectionState> state) {
    std::lock_guard lock(connections_mutex);
    if (options.max_connections && connections.size() >= options.max_connections)
      return Err(Status::Unavailable("the server has " + std::to_string(connections.size()) +
                                     " connections open (max_connections)"));
    std::size_t& per_client = connections_per_client[state->client];
    if (options.max_connections_per_client && per_client >= options.max_connections_per_client)
      return Err(Status::Unavailable("client " + state->client + " has " + std::to_string(per_client) +
                                     " connections open (max_connections_per_client)"));
    ++per_client;
    auto id = next_connection_id++;
    connections.emplace(id, std::move(state));
    return id;
  }
  void Unregister(std::uint64_t id) {
    bool drained;
    {
      std::lock_guard lock(connections_mutex);
      auto it = connections.find(id);
      auto per_client = connections_per_client.find(it->second->client);
      if (--per_client->second == 0) connections_per_client.erase(per_client);
      connections.erase(it);
      drained = connections.empty();
    }
    if (drained && stopping) asio::post(io, [this] { FinishIfDrained(); });
  }
  void FinishIfDrained() {
    std::lock_guard lock(connections_mutex);
    if (connections.empty() && stopping) StopAll();
  }
  void CloseConnections(bool only_idle) {
    std::lock_guard lock(connections_mutex);
    for (auto& [id, state] : connections) {
      asio::post(state->executor, [state, only_idle] {
        if (!only_idle || state->idle) state->close();
      });
    }
  }
};

// Streaming request body over a Beast parser.
template <typename Stream>
class ParserBodyStream final : public BodyStream {
 public:
  ParserBodyStream(Stream& stream, beast::flat_buffer& buffer, bhttp::request_parser<bhttp::buffer_body>& parser,
                   const HttpServerOptions& options)
      : stream_(stream), buffer_(buffer), parser_(parser), timeout_(options.body_timeout),
        min_rate_(options.min_body_rate), window_(options.min_body_rate_window), credit_(window_),
        rate_timer_(stream.get_executor()) {
    // A body of known length is read straight from the socket into the caller's buffer: no copy
    // through the parser, and reads as large as the caller asks for (uploads run at disk speed).
    if (auto length = parser_.content_length(); length && !parser_.chunked()) direct_remaining_ = *length;
  }

  asio::awaitable<Result<std::size_t>> Read(char* data, std::size_t size) override {
    if (direct_remaining_) {
      std::uint64_t& remaining = *direct_remaining_;
      if (remaining == 0 || failed_) co_return std::size_t{0};
      size = static_cast<std::size_t>(std::min<std::uint64_t>(size, remaining));
      std::size_t n = std::min(size, buffer_.size());
      if (n > 0) {  // bytes that arrived together with the header
        std::memcpy(data, buffer_.data().data(), n);
        buffer_.consume(n);
      } else {
        auto deadline = StartWait();
        auto [ec, got] = co_await stream_.async_read_some(asio::buffer(data, size), kNoThrow);
        if (ec) co_return Fail(ec, deadline);
        n = got;
        Earn(deadline, n);
      }
      remaining -= n;
      co_return n;
    }
    while (!parser_.is_done()) {
      parser_.get().body().data = data;
      parser_.get().body().size = size;
      auto deadline = StartWait();
      auto [ec, n] = co_await bhttp::async_read_some(stream_, buffer_, parser_, kNoThrow);
      if (ec == bhttp::error::need_buffer) ec = {};
      if (ec) co_return Fail(ec, deadline);
      std::size_t got = size - parser_.get().body().size;
      Earn(deadline, got);
      if (got > 0) co_return got;
    }
    co_return 0;
  }
  std::optional<std::uint64_t> content_length() const override {
    auto len = parser_.content_length();
    if (!len) return std::nullopt;
    return *len;
  }
  bool finished() const {
    if (direct_remaining_) return *direct_remaining_ == 0 && !failed_;
    return parser_.is_done() && !failed_;
  }

 private:
  Stream& stream_;
  beast::flat_buffer& buffer_;
  bhttp::request_parser<bhttp::buffer_body>& parser_;
  using Clock = std::chrono::steady_clock;
  struct Wait {
    Clock::time_point started;
    bool rate_bound;  // the deadline is the end of the client's credit, not body_timeout
  };

  // Arms the socket deadline for one read: body_timeout, or sooner when the client's credit of
  // waiting time (see HttpServerOptions::min_body_rate) runs out first.
  // The credit deadline cancels the read rather than closing the socket, so the client still gets
  // an answer saying why.
  Wait StartWait() {
    Wait wait{Clock::now(), min_rate_ > 0 && credit_ < timeout_};
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    if (wait.rate_bound) {
      rate_timer_.expires_after(std::max(credit_, Clock::duration(1)));
      rate_timer_.async_wait([this, generation = ++wait_generation_](const boost::system::error_code& ec) {
        if (ec || generation != wait_generation_) return;
        rate_expired_ = true;
        boost::system::error_code ignored;
        beast::get_lowest_layer(stream_).socket().cancel(ignored);
      });
    }
    return wait;
  }
  // Charges the time waited, and credits 1/min_rate s per byte, capped at one window.
  void Earn(const Wait& wait, std::size_t bytes) {
    if (min_rate_ == 0) return;
    if (wait.rate_bound) {
      ++wait_generation_;
      rate_timer_.cancel();
    }
    auto earned = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(double(bytes) / double(min_rate_)));
    credit_ = std::min<Clock::duration>(window_, credit_ - (Clock::now() - wait.started) + earned);
  }
  Result<std::size_t> Fail(const boost::system::error_code& ec, const Wait& wait) {
    failed_ = true;
    ++wait_generation_;
    rate_timer_.cancel();
    if (rate_expired_ && wait.rate_bound)
      return Err(Status::InvalidArgument("the request body arrived slower than the minimum of " + std::to_string(min_rate_) +
                                         " bytes/s (min_body_rate)"));
    return Err(Status::InvalidArgument("reading the request body failed: " + ec.message()));
  }

  std::chrono::milliseconds timeout_;
  std::uint64_t min_rate_;
  Clock::duration window_;
  Clock::duration credit_;
  asio::steady_timer rate_timer_;
  std::uint64_t wait_generation_ = 0;
  bool rate_expired_ = false;
  bool failed_ = false;
  std::optional<std::uint64_t> direct_remaining_;
};

template <typename Stream>
class SerializerStream final : public ResponseStream {
 public:
  SerializerStream(Stream& stream, bhttp::response<bhttp::buffer_body>& response,
                   bhttp::response_serializer<bhttp::buffer_body>& serializer, const HttpServer::Impl& server,
                   std::chrono::milliseconds timeout)
      : stream_(stream), response_(response), serializer_(serializer), server_(server), timeout_(timeout) {}

  asio::awaitable<bool> Write(std::string_view chunk) override {
    if (failed_) co_return false;
    if (chunk.empty()) co_return true;
    response_.body().data = const_cast<char*>(chunk.data());
    response_.body().size = chunk.size();
    response_.body().more = true;
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    auto [ec, n] = co_await bhttp::async_write(stream_, serializer_, kNoThrow);
    if (ec == bhttp::error::need_buffer) ec = {};
    if (ec) failed_ = true;
    written_ += chunk.size();
    co_return !failed_;
  }
  bool stopping() const override { return server_.stopping.load(); }
  asio::awaitable<bool> Finish() {
    if (failed_) co_return false;
    response_.body().data = nullptr;
    response_.body().size = 0;
    response_.body().more = false;
    beast::get_lowest_layer(stream_).expires_after(timeout_);
    auto [ec, n] = co_await bhttp::async_write(stream_, serializer_, kNoThrow);
    if (ec == bhttp::error::need_buffer) ec = {};
    co_return !ec;
  }
  std::uint64_t written() const { return written_; }

 private:
  Stream& stream_;
  bhttp::response<bhttp::buffer_body>& response_;
  bhttp::response_serializer<bhttp::buffer_body>& serializer_;
  const HttpServer::Impl& server_;
  std::chrono::milliseconds timeout_;
  bool failed_ = false;
  std::uint64_t written_ = 0;
};

// The connection handed to a Response::upgrade coroutine: bytes already read past the request
// header come first.
template <typename Stream>
class UpgradedStream final : public UpgradedConnection {
 public:
  UpgradedStream(Stream& stream, beast::flat_buffer& buffer, const HttpServer::Impl& server)
      : stream_(stream), buffer_(buffer), server_(server) {
    beast::get_lowest_layer(stream_).expires_never();
  }

  asio::awaitable<Result<std::size_t>> ReadSome(char* data, std::size_t size) override {
    if (closed_) co_return std::size_t{0};
    if (buffer_.size() > 0) {
      std::size_t n = asio::buffer_copy(asio::buffer(data, size), buffer_.data());
      buffer_.consume(n);
      co_return n;
    }
    auto [ec, n] = co_await stream_.async_read_some(asio::buffer(data, size), kNoThrow);
    if (ec == asio::error::eof || ec == asio::error::operation_aborted) co_return std::size_t{0};
    if (ec) co_return Err(Status::Unavailable("client connection: " + ec.message()));
    co_return n;
  }
  asio::awaitable<bool> Write(std::string_view bytes) override {
    if (closed_) co_return false;
    auto [ec, n] = co_await asio::async_write(stream_, asio::buffer(bytes.data(), bytes.size()), kNoThrow);
    co_return !ec;
  }
  void Close() override {
    closed_ = true;
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream_).socket().cancel(ignored);
  }
  bool stopping() const override { return server_.stopping.load(); }

 private:
  Stream& stream_;
  beast::flat_buffer& buffer_;
  const HttpServer::Impl& server_;
  bool closed_ = false;
};

namespace {

template <typename Fields>
void CopyHeaders(const Headers& from, Fields& to) {
  for (const auto& [name, value] : from.fields()) to.insert(name, value);
  to.set(bhttp::field::date, HttpDate());
}

// The status line and header fields of a response whose body is `body_size` bytes, rendered by hand:
// much cheaper than Beast's serializer for the small JSON answers that dominate.
std::string RenderHeader(const Response& response, std::uint64_t body_size, bool keep_alive) {
  std::string header;
  header.reserve(512);
  header.append("HTTP/1.1 ").append(std::to_string(response.status)).append(" ");
  header.append(bhttp::obsolete_reason(static_cast<bhttp::status>(response.status)));
  header.append("\r\n");
  bool switching = response.status == 101;  // keeps its Connection: Upgrade and has no body
  for (const auto& [name, value] : response.headers.fields()) {
    if (beast::iequals(name, "Content-Length") || (beast::iequals(name, "Connection") && !switching)) continue;
    if (value.find_first_of("\r\n") != std::string::npos || name.find_first_of(":\r\n ") != std::string::npos) {
      spdlog::error("dropped malformed response header {}", name);  // never split a response
      continue;
    }
    header.append(name).append(": ").append(value).append("\r\n");
  }
  header.append("Date: ").append(HttpDate()).append("\r\n");
  if (response.status >= 200 && response.status != 204 && response.status != 304)
    header.append("Content-Length: ").append(std::to_string(body_size)).append("\r\n");
  if (!keep_alive && !switching) header.append("Connection: close\r\n");
  header.append("\r\n");
  return header;
}

// Sends `length` bytes of `fd` from `offset`: sendfile() on a plain TCP socket, read + write
// through TLS.
template <typename Stream>
asio::awaitable<bool> SendFileBody(Stream& stream, int fd, std::uint64_t offset, std::uint64_t length,
                                   std::chrono::milliseconds timeout) {
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    auto& socket = stream.socket();
    boost::system::error_code ec;
    socket.native_non_blocking(true, ec);
    if (ec) co_return false;
    off_t position = static_cast<off_t>(offset);
    std::uint64_t remaining = length;
    while (remaining > 0) {
      ssize_t n = ::sendfile(socket.native_handle(), fd, &position, std::min<std::uint64_t>(remaining, 1 << 30));
      if (n > 0) {
        remaining -= static_cast<std::uint64_t>(n);
        continue;
      }
      if (n == 0) co_return false;  // the file shrank under us
      if (errno == EINTR) continue;
      if (errno != EAGAIN) co_return false;
      asio::steady_timer deadline(socket.get_executor(), timeout);
      deadline.async_wait([&socket](const boost::system::error_code& e) {
        if (!e) socket.cancel();  // a client that stopped reading
      });
      auto [wait_ec] = co_await socket.async_wait(tcp::socket::wait_write, kNoThrow);
      deadline.cancel();
      if (wait_ec) co_return false;
    }
    co_return true;
  } else {
    std::string buffer(256 * 1024, '\0');
    while (length > 0) {
      ssize_t n = ::pread(fd, buffer.data(), std::min<std::uint64_t>(buffer.size(), length), static_cast<off_t>(offset));
      if (n <= 0) co_return false;
      beast::get_lowest_layer(stream).expires_after(timeout);
      auto [ec, written] = co_await asio::async_write(stream, asio::buffer(buffer.data(), static_cast<std::size_t>(n)), kNoThrow);
      if (ec) co_return false;
      offset += static_cast<std::uint64_t>(n);
      length -= static_cast<std::uint64_t>(n);
    }
    co_return true;
  }
}

// The HTTP version, the body's framing and the target: what must be understood before anything
// else is read. Parses the target into `request`.
Status CheckRequestHead(const bhttp::request_parser<bhttp::empty_body>::value_type& header, Request& request) {
  if (header.version() != 11 && header.version() != 10) return Status::InvalidArgument("unsupported HTTP version");
  PC_RETURN_IF_ERROR(CheckFraming(header));
  return ParseTarget(request.target, request);
}

// Why a whole body could not be read (the client is still there to read it).
Status BodyReadError(const boost::system::error_code& ec, std::uint64_t limit) {
  if (ec == bhttp::error::body_limit)
    return Status::PayloadTooLarge("request body is over the limit of " + std::to_string(limit) + " bytes");
  if (ec == beast::error::timeout) return Status::InvalidArgument("request body did not arrive within the body timeout");
  return Status::InvalidArgument("malformed request body: " + ec.message());
}

asio::awaitable<Response> Dispatch(const Router& router, Request& request) {
  if (request.handler) co_return co_await (*request.handler)(request);
  auto match = router.Match(request.method, request.path);
  if (match.outcome == Router::Outcome::kMethodNotAllowed) {
    Response r = ErrorResponse(Status::Of(Code::kMethodNotAllowed, "method " + request.method +
                                                                        " is not allowed here; allowed: " + match.allow));
    r.headers.Set("Allow", match.allow);
    co_return r;
  }
  if (match.outcome == Router::Outcome::kNotFound) {
    co_return ErrorResponse(Status::NotFound("no such route: " + request.method + " " + request.path));
  }
  request.path_params = std::move(match.params);
  co_return co_await (*match.handler)(request);
}

}  // namespace

void HttpServer::Impl::BuildChain() {
  Handler inner = [this](Request& request) -> asio::awaitable<Response> {
    // The exception barrier: nothing a handler throws reaches the client beyond a generic 500.
    try {
      co_return co_await Dispatch(router, request);
    } catch (const std::exception& e) {
      spdlog::error("request {} {} {} failed: {}", request.request_id, request.method, request.path, e.what());
    } catch (...) {
      spdlog::error("request {} {} {} failed with a non-standard exception", request.request_id, request.method,
                    request.path);
    }
    co_return ErrorResponse(Status::Internal("handler threw"));
  };
  for (auto it = middleware.rbegin(); it != middleware.rend(); ++it) {
    inner = [mw = *it, next = std::move(inner)](Request& request) -> asio::awaitable<Response> {
      co_return co_await mw(request, next);
    };
  }
  chain = std::move(inner);
}

template <typename Stream>
asio::awaitable<bool> HttpServer::Impl::WriteResponse(Stream& stream, Response& response, bool head, bool keep_alive) {
  auto& lowest = beast::get_lowest_layer(stream);
  if (response.stream) {
    bhttp::response<bhttp::buffer_body> res{static_cast<bhttp::status>(response.status), 11};
    CopyHeaders(response.headers, res);
    res.keep_alive(keep_alive);
    if (response.content_length) res.content_length(*response.content_length);
    else if (!head) res.chunked(true);
    res.body().data = nullptr;
    res.body().more = !head;
    bhttp::response_serializer<bhttp::buffer_body> serializer{res};
    lowest.expires_after(options.body_timeout);
    auto [ec, n] = co_await bhttp::async_write_header(stream, serializer, kNoThrow);
    if (ec) co_return false;
    if (head) co_return true;
    SerializerStream<Stream> writer(stream, res, serializer, *this, options.body_timeout);
    co_await response.stream(writer);
    bool ok = co_await writer.Finish();
    // A producer that stopped short of its announced length leaves the message incomplete.
    if (response.content_length && writer.written() != *response.content_length) co_return false;
    co_return ok;
  }
  if (response.file_fd >= 0 && response.content_length) {
    // Corked, the header leaves in the same full-sized segments as the file's first bytes (as
    // nginx's tcp_nopush does).
    auto cork = [&lowest](int on) {
      ::setsockopt(lowest.socket().native_handle(), IPPROTO_TCP, TCP_CORK, &on, sizeof on);
    };
    cork(1);
    std::string header = RenderHeader(response, *response.content_length, keep_alive);
    lowest.expires_after(options.body_timeout);
    auto [ec, n] = co_await asio::async_write(stream, asio::buffer(header), kNoThrow);
    bool sent = !ec && (head || response.status == 304 ||
                        co_await SendFileBody(stream, response.file_fd, response.file_offset,
                                              *response.content_length, options.body_timeout));
    cork(0);
    co_return sent;
  }
  std::string header = RenderHeader(response, response.body.size(), keep_alive);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(header),
                                            head ? asio::const_buffer() : asio::buffer(response.body)};
  lowest.expires_after(options.body_timeout);
  auto [ec, n] = co_await asio::async_write(stream, buffers, kNoThrow);
  co_return !ec;
}

template <typename Stream>
asio::awaitable<void> HttpServer::Impl::Serve(Stream& stream, std::shared_ptr<ConnectionState> state,
                                              std::string remote, bool tls, std::string client_fingerprint) {
  beast::flat_buffer buffer;
  for (bool first = true;; first = false) {
    if (!co_await WaitForRequest(stream, *state, buffer, first)) co_return;
    HeaderParser header_parser;
    if (!co_await ReadHeader(stream, buffer, header_parser)) co_return;
    const auto& header = header_parser.get();
    Request request = RequestOf(header, remote, tls, client_fingerprint);
    bool keep_alive = header.keep_alive();
    // The body's extent or the target is not understood: never read on (the connection cannot be reused).
    if (Status valid = CheckRequestHead(header, request); !valid.ok()) {
      co_await Reject(stream, valid);
      co_return;
    }
    const RouteOptions* route = MatchRoute(request);
    std::optional<Handled> handled;
    if (route && route->streaming_body) handled = co_await HandleStreaming(stream, buffer, header_parser, request);
    else handled = co_await HandleWholeBody(stream, buffer, header_parser, request, route);
    if (!handled) co_return;
    bool reuse = keep_alive && handled->body_consumed && !stopping;
    if (!co_await WriteResponse(stream, handled->response, request.method == "HEAD", reuse)) co_return;
    if (handled->response.status == 101 && handled->response.upgrade) {
      UpgradedStream<Stream> upgraded(stream, buffer, *this);
      co_await handled->response.upgrade(upgraded);
      co_return;
    }
    if (!reuse) co_return;
  }
}

// The idle period of a keep-alive connection: waits for the first byte of the next request.
template <typename Stream>
asio::awaitable<bool> HttpServer::Impl::WaitForRequest(Stream& stream, ConnectionState& state,
                                                       beast::flat_buffer& buffer, bool first) {
  if (buffer.size() == 0) {
    state.idle = true;
    if (stopping) co_return false;
    beast::get_lowest_layer(stream).expires_after(first ? options.header_timeout : options.idle_timeout);
    auto [ec, n] = co_await stream.async_read_some(buffer.prepare(4096), kNoThrow);
    if (ec) co_return false;
    buffer.commit(n);
  }
  state.idle = false;
  co_return true;
}

template <typename Stream>
asio::awaitable<bool> HttpServer::Impl::ReadHeader(Stream& stream, beast::flat_buffer& buffer, HeaderParser& parser) {
  parser.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
  parser.body_limit(boost::none);
  beast::get_lowest_layer(stream).expires_after(options.header_timeout);
  auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, kNoThrow);
  if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::operation_aborted ||
      ec == asio::error::connection_reset || ec == asio::error::eof) {
    co_return false;
  }
  if (ec == bhttp::error::header_limit) {
    co_await Reject(stream, Status::Of(Code::kInvalidArgument, "request header is larger than " +
                                                                   std::to_string(options.max_header_bytes) + " bytes"));
    co_return false;
  }
  if (ec) {
    co_await Reject(stream, Status::InvalidArgument("malformed request: " + ec.message()));
    co_return false;
  }
  co_return true;
}

Request HttpServer::Impl::RequestOf(const HeaderParser::value_type& header, const std::string& remote, bool tls,
                                    const std::string& client_fingerprint) const {
  Request request;
  request.received_at = std::chrono::steady_clock::now();
  request.method = std::string(header.method_string());
  request.target = std::string(header.target());
  request.tls = tls;
  request.client_certificate_fingerprint = client_fingerprint;
  for (const auto& field : header) request.headers.Add(std::string(field.name_string()), std::string(field.value()));
  request.remote_address = trusted_proxies.empty() ? remote : trusted_proxies.ClientAddress(remote, request.headers);
  auto incoming_id = request.headers.Get("X-Request-Id");
  request.request_id = incoming_id && WellFormedRequestId(*incoming_id) ? std::string(*incoming_id) : NewRequestId();
  return request;
}

// Finds the request's route (the chain dispatches to it); its options, or null for no route.
const RouteOptions* HttpServer::Impl::MatchRoute(Request& request) const {
  auto match = router.Match(request.method, request.path);
  if (match.route) {
    request.route = match.route->pattern;
    request.public_route = match.route->options.public_access;
  }
  if (match.outcome == Router::Outcome::kFound) {
    request.handler = match.handler;
    request.path_params = std::move(match.params);
  }
  return match.route ? &match.route->options : nullptr;
}

// The handler reads the body as it goes (Request::body_stream).
template <typename Stream>
asio::awaitable<std::optional<HttpServer::Impl::Handled>> HttpServer::Impl::HandleStreaming(
    Stream& stream, beast::flat_buffer& buffer, HeaderParser& header_parser, Request& request) {
  if (!co_await SendContinue(stream, request)) co_return std::nullopt;
  bhttp::request_parser<bhttp::buffer_body> body_parser{std::move(header_parser)};
  body_parser.body_limit(boost::none);
  ParserBodyStream<Stream> body(stream, buffer, body_parser, options);
  request.body_stream = &body;
  Response response = co_await chain(request);
  request.body_stream = nullptr;
  co_return Handled{std::move(response), body.finished()};
}

// The body is read whole (up to the route's limit) before the handler runs.
template <typename Stream>
asio::awaitable<std::optional<HttpServer::Impl::Handled>> HttpServer::Impl::HandleWholeBody(
    Stream& stream, beast::flat_buffer& buffer, HeaderParser& header_parser, Request& request,
    const RouteOptions* route) {
  std::uint64_t limit = route && route->max_body_bytes ? route->max_body_bytes : options.max_body_bytes;
  if (!co_await ReadBody(stream, buffer, header_parser, request, limit)) co_return std::nullopt;
  Response response = co_await chain(request);
  co_return Handled{std::move(response), true};
}

template <typename Stream>
asio::awaitable<bool> HttpServer::Impl::ReadBody(Stream& stream, beast::flat_buffer& buffer,
                                                 HeaderParser& header_parser, Request& request, std::uint64_t limit) {
  auto declared = header_parser.content_length();
  if (declared && *declared > limit) {
    co_await Reject(stream, Status::PayloadTooLarge("request body of " + std::to_string(*declared) +
                                                    " bytes is over the limit of " + std::to_string(limit) + " bytes"));
    co_return false;
  }
  if (header_parser.is_done()) co_return true;
  if (!co_await SendContinue(stream, request)) co_return false;
  bhttp::request_parser<bhttp::string_body> body_parser{std::move(header_parser)};
  body_parser.body_limit(limit);
  beast::get_lowest_layer(stream).expires_after(options.body_timeout);
  auto [ec, n] = co_await bhttp::async_read(stream, buffer, body_parser, kNoThrow);
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof) co_return false;
  if (ec) {
    co_await Reject(stream, BodyReadError(ec, limit));
    co_return false;
  }
  request.body = std::move(body_parser.get().body());
  co_return true;
}

// Answers "100 Continue" when the client waits for it before sending the body.
template <typename Stream>
asio::awaitable<bool> HttpServer::Impl::SendContinue(Stream& stream, const Request& request) {
  auto expect = request.headers.Get("Expect");
  if (!expect || !beast::iequals(*expect, "100-continue")) co_return true;
  bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
  beast::get_lowest_layer(stream).expires_after(options.body_timeout);
  auto [ec, n] = co_await bhttp::async_write(stream, cont, kNoThrow);
  co_return !ec;
}

// Answers a request that could not be handled, saying the connection closes.
template <typename Stream>
asio::awaitable<void> HttpServer::Impl::Reject(Stream& stream, const Status& status) {
  Response r = ErrorResponse(status);
  for (const auto& [name, value] : options.rejection_headers) r.headers.Add(name, value);
  r.headers.Set("Connection", "close");
  co_await WriteResponse(stream, r, false, false);
}

void HttpServer::Impl::RefuseOverLimit(int fd) {
  // Best effort without waiting: a plain-HTTP client reads why; a TLS client just sees the close.
  static const std::string kBody =
      R"({"error":{"code":"unavailable","message":"too many connections; retry shortly"}})";
  static const std::string kReply = "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                                    "Content-Type: application/json\r\nContent-Length: " +
                                    std::to_string(kBody.size()) + "\r\nConnection: close\r\n\r\n" + kBody;
  if (!ssl) (void)::send(fd, kReply.data(), kReply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  ::shutdown(fd, SHUT_WR);
  // Consume what the request already delivered, so the close does not reset the 503 away.
  char scratch[4096];
  for (int i = 0; i < 16 && ::recv(fd, scratch, sizeof scratch, MSG_DONTWAIT) > 0; ++i) {}
}

asio::awaitable<void> HttpServer::Impl::Accept() {
  while (!stopping) {
    asio::io_context& target = *contexts[next_context++ % contexts.size()];
    auto [ec, socket] = co_await acceptor->async_accept(target, kNoThrow);
    if (ec) {
      if (stopping || ec == asio::error::operation_aborted) co_return;
      // EMFILE and friends: pause so a full fd table does not spin the loop, and log once in a while.
      accept_failures.Note("accept failed: " + ec.message());
      asio::steady_timer pause(io, std::chrono::milliseconds(50));
      co_await pause.async_wait(kNoThrow);
      continue;
    }
    boost::system::error_code rec;
    auto peer = socket.remote_endpoint(rec);
    auto state = std::make_shared<ConnectionState>();
    state->client = rec ? "" : peer.address().to_string();
    state->executor = socket.get_executor();
    auto id = Register(state);
    if (!id) {
      over_limit.Note("refusing connections: " + id.error().message());
      RefuseOverLimit(socket.native_handle());
      socket.close(rec);
      continue;
    }
    socket.set_option(tcp::no_delay(true), rec);
    auto executor = socket.get_executor();
    asio::co_spawn(
        executor,
        [this, socket = std::move(socket), state, id = *id]() mutable -> asio::awaitable<void> {
          const std::string& remote = state->client;
          beast::tcp_stream tcp_stream(std::move(socket));
          auto close_on = [](beast::tcp_stream& s) {
            return [&s] {
              boost::system::error_code ignored;
              s.socket().shutdown(tcp::socket::shutdown_both, ignored);
              s.socket().close(ignored);
            };
          };
          state->close = close_on(tcp_stream);
          try {
            if (ssl) {
              beast::ssl_stream<beast::tcp_stream> tls_stream(std::move(tcp_stream), *ssl);
              state->close = close_on(beast::get_lowest_layer(tls_stream));
              beast::get_lowest_layer(tls_stream).expires_after(options.header_timeout);
              auto [ec] = co_await tls_stream.async_handshake(asio::ssl::stream_base::server, kNoThrow);
              if (!ec) {
                std::string serial;
                if (options.client_certificate_fingerprint)
                  serial = options.client_certificate_fingerprint(tls_stream.native_handle());
                co_await Serve(tls_stream, state, remote, true, serial);
                beast::get_lowest_layer(tls_stream).expires_after(std::chrono::seconds(2));
                co_await tls_stream.async_shutdown(kNoThrow);
              }
              state->close = [] {};
            } else {
              co_await Serve(tcp_stream, state, remote, false, "");
              boost::system::error_code ignored;
              tcp_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
            }
          } catch (const std::exception& e) {
            spdlog::error("connection from {} failed: {}", remote, e.what());
          }
          state->close = [] {};
          Unregister(id);
        },
        asio::detached);
  }
}

HttpServer::HttpServer(HttpServerOptions options, const Router& router)
    : impl_(std::make_unique<Impl>(std::move(options), router)) {}

HttpServer::~HttpServer() = default;

void HttpServer::Use(Middleware middleware) { impl_->middleware.push_back(std::move(middleware)); }

Status HttpServer::Start() {
  auto endpoint = ResolveListen(impl_->options.listen);
  if (!endpoint) return endpoint.error();
  if (!impl_->options.tls_cert_file.empty()) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(impl_->options.tls_cert_file, ec);
    if (ec) return Status::InvalidArgument("cannot load TLS certificate '" + impl_->options.tls_cert_file + "': " + ec.message(), "tls_cert");
    ctx->use_private_key_file(impl_->options.tls_key_file, asio::ssl::context::pem, ec);
    if (ec) return Status::InvalidArgument("cannot load TLS key '" + impl_->options.tls_key_file + "': " + ec.message(), "tls_key");
    if (impl_->options.configure_tls) {
      Status configured = impl_->options.configure_tls(ctx->native_handle());
      if (!configured.ok()) return configured;
    }
    impl_->ssl = std::move(ctx);
  }
  auto acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  boost::system::error_code ec;
  acceptor->open(endpoint->protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor->bind(*endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::Unavailable("cannot listen on " + impl_->options.listen + ": " + ec.message());
  auto local = acceptor->local_endpoint();
  std::string host = local.address().to_string();
  impl_->bound = (local.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(local.port());
  impl_->acceptor = std::move(acceptor);
  auto proxies = TrustedProxies::Parse(impl_->options.trusted_proxies);
  if (!proxies) return proxies.error();
  impl_->trusted_proxies = std::move(*proxies);
  impl_->BuildChain();
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  return Status::Ok();
}

std::string HttpServer::bound_address() const { return impl_->bound; }
bool HttpServer::tls() const { return impl_->ssl != nullptr; }
asio::io_context& HttpServer::io() { return impl_->io; }
bool HttpServer::stopping() const { return impl_->stopping; }

std::size_t HttpServer::connection_count() const {
  std::lock_guard lock(impl_->connections_mutex);
  return impl_->connections.size();
}

void HttpServer::Run() {
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  for (auto& c : impl_->contexts) work.push_back(asio::make_work_guard(*c));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl_->contexts.size(); ++i)
    threads.emplace_back([c = impl_->contexts[i].get()] { c->run(); });
  impl_->io.run();
  for (auto& t : threads) t.join();
}

void HttpServer::Shutdown() {
  asio::post(impl_->io, [impl = impl_.get()] {
    if (impl->stopping.exchange(true)) return;
    boost::system::error_code ignored;
    if (impl->acceptor) impl->acceptor->close(ignored);
    impl->CloseConnections(/*only_idle=*/true);
    impl->shutdown_deadline = std::make_unique<asio::steady_timer>(impl->io, impl->options.shutdown_timeout);
    impl->shutdown_deadline->async_wait([impl](boost::system::error_code ec) {
      if (ec) return;
      spdlog::warn("shutdown deadline passed with {} connection(s) open; closing them", impl->connections.size());
      impl->CloseConnections(/*only_idle=*/false);
      impl->StopAll();
    });
    impl->FinishIfDrained();
  });
}

}  // namespace paddlecloud::http
