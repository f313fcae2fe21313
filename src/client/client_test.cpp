// The CLI config file and the ApiClient (against the real server binary).
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <memory>

#include "client/api_client.h"
#include "client/cli_config.h"
#include "client/proxy.h"
#include "testing/server_process.h"
#include "testing/smtp_server.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

int ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
}

// ---- the config file ------------------------------------------------------------------------

// The SDK's (urllib's) proxy rule, case by case (the end-to-end tests run both through tinyproxy).
TEST(ProxyRule, ReadsTheEnvironmentAsUrllibDoes) {
  auto env = ProxyEnvironmentFrom({{"HTTPS_PROXY", "http://upper:1"}, {"https_proxy", "http://lower:2"},
                                   {"HTTP_PROXY", "http://h:3"}, {"NO_PROXY", "a"}, {"no_proxy", ""}});
  EXPECT_EQ(env.https_proxy, "http://lower:2");  // lower case wins
  EXPECT_EQ(env.http_proxy, "http://h:3");
  EXPECT_EQ(env.no_proxy, "");  // an empty lower-case one unsets it
  EXPECT_EQ(ProxyEnvironmentFrom({{"HTTP_PROXY", "http://h:3"}, {"REQUEST_METHOD", "GET"}}).http_proxy, "");  // CGI
  EXPECT_EQ(ProxyEnvironmentFrom({{"ALL_PROXY", "http://h:3"}}).https_proxy, "");
}

TEST(ProxyRule, NoProxyMatchesHostsDomainsPortsAndStar) {
  EXPECT_TRUE(BypassesProxy("*", "example.com", ""));
  EXPECT_TRUE(BypassesProxy("example.com", "EXAMPLE.com", ""));
  EXPECT_TRUE(BypassesProxy("example.com", "api.example.com", "8443"));
  EXPECT_TRUE(BypassesProxy(" .example.com ,other", "api.example.com", ""));
  EXPECT_FALSE(BypassesProxy("example.com", "badexample.com", ""));  // a domain, not a suffix of letters
  EXPECT_TRUE(BypassesProxy("a, 127.0.0.1:8080", "127.0.0.1", "8080"));
  EXPECT_FALSE(BypassesProxy("127.0.0.1:8080", "127.0.0.1", "9090"));
  EXPECT_FALSE(BypassesProxy("127.0.0.1:8080", "127.0.0.1", ""));  // the port as written in the URL
  EXPECT_FALSE(BypassesProxy("localhost", "127.0.0.1", ""));       // loopback is not special
  EXPECT_FALSE(BypassesProxy("", "127.0.0.1", ""));
  EXPECT_FALSE(BypassesProxy("*,example.com", "other.org", ""));  // "*" only alone
  EXPECT_TRUE(BypassesProxy("::1", "::1", ""));
  EXPECT_TRUE(BypassesProxy("[::1]", "::1", ""));
}

TEST(ProxyRule, ProxyUrlsAndCredentials) {
  ProxyEnvironment env{.http_proxy = "proxy.corp:3128", .https_proxy = "http://al%40ice:p%3Ass@proxy.corp"};
  auto plain = ProxyFor(env, false, "example.com", "");
  ASSERT_TRUE(plain && *plain);
  EXPECT_EQ((*plain)->url, "http://proxy.corp:3128");
  EXPECT_EQ((*plain)->authorization, "");
  auto tls = ProxyFor(env, true, "example.com", "");
  ASSERT_TRUE(tls && *tls);
  EXPECT_EQ((*tls)->port, "80");
  EXPECT_EQ((*tls)->authorization, "Basic YWxAaWNlOnA6c3M=");  // base64("al@ice:p:ss")
  EXPECT_EQ((*tls)->url.find("ice"), std::string::npos);      // never the credentials
  env.no_proxy = "example.com";
  EXPECT_FALSE(*ProxyFor(env, true, "example.com", ""));
  auto socks = ProxyFor({.https_proxy = "socks5://p:1080"}, true, "example.com", "");
  ASSERT_FALSE(socks);
  EXPECT_EQ(socks.error().field(), "https_proxy");
  EXPECT_NE(socks.error().message().find("is not an http:// proxy"), std::string::npos);
}

