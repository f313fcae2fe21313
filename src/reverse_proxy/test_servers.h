// Test helpers for the proxy: an HttpServer on its own thread, an HTTP upstream that echoes what
// reached it, a WebSocket echo upstream (refusing another Origin as Jupyter does) and a blocking
// WebSocket client. Real sockets on 127.0.0.1, port 0.
#pragma once

#include <poll.h>

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "http/json.h"
#include "http/server.h"

namespace paddlecloud::reverse_proxy {

namespace test_asio = boost::asio;
namespace test_beast = boost::beast;

// Routes every method of every path to `handler` (streaming bodies).
inline void AddCatchAll(http::Router& router, http::Handler handler) {
  for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    http::RouteOptions options = http::RouteOptions::Streaming();
    options.public_access = true;
    router.Add(method, "/{rest...}", "proxied", handler, options);
  }
}

class TestServer {
 public:
  http::Router router;
  void Start(http::HttpServerOptions options = {}) {
    if (options.listen == "127.0.0.1:8080") options.listen = "127.0.0.1:0";
    server_ = std::make_unique<http::HttpServer>(options, router);
    Status s = server_->Start();
    if (!s.ok()) std::abort();
    thread_ = std::thread([this] { server_->Run(); });
  }
  // Stops serving; the server (and its I/O contexts) lives on until destroyed.
  void Stop() {
    if (thread_.joinable()) {
      server_->Shutdown();
      thread_.join();
    }
  }
  ~TestServer() { Stop(); }
  std::string address() const { return server_->bound_address(); }
  std::uint16_t port() const { return static_cast<std::uint16_t>(std::stoi(address().substr(address().rfind(':') + 1))); }
  http::HttpServer& server() { return *server_; }

 private:
  std::unique_ptr<http::HttpServer> server_;
  std::thread thread_;
};

// /echo/... and /user/...: the method, target, headers and body as JSON (DELETE: 204); PUT /count: the body's
// size and byte sum, read in pieces; GET /big?bytes=N[&sized=1]: N bytes (i % 251) streamed;
// GET /slow: answers after 1 s.
class EchoUpstream {
 public:
  EchoUpstream() {
    using http::Request;
    using http::Response;
    for (const char* method : {"GET", "POST", "PUT", "DELETE"}) for (const char* pattern : {"/echo/{rest...}", "/user/{rest...}"}) {
      server_.router.Add(method, pattern, "echo", [](Request& r) -> test_asio::awaitable<Response> {
        if (r.method == "DELETE") co_return Response{.status = 204};
        std::string body;
        char buffer[4096];
        for (;;) {
          auto n = co_await r.body_stream->Read(buffer, sizeof buffer);
          if (!n || *n == 0) break;
          body.append(buffer, *n);
        }
        boost::json::object headers;
        for (const auto& [name, value] : r.headers.fields()) {
          std::string lower = name;
          for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          headers[lower] = value;
        }
        Response response = http::JsonResponse(
            200, {{"method", r.method}, {"target", r.target}, {"headers", headers}, {"body", body}});
        response.headers.Add("X-Upstream", "echo");
        response.headers.Add("Keep-Alive", "timeout=5");
        co_return response;
      }, Streaming());
    }
    server_.router.Add("PUT", "/count", "count", [](Request& r) -> test_asio::awaitable<Response> {
      std::uint64_t bytes = 0, sum = 0;
      char buffer[8192];
      for (;;) {
        auto n = co_await r.body_stream->Read(buffer, sizeof buffer);
        if (!n) co_return http::ErrorResponse(n.error());
        if (*n == 0) break;
        for (std::size_t i = 0; i < *n; ++i) sum += static_cast<unsigned char>(buffer[i]);
        bytes += *n;
      }
      co_return http::JsonResponse(200, {{"bytes", bytes}, {"sum", sum}, {"chunked", r.headers.Has("Transfer-Encoding")}});
    }, Streaming());
    server_.router.Add("GET", "/big", "big", [](Request& r) -> test_asio::awaitable<Response> {
      std::uint64_t total = std::stoull(std::string(r.Query("bytes").value_or("0")));
      Response response;
      if (r.Query("sized")) response.content_length = total;
      response.stream = [total](http::ResponseStream& out) -> test_asio::awaitable<void> {
        std::string chunk;
        for (std::uint64_t at = 0; at < total;) {
          chunk.clear();
          for (; chunk.size() < 65536 && at < total; ++at) chunk.push_back(static_cast<char>(at % 251));
          if (!co_await out.Write(chunk)) co_return;
        }
      };
      co_return response;
    }, Streaming());
    server_.router.Add("GET", "/slow", "slow", [](Request&) -> test_asio::awaitable<Response> {
      test_asio::steady_timer timer(co_await test_asio::this_coro::executor, std::chrono::seconds(1));
      co_await timer.async_wait(test_asio::use_awaitable);
      co_return http::Response::Text(200, "late");
    }, Streaming());
    server_.Start();
  }
  std::uint16_t port() const { return server_.port(); }
  http::HttpServer& server() { return server_.server(); }

