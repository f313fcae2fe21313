#include "serving/inference_gateway.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <functional>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "http/json.h"
#include "http/server.h"
#include "reverse_proxy/test_servers.h"
#include "testing/http_client.h"
#include "timeseries/series_store.h"

namespace paddlecloud::serving {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using http::Request;
using http::Response;

// True once `condition` holds, false after `timeout`.
bool WaitFor(const std::function<bool()>& condition, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);  // polling a condition, with a deadline
  }
  return true;
}

// A replica: GET/POST anything echoes the request as JSON (with a Set-Cookie of its own);
// /status/<code> answers that status; /big 300 kB; /hold answers once Release() is called.
class FakeReplica {
 public:
  explicit FakeReplica(int index) : index_(index) {
    for (const char* method : {"GET", "POST", "PUT", "DELETE"})
      server_.router.Add(method, "/{rest...}", "replica", [this](Request& r) { return Serve(r); },
                         http::RouteOptions::Public());
    server_.Start();
  }
  ReplicaEndpoint endpoint() const { return ReplicaEndpoint{index_, "127.0.0.1", server_.port()}; }
  int requests() const { return requests_; }
  int holding() const { return holding_; }
  void Release() { released_ = true; }
  void Stop() { server_.Stop(); }  // graceful: answers what it has begun, closes idle connections

 private:
  asio::awaitable<Response> Serve(Request& r) {
    ++requests_;
    if (r.path == "/hold") {
      ++holding_;
      asio::steady_timer timer(co_await asio::this_coro::executor);
      while (!released_) {
        timer.expires_after(1ms);
        co_await timer.async_wait(asio::use_awaitable);
      }
      --holding_;
      co_return Response::Text(200, "held");
    }
    if (r.path == "/big") co_return Response::Text(200, std::string(300'000, 'b'));
    if (r.path.starts_with("/status/")) {
      Response response = Response::Text(std::stoi(r.path.substr(8)), "the replica's own answer");
      response.headers.Add("X-Replica", std::to_string(index_));
      co_return response;
    }
    boost::json::object headers;
    for (const auto& [name, value] : r.headers.fields()) {
      std::string lower = name;
      for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      headers[lower] = value;
    }
    Response response = http::JsonResponse(
        200, {{"replica", index_}, {"method", r.method}, {"target", r.target}, {"headers", headers}, {"body", r.body}});
    response.headers.Add("Set-Cookie", "replica_session=1; Path=/");
    co_return response;
  }

  int index_;
  std::atomic<int> requests_{0}, holding_{0};
  std::atomic<bool> released_{false};
  reverse_proxy::TestServer server_;
};

// Accepts connections and closes each at once: a replica that drops every request unanswered.
class DroppingReplica {
 public:
  explicit DroppingReplica(int index) : index_(index), acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    Accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~DroppingReplica() {
    io_.stop();
    thread_.join();
  }
  ReplicaEndpoint endpoint() const { return ReplicaEndpoint{index_, "127.0.0.1", acceptor_.local_endpoint().port()}; }
  int connections() const { return connections_; }

 private:
  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, asio::ip::tcp::socket socket) {
      if (ec) return;
      ++connections_;
      socket.close();
      Accept();
    });
  }
  int index_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::atomic<int> connections_{0};
};

// The platform's front: a test middleware stands for the auth middleware (X-Test-Account: the
// principal's account).
class Front {
 public:
  http::Router router;
  void Start() {
    server_ = std::make_unique<http::HttpServer>(http::HttpServerOptions{.listen = "127.0.0.1:0"}, router);
    server_->Use([](Request& request, const http::Handler& next) -> asio::awaitable<Response> {
      if (auto account = request.headers.Get("X-Test-Account"))
        request.principal = Principal{.user_id = 1, .account_id = std::string(*account), .method = "token"};
      co_return co_await next(request);
    });
    ASSERT_TRUE(server_->Start().ok());
    thread_ = std::thread([this] { server_->Run(); });
  }
  void Stop() {
    if (thread_.joinable()) {
      server_->Shutdown();
      thread_.join();
    }
  }
  std::string address() const { return server_->bound_address(); }

 private:
  std::unique_ptr<http::HttpServer> server_;
  std::thread thread_;
};