TEST(CliConfigTest, PathHonoursHomeAndTheOverride) {
  EXPECT_EQ(*ConfigPath({{"HOME", "/home/ann"}}), "/home/ann/.paddlecloud/config");
  EXPECT_EQ(*ConfigPath({{"HOME", "/home/ann"}, {"PADDLECLOUD_CLI_CONFIG", "/etc/pc.json"}}), "/etc/pc.json");
  EXPECT_EQ(*ConfigPath({{"HOME", "/home/ann"}, {"PADDLECLOUD_CLI_CONFIG", ""}}), "/home/ann/.paddlecloud/config");
  auto fallback = ConfigPath({});  // HOME unset: the user database's home
  ASSERT_TRUE(fallback) << fallback.error().ToString();
  EXPECT_TRUE(fallback->ends_with("/.paddlecloud/config"));
}

TEST(CliConfigTest, MissingFileIsEmpty) {
  testing::TempDir dir;
  auto config = ReadConfig(dir.path() + "/nothing/config");
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_TRUE(config->server.empty());
  EXPECT_TRUE(config->token.empty());
}

TEST(CliConfigTest, WritesPrivatelyAndReadsBack) {
  testing::TempDir dir;
  std::string path = dir.path() + "/home/.paddlecloud/config";
  ASSERT_TRUE(WriteConfig(path, {.server = "https://pc.example.com", .token = "pct_secret", .cacert = "/ca.pem"}).ok());
  EXPECT_EQ(ModeOf(path), 0600);
  EXPECT_EQ(ModeOf(dir.path() + "/home/.paddlecloud"), 0700);
  EXPECT_EQ(ModeOf(dir.path() + "/home"), 0700);
  auto json_text = json::parse(testing::ReadFile(path));  // plain JSON, as the Python SDK reads it
  EXPECT_EQ(json_text.at("server").as_string(), "https://pc.example.com");
  EXPECT_EQ(json_text.at("token").as_string(), "pct_secret");
  auto config = ReadConfig(path);
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_EQ(config->server, "https://pc.example.com");
  EXPECT_EQ(config->token, "pct_secret");
  EXPECT_EQ(config->cacert, "/ca.pem");

  // Rewriting keeps members it does not know, drops empty ones, and leaves no temporary files.
  WriteText(path, R"({"server":"http://a:1","token":"t","future":{"x":1},"cacert":null})");
  ::chmod(path.c_str(), 0644);
  config = ReadConfig(path);
  ASSERT_TRUE(config) << config.error().ToString();
  EXPECT_TRUE(config->cacert.empty());
  config->token.clear();
  ASSERT_TRUE(WriteConfig(path, *config).ok());
  EXPECT_EQ(ModeOf(path), 0600);
  auto rewritten = json::parse(testing::ReadFile(path)).as_object();
  EXPECT_EQ(rewritten.at("future").at("x").as_int64(), 1);
  EXPECT_FALSE(rewritten.contains("token"));
  EXPECT_EQ(rewritten.at("server").as_string(), "http://a:1");
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path() + "/home/.paddlecloud")) ++entries;
  EXPECT_EQ(entries, 1);
}

TEST(CliConfigTest, FailedWriteLeavesTheOldFileIntact) {
  testing::TempDir dir;
  std::string path = dir.path() + "/config";
  ASSERT_TRUE(WriteConfig(path, {.server = "http://old:1", .token = "old"}).ok());
  // A file size limit makes the write fail half way (whoever runs the test, root included).
  CliConfig big{.server = "http://new:1", .token = "new"};
  big.other["padding"] = std::string(64 * 1024, 'x');
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit saved{};
  ::getrlimit(RLIMIT_FSIZE, &saved);
  rlimit small = saved;
  small.rlim_cur = 4096;
  ::setrlimit(RLIMIT_FSIZE, &small);
  Status s = WriteConfig(path, big);
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(path), std::string::npos) << s.ToString();
  EXPECT_EQ(ReadConfig(path)->token, "old");
  int entries = 0;
  for ([[maybe_unused]] auto& e : fs::directory_iterator(dir.path())) ++entries;
  EXPECT_EQ(entries, 1);  // the temporary file is gone
}

TEST(CliConfigTest, BadFilesGetErrorsNamingThem) {
  testing::TempDir dir;
  std::string path = dir.path() + "/config";
  struct Case {
    std::string text;
    std::string says;
  };
  for (const auto& c : std::vector<Case>{{"{not json", "not valid JSON"},
                                         {"server = http://x", "not valid JSON"},
                                         {"[1,2]", "JSON object"},
                                         {R"({"server": 7})", "\"server\" must be a string"},
                                         {R"({"token": ["a"]})", "\"token\" must be a string"}}) {
    WriteText(path, c.text);
    auto config = ReadConfig(path);
    ASSERT_FALSE(config) << c.text;
    EXPECT_EQ(config.error().code(), Code::kInvalidArgument);
    EXPECT_NE(config.error().message().find(path), std::string::npos) << config.error().message();
    EXPECT_NE(config.error().message().find(c.says), std::string::npos) << config.error().message();
  }
}

