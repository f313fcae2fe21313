#include "http/server.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "http/json.h"
#include "http/sse.h"
#include "http/static_files.h"
#include "testing/http_client.h"
#include "testing/server_process.h"

namespace paddlecloud::http {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using testing::RawConnection;

// An in-process server with test routes, running on its own thread.
class ServerTest : public ::testing::Test {
 protected:
  void StartServer(HttpServerOptions options = {}) {
    options.listen = "127.0.0.1:0";
    options.io_threads = 2;
    server_ = std::make_unique<HttpServer>(options, router_);
    for (auto& m : middleware_) server_->Use(m);
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    address_ = server_->bound_address();
    thread_ = std::thread([this] { server_->Run(); });
  }
  void TearDown() override {
    if (server_) {
      server_->Shutdown();
      thread_.join();
    }
  }
  void AddEcho() {
    router_.Add("POST", "/echo", "test", [](Request& r) -> asio::awaitable<Response> {
      co_return Response::Text(200, r.body);
    });
  }

  Router router_;
  std::vector<Middleware> middleware_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  std::string address_;
};

TEST_F(ServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  router_.Add("GET", "/hello/{name}", "test", [](Request& r) -> asio::awaitable<Response> {
    co_return JsonResponse(200, {{"hello", r.PathParam("name")}, {"q", r.Query("q").value_or("")}});
  });
  StartServer();
  RawConnection c(address_);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(c.Send("GET /hello/w%20orld?q=a%2Bb HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto reply = c.ReadReply();
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
    EXPECT_EQ(reply->body, R"({"hello":"w orld","q":"a+b"})");
    EXPECT_FALSE(reply->header("date").empty());
  }
}

TEST_F(ServerTest, MethodNotAllowedCarriesAllow) {
  AddEcho();
  StartServer();
  auto reply = testing::Request(address_, "GET", "/echo");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 405);
  EXPECT_EQ(reply->header("allow"), "POST");
  EXPECT_NE(reply->body.find("\"code\":\"method_not_allowed\""), std::string::npos);
}

TEST_F(ServerTest, BodyOverTheLimitIs413WithoutReadingIt) {
  AddEcho();
  HttpServerOptions o;
  o.max_body_bytes = 1024;
  StartServer(o);
  auto reply = testing::Request(address_, "POST", "/echo", std::string(2048, 'x'));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_NE(reply->body.find("payload_too_large"), std::string::npos);
  // Chunked bodies have no declared length: the limit applies while reading.
  RawConnection c(address_);
  std::string chunk(1000, 'y');
  char size[16];
  std::snprintf(size, sizeof size, "%zx", chunk.size());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
  c.Send(std::string(size) + "\r\n" + chunk + "\r\n" + size + "\r\n" + chunk + "\r\n0\r\n\r\n");
  auto chunked = c.ReadReply();
  ASSERT_TRUE(chunked);
  EXPECT_EQ(chunked->status, 413);
  // And the server still serves.
  auto ok = testing::Request(address_, "POST", "/echo", "small");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->body, "small");
}

TEST_F(ServerTest, StreamingRouteReadsABodyFarOverTheWholeBodyLimit) {
  router_.Add("PUT", "/upload", "test",
      [](Request& r) -> asio::awaitable<Response> {
        std::uint64_t total = 0, sum = 0;
        char buf[8192];
        while (true) {
          auto n = co_await r.body_stream->Read(buf, sizeof buf);
          if (!n) co_return ErrorResponse(n.error());
          if (*n == 0) break;
          for (std::size_t i = 0; i < *n; ++i) sum += static_cast<unsigned char>(buf[i]);
          total += *n;
        }
        co_return JsonResponse(200, {{"bytes", total}, {"sum", sum}});
      },
      RouteOptions::Streaming());
  HttpServerOptions o;
  o.max_body_bytes = 1024;
  StartServer(o);
  std::string body(5 * 1024 * 1024, '\0');
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>(i * 7);
    sum += static_cast<unsigned char>(body[i]);
  }
  auto reply = testing::Request(address_, "PUT", "/upload", body, "Expect: 100-continue\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "{\"bytes\":5242880,\"sum\":" + std::to_string(sum) + "}");
}

TEST_F(ServerTest, ThrowingHandlerGives500WithoutInternals) {
  router_.Add("GET", "/boom", "test", [](Request&) -> asio::awaitable<Response> {
    throw std::runtime_error("password=hunter2 in /secret/place");
    co_return Response::Text(200, "");
  });
  StartServer();
  auto reply = testing::Request(address_, "GET", "/boom");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 500);
  EXPECT_EQ(reply->body.find("hunter2"), std::string::npos);
  EXPECT_NE(reply->body.find("\"code\":\"internal\""), std::string::npos);
}

TEST_F(ServerTest, MiddlewareWrapsInOrder) {
  router_.Add("GET", "/x", "test", [](Request& r) -> asio::awaitable<Response> {
    co_return Response::Text(200, std::string(r.headers.Get("X-Trace").value_or("")));
  });
  middleware_.push_back([](Request& r, const Handler& next) -> asio::awaitable<Response> {
    r.headers.Set("X-Trace", "outer");
    Response resp = co_await next(r);
    resp.headers.Set("X-Outer", "1");
    co_return resp;
  });
  middleware_.push_back([](Request& r, const Handler& next) -> asio::awaitable<Response> {
    r.headers.Set("X-Trace", std::string(r.headers.Get("X-Trace").value_or("")) + ">inner");
    co_return co_await next(r);
  });
  StartServer();
  auto reply = testing::Request(address_, "GET", "/x");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "outer>inner");
  EXPECT_EQ(reply->header("x-outer"), "1");
}