class InferenceGatewayTest : public ::testing::Test {
 protected:
  void Start(InferenceGatewayOptions options = {}) {
    options.private_cookies = {"pc_session"};
    options.metrics_dir = dir_.string();
    gateway_ = std::make_unique<InferenceGateway>(options, registry_);
    gateway_->AddRoutes(front_.router);
    front_.Start();
  }
  ~InferenceGatewayTest() override {
    front_.Stop();
    gateway_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Route(std::vector<ReplicaEndpoint> ready, bool is_public = false, bool active = true) {
    gateway_->SetRoute(InstanceRoute{"acct", "fit", is_public, active, std::move(ready)});
  }
  std::optional<testing::HttpReply> Call(const std::string& method, const std::string& rest,
                                         const std::string& body = "", const std::string& account = "acct",
                                         const std::string& headers = "") {
    std::string extra = account.empty() ? headers : "X-Test-Account: " + account + "\r\n" + headers;
    return testing::Request(front_.address(), method, "/serving/acct/fit" + rest, body, extra);
  }
  static boost::json::object Json(const testing::HttpReply& reply) { return boost::json::parse(reply.body).as_object(); }
  static std::string ErrorField(const testing::HttpReply& reply, const char* field) {
    auto error = Json(reply)["error"].as_object();
    if (std::string_view(field) == "reason") return std::string(error["details"].as_object()["reason"].as_string());
    return std::string(error[field].as_string());
  }

  std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                               ("gateway-test-" + std::to_string(::getpid()) + "-" +
                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
  FakeReplica a_{0}, b_{1};
  metrics::Registry registry_;
  Front front_;
  std::unique_ptr<InferenceGateway> gateway_;
};

TEST_F(InferenceGatewayTest, InferIsForwardedWithItsQueryStringAndMadeInert) {
  Start();
  Route({a_.endpoint()});
  auto reply = Call("POST", "/v2/models/fit/infer?trace=1&x=%2F", R"({"inputs":[]})", "acct",
                    "Authorization: Bearer pct_secret\r\nCookie: pc_session=s3cret; theirs=1\r\n");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  auto echo = Json(*reply);
  EXPECT_EQ(echo["target"], "/v2/models/fit/infer?trace=1&x=%2F");
  EXPECT_EQ(echo["method"], "POST");
  EXPECT_EQ(echo["body"], R"({"inputs":[]})");
  auto& headers = echo["headers"].as_object();
  EXPECT_FALSE(headers.contains("authorization"));
  EXPECT_EQ(headers["cookie"], "theirs=1");
  EXPECT_EQ(reply->header("content-security-policy"), "sandbox; default-src 'none'");
  EXPECT_EQ(reply->header("x-content-type-options"), "nosniff");
  EXPECT_EQ(reply->header("set-cookie"), "");
}

TEST_F(InferenceGatewayTest, NewRequestsGoToTheReplicaWithFewerOutstanding) {
  Start();
  Route({a_.endpoint(), b_.endpoint()});
  std::optional<testing::HttpReply> held;
  std::thread holder([&] { held = Call("GET", "/hold"); });
  ASSERT_TRUE(WaitFor([&] { return a_.holding() + b_.holding() == 1; }));
  FakeReplica& busy = a_.holding() ? a_ : b_;
  FakeReplica& free = a_.holding() ? b_ : a_;
  int free_before = free.requests();
  for (int i = 0; i < 6; ++i) {
    auto reply = Call("GET", "/v2/health/ready");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200);
  }
  EXPECT_EQ(free.requests() - free_before, 6);
  EXPECT_EQ(busy.requests(), 1);
  EXPECT_EQ(gateway_->Stats("acct", "fit").in_flight, 1);
  busy.Release();
  holder.join();
  ASSERT_TRUE(held);
  EXPECT_EQ(held->status, 200);
  // Idle again: ties go in turn.
  int a_before = a_.requests(), b_before = b_.requests();
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Call("GET", "/v2/health/live")->status, 200);
  EXPECT_EQ(a_.requests() - a_before, 2);
  EXPECT_EQ(b_.requests() - b_before, 2);
}

TEST_F(InferenceGatewayTest, ARequestToADeadReplicaIsRetriedOnAnother) {
  Start();
  ReplicaEndpoint dead{7, "127.0.0.1", reverse_proxy::UnusedPort()};
  Route({dead, a_.endpoint()});
  for (int i = 0; i < 10; ++i) {
    auto reply = Call("POST", "/v2/models/fit/infer", "{}");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << reply->body;
  }
  EXPECT_EQ(a_.requests(), 10);
  // Every replica dead: the proxy's 502 after trying each once.
  Route({dead, ReplicaEndpoint{8, "127.0.0.1", reverse_proxy::UnusedPort()}});
  auto reply = Call("GET", "/v2/health/ready");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 502);
  EXPECT_EQ(ErrorField(*reply, "code"), "bad_gateway");
}