TEST(CliConfigTest, FlagsBeatEnvironmentBeatFile) {
  CliConfig file{.server = "http://file:1", .token = "file-token", .cacert = "/file-ca.pem"};
  auto s = ResolveSettings({}, {}, file);
  EXPECT_EQ(s.server, "http://file:1");
  EXPECT_EQ(s.token, "file-token");
  EXPECT_EQ(s.token_source, "the config file");
  EXPECT_EQ(s.cacert, "/file-ca.pem");

  s = ResolveSettings({}, {{"PADDLE_CLOUD_URL", "http://FILE:1/"}}, file);  // the same server, spelled differently
  EXPECT_EQ(s.server, "http://FILE:1");
  EXPECT_EQ(s.server_source, "PADDLE_CLOUD_URL");
  EXPECT_EQ(s.token, "file-token");

  s = ResolveSettings({}, {{"PADDLE_CLOUD_TOKEN", "env-token"}}, file);
  EXPECT_EQ(s.token, "env-token");
  EXPECT_EQ(s.token_source, "PADDLE_CLOUD_TOKEN");

  s = ResolveSettings({.server = "http://flag:3", .cacert = "/flag-ca.pem"},
                      {{"PADDLE_CLOUD_URL", "http://env:2"}, {"PADDLE_CLOUD_TOKEN", "env-token"}}, file);
  EXPECT_EQ(s.server, "http://flag:3");
  EXPECT_EQ(s.server_source, "--server");
  EXPECT_EQ(s.token, "env-token");
  EXPECT_EQ(s.cacert, "/flag-ca.pem");

  // The stored token and CA belong to the stored server: another server never gets them.
  s = ResolveSettings({}, {{"PADDLE_CLOUD_URL", "http://env:2"}}, file);
  EXPECT_EQ(s.server, "http://env:2");
  EXPECT_TRUE(s.token.empty());
  EXPECT_TRUE(s.cacert.empty());
  s = ResolveSettings({.server = "https://file:1"}, {}, file);
  EXPECT_TRUE(s.token.empty());

  EXPECT_TRUE(ResolveSettings({}, {}, {}).server.empty());
  EXPECT_TRUE(SameServer("https://PC.example.com/", "https://pc.example.com:443"));
  EXPECT_TRUE(SameServer("http://h", "http://h:80/"));
  EXPECT_FALSE(SameServer("http://h:8080", "http://h:8081"));
  EXPECT_FALSE(SameServer("http://h", "https://h"));
}

// ---- ApiClient --------------------------------------------------------------------------------

TEST(ApiClientTest, RejectsBadUrlsAndHalfACertificate) {
  for (std::string url : {"", "127.0.0.1:8080", "ftp://h", "http://", "http://u:p@h", "http://h/?q=1"}) {
    auto c = ApiClient::Create({.server = url});
    ASSERT_FALSE(c) << url;
    EXPECT_EQ(c.error().field(), "server") << url;
  }
  auto half = ApiClient::Create({.server = "https://h", .cert_file = "/c.pem"});
  ASSERT_FALSE(half);
  EXPECT_EQ(half.error().field(), "key");
}

TEST(ApiClientTest, ErrorAnswersMapBackToStatus) {
  Status s = ErrorFromResponse(401, R"({"error":{"code":"unauthenticated","message":"wrong email or password"}})");
  EXPECT_EQ(s.code(), Code::kUnauthenticated);
  EXPECT_EQ(s.message(), "wrong email or password");
  s = ErrorFromResponse(403, R"({"error":{"code":"quota_exceeded","message":"no","details":{"field":"gpu","limit":4}}})");
  EXPECT_EQ(s.code(), Code::kQuotaExceeded);
  EXPECT_EQ(s.field(), "gpu");
  EXPECT_EQ(s.details().at("limit"), "4");
  s = ErrorFromResponse(429, R"({"error":{"code":"too_many_requests","message":"slow down"}})", "30");
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.details().at("retry_after"), "30");
  s = ErrorFromResponse(409, R"({"error":{"code":"from_the_future","message":"m"}})");
  EXPECT_EQ(s.code(), Code::kConflict);  // unknown code: by HTTP status
  s = ErrorFromResponse(502, "<html>Bad gateway</html>\n");
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), "server answered HTTP 502: <html>Bad gateway</html>");
  EXPECT_EQ(ErrorFromResponse(418, "").code(), Code::kInvalidArgument);
  EXPECT_EQ(ErrorFromResponse(500, "").code(), Code::kInternal);
}