 private:
  static http::RouteOptions Streaming() {
    http::RouteOptions options = http::RouteOptions::Streaming();
    options.public_access = true;
    return options;
  }
  TestServer server_;
};

inline std::uint16_t UnusedPort() {
  test_asio::io_context io;
  test_asio::ip::tcp::acceptor acceptor(io, {test_asio::ip::make_address("127.0.0.1"), 0});
  return acceptor.local_endpoint().port();
}

// Accepts WebSockets and echoes each message; answers 403 when Origin's host is not Host (as
// Jupyter does). Records the headers of the last handshake.
class WebSocketEchoUpstream {
 public:
  WebSocketEchoUpstream() : acceptor_(io_, {test_asio::ip::make_address("127.0.0.1"), 0}) {
    test_asio::co_spawn(io_, Accept(), test_asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~WebSocketEchoUpstream() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::map<std::string, std::string> last_handshake() {
    std::lock_guard lock(mutex_);
    return handshake_;
  }

 private:
  test_asio::awaitable<void> Accept() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(test_asio::use_awaitable);
      test_asio::co_spawn(io_, Serve(std::move(socket)), test_asio::detached);
    }
  }
  test_asio::awaitable<void> Serve(test_asio::ip::tcp::socket socket) {
    namespace bhttp = test_beast::http;
    try {
      test_beast::flat_buffer buffer;
      bhttp::request<bhttp::string_body> request;
      co_await bhttp::async_read(socket, buffer, request, test_asio::use_awaitable);
      std::string origin(request[bhttp::field::origin]), host(request[bhttp::field::host]);
      {
        std::lock_guard lock(mutex_);
        handshake_.clear();
        for (const auto& f : request) {
          std::string name(f.name_string());
          for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          handshake_[name] = std::string(f.value());
        }
      }
      if (origin.substr(origin.find("://") + 3) != host) {
        bhttp::response<bhttp::string_body> refused{bhttp::status::forbidden, 11};
        refused.body() = "cross-origin WebSocket refused";
        refused.prepare_payload();
        co_await bhttp::async_write(socket, refused, test_asio::use_awaitable);
        co_return;
      }
      test_beast::websocket::stream<test_asio::ip::tcp::socket> ws(std::move(socket));
      co_await ws.async_accept(request, test_asio::use_awaitable);
      for (;;) {
        test_beast::flat_buffer message;
        co_await ws.async_read(message, test_asio::use_awaitable);
        ws.text(ws.got_text());
        co_await ws.async_write(message.data(), test_asio::use_awaitable);
      }
    } catch (const std::exception&) {
    }
  }

  test_asio::io_context io_;
  test_asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, std::string> handshake_;
};

// A blocking WebSocket client.
class WebSocketClient {
 public:
  static WebSocketClient Connect(const std::string& address, const std::string& host, const std::string& origin,
                                 const std::string& target = "/ws", const std::string& cookie = "") {
    WebSocketClient client;
    auto colon = address.rfind(':');
    test_asio::ip::tcp::endpoint endpoint(test_asio::ip::make_address(address.substr(0, colon)),
                                          static_cast<std::uint16_t>(std::stoi(address.substr(colon + 1))));
    boost::system::error_code ec;
    client.ws_->next_layer().connect(endpoint, ec);
    if (ec) {
      client.error = ec.message();
      return client;
    }
    client.ws_->set_option(test_beast::websocket::stream_base::decorator(
        [origin, cookie](test_beast::websocket::request_type& request) {
          request.set(test_beast::http::field::origin, origin);
          if (!cookie.empty()) request.set(test_beast::http::field::cookie, cookie);
        }));
    test_beast::websocket::response_type response;
    client.ws_->handshake(response, host, target, ec);
    client.status = response.result_int();
    if (ec) client.error = ec.message();
    return client;
  }
  bool ok() const { return error.empty(); }
  std::string Echo(const std::string& message) {
    boost::system::error_code ec;
    ws_->write(test_asio::buffer(message), ec);
    if (ec) return "write failed: " + ec.message();
    test_beast::flat_buffer buffer;
    ws_->read(buffer, ec);
    if (ec) return "read failed: " + ec.message();
    return test_beast::buffers_to_string(buffer.data());
  }
  // True when the connection closes before the deadline.
  bool WaitClosed(std::chrono::milliseconds timeout) {
    pollfd p{ws_->next_layer().native_handle(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
    boost::system::error_code ec;
    test_beast::flat_buffer buffer;
    ws_->read(buffer, ec);
    return static_cast<bool>(ec);
  }

  std::string error;
  int status = 0;

 private:
  WebSocketClient() : io_(std::make_unique<test_asio::io_context>()),
                      ws_(std::make_unique<test_beast::websocket::stream<test_asio::ip::tcp::socket>>(*io_)) {}
  std::unique_ptr<test_asio::io_context> io_;
  std::unique_ptr<test_beast::websocket::stream<test_asio::ip::tcp::socket>> ws_;
};

}  // namespace paddlecloud::reverse_proxy