TEST_F(InferenceGatewayTest, ALargeAnswerIsRelayedAndCountedWhenItEnds) {
  Start();
  Route({a_.endpoint()});
  auto reply = Call("GET", "/big");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, std::string(300'000, 'b'));
  EXPECT_EQ(reply->header("x-content-type-options"), "nosniff");
  ASSERT_TRUE(WaitFor([&] { return gateway_->Stats("acct", "fit").in_flight == 0; }));
  EXPECT_TRUE(gateway_->WaitIdle("acct", "fit", {0}, 1s));
  gateway_->Sample(1'000);
  auto run = timeseries::ReadSamples((dir_ / "acct/fit/metrics/instance").string(), 0, 10'000, 10);
  ASSERT_TRUE(run);
  ASSERT_EQ(run->t_ms.size(), 1u);
  EXPECT_EQ(run->values[0], 1);         // requests_per_s
  EXPECT_GE(run->values[7], 300'000);  // tx_bytes_per_s
}

TEST_F(InferenceGatewayTest, AReplicaThatDroppedARequestGetsNoMoreUntilTheRouteChanges) {
  Start();
  DroppingReplica dropping(5);
  Route({dropping.endpoint(), a_.endpoint()});
  for (int i = 0; i < 6; ++i) {
    auto reply = Call("POST", "/v2/models/fit/infer", "{}");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, 200) << reply->body;
  }
  EXPECT_EQ(dropping.connections(), 1);  // tried once, then skipped
  EXPECT_EQ(a_.requests(), 6);
  Route({dropping.endpoint(), a_.endpoint()});  // a new route clears the suspicion
  for (int i = 0; i < 2; ++i) EXPECT_EQ(Call("POST", "/v2/models/fit/infer", "{}")->status, 200);
  EXPECT_EQ(dropping.connections(), 2);
}

// What the serving service does while clients keep calling: scale 1 -> 3, lose a replica it has not
// noticed yet, scale back to 1 (waiting for the leaving replicas' requests): no request fails.
TEST_F(InferenceGatewayTest, NoRequestFailsWhileReplicasComeGoAndDie) {
  Start();
  FakeReplica c{2};
  Route({a_.endpoint()});
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i)
    clients.emplace_back([&] {
      while (!stop) {
        auto reply = Call("POST", "/v2/models/fit/infer", R"({"inputs":[]})");
        (reply && reply->status == 200 ? ok : failed)++;
      }
    });
  auto served_more = [&](int n) {
    int target = ok + n;
    return WaitFor([&] { return ok >= target; });
  };
  ASSERT_TRUE(served_more(50));
  Route({a_.endpoint(), b_.endpoint(), c.endpoint()});
  ASSERT_TRUE(WaitFor([&] { return b_.requests() > 10 && c.requests() > 10; }));
  c.Stop();  // dies while routed
  ASSERT_TRUE(served_more(100));
  Route({a_.endpoint()});
  EXPECT_TRUE(gateway_->WaitIdle("acct", "fit", {1, 2}, 10s));
  int b_done = b_.requests();
  b_.Stop();
  ASSERT_TRUE(served_more(50));
  stop = true;
  for (auto& client : clients) client.join();
  EXPECT_EQ(failed, 0);
  EXPECT_EQ(b_.requests(), b_done);
  EXPECT_EQ(a_.requests() + b_.requests() + c.requests(), ok);
}

TEST_F(InferenceGatewayTest, AReplicasOwnErrorIsNotRetried) {
  Start();
  Route({a_.endpoint(), b_.endpoint()});
  for (int status : {500, 502, 503}) {
    int before = a_.requests() + b_.requests();
    auto reply = Call("POST", "/status/" + std::to_string(status), "{}");
    ASSERT_TRUE(reply);
    EXPECT_EQ(reply->status, status);
    EXPECT_EQ(reply->body, "the replica's own answer");
    EXPECT_EQ(a_.requests() + b_.requests() - before, 1);
  }
}

TEST_F(InferenceGatewayTest, ATimeoutIs504AndNotRetried) {
  InferenceGatewayOptions options;
  options.response_timeout = 200ms;
  Start(options);
  Route({a_.endpoint(), b_.endpoint()});
  auto reply = Call("GET", "/hold");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 504);
  EXPECT_EQ(a_.requests() + b_.requests(), 1);
  a_.Release();
  b_.Release();
}

TEST_F(InferenceGatewayTest, NoReadyReplicaIs503WithRetryAfterAndInactiveSaysSo) {
  Start();
  Route({});
  auto reply = Call("POST", "/v2/models/fit/infer", "{}");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(reply->header("retry-after"), "1");
  EXPECT_EQ(ErrorField(*reply, "reason"), "no_ready_replica");
  Route({a_.endpoint()}, false, /*active=*/false);
  reply = Call("POST", "/v2/models/fit/infer", "{}");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 503);
  EXPECT_EQ(ErrorField(*reply, "reason"), "inactive");
  EXPECT_EQ(a_.requests(), 0);
}