// A model server behind the inference gateway answers errors in the Open Inference Protocol's shape.
TEST(ApiClientTest, AnInferenceErrorKeepsTheModelServersMessage) {
  Status s = ErrorFromResponse(400, R"({"error": "input 'x': shape [2] has 2 elements, the model wants 13"})");
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "HTTP 400: input 'x': shape [2] has 2 elements, the model wants 13");
  s = ErrorFromResponse(500, R"({"error": "ValueError: boom"})");
  EXPECT_EQ(s.code(), Code::kInternal);
  EXPECT_EQ(s.message(), "HTTP 500: ValueError: boom");
}

// A port on 127.0.0.1 that nobody listens on (bound, then released).
int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(ApiClientTest, UnreachableServerIsUnavailable) {
  std::string url = "http://127.0.0.1:" + std::to_string(FreePort());
  auto client = ApiClient::Create({.server = url});
  ASSERT_TRUE(client);
  auto r = client->Call("GET", "/api/v1/version");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_EQ(r.error().message(), "cannot reach the PaddleCloud server at " + url + ": Connection refused");
  EXPECT_EQ(r.error().details().at("reason"), "unreachable");  // the SDK's and the web's code for it

  auto nowhere = ApiClient::Create({.server = "http://nowhere.invalid"});
  auto unresolved = nowhere->Call("GET", "/");
  ASSERT_FALSE(unresolved);
  EXPECT_EQ(unresolved.error().code(), Code::kUnavailable);
  EXPECT_TRUE(unresolved.error().message().starts_with("cannot reach the PaddleCloud server at http://nowhere.invalid: cannot resolve"))
      << unresolved.error().message();
}

TEST(ApiClientTest, SilentServerTimesOut) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(fd, 4), 0);  // connections complete in the backlog; nobody ever answers
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  auto client = ApiClient::Create({.server = "http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)),
                                   .timeout = std::chrono::milliseconds(300)});
  auto start = std::chrono::steady_clock::now();
  auto r = client->Call("GET", "/api/v1/version");
  ::close(fd);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("timed out after 300 ms"), std::string::npos) << r.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

class ApiClientServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    server_ = new testing::ServerProcess(dir_->path() + "/data", {"--access-log", "false"});
    ASSERT_TRUE(server_->WaitReady()) << server_->Log();
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static ApiClient Client(std::string token = "") {
    auto c = ApiClient::Create({.server = "http://" + server_->address() + "/", .token = std::move(token)});
    EXPECT_TRUE(c) << c.error().ToString();
    return *c;
  }
  static testing::TempDir* dir_;
  static testing::ServerProcess* server_;
};
testing::TempDir* ApiClientServerTest::dir_ = nullptr;
testing::ServerProcess* ApiClientServerTest::server_ = nullptr;

TEST_F(ApiClientServerTest, VersionAndHealth) {
  auto client = Client();
  auto version = client.Call("GET", "/api/v1/version");
  ASSERT_TRUE(version) << version.error().ToString();
  EXPECT_EQ(version->at("name").as_string(), "paddlecloud");
  auto health = client.Call("GET", "/healthz");
  ASSERT_TRUE(health) << health.error().ToString();
  EXPECT_EQ(health->at("status").as_string(), "ok");
  auto raw = client.Send("GET", "/api/v1/nothing-here");
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->status, 404);
  EXPECT_EQ(raw->header("content-type"), "application/json");
}

