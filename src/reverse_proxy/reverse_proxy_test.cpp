#include "reverse_proxy/reverse_proxy.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/json.hpp>

#include "http/json.h"
#include "http/server.h"
#include "reverse_proxy/test_servers.h"
#include "testing/http_client.h"

namespace paddlecloud::reverse_proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using namespace std::chrono_literals;
using http::Request;
using http::Response;

class ReverseProxyTest : public ::testing::Test {
 protected:
  void StartProxy(ProxyOptions options = {}) {
    options.private_cookies = {"pc_session", "pc_notebook"};
    proxy_ = std::make_unique<ReverseProxy>(options);
    AddCatchAll(front_.router, [this](Request& r) -> asio::awaitable<Response> {
      co_return co_await proxy_->Forward(r, upstream_, r.target);
    });
    front_.Start();
  }
  boost::json::object Json(const testing::HttpReply& reply) { return boost::json::parse(reply.body).as_object(); }

  // The proxy's pooled sockets belong to the front's I/O contexts: the front stops first, the proxy
  // goes, then the front's contexts.
  ~ReverseProxyTest() override { front_.Stop(); }

  EchoUpstream echo_;
  Upstream upstream_{"127.0.0.1", echo_.port(), "jupyter-token"};
  TestServer front_;
  std::unique_ptr<ReverseProxy> proxy_;
};

TEST_F(ReverseProxyTest, ForwardsMethodPathAndHeadersAsAReverseProxy) {
  StartProxy();
  auto reply = testing::Request(front_.address(), "POST", "/echo/a%20b?x=1", "hello",
                                "Origin: http://localhost:9\r\nAuthorization: Bearer pct_platform\r\n"
                                "Cookie: pc_session=secret; _xsrf=abc; pc_notebook=s2\r\n"
                                "Keep-Alive: timeout=5\r\nX-Custom: yes\r\nConnection: keep-alive, X-Custom\r\n"
                                "X-Forwarded-For: 6.6.6.6\r\nProxy-Authorization: Basic eA==\r\n");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  auto echo = Json(*reply);
  EXPECT_EQ(echo["method"], "POST");
  EXPECT_EQ(echo["target"], "/echo/a%20b?x=1");
  EXPECT_EQ(echo["body"], "hello");
  auto& h = echo["headers"].as_object();
  EXPECT_EQ(h["host"].as_string(), front_.address());  // testing::Request's Host, unchanged
  EXPECT_EQ(h["origin"], "http://localhost:9");
  EXPECT_EQ(h["authorization"], "token jupyter-token");
  EXPECT_EQ(h["cookie"], "_xsrf=abc");
  EXPECT_EQ(h["x-forwarded-for"], "127.0.0.1");
  EXPECT_EQ(h["x-forwarded-proto"], "http");
  EXPECT_EQ(h["x-forwarded-host"].as_string(), front_.address());
  EXPECT_FALSE(h.contains("keep-alive"));
  EXPECT_FALSE(h.contains("x-custom"));  // named by Connection: hop-by-hop
  EXPECT_FALSE(h.contains("proxy-authorization"));
  EXPECT_EQ(reply->header("x-upstream"), "echo");
  EXPECT_TRUE(reply->header("keep-alive").empty());  // the upstream's hop-by-hop field stays behind
}

TEST_F(ReverseProxyTest, OnlyPlatformCookiesAreRemoved) {
  StartProxy();
  auto reply = testing::Request(front_.address(), "GET", "/echo/", "", "Cookie: pc_session=secret\r\n");
  ASSERT_TRUE(reply);
  auto echo = Json(*reply);
  EXPECT_FALSE(echo["headers"].as_object().contains("cookie"));
}

TEST_F(ReverseProxyTest, LargeUploadIsStreamedWithLengthOrChunked) {
  StartProxy();
  std::string body(8 * 1024 * 1024, '\0');
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>(i * 13);
    sum += static_cast<unsigned char>(body[i]);
  }
  auto reply = testing::Request(front_.address(), "PUT", "/count", body, "Expect: 100-continue\r\n");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  EXPECT_EQ(Json(*reply)["bytes"], body.size());
  EXPECT_EQ(Json(*reply)["sum"], sum);
  EXPECT_EQ(Json(*reply)["chunked"], false);

  testing::RawConnection c(front_.address());
  std::string chunk(100'000, 'z');
  ASSERT_TRUE(c.Send("PUT /count HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"));
  for (int i = 0; i < 30; ++i) ASSERT_TRUE(c.Send("186a0\r\n" + chunk + "\r\n"));
  ASSERT_TRUE(c.Send("0\r\n\r\n"));
  auto chunked = c.ReadReply();
  ASSERT_TRUE(chunked);
  EXPECT_EQ(Json(*chunked)["bytes"], 3'000'000);
  EXPECT_EQ(Json(*chunked)["chunked"], true);
}

