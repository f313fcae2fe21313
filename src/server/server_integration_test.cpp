// Integration tests: the real `paddlecloud` binary on 127.0.0.1:0 with a temporary data dir.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "server/platform.h"
#include "testing/http_client.h"
#include "testing/server_process.h"
#include "testing/test_database.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::RawConnection;
using testing::ServerProcess;
using testing::RunCommand;
using testing::ServerDatabaseUrl;
using testing::TempDir;

class BinaryTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> args = {}) {
    server_ = std::make_unique<ServerProcess>(dir_.path() + "/data", std::move(args));
    ASSERT_TRUE(server_->WaitReady()) << server_->Log();
    addr_ = server_->address();
  }
  std::optional<testing::HttpReply> Get(const std::string& target, const std::string& headers = "") {
    return testing::Request(addr_, "GET", target, "", headers);
  }
  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  std::string addr_;
};

TEST_F(BinaryTest, ServesOperationsEndpointsOnAFreePort) {
  Start();
  EXPECT_NE(addr_.find("127.0.0.1:"), std::string::npos);
  EXPECT_NE(addr_, "127.0.0.1:0");

  auto health = Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(json::parse(health->body).at("status").as_string(), "ok");
  EXPECT_FALSE(health->header("x-request-id").empty());
  EXPECT_EQ(health->header("x-content-type-options"), "nosniff");
  EXPECT_NE(health->header("content-security-policy").find("frame-ancestors 'none'"), std::string::npos);

  auto ready = Get("/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 200);
  auto readiness = json::parse(ready->body);
  EXPECT_EQ(readiness.at("status").as_string(), "ready");
  EXPECT_EQ(readiness.at("checks").at("database").as_string(), "ok");

  auto version = Get("/api/v1/version");
  ASSERT_TRUE(version);
  std::string cli_version = RunCommand(testing::PaddlecloudBinary() + " --version");
  EXPECT_NE(cli_version.find(std::string(json::parse(version->body).at("version").as_string())), std::string::npos);

  auto openapi = Get("/api/v1/openapi.json");
  ASSERT_TRUE(openapi);
  EXPECT_EQ(json::parse(openapi->body).at("openapi").as_string(), "3.0.3");

  auto metrics = Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("paddlecloud_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("paddlecloud_http_request_duration_seconds_bucket{route=\"/readyz\""), std::string::npos);
  EXPECT_NE(metrics->body.find("paddlecloud_http_requests_in_flight 1"), std::string::npos);  // this scrape
  EXPECT_NE(metrics->body.find("\nprocess_resident_memory_bytes "), std::string::npos);
  EXPECT_NE(metrics->body.find("\n# TYPE process_cpu_seconds_total counter\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("\npaddlecloud_jobs{state=\"Running\"} 0\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("\npaddlecloud_pods_running 0\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("\npaddlecloud_cluster_cpu_cores{kind=\"requested\"} 0\n"), std::string::npos);
  EXPECT_NE(metrics->body.find("\npaddlecloud_cluster_cpu_cores{kind=\"capacity\"} "), std::string::npos);
  // What Prometheus's own checker says of the exposition (promtool, from scripts/install-deps).
  std::ofstream(dir_.path() + "/metrics.txt") << metrics->body;
  std::string lint = testing::RunCommand("promtool check metrics < " + dir_.path() + "/metrics.txt; echo exit=$?");
  EXPECT_NE(lint.find("exit=0"), std::string::npos) << lint;
  EXPECT_EQ(lint, "exit=0\n");  // no complaint at all

  // Request ids from the client are kept when well-formed, replaced otherwise.
  EXPECT_EQ(Get("/healthz", "X-Request-Id: trace-123\r\n")->header("x-request-id"), "trace-123");
  EXPECT_NE(Get("/healthz", "X-Request-Id: bad id!\r\n")->header("x-request-id"), "bad id!");
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/data/server.addr"));
}

TEST_F(BinaryTest, UnknownRoutesAndDeepLinks) {
  Start();
  auto api = Get("/api/v1/no-such-thing");
  ASSERT_TRUE(api);
  EXPECT_EQ(api->status, 404);
  EXPECT_EQ(json::parse(api->body).at("error").at("code").as_string(), "not_found");

  auto wrong_method = testing::Request(addr_, "DELETE", "/healthz");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  EXPECT_EQ(wrong_method->header("allow"), "GET, HEAD");

  // A client-side route answers with the same document as the app's root.
  auto root = Get("/");
  auto deep = Get("/status/deep/link");
  ASSERT_TRUE(root && deep);
  EXPECT_EQ(root->status, 200);
  EXPECT_NE(root->body.find("<div id=\"app\">"), std::string::npos) << root->body.substr(0, 300);  // the app's document
  EXPECT_EQ(deep->status, 200);
  EXPECT_EQ(deep->body, root->body);
}

TEST_F(BinaryTest, MalformedRequestsGetClear4xxAndServerKeepsServing) {
  Start();
  struct Case {
    std::string bytes;
    int status;
    std::string message;
  };
  std::vector<Case> cases = {
      {"HELLO\r\n\r\n", 400, "malformed request"},
      {"GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 400, "malformed request"},
      {"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Huge: " + std::string(40000, 'h') + "\r\n\r\n", 400, "header is larger"},
      {"GET /api/v1/../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", 400, "'..'"},
      {"GET /api/v1/%2e%2e/x HTTP/1.1\r\nHost: x\r\n\r\n", 400, "'..'"},
      {"GET /api/v1/a%00b HTTP/1.1\r\nHost: x\r\n\r\n", 400, "NUL"},
  };
  for (const auto& c : cases) {
    RawConnection conn(addr_);
    conn.Send(c.bytes);
    auto reply = conn.ReadReply();
    ASSERT_TRUE(reply) << c.bytes.substr(0, 60);
    EXPECT_EQ(reply->status, c.status) << c.bytes.substr(0, 60);
    EXPECT_NE(reply->body.find(c.message), std::string::npos) << reply->body;
    EXPECT_EQ(json::parse(reply->body).at("error").at("code").as_string(), "invalid_argument");
    EXPECT_EQ(reply->header("x-content-type-options"), "nosniff");  // also on answers given before routing
  }
  auto health = Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(BinaryTest, JsonBodiesAreValidatedWithErrorsNamingTheField) {
  Start();
  auto post = [&](const std::string& body) { return testing::Request(addr_, "POST", "/api/v1/csp-reports", body); };

  auto not_json = post("{\"csp-report\": ");
  ASSERT_TRUE(not_json);
  EXPECT_EQ(not_json->status, 400);
  EXPECT_NE(not_json->body.find("not valid JSON"), std::string::npos) << not_json->body;

  auto wrong_type = post(R"({"csp-report": "everything"})");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 400);
  EXPECT_EQ(json::parse(wrong_type->body).at("error").at("details").at("field").as_string(), "csp-report");

  auto nested_type = post(R"({"csp-report": {"blocked-uri": 42}})");
  ASSERT_TRUE(nested_type);
  EXPECT_EQ(nested_type->status, 400);
  EXPECT_EQ(json::parse(nested_type->body).at("error").at("details").at("field").as_string(), "csp-report.blocked-uri");

  auto too_big = post(R"({"csp-report": {"blocked-uri": ")" + std::string(20000, 'x') + "\"}}");
  ASSERT_TRUE(too_big);
  EXPECT_EQ(too_big->status, 413);
  EXPECT_EQ(json::parse(too_big->body).at("error").at("code").as_string(), "payload_too_large");

  auto good = post(R"({"csp-report": {"effective-directive": "script-src", "blocked-uri": "inline"}})");
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 204);
  auto metrics = Get("/metrics");
  EXPECT_NE(metrics->body.find("paddlecloud_csp_violations_total{directive=\"script-src\"} 1"), std::string::npos);
}

TEST_F(BinaryTest, ClientTricklingHeadersIsDisconnectedWhileOthersAreServed) {
  Start({"--header-timeout", "1s"});
  RawConnection slow(addr_);
  std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  bool closed = false;
  auto began = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < request.size() && !closed; ++i) {
    if (!slow.Send(request.substr(i, 1))) break;
    auto other = Get("/healthz");  // served in between
    ASSERT_TRUE(other);
    EXPECT_EQ(other->status, 200);
    closed = slow.WaitClosed(400ms);  // one byte every ~0.4 s
  }
  EXPECT_TRUE(closed || slow.WaitClosed(3s));
  EXPECT_LT(std::chrono::steady_clock::now() - began, 10s);
}

TEST_F(BinaryTest, SigtermDuringASlowRequestLetsItFinishThenExitsZero) {
  Start();
  RawConnection slow(addr_);
  std::string body = R"({"csp-report": {"effective-directive": "img-src", "blocked-uri": "https://elsewhere"}})";
  ASSERT_TRUE(slow.Send("POST /api/v1/csp-reports HTTP/1.1\r\nHost: " + addr_ + "\r\nContent-Type: application/csp-report\r\n"
                        "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body.substr(0, 10)));
  RawConnection idle(addr_);
  ASSERT_TRUE(idle.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(idle.ReadReply());
  ::kill(server_->pid(), SIGTERM);
  // The idle keep-alive connection is closed, new connections are refused, the slow one finishes.
  EXPECT_TRUE(idle.WaitClosed(5s));
  ASSERT_TRUE(slow.Send(body.substr(10)));
  auto reply = slow.ReadReply();
  ASSERT_TRUE(reply) << server_->Log();
  EXPECT_EQ(reply->status, 204);
  EXPECT_EQ(server_->WaitExit(10s), 0) << server_->Log();
  EXPECT_NE(server_->Log().find("shutting down gracefully"), std::string::npos);
}

TEST_F(BinaryTest, StatusStreamSendsEventsAndEndsAtShutdown) {
  Start();
  RawConnection stream(addr_);
  ASSERT_TRUE(stream.Send("GET /api/v1/status/stream HTTP/1.1\r\nHost: " + addr_ + "\r\nAccept: text/event-stream\r\n\r\n"));
  std::string first = stream.ReadUntil("\n\n", 5s);  // headers + retry
  std::string event = stream.ReadUntil("}\n\n", 5s);
  EXPECT_NE(first.find("text/event-stream"), std::string::npos) << first;
  EXPECT_NE(event.find("event: status"), std::string::npos) << event;
  EXPECT_NE(event.find("\"status\":\"ready\""), std::string::npos) << event;
  EXPECT_EQ(server_->Stop(SIGTERM, 10s), 0) << server_->Log();
  EXPECT_TRUE(stream.WaitClosed(1s));
}

TEST_F(BinaryTest, SecondServerOnTheSameDataDirRefusesClearly) {
  if (testing::TestsUsePostgres()) GTEST_SKIP() << "on PostgreSQL a second server stands by (ReplicasTest)";
  Start();
  ServerProcess second(dir_.path() + "/data");
  EXPECT_EQ(second.WaitExit(20s), 1);
  EXPECT_NE(second.Log().find("is in use by another paddlecloud server (pid " + std::to_string(server_->pid())),
            std::string::npos)
      << second.Log();
  auto health = Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(BinaryTest, NewerDatabaseSchemaRefusesToStart) {
  std::filesystem::create_directories(dir_.path() + "/data");
  {
    auto db = server::OpenPlatformDatabase(dir_.path() + "/data", ServerDatabaseUrl(dir_.path() + "/data"), 1);
    ASSERT_TRUE(db);
    std::vector<db::Migration> future = {{4200, "from the future", "CREATE TABLE future (x INTEGER);"}};
    ASSERT_TRUE((*db)->Migrate(future).ok());
  }
  ServerProcess server(dir_.path() + "/data");
  EXPECT_EQ(server.WaitExit(20s), 1);
  EXPECT_NE(server.Log().find("4200"), std::string::npos) << server.Log();
  EXPECT_NE(server.Log().find("newer"), std::string::npos) << server.Log();
}

TEST_F(BinaryTest, BadConfigurationExitsWithAMessageNamingTheSetting) {
  ServerProcess server(dir_.path() + "/data", {"--max-body-bytes", "lots"});
  EXPECT_EQ(server.WaitExit(20s), 2);
  EXPECT_NE(server.Log().find("--max-body-bytes (command line)"), std::string::npos) << server.Log();
}

TEST_F(BinaryTest, ServesHttpsWithTheGivenCertificate) {
  std::string cert = dir_.path() + "/cert.pem", key = dir_.path() + "/key.pem";
  std::string out = RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                               "-addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert);
  ASSERT_TRUE(std::filesystem::exists(cert)) << out;
  Start({"--tls-cert", cert, "--tls-key", key});
  std::string reply = RunCommand("curl -sS --max-time 10 --cacert " + cert + " -D - https://" + addr_ + "/healthz");
  EXPECT_NE(reply.find("HTTP/1.1 200"), std::string::npos) << reply;
  EXPECT_NE(reply.find("Strict-Transport-Security: max-age=31536000"), std::string::npos) << reply;
  EXPECT_NE(reply.find("\"status\":\"ok\""), std::string::npos) << reply;
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
}

// ---- HTTP hardening (issue 9) ----------------------------------------------------------------------

std::string Port(const std::string& address) { return address.substr(address.rfind(':') + 1); }

std::string ErrorReason(const testing::HttpReply& reply) {
  auto v = json::parse(reply.body);
  auto* details = v.at("error").as_object().if_contains("details");
  auto* reason = details ? details->as_object().if_contains("reason") : nullptr;
  return reason ? std::string(reason->as_string()) : "";
}

TEST_F(BinaryTest, ForeignHostIsRefusedByDefaultWhileLocalNamesAndProbesAnswer) {
  Start();
  std::string port = Port(addr_);
  RawConnection c(addr_);
  ASSERT_TRUE(c.Send("GET /api/v1/version HTTP/1.1\r\nHost: attacker.example:" + port + "\r\n\r\n"));
  auto foreign = c.ReadReply();
  ASSERT_TRUE(foreign);
  EXPECT_EQ(foreign->status, 400);
  EXPECT_EQ(ErrorReason(*foreign), "host_not_allowed") << foreign->body;
  for (std::string host : {"localhost:" + port, "127.0.0.1:" + port, "[::1]:" + port, "LOCALHOST:" + port}) {
    RawConnection local(addr_);
    ASSERT_TRUE(local.Send("GET /api/v1/version HTTP/1.1\r\nHost: " + host + "\r\n\r\n"));
    auto reply = local.ReadReply();
    ASSERT_TRUE(reply) << host;
    EXPECT_EQ(reply->status, 200) << host;
  }
  RawConnection probe(addr_);
  ASSERT_TRUE(probe.Send("GET /healthz HTTP/1.1\r\nHost: 10.1.2.3:" + port + "\r\n\r\n"));
  auto probed = probe.ReadReply();
  ASSERT_TRUE(probed);
  EXPECT_EQ(probed->status, 200);
}

TEST_F(BinaryTest, AllowedHostsStarDisablesTheHostCheck) {
  Start({"--allowed-hosts", "*"});
  RawConnection c(addr_);
  ASSERT_TRUE(c.Send("GET /api/v1/version HTTP/1.1\r\nHost: anything.example\r\n\r\n"));
  auto reply = c.ReadReply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(BinaryTest, HttpsPublicUrlMakesTheSessionCookieSecureAndNamesTheHost) {
  Start({"--public-url", "https://cloud.example.com"});
  RawConnection c(addr_);
  ASSERT_TRUE(c.Send("GET /api/v1/session HTTP/1.1\r\nHost: cloud.example.com\r\nCookie: pc_session=stale\r\n\r\n"));
  auto reply = c.ReadReply();
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200) << reply->body;
  std::string cookie = reply->header("set-cookie");
  EXPECT_NE(cookie.find("pc_session=;"), std::string::npos) << cookie;
  EXPECT_NE(cookie.find("; Secure"), std::string::npos) << cookie;
}

TEST_F(BinaryTest, MetricsCanRequireATokenComparedWholly) {
  std::string token = "metrics-token-0123456789";
  Start({"--metrics-access", "token", "--metrics-token", token});
  auto none = Get("/metrics");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_NE(none->header("www-authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(Get("/metrics", "Authorization: Bearer " + token.substr(0, 10) + "\r\n")->status, 401);
  EXPECT_EQ(Get("/metrics", "Authorization: Bearer " + token + "x\r\n")->status, 401);
  auto ok = Get("/metrics", "Authorization: Bearer " + token + "\r\n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_NE(ok->body.find("paddlecloud_http_requests_total"), std::string::npos);
  EXPECT_EQ(server_->Log().find(token), std::string::npos);
}

TEST_F(BinaryTest, LoopbackMetricsFollowTheClientAddressBehindATrustedProxy) {
  Start({"--metrics-access", "loopback", "--trusted-proxies", "127.0.0.1"});
  auto local = Get("/metrics");
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200);
  // Through the (trusted) proxy on this machine, a remote client is not loopback.
  auto remote = Get("/metrics", "X-Forwarded-For: 203.0.113.9\r\n");
  ASSERT_TRUE(remote);
  EXPECT_EQ(remote->status, 403);
  EXPECT_EQ(ErrorReason(*remote), "metrics_access");
}

TEST_F(BinaryTest, AccessLogEscapesControlCharactersAndQuotes) {
  Start();
  ASSERT_TRUE(Get("/api/v1/x%0aFORGED%20line%22%5c%01"));
  ASSERT_TRUE(testing::WaitFor([&] { return server_->Log().find("FORGED") != std::string::npos; }, 5s));
  std::string log = server_->Log();
  EXPECT_NE(log.find(R"(path="/api/v1/x\nFORGED line\"\\\x01")"), std::string::npos) << log;
  EXPECT_EQ(log.find("\nFORGED"), std::string::npos) << log;
}

TEST_F(BinaryTest, RaisesTheDescriptorLimitAndCapsConnectionsPerClient) {
  Start({"--max-connections-per-client", "3"});
  std::ifstream limits("/proc/" + std::to_string(server_->pid()) + "/limits");
  std::string line;
  while (std::getline(limits, line) && !line.starts_with("Max open files")) {}
  std::istringstream fields(line.substr(std::string("Max open files").size()));
  std::string soft, hard;
  fields >> soft >> hard;
  EXPECT_EQ(soft, hard) << line;
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<RawConnection>(addr_));
    ASSERT_TRUE(idle.back()->Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_TRUE(idle.back()->ReadReply());  // served, and now idle
  }
  RawConnection extra(addr_);
  extra.Send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  auto refused = extra.ReadReply(5s);
  if (refused) {
    EXPECT_EQ(refused->status, 503);
  } else {
    EXPECT_TRUE(extra.WaitClosed(5s));
  }
  idle.clear();
  auto after = testing::WaitFor([&] { return Get("/healthz")->status == 200; }, 5s);
  EXPECT_TRUE(after);
  EXPECT_NE(server_->Log().find("max_connections_per_client"), std::string::npos);
}

TEST_F(BinaryTest, StatusStreamsAreCappedAndShareOnePoll) {
  Start();
  std::vector<std::unique_ptr<RawConnection>> streams;
  for (int i = 0; i < 64; ++i) {
    streams.push_back(std::make_unique<RawConnection>(addr_));
    ASSERT_TRUE(streams.back()->Send("GET /api/v1/status/stream HTTP/1.1\r\nHost: " + addr_ + "\r\n\r\n"));
  }
  for (auto& stream : streams) {
    std::string event = stream->ReadUntil("}\n\n", 10s);
    ASSERT_NE(event.find("event: status"), std::string::npos) << event;
  }
  auto over = testing::Request(addr_, "GET", "/api/v1/status/stream");
  ASSERT_TRUE(over);
  EXPECT_EQ(over->status, 503);
  EXPECT_EQ(over->header("retry-after"), "5");
  auto metrics = Get("/metrics");
  ASSERT_TRUE(metrics);
  auto at = metrics->body.find("\npaddlecloud_status_polls_total ");
  ASSERT_NE(at, std::string::npos) << metrics->body;
  double polls = std::stod(metrics->body.substr(at + 32));
  EXPECT_GE(polls, 1);
  EXPECT_LE(polls, 3);  // 64 streams, one poll per 5 s between them
  // A closed stream frees its slot (once a write to it fails: within two 5 s ticks).
  streams.pop_back();
  EXPECT_TRUE(testing::WaitFor([&] {
    RawConnection again(addr_);
    again.Send("GET /api/v1/status/stream HTTP/1.1\r\nHost: " + addr_ + "\r\n\r\n");
    return again.ReadUntil("\n\n", 2s).find("200 OK") != std::string::npos;
  }, 20s));
}

}  // namespace
}  // namespace paddlecloud