TEST_F(ApiClientServerTest, ServerErrorsKeepCodeMessageAndField) {
  auto client = Client();
  auto missing = client.Call("GET", "/api/v1/nothing-here");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  auto raw = client.Send("GET", "/api/v1/nothing-here");
  EXPECT_EQ(missing.error().message(), std::string(json::parse(raw->body).at("error").at("message").as_string()));

  auto bad = client.Call("POST", "/api/v1/auth/register", json::object{{"password", "x"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(bad.error().field(), "email") << bad.error().ToString();
  auto csp = client.Call("POST", "/api/v1/csp-reports", json::object{{"csp-report", 7}});
  ASSERT_FALSE(csp);
  EXPECT_EQ(csp.error().field(), "csp-report");

  auto anonymous = client.Call("GET", "/api/v1/me");
  ASSERT_FALSE(anonymous);
  EXPECT_EQ(anonymous.error().code(), Code::kUnauthenticated);
  auto forged = Client("pct_forged_token_value").Call("GET", "/api/v1/me");
  ASSERT_FALSE(forged);
  EXPECT_EQ(forged.error().code(), Code::kUnauthenticated);
  EXPECT_EQ(forged.error().message().find("pct_forged"), std::string::npos);  // the secret is not echoed

  auto wrong = client.Call("POST", "/api/v1/auth/tokens",
                           json::object{{"email", "nobody@example.com"}, {"password", "not it at all"}, {"name", "t"}});
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), Code::kUnauthenticated);
  EXPECT_EQ(wrong.error().message(), "wrong email or password");
}

TEST_F(ApiClientServerTest, StreamsChunksUntilTheCallbackStops) {
  auto client = Client();
  std::string seen;
  Status s = client.Stream("/api/v1/status/stream", [&](std::string_view chunk) {
    seen.append(chunk);
    auto event = seen.find("event: status");
    return event == std::string::npos || seen.find("\n\n", event) == std::string::npos;  // one whole event is enough
  }, 10s);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_NE(seen.find("event: status"), std::string::npos) << seen;
  EXPECT_NE(seen.find("\"ready\""), std::string::npos) << seen;

  bool called = false;
  Status missing = client.Stream("/api/v1/nothing-here", [&](std::string_view) { return called = true; });
  EXPECT_EQ(missing.code(), Code::kNotFound);
  EXPECT_FALSE(called);
}

TEST_F(ApiClientServerTest, UploadsStreamAFileAndKeepAnEarlyAnswer) {
  auto client = Client();
  auto missing = client.Upload("POST", "/api/v1/jobs/packages", dir_->path() + "/no-such.tar.gz", "application/gzip");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code(), Code::kInvalidArgument);
  EXPECT_NE(missing.error().message().find("no-such.tar.gz"), std::string::npos) << missing.error().ToString();

  // Not signed in: the server refuses before reading 64 MiB; that answer, not a broken pipe, comes back.
  std::string big = dir_->path() + "/big.tar.gz";
  {
    std::ofstream out(big, std::ios::binary);
    std::string block(1 << 20, 'x');
    for (int i = 0; i < 64; ++i) out << block;
  }
  std::uint64_t last_sent = 0, last_total = 0;
  bool monotonic = true;
  auto refused = client.Upload("POST", "/api/v1/jobs/packages", big, "application/gzip",
                               [&](std::uint64_t sent, std::uint64_t total) {
                                 monotonic &= sent > last_sent && sent <= total;
                                 last_sent = sent;
                                 last_total = total;
                               });
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kUnauthenticated) << refused.error().ToString();
  EXPECT_TRUE(monotonic);
  EXPECT_TRUE(last_total == 0 || last_total == 64u << 20);
}

// ---- https --------------------------------------------------------------------------------------

using testing::RunCommand;

TEST(ApiClientTlsTest, VerifiesTheServerCertificateAndItsName) {
  testing::TempDir dir;
  std::string cert = dir.path() + "/server.crt", key = dir.path() + "/server.key";
  RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
             "-keyout " + key + " -out " + cert);
  ASSERT_TRUE(fs::exists(cert));
  testing::ServerProcess server(dir.path() + "/data", {"--tls-cert", cert, "--tls-key", key, "--access-log", "false"});
  ASSERT_TRUE(server.WaitReady()) << server.Log();
  std::string port = server.address().substr(server.address().rfind(':') + 1);

  auto trusted = ApiClient::Create({.server = "https://" + server.address(), .ca_file = cert});
  auto version = trusted->Call("GET", "/api/v1/version");
  ASSERT_TRUE(version) << version.error().ToString();
  EXPECT_EQ(version->at("name").as_string(), "paddlecloud");

  auto system_store = ApiClient::Create({.server = "https://" + server.address()});
  auto untrusted = system_store->Call("GET", "/api/v1/version");
  ASSERT_FALSE(untrusted);
  EXPECT_EQ(untrusted.error().code(), Code::kUnavailable);
  EXPECT_NE(untrusted.error().message().find("server certificate not trusted: self-signed certificate"),
            std::string::npos)
      << untrusted.error().message();

  auto other_name = ApiClient::Create({.server = "https://localhost:" + port, .ca_file = cert});
  auto mismatch = other_name->Call("GET", "/api/v1/version");
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message().find("mismatch"), std::string::npos) << mismatch.error().message();

  auto no_ca = ApiClient::Create({.server = "https://" + server.address(), .ca_file = dir.path() + "/missing.pem"});
  auto unusable = no_ca->Call("GET", "/api/v1/version");
  ASSERT_FALSE(unusable);
  EXPECT_EQ(unusable.error().field(), "cacert");

  auto plain = ApiClient::Create({.server = "http://" + server.address(), .timeout = 5s});
  auto refused = plain->Call("GET", "/api/v1/version");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace paddlecloud::client