TEST_F(InferenceGatewayTest, ABodyOverTheLimitIs413) {
  InferenceGatewayOptions options;
  options.max_body_bytes = 1000;
  Start(options);
  Route({a_.endpoint()});
  auto reply = Call("POST", "/v2/models/fit/infer", std::string(2000, 'x'));
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 413);
  EXPECT_EQ(ErrorField(*reply, "code"), "payload_too_large");
  EXPECT_EQ(Call("POST", "/v2/models/fit/infer", std::string(1000, 'x'))->status, 200);
  EXPECT_EQ(a_.requests(), 1);
}

TEST_F(InferenceGatewayTest, AnonymousCallsNeedAPublicInstance) {
  Start();
  Route({a_.endpoint()});
  auto reply = Call("GET", "/v2/health/ready", "", /*account=*/"");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 401);
  EXPECT_EQ(ErrorField(*reply, "code"), "unauthenticated");
  EXPECT_EQ(reply->header("www-authenticate"), "Bearer");
  Route({a_.endpoint()}, /*is_public=*/true);
  EXPECT_EQ(Call("GET", "/v2/health/ready", "", "")->status, 200);
  EXPECT_EQ(Call("GET", "/v2/health/ready", "", "other-account")->status, 200);  // public: anyone
  EXPECT_EQ(a_.requests(), 2);
}

TEST_F(InferenceGatewayTest, AnotherAccountsInstanceIsTheSame404AsAnUnknownOne) {
  Start();
  Route({a_.endpoint()});
  gateway_->SetRoute(InstanceRoute{"other", "other-model", false, true, {b_.endpoint()}});
  auto foreign = Call("GET", "/v2/health/ready", "", "other");
  gateway_->RemoveRoute("acct", "fit");
  auto unknown = Call("GET", "/v2/health/ready", "", "acct");
  ASSERT_TRUE(foreign && unknown);
  EXPECT_EQ(foreign->status, 404);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(foreign->body, unknown->body);
  EXPECT_EQ(a_.requests(), 0);
}

TEST_F(InferenceGatewayTest, WaitIdleWaitsForTheRequestsOfReplicasThatLeft) {
  Start();
  Route({a_.endpoint(), b_.endpoint()});
  std::optional<testing::HttpReply> held;
  std::thread holder([&] { held = Call("GET", "/hold"); });
  ASSERT_TRUE(WaitFor([&] { return a_.holding() + b_.holding() == 1; }));
  FakeReplica& busy = a_.holding() ? a_ : b_;
  FakeReplica& other = a_.holding() ? b_ : a_;
  int busy_index = busy.endpoint().index;
  Route({other.endpoint()});
  EXPECT_TRUE(gateway_->WaitIdle("acct", "fit", {other.endpoint().index}, 10s));
  EXPECT_FALSE(gateway_->WaitIdle("acct", "fit", {busy_index}, 50ms));
  // No new request goes to the replica that left.
  for (int i = 0; i < 3; ++i) EXPECT_EQ(Call("GET", "/v2/health/ready")->status, 200);
  EXPECT_EQ(busy.requests(), 1);
  std::atomic<bool> released{false};
  std::thread releaser([&] {
    std::this_thread::sleep_for(100ms);  // lets WaitIdle block first; it does not synchronise anything
    released = true;
    busy.Release();
  });
  EXPECT_TRUE(gateway_->WaitIdle("acct", "fit", {busy_index}, 10s));
  EXPECT_TRUE(released);
  releaser.join();
  holder.join();
  ASSERT_TRUE(held);
  EXPECT_EQ(held->status, 200);
}