TEST_F(ReverseProxyTest, LargeDownloadIsStreamedBack) {
  StartProxy();
  auto reply = testing::Request(front_.address(), "GET", "/big?bytes=6000000");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200);
  ASSERT_EQ(reply->body.size(), 6'000'000u);
  for (std::size_t i = 0; i < reply->body.size(); i += 4099) ASSERT_EQ(reply->body[i], static_cast<char>(i % 251));
  auto sized = testing::Request(front_.address(), "GET", "/big?bytes=3000000&sized=1");
  ASSERT_TRUE(sized);
  EXPECT_EQ(sized->header("content-length"), "3000000");
  EXPECT_EQ(sized->body.size(), 3'000'000u);
}

TEST_F(ReverseProxyTest, HeadAndNoContentKeepTheirFraming) {
  StartProxy();
  testing::RawConnection c(front_.address());
  ASSERT_TRUE(c.Send("HEAD /big?bytes=1234&sized=1 HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto head = c.ReadReply(10s, /*head_request=*/true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "1234");
  ASSERT_TRUE(c.Send("DELETE /echo/x HTTP/1.1\r\nHost: x\r\n\r\n"));
  auto deleted = c.ReadReply();
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 204);
}

TEST_F(ReverseProxyTest, UpstreamConnectionsAreReused) {
  StartProxy();
  for (int i = 0; i < 5; ++i) {
    auto reply = testing::Request(front_.address(), "GET", "/echo/");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
  }
  EXPECT_EQ(proxy_->idle_connections(), 1u);
  EXPECT_EQ(echo_.server().connection_count(), 1u);
}

// An idle pooled connection is watched: when the upstream closes it, it leaves the pool at once
// (nothing is checked when one is taken).
TEST_F(ReverseProxyTest, IdleConnectionTheUpstreamClosesLeavesThePool) {
  StartProxy();
  ASSERT_EQ(testing::Request(front_.address(), "GET", "/echo/")->status, 200);
  ASSERT_EQ(proxy_->idle_connections(), 1u);
  echo_.server().Shutdown();  // closes its idle connections
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (proxy_->idle_connections() != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);  // polling a condition, with a deadline
  EXPECT_EQ(proxy_->idle_connections(), 0u);
}

TEST_F(ReverseProxyTest, UpstreamDownIs502InTheErrorShape) {
  upstream_.port = UnusedPort();
  StartProxy();
  auto reply = testing::Request(front_.address(), "GET", "/echo/");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 502);
  EXPECT_EQ(Json(*reply)["error"].as_object()["code"], "bad_gateway");
  // The front keeps serving.
  EXPECT_EQ(testing::Request(front_.address(), "GET", "/echo/")->status, 502);
}

TEST_F(ReverseProxyTest, SlowUpstreamIs504) {
  ProxyOptions options;
  options.response_timeout = 200ms;
  StartProxy(options);
  auto reply = testing::Request(front_.address(), "GET", "/slow");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 504);
  EXPECT_EQ(Json(*reply)["error"].as_object()["code"], "gateway_timeout");
}

