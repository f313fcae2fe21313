#include "http/server.h"

#include <gtest/gtest.h>

#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "http/json.h"
#include "http/middleware.h"
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

// ---- Connection caps -------------------------------------------------------------------------

void AddOk(Router& router) {
  router.Add("GET", "/ok", "test", [](Request&) -> asio::awaitable<Response> { co_return Response::Text(200, "ok"); });
}

// A connection over a cap is answered 503 (or, if the close raced the reply, just closed).
bool RefusedFast(RawConnection& c) {
  c.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
  auto reply = c.ReadReply(5s);
  if (reply) return reply->status == 503 && reply->header("retry-after") == "1";
  return c.WaitClosed(5s);
}

TEST_F(ServerTest, ConnectionsOverThePerClientCapAreRefusedAndServedAgainOnceOthersClose) {
  AddOk(router_);
  HttpServerOptions o;
  o.max_connections_per_client = 4;
  StartServer(o);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 4; ++i) idle.push_back(std::make_unique<RawConnection>(address_));
  ASSERT_TRUE(testing::WaitFor([&] { return server_->connection_count() == 4; }, 5s));
  RawConnection extra(address_);
  EXPECT_TRUE(RefusedFast(extra));
  idle.pop_back();
  ASSERT_TRUE(testing::WaitFor([&] { return server_->connection_count() == 3; }, 5s));
  auto reply = testing::Request(address_, "GET", "/ok");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(ServerTest, ConnectionsOverTheTotalCapAreRefused) {
  AddOk(router_);
  HttpServerOptions o;
  o.max_connections = 3;
  StartServer(o);
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 3; ++i) idle.push_back(std::make_unique<RawConnection>(address_));
  ASSERT_TRUE(testing::WaitFor([&] { return server_->connection_count() == 3; }, 5s));
  RawConnection extra(address_);
  EXPECT_TRUE(RefusedFast(extra));
  idle.clear();
  ASSERT_TRUE(testing::WaitFor([&] { return server_->connection_count() == 0; }, 5s));
  auto reply = testing::Request(address_, "GET", "/ok");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

// Fills this process's descriptor table (lowering the soft limit to what is in use) until destroyed.
class FdTableFull {
 public:
  FdTableFull() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    int highest = 0;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
      highest = std::max(highest, std::atoi(entry.path().filename().c_str()));
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(highest + 1);
    ::setrlimit(RLIMIT_NOFILE, &low);
    for (int fd; (fd = ::dup(0)) >= 0;) fds_.push_back(fd);
  }
  ~FdTableFull() {
    Release();
  }
  // Frees one slot for the caller's next descriptor.
  void FreeOne() {
    ::close(fds_.back());
    fds_.pop_back();
  }
  void Release() {
    for (int fd : fds_) ::close(fd);
    fds_.clear();
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> fds_;
};

TEST_F(ServerTest, AcceptFailingForWantOfDescriptorsLogsOnceAndRecovers) {
  AddOk(router_);
  StartServer();
  auto log = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(1000);
  spdlog::default_logger()->sinks().push_back(log);
  auto accept_failures = [&] {
    int n = 0;
    for (const auto& line : log->last_formatted())
      if (line.find("accept failed") != std::string::npos) ++n;
    return n;
  };
  FdTableFull full;
  full.FreeOne();
  RawConnection waiting(address_);  // queued in the backlog: the server cannot accept it
  ASSERT_TRUE(waiting.Send("GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(testing::WaitFor([&] { return accept_failures() > 0; }, 5s));
  // Accept keeps failing (every 50 ms) for a second; the log says so once.
  EXPECT_FALSE(testing::WaitFor([&] { return accept_failures() > 1; }, 1s));
  full.Release();
  auto reply = waiting.ReadReply(5s);
  spdlog::default_logger()->sinks().pop_back();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(accept_failures(), 1);
}

// ---- Request bodies ----------------------------------------------------------------------------

void AddCountingUpload(Router& router) {
  router.Add("PUT", "/upload", "test",
      [](Request& r) -> asio::awaitable<Response> {
        std::uint64_t total = 0;
        char buf[65536];
        while (true) {
          auto n = co_await r.body_stream->Read(buf, sizeof buf);
          if (!n) co_return ErrorResponse(n.error().WithDetail("received", std::to_string(total)));
          if (*n == 0) break;
          total += *n;
        }
        co_return JsonResponse(200, {{"bytes", total}});
      },
      RouteOptions::Streaming());
}

TEST_F(ServerTest, UploadTricklingBelowTheMinimumRateIsCutKeepingWhatArrived) {
  AddCountingUpload(router_);
  HttpServerOptions o;
  o.body_timeout = 60s;
  o.min_body_rate = 1000;
  o.min_body_rate_window = 500ms;
  StartServer(o);
  RawConnection c(address_);
  ASSERT_TRUE(c.Send("PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
  // One byte every 20 ms (50 B/s), each of which would reset a plain read timeout, until the answer
  // starts to arrive (sending on would make the server's close a reset that can lose the answer).
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    pollfd readable{c.fd(), POLLIN, 0};
    while (!done && ::poll(&readable, 1, 20) == 0 && c.Send("x")) {}
  });
  auto reply = c.ReadReply(10s);
  done = true;
  trickle.join();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 400);
  EXPECT_NE(reply->body.find("slower than the minimum of 1000 bytes/s"), std::string::npos) << reply->body;
  EXPECT_EQ(reply->body.find("\"received\":\"0\""), std::string::npos) << reply->body;
}

TEST_F(ServerTest, FastLargeUploadIsNeverCutByTheMinimumRate) {
  AddCountingUpload(router_);
  HttpServerOptions o;
  o.min_body_rate = 1 << 20;
  o.min_body_rate_window = 200ms;
  StartServer(o);
  for (std::string framing : {"Content-Length: 67108864\r\n", "Transfer-Encoding: chunked\r\n"}) {
    RawConnection c(address_);
    ASSERT_TRUE(c.Send("PUT /upload HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n"));
    std::string block(1 << 20, 'z');
    bool chunked = framing.starts_with("Transfer");
    for (int i = 0; i < 64; ++i) ASSERT_TRUE(c.Send(chunked ? "100000\r\n" + block + "\r\n" : block));
    if (chunked) {
      ASSERT_TRUE(c.Send("0\r\n\r\n"));
    }
    auto reply = c.ReadReply(30s);
    ASSERT_TRUE(reply) << framing;
    EXPECT_EQ(reply->status, 200) << reply->body;
    EXPECT_EQ(reply->body, "{\"bytes\":67108864}");
  }
}

// ---- Framing (RFC 9112) --------------------------------------------------------------------------

TEST_F(ServerTest, UnsupportedOrAmbiguousFramingIs400AndTheBodyNeverRunsAsARequest) {
  std::atomic<int> smuggled{0};
  router_.Add("GET", "/smuggled", "test", [&](Request&) -> asio::awaitable<Response> {
    ++smuggled;
    co_return Response::Text(200, "ran");
  });
  AddEcho();
  AddOk(router_);
  StartServer();
  std::string hidden = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n";
  for (const std::string& framing : std::vector<std::string>{"Transfer-Encoding: xchunked\r\n", "Transfer-Encoding: chunked, gzip\r\n",
                              "Transfer-Encoding: gzip, chunked\r\n",
                              "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n",
                              "Transfer-Encoding: chunked\r\nContent-Length: " + std::to_string(hidden.size()) + "\r\n",
                              "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n"}) {
    RawConnection c(address_);
    ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\n" + framing + "\r\n" + hidden));
    auto reply = c.ReadReply();
    ASSERT_TRUE(reply) << framing;
    EXPECT_EQ(reply->status, 400) << framing;
    EXPECT_EQ(reply->header("connection"), "close") << framing;
    EXPECT_TRUE(c.WaitClosed(5s)) << framing;
  }
  EXPECT_EQ(smuggled.load(), 0);
  // Chunked alone still works.
  RawConnection c(address_);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"));
  auto reply = c.ReadReply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->body, "abc");
}