TEST_F(ServerTest, ServerSentEventsStreamChunked) {
  router_.Add("GET", "/events", "test", [](Request&) -> asio::awaitable<Response> {
    co_return SseResponse([](SseWriter& w) -> asio::awaitable<void> {
      for (int i = 0; i < 3; ++i)
        if (!co_await w.Send("tick", "n=" + std::to_string(i) + "\nline2", std::to_string(i))) co_return;
    });
  });
  StartServer();
  auto reply = testing::Request(address_, "GET", "/events");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header("content-type"), "text/event-stream");
  EXPECT_EQ(reply->header("transfer-encoding"), "chunked");
  EXPECT_EQ(reply->body,
            "retry: 3000\n\n"
            "id: 0\nevent: tick\ndata: n=0\ndata: line2\n\n"
            "id: 1\nevent: tick\ndata: n=1\ndata: line2\n\n"
            "id: 2\nevent: tick\ndata: n=2\ndata: line2\n\n");
}

TEST_F(ServerTest, FileStreamWithRangeAndHead) {
  testing::TempDir dir;
  std::string content;
  for (int i = 0; i < 300000; ++i) content += static_cast<char>('a' + i % 26);
  std::ofstream(dir.path() + "/index.html") << "<html>app</html>";
  std::ofstream(dir.path() + "/big.txt") << content;
  blocking::WorkPool pool(2);
  router_.SetFallback(MakeWebAppHandler(MakeDirectoryAssetSource(dir.path()), pool));
  StartServer();

  auto whole = testing::Request(address_, "GET", "/big.txt");
  ASSERT_TRUE(whole);
  EXPECT_EQ(whole->status, 200);
  EXPECT_EQ(whole->body, content);
  EXPECT_EQ(whole->header("content-type"), "text/plain; charset=utf-8");

  auto part = testing::Request(address_, "GET", "/big.txt", "", "Range: bytes=299990-\r\n");
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, content.substr(299990));
  EXPECT_EQ(part->header("content-range"), "bytes 299990-299999/300000");

  auto bad = testing::Request(address_, "GET", "/big.txt", "", "Range: bytes=400000-\r\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 416);
  EXPECT_EQ(bad->header("content-range"), "bytes */300000");

  auto head = testing::Request(address_, "HEAD", "/big.txt");
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), "300000");

  auto cached = testing::Request(address_, "GET", "/big.txt", "", "If-None-Match: " + whole->header("etag") + "\r\n");
  ASSERT_TRUE(cached);
  EXPECT_EQ(cached->status, 304);

  auto deep = testing::Request(address_, "GET", "/jobs/some-job");
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->status, 200);
  EXPECT_EQ(deep->body, "<html>app</html>");
  EXPECT_EQ(deep->header("cache-control"), "no-cache");

  auto missing_file = testing::Request(address_, "GET", "/missing.js");
  ASSERT_TRUE(missing_file);
  EXPECT_EQ(missing_file->status, 404);
  auto api = testing::Request(address_, "GET", "/api/v1/nope");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 404);
  EXPECT_NE(api->body.find("not_found"), std::string::npos);
}

TEST_F(ServerTest, SlowHeaderClientIsDisconnectedWhileOthersAreServed) {
  router_.Add("GET", "/ok", "test", [](Request&) -> asio::awaitable<Response> { co_return Response::Text(200, "ok"); });
  HttpServerOptions o;
  o.header_timeout = 500ms;
  StartServer(o);
  RawConnection slow(address_);
  ASSERT_TRUE(slow.Send("GET /ok HTTP/1.1\r\n"));
  ASSERT_TRUE(slow.Send("Host: x\r\n"));
  auto reply = testing::Request(address_, "GET", "/ok");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_TRUE(slow.WaitClosed(5s));
}

TEST_F(ServerTest, ShutdownLetsInFlightRequestFinish) {
  std::atomic<bool> started{false};
  router_.Add("GET", "/slow", "test", [&](Request&) -> asio::awaitable<Response> {
    started = true;
    asio::steady_timer t(co_await asio::this_coro::executor, 300ms);
    co_await t.async_wait(asio::use_awaitable);
    co_return Response::Text(200, "done");
  });
  StartServer();
  RawConnection idle(address_);  // idle keep-alive connection: closed at shutdown
  RawConnection busy(address_);
  ASSERT_TRUE(busy.Send("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(testing::WaitFor([&] { return started.load(); }, 5s));
  server_->Shutdown();
  auto reply = busy.ReadReply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "done");
  EXPECT_EQ(reply->header("connection"), "close");
  EXPECT_TRUE(idle.WaitClosed(5s));
  thread_.join();
  server_.reset();
}

TEST_F(ServerTest, MalformedRequestsGet400AndServerKeepsServing) {
  router_.Add("GET", "/ok", "test", [](Request&) -> asio::awaitable<Response> { co_return Response::Text(200, "ok"); });
  StartServer();
  for (std::string bad : {"NOT A REQUEST\r\n\r\n", "GET /ok HTTP/1.1\r\nBad Header Line\r\n\r\n",
                          "GET /../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", "GET /a%00b HTTP/1.1\r\nHost: x\r\n\r\n",
                          "GET http://elsewhere/ok HTTP/1.1\r\nHost: x\r\n\r\n"}) {
    RawConnection c(address_);
    c.Send(bad);
    auto reply = c.ReadReply();
    ASSERT_TRUE(reply) << bad;
    EXPECT_EQ(reply->status, 400) << bad;
    EXPECT_NE(reply->body.find("invalid_argument"), std::string::npos) << bad;
  }
  RawConnection big(address_);
  big.Send("GET /ok HTTP/1.1\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n");
  auto reply = big.ReadReply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  auto ok = testing::Request(address_, "GET", "/ok");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

}  // namespace
}  // namespace paddlecloud::http