TEST_F(ReverseProxyTest, WebSocketEchoesThroughTheProxy) {
  WebSocketEchoUpstream ws;
  upstream_.port = ws.port();
  StartProxy();
  auto client = WebSocketClient::Connect(front_.address(), "127.0.0.1:1", "http://127.0.0.1:1");
  ASSERT_TRUE(client.ok()) << client.error;
  EXPECT_EQ(client.Echo("hello kernel"), "hello kernel");
  std::string big(300'000, 'k');  // larger than the relay's buffers
  EXPECT_EQ(client.Echo(big), big);
  auto seen = ws.last_handshake();
  EXPECT_EQ(seen["authorization"], "token jupyter-token");
  EXPECT_EQ(seen["host"], "127.0.0.1:1");
  EXPECT_EQ(seen["origin"], "http://127.0.0.1:1");
}

TEST_F(ReverseProxyTest, WebSocketFromAnotherOriginReachesTheUpstreamUnchangedAndItRefuses) {
  WebSocketEchoUpstream ws;
  upstream_.port = ws.port();
  StartProxy();
  auto client = WebSocketClient::Connect(front_.address(), "127.0.0.1:1", "http://evil.example");
  EXPECT_FALSE(client.ok());
  EXPECT_EQ(client.status, 403);
  EXPECT_EQ(ws.last_handshake()["origin"], "http://evil.example");
}

TEST_F(ReverseProxyTest, IdleWebSocketIsClosed) {
  WebSocketEchoUpstream ws;
  upstream_.port = ws.port();
  ProxyOptions options;
  options.websocket_idle_timeout = 300ms;
  StartProxy(options);
  auto client = WebSocketClient::Connect(front_.address(), "127.0.0.1:1", "http://127.0.0.1:1");
  ASSERT_TRUE(client.ok()) << client.error;
  EXPECT_TRUE(client.WaitClosed(5s));
}

// Answers the first request of each connection (GET /status/<code>: that status, else 200 with the
// body) and closes the connection when the next request on it has arrived, without answering it:
// what an upstream that drops an idle kept-alive connection looks like to the request sent on it.
class OneAnswerPerConnectionUpstream {
 public:
  OneAnswerPerConnectionUpstream() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, Accept(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~OneAnswerPerConnectionUpstream() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int requests() const { return requests_; }

 private:
  asio::awaitable<void> Accept() {
    for (;;) {
      auto socket = co_await acceptor_.async_accept(asio::use_awaitable);
      asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
    }
  }
  asio::awaitable<void> Serve(asio::ip::tcp::socket socket) {
    namespace bhttp = beast::http;
    try {
      beast::flat_buffer buffer;
      bhttp::request<bhttp::string_body> request;
      co_await bhttp::async_read(socket, buffer, request, asio::use_awaitable);
      ++requests_;
      std::string target(request.target());
      int status = target.starts_with("/status/") ? std::stoi(target.substr(8)) : 200;
      bhttp::response<bhttp::string_body> response{static_cast<bhttp::status>(status), 11};
      response.body() = status == 200 ? request.body() : "the upstream's own answer";
      response.keep_alive(true);
      response.prepare_payload();
      co_await bhttp::async_write(socket, response, asio::use_awaitable);
      bhttp::request<bhttp::string_body> next;
      co_await bhttp::async_read(socket, buffer, next, asio::use_awaitable);
      ++requests_;
    } catch (const std::exception&) {
    }
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> requests_{0};
};

// A route whose body is read whole, forwarding with the outcome in X-Outcome.
void AddBufferedRoute(TestServer& front, std::unique_ptr<ReverseProxy>& proxy, const Upstream& upstream) {
  for (const char* method : {"GET", "POST"})
    front.router.Add(method, "/buffered/{rest...}", "buffered", [&proxy, &upstream](Request& r) -> asio::awaitable<Response> {
      ForwardOutcome outcome = ForwardOutcome::kFailed;
      Response response = co_await proxy->Forward(r, upstream, "/" + std::string(r.PathParam("rest")), &outcome);
      response.headers.Set("X-Outcome", std::to_string(static_cast<int>(outcome)));
      co_return response;
    }, http::RouteOptions::Public());
}

TEST_F(ReverseProxyTest, ABufferedRequestOnAPooledConnectionTheUpstreamDroppedIsSentAgain) {
  OneAnswerPerConnectionUpstream upstream;
  upstream_.port = upstream.port();
  AddBufferedRoute(front_, proxy_, upstream_);
  StartProxy();
  for (std::string body : {"first", "second", "third"}) {
    auto reply = testing::Request(front_.address(), "POST", "/buffered/infer", body);
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << reply->body;
    EXPECT_EQ(reply->body, body);
    EXPECT_EQ(reply->header("x-outcome"), std::to_string(static_cast<int>(ForwardOutcome::kAnswered)));
  }
}

TEST_F(ReverseProxyTest, ForwardTellsTheUpstreamsOwnErrorFromOneItMade) {
  OneAnswerPerConnectionUpstream upstream;
  upstream_.port = upstream.port();
  AddBufferedRoute(front_, proxy_, upstream_);
  ProxyOptions options;
  options.response_timeout = 200ms;
  StartProxy(options);
  auto own = testing::Request(front_.address(), "GET", "/buffered/status/502");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 502);
  EXPECT_EQ(own->body, "the upstream's own answer");
  EXPECT_EQ(own->header("x-outcome"), std::to_string(static_cast<int>(ForwardOutcome::kAnswered)));

  Upstream slow{"127.0.0.1", echo_.port(), ""};
  upstream_ = slow;
  auto late = testing::Request(front_.address(), "GET", "/buffered/slow");
  ASSERT_TRUE(late);
  EXPECT_EQ(late->status, 504);
  EXPECT_EQ(late->header("x-outcome"), std::to_string(static_cast<int>(ForwardOutcome::kTimedOut)));

  upstream_.port = UnusedPort();
  auto down = testing::Request(front_.address(), "GET", "/buffered/x");
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 502);
  EXPECT_EQ(down->header("x-outcome"), std::to_string(static_cast<int>(ForwardOutcome::kNotAnswered)));
}

}  // namespace
}  // namespace paddlecloud::reverse_proxy