// ---- Host check -----------------------------------------------------------------------------------

TEST(AllowedHostsTest, MatchesNamesWithOrWithoutPortsCaseInsensitively) {
  AllowedHosts hosts;
  hosts.Set({"Cloud.Example.com", "localhost:8080", "[::1]:8080", "[fd00::1]"});
  EXPECT_TRUE(hosts.Allows("cloud.example.com"));
  EXPECT_TRUE(hosts.Allows("CLOUD.example.com:443"));
  EXPECT_TRUE(hosts.Allows("localhost:8080"));
  EXPECT_FALSE(hosts.Allows("localhost:8081"));
  EXPECT_FALSE(hosts.Allows("localhost"));
  EXPECT_TRUE(hosts.Allows("[::1]:8080"));
  EXPECT_FALSE(hosts.Allows("[::1]:9"));
  EXPECT_TRUE(hosts.Allows("[fd00::1]:7"));
  EXPECT_TRUE(hosts.Allows("[fd00::1]"));
  EXPECT_FALSE(hosts.Allows("evil.example"));
  EXPECT_FALSE(hosts.Allows("cloud.example.com.evil.example"));
  EXPECT_FALSE(hosts.Allows(""));
  AllowedHosts any;
  any.Set({"*"});
  EXPECT_TRUE(any.Allows("whatever:1"));
}

// ---- Client address ------------------------------------------------------------------------------

TEST_F(ServerTest, ForwardedForCountsOnlyFromATrustedProxy) {
  router_.Add("GET", "/whoami", "test", [](Request& r) -> asio::awaitable<Response> {
    co_return Response::Text(200, r.remote_address);
  });
  HttpServerOptions o;
  o.trusted_proxies = {"127.0.0.0/8"};
  StartServer(o);
  auto proxied = testing::Request(address_, "GET", "/whoami", "", "X-Forwarded-For: 6.6.6.6, 203.0.113.9\r\n");
  ASSERT_TRUE(proxied);
  EXPECT_EQ(proxied->body, "203.0.113.9");
  auto direct = testing::Request(address_, "GET", "/whoami");
  ASSERT_TRUE(direct);
  EXPECT_EQ(direct->body, "127.0.0.1");
}

TEST_F(ServerTest, ForwardedForFromAnUntrustedPeerIsIgnored) {
  router_.Add("GET", "/whoami", "test", [](Request& r) -> asio::awaitable<Response> {
    co_return Response::Text(200, r.remote_address);
  });
  HttpServerOptions o;
  o.trusted_proxies = {"10.0.0.0/8"};
  StartServer(o);
  auto spoofed = testing::Request(address_, "GET", "/whoami", "", "X-Forwarded-For: 203.0.113.9\r\n");
  ASSERT_TRUE(spoofed);
  EXPECT_EQ(spoofed->body, "127.0.0.1");
}

TEST_F(ServerTest, BadTrustedProxyIsAStartError) {
  HttpServerOptions o;
  o.listen = "127.0.0.1:0";
  o.trusted_proxies = {"10.0.0.0/40"};
  HttpServer server(o, router_);
  Status s = server.Start();
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.field(), "trusted_proxies");
}

}  // namespace
}  // namespace paddlecloud::http