TEST_F(InferenceGatewayTest, MetricsUseTritonAndKServeNames) {
  Start();
  Route({a_.endpoint()});
  EXPECT_EQ(Call("POST", "/v2/models/fit/infer", "{}")->status, 200);
  EXPECT_EQ(Call("POST", "/v2/models/fit/infer", "{}")->status, 200);
  EXPECT_EQ(Call("GET", "/v2/models/fit")->status, 200);
  EXPECT_EQ(Call("POST", "/status/500", "{}")->status, 500);
  std::string text = registry_.Render();
  EXPECT_NE(text.find("nv_inference_request_success{account=\"acct\",model=\"fit\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("nv_inference_request_failure{account=\"acct\",model=\"fit\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("nv_inference_count{account=\"acct\",model=\"fit\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("nv_inference_request_duration_us{account=\"acct\",model=\"fit\"} "), std::string::npos);
  EXPECT_EQ(text.find("nv_inference_request_duration_us{account=\"acct\",model=\"fit\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("request_predict_seconds_count{account=\"acct\",model_name=\"fit\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("paddlecloud_serving_responses_total{account=\"acct\",model=\"fit\",code=\"2xx\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("paddlecloud_serving_responses_total{account=\"acct\",model=\"fit\",code=\"5xx\"} 1\n"),
            std::string::npos);
}

TEST_F(InferenceGatewayTest, StatsAndSamplesDescribeTheTraffic) {
  Start();
  Route({a_.endpoint()});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(Call("POST", "/v2/models/fit/infer", "{}")->status, 200);
  EXPECT_EQ(Call("GET", "/status/503")->status, 503);
  InstanceStats stats = gateway_->Stats("acct", "fit");
  ASSERT_TRUE(stats.qps && stats.p50_ms && stats.p99_ms && stats.error_rate);
  EXPECT_GT(*stats.qps, 0);
  EXPECT_GT(*stats.p50_ms, 0);
  EXPECT_LE(*stats.p50_ms, *stats.p95_ms);
  EXPECT_LE(*stats.p95_ms, *stats.p99_ms);
  EXPECT_DOUBLE_EQ(*stats.error_rate, 0.2);
  EXPECT_FALSE(gateway_->Stats("acct", "unknown").qps);

  gateway_->Sample(1'000);
  gateway_->Sample(2'000);  // nothing happened in between
  for (std::string series : {"instance", "replica-0"}) {
    auto run = timeseries::ReadSamples((dir_ / "acct/fit/metrics" / series).string(), 0, 10'000, 10);
    ASSERT_TRUE(run) << series << ": " << run.error().ToString();
    ASSERT_EQ(run->t_ms, (std::vector<std::int64_t>{1'000, 2'000})) << series;
    constexpr std::size_t kColumns = std::size(kSeriesColumns);
    const float* first = run->values.data();
    const float* second = first + kColumns;
    EXPECT_FLOAT_EQ(first[0], 5) << series;    // requests_per_s
    EXPECT_FLOAT_EQ(first[1], 1) << series;    // errors_per_s
    EXPECT_GT(first[2], 0) << series;          // p50_ms
    EXPECT_LE(first[2], first[4]) << series;   // p50 <= p99
    EXPECT_FLOAT_EQ(first[5], 0) << series;    // in_flight
    EXPECT_GT(first[6], 0) << series;          // rx_bytes_per_s
    EXPECT_GT(first[7], 0) << series;          // tx_bytes_per_s
    EXPECT_FLOAT_EQ(second[0], 0) << series;
    EXPECT_TRUE(std::isnan(second[2]) && std::isnan(second[3]) && std::isnan(second[4])) << series;
  }
  // A removed instance's series are closed: later samples leave them alone.
  gateway_->RemoveRoute("acct", "fit");
  gateway_->Sample(3'000);
  auto extent = timeseries::Extent((dir_ / "acct/fit/metrics/instance").string());
  ASSERT_TRUE(extent);
  EXPECT_EQ(extent->samples, 2u);
  EXPECT_FALSE(gateway_->Stats("acct", "fit").qps);
}

}  // namespace
}  // namespace paddlecloud::serving
