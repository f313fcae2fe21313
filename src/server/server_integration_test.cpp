// Integration tests: the real `paddlecloud` binary on 127.0.0.1:0 with a temporary data dir.
#include <gtest/gtest.h>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "sqlite/sqlite_database.h"
#include "testing/http_client.h"
#include "testing/server_process.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;
using testing::RawConnection;
using testing::ServerProcess;
using testing::RunCommand;
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
  EXPECT_NE(metrics->body.find("\nprocess_cpu_seconds_total "), std::string::npos);

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
  EXPECT_EQ(deep->status, root->status);
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
  ASSERT_TRUE(slow.Send("POST /api/v1/csp-reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/csp-report\r\n"
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
  ASSERT_TRUE(stream.Send("GET /api/v1/status/stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n"));
  std::string first = stream.ReadUntil("\n\n", 5s);  // headers + retry
  std::string event = stream.ReadUntil("}\n\n", 5s);
  EXPECT_NE(first.find("text/event-stream"), std::string::npos) << first;
  EXPECT_NE(event.find("event: status"), std::string::npos) << event;
  EXPECT_NE(event.find("\"status\":\"ready\""), std::string::npos) << event;
  EXPECT_EQ(server_->Stop(SIGTERM, 10s), 0) << server_->Log();
  EXPECT_TRUE(stream.WaitClosed(1s));
}

TEST_F(BinaryTest, SecondServerOnTheSameDataDirRefusesClearly) {
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
    auto db = db::OpenSqliteDatabase({.path = dir_.path() + "/data/paddlecloud.db", .busy_timeout_ms = 1000, .pool_size = 1});
    ASSERT_TRUE(db);
    std::vector<db::Migration> future = {{42, "from the future", "CREATE TABLE future (x INTEGER);"}};
    ASSERT_TRUE((*db)->Migrate(future).ok());
  }
  ServerProcess server(dir_.path() + "/data");
  EXPECT_EQ(server.WaitExit(20s), 1);
  EXPECT_NE(server.Log().find("42"), std::string::npos) << server.Log();
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

}  // namespace
}  // namespace paddlecloud
