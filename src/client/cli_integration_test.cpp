// The command line end to end: the built binary as a child process with its own HOME and a piped
// stdin, against the real server binary and a real SMTP server (aiosmtpd) for verification mail.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "client/api_client.h"
#include "client/cli_test_support.h"
#include "client/proxy_test_support.h"
#include "testing/http_client.h"
#include "testing/server_process.h"
#include "testing/platform_fixture.h"
#include "testing/smtp_server.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using namespace std::chrono_literals;

constexpr char kPassword[] = "correct horse battery";

using test::Outcome;
using test::RunProgram;

int ModeOf(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int>(st.st_mode & 0777) : -1;
}

class CliTest : public testing::PlatformTest {
 protected:
  // A fresh HOME for one CLI user.
  std::string NewHome(const std::string& name) {
    std::string home = dir_.path() + "/" + name;
    fs::create_directories(home);
    return home;
  }
  Outcome Cli(const std::string& home, std::vector<std::string> args, const std::string& input = "",
          const std::map<std::string, std::string>& env = {}) {
    args.insert(args.begin(), testing::PaddlecloudBinary());
    return RunProgram(args, home, input, env);
  }

  // Registers `email` with account `account` through `client` and verifies it from the mailed link.
  void Register(ApiClient& client, const std::string& email, const std::string& account) {
    int before = smtp_->MessageCount();
    auto reg = client.Call("POST", "/api/v1/auth/register",
                           json::object{{"email", email}, {"password", kPassword}, {"account_id", account},
                                        {"display_name", "Ann Example"}});
    ASSERT_TRUE(reg) << reg.error().ToString();
    ASSERT_TRUE(smtp_->WaitForMessages(before + 1)) << server_->Log();
    std::smatch m;
    std::string mail = smtp_->DecodedMessage(before + 1);
    ASSERT_TRUE(std::regex_search(mail, m, std::regex("/verify\\?token=([A-Za-z0-9_-]+)"))) << mail;
    auto verified = client.Call("POST", "/api/v1/auth/verify", json::object{{"token", m[1].str()}});
    ASSERT_TRUE(verified) << verified.error().ToString();
    ASSERT_TRUE(smtp_->WaitForMessages(before + 2));
  }
  void RegisterOverHttp(const std::string& email, const std::string& account) {
    auto client = ApiClient::Create({.server = "http://" + addr_});
    ASSERT_TRUE(client);
    Register(*client, email, account);
  }
  // Starts the server with https on a new self-signed certificate for 127.0.0.1 (written to `cert`)
  // and registers ann@example.com (account ann-lab); returns a client of it that trusts `cert`.
  std::optional<ApiClient> StartHttpsWithAnn(const std::string& cert) {
    std::string key = dir_.path() + "/server.key";
    std::string openssl = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
                          "-addext subjectAltName=IP:127.0.0.1 -keyout " + key + " -out " + cert + " 2>/dev/null";
    EXPECT_EQ(std::system(openssl.c_str()), 0);
    StartServer({"--tls-cert", cert, "--tls-key", key});
    auto client = ApiClient::Create({.server = "https://" + addr_, .ca_file = cert});
    EXPECT_TRUE(client);
    if (!client) return std::nullopt;
    Register(*client, "ann@example.com", "ann-lab");
    return std::move(*client);
  }
  // Runs Python `code` with the SDK importable, as the user of `home`.
  Outcome Sdk(const std::string& home, const std::string& code, const std::map<std::string, std::string>& env = {}) {
    std::string script = "import sys\nsys.path.insert(0, \"" + std::string(PADDLECLOUD_SOURCE_DIR) + "/sdk/python\")\n" +
                         "from paddlecloud import ApiError, Client, upload\n" + code;
    return RunProgram({"python3", "-c", script}, home, "", env);
  }
};

// Python: prints the signed-in email, or the error's message (exit 1).
constexpr char kSdkWhoami[] = R"(
try:
    print(Client().request("GET", "/api/v1/me")["user"]["email"])
except ApiError as e:
    print(e.message)
    sys.exit(1)
)";

TEST_F(CliTest, LoginWhoamiLogoutOverHttp) {
  StartServer();
  RegisterOverHttp("ann@example.com", "ann-lab");
  std::string home = NewHome("ann");
  std::string server = "http://" + addr_;
  std::string config = home + "/.paddlecloud/config";

  Outcome wrong = Cli(home, {"login", "--server", server, "--email", "ann@example.com"}, "not the password\n");
  EXPECT_EQ(wrong.exit_code, 1) << wrong;
  EXPECT_EQ(wrong.err, "paddlecloud: wrong email or password\n") << wrong;
  EXPECT_FALSE(fs::exists(config));

  Outcome login = Cli(home, {"login", "--server", server, "--email", "ann@example.com", "--token-name", "ci laptop"},
                  std::string(kPassword) + "\n");
  ASSERT_EQ(login.exit_code, 0) << login;
  EXPECT_EQ(login.out, "Signed in to " + server + " as ann@example.com (account ann-lab)\n") << login;
  EXPECT_EQ(login.out.find(kPassword), std::string::npos);
  ASSERT_TRUE(fs::exists(config));
  EXPECT_EQ(ModeOf(config), 0600);
  EXPECT_EQ(ModeOf(home + "/.paddlecloud"), 0700);
  auto stored = json::parse(testing::ReadFile(config));
  EXPECT_EQ(stored.at("server").as_string(), server);
  std::string token(stored.at("token").as_string());
  ASSERT_TRUE(token.starts_with("pct_")) << token;
  EXPECT_EQ(login.out.find(token), std::string::npos);
  EXPECT_EQ(login.err.find(token), std::string::npos);
  std::string bearer = "Authorization: Bearer " + token + "\r\n";
  auto tokens = testing::Request(addr_, "GET", "/api/v1/me/tokens", "", bearer);
  ASSERT_EQ(tokens->status, 200);
  EXPECT_NE(tokens->body.find("\"ci laptop\""), std::string::npos) << tokens->body;

  Outcome whoami = Cli(home, {"whoami"});
  ASSERT_EQ(whoami.exit_code, 0) << whoami;
  EXPECT_NE(whoami.out.find("email:    ann@example.com\n"), std::string::npos) << whoami;
  EXPECT_NE(whoami.out.find("name:     Ann Example\n"), std::string::npos) << whoami;
  EXPECT_NE(whoami.out.find("account:  ann-lab"), std::string::npos) << whoami;
  EXPECT_NE(whoami.out.find("role:     master\n"), std::string::npos) << whoami;
  EXPECT_NE(whoami.out.find("server:   " + server + "\n"), std::string::npos) << whoami;
  EXPECT_EQ(whoami.out.find(token), std::string::npos);

  // The Python SDK reads the same config file.
  std::string script = "import sys; sys.path.insert(0, \"" + std::string(PADDLECLOUD_SOURCE_DIR) +
                       "/sdk/python\"); from paddlecloud import Client; "
                       "print(Client().request(\"GET\",\"/api/v1/me\")[\"user\"][\"email\"])";
  Outcome sdk = RunProgram({"python3", "-c", script}, home, "");
  EXPECT_EQ(sdk.exit_code, 0) << sdk;
  EXPECT_EQ(sdk.out, "ann@example.com\n") << sdk;

  // Environment beats the file: another server in PADDLE_CLOUD_URL does not get the stored token.
  Outcome elsewhere = Cli(home, {"whoami"}, "", {{"PADDLE_CLOUD_URL", "http://127.0.0.1:1"}});
  EXPECT_EQ(elsewhere.exit_code, 1) << elsewhere;
  EXPECT_NE(elsewhere.err.find("not signed in"), std::string::npos) << elsewhere;
  Outcome env_token = Cli(home, {"whoami"}, "", {{"PADDLE_CLOUD_TOKEN", "pct_not_a_real_token"}});
  EXPECT_EQ(env_token.exit_code, 1) << env_token;
  EXPECT_NE(env_token.err.find("not signed in"), std::string::npos) << env_token;
  EXPECT_NE(env_token.err.find("PADDLE_CLOUD_TOKEN"), std::string::npos) << env_token;

  Outcome logout = Cli(home, {"logout"});
  ASSERT_EQ(logout.exit_code, 0) << logout;
  EXPECT_EQ(logout.out, "Signed out of " + server + ".\n") << logout;
  EXPECT_EQ(logout.err, "") << logout;
  EXPECT_EQ(testing::Request(addr_, "GET", "/api/v1/me", "", bearer)->status, 401);  // revoked server-side
  auto after = json::parse(testing::ReadFile(config)).as_object();
  EXPECT_FALSE(after.contains("token")) << json::serialize(after);
  EXPECT_EQ(after.at("server").as_string(), server);
  EXPECT_EQ(ModeOf(config), 0600);

  Outcome nobody = Cli(home, {"whoami"});
  EXPECT_EQ(nobody.exit_code, 1) << nobody;
  EXPECT_EQ(nobody.err, "paddlecloud: not signed in: run paddlecloud login --server " + server + "\n") << nobody;
  Outcome again = Cli(home, {"logout"});
  EXPECT_EQ(again.exit_code, 0) << again;

  Outcome fresh = Cli(NewHome("nobody"), {"whoami"});
  EXPECT_EQ(fresh.exit_code, 1) << fresh;
  EXPECT_EQ(fresh.err, "paddlecloud: not signed in: run paddlecloud login --server URL\n") << fresh;
}

TEST_F(CliTest, LogoutStillSignsOutWhenTheTokenIsDeadOrTheServerGone) {
  StartServer();
  RegisterOverHttp("ann@example.com", "ann-lab");
  std::string home = NewHome("ann");
  std::string config = home + "/.paddlecloud/config";
  ASSERT_EQ(Cli(home, {"login", "--server", "http://" + addr_, "--email", "ann@example.com"}, kPassword).exit_code, 0);

  // Revoked behind the CLI's back.
  std::string token(json::parse(testing::ReadFile(config)).at("token").as_string());
  auto client = ApiClient::Create({.server = "http://" + addr_, .token = token});
  auto listed = client->Call("GET", "/api/v1/me/tokens");
  ASSERT_TRUE(listed);
  auto id = listed->at("items").at(0).at("id").as_int64();
  ASSERT_TRUE(client->Call("DELETE", "/api/v1/me/tokens/" + std::to_string(id)));
  Outcome rejected = Cli(home, {"whoami"});
  EXPECT_EQ(rejected.exit_code, 1) << rejected;
  EXPECT_NE(rejected.err.find("not signed in"), std::string::npos) << rejected;
  Outcome dead = Cli(home, {"logout"});
  EXPECT_EQ(dead.exit_code, 0) << dead;
  EXPECT_NE(dead.err.find("warning: the server no longer accepts the stored token"), std::string::npos) << dead;
  EXPECT_FALSE(json::parse(testing::ReadFile(config)).as_object().contains("token"));

  // Server gone.
  ASSERT_EQ(Cli(home, {"login", "--email", "ann@example.com"}, kPassword).exit_code, 0);  // server from the config
  EXPECT_EQ(server_->Stop(SIGTERM), 0);
  Outcome offline = Cli(home, {"logout"});
  EXPECT_EQ(offline.exit_code, 0) << offline;
  EXPECT_NE(offline.err.find("warning: could not revoke the token on http://" + addr_ + ": cannot reach"),
            std::string::npos)
      << offline;
  EXPECT_FALSE(json::parse(testing::ReadFile(config)).as_object().contains("token"));
  Outcome unreachable = Cli(NewHome("bob"), {"login", "--server", "http://" + addr_, "--email", "b@example.com"}, "pw\n");
  EXPECT_EQ(unreachable.exit_code, 1) << unreachable;
  EXPECT_EQ(unreachable.err, "paddlecloud: cannot reach the PaddleCloud server at http://" + addr_ + ": Connection refused\n") << unreachable;
}

TEST_F(CliTest, UsageErrorsAndThrottling) {
  StartServer();
  RegisterOverHttp("ann@example.com", "ann-lab");
  std::string home = NewHome("ann");
  std::string server = "http://" + addr_;

  Outcome help = Cli(home, {"login", "--help"});
  EXPECT_EQ(help.exit_code, 0) << help;
  EXPECT_NE(help.out.find("--server"), std::string::npos) << help;
  EXPECT_EQ(Cli(home, {"whoami", "--help"}).exit_code, 0);
  EXPECT_EQ(Cli(home, {"logout", "--help"}).exit_code, 0);
  EXPECT_EQ(Cli(home, {"login", "--no-such-flag"}).exit_code, 2);
  Outcome no_server = Cli(home, {"login", "--email", "ann@example.com"}, kPassword);
  EXPECT_EQ(no_server.exit_code, 2) << no_server;
  EXPECT_NE(no_server.err.find("--server"), std::string::npos) << no_server;
  Outcome no_email = Cli(home, {"login", "--server", server}, kPassword);
  EXPECT_EQ(no_email.exit_code, 2) << no_email;
  EXPECT_NE(no_email.err.find("--email"), std::string::npos) << no_email;
  EXPECT_EQ(Cli(home, {"login", "--server", "ftp://x", "--email", "a@b.c"}, kPassword).exit_code, 2);
  EXPECT_EQ(Cli(home, {"login", "--server", server, "--email", "ann@example.com"}, "").exit_code, 2);

  std::string config = home + "/.paddlecloud/config";
  fs::create_directories(home + "/.paddlecloud");
  std::ofstream(config) << "data_dir = /srv/paddlecloud\n";  // not ours: never overwritten
  Outcome broken = Cli(home, {"login", "--server", server, "--email", "ann@example.com"}, kPassword);
  EXPECT_EQ(broken.exit_code, 1) << broken;
  EXPECT_NE(broken.err.find(config + " is not valid JSON"), std::string::npos) << broken;
  EXPECT_EQ(testing::ReadFile(config), "data_dir = /srv/paddlecloud\n");
  fs::remove(config);

  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(Cli(home, {"login", "--server", server, "--email", "ann@example.com"}, "guess number x\n").exit_code, 1);
  Outcome throttled = Cli(home, {"login", "--server", server, "--email", "ann@example.com"}, kPassword);
  EXPECT_EQ(throttled.exit_code, 1) << throttled;
  EXPECT_TRUE(std::regex_search(throttled.err, std::regex("try again in [0-9]+ s"))) << throttled;
  EXPECT_FALSE(fs::exists(config));
}

// On a terminal: prompts on stderr, the password is not echoed, and the config is written.
TEST_F(CliTest, PromptsOnATerminalWithoutEcho) {
  StartServer();
  RegisterOverHttp("ann@example.com", "ann-lab");
  std::string home = NewHome("ann");
  // python3's pty module gives the binary a real terminal; it types the answers at the prompts.
  std::string script = R"PY(
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], ["paddlecloud", "login", "--server", sys.argv[2]])
seen = b""
def until(text, timeout=30):
    global seen
    deadline = time.monotonic() + timeout
    while text not in seen and time.monotonic() < deadline:
        if select.select([fd], [], [], 0.1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            seen += chunk
until(b"Email: ")
os.write(fd, b"ann@example.com\n")
until(b"Password for ann@example.com: ")
os.write(fd, sys.argv[3].encode() + b"\n")
until(b"(account ann-lab)")
until(b"\n", 2)
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode())
sys.exit(os.waitstatus_to_exitcode(status))
)PY";
  Outcome login = RunProgram({"python3", "-c", script, testing::PaddlecloudBinary(), "http://" + addr_, kPassword}, home, "");
  EXPECT_EQ(login.exit_code, 0) << login;
  EXPECT_NE(login.out.find("Signed in to http://" + addr_ + " as ann@example.com (account ann-lab)"), std::string::npos)
      << login;
  EXPECT_EQ(login.out.find(kPassword), std::string::npos) << login;  // never echoed
  EXPECT_EQ(ModeOf(home + "/.paddlecloud/config"), 0600);
  EXPECT_EQ(Cli(home, {"whoami"}).exit_code, 0);
}

// https with a private CA: login stores the CA file; a client certificate signs in without a token.
TEST_F(CliTest, HttpsWithCaFileAndClientCertificate) {
  std::string cert = dir_.path() + "/server.crt";
  auto anonymous = StartHttpsWithAnn(cert);
  ASSERT_TRUE(anonymous && !HasFatalFailure());
  std::string server = "https://" + addr_;

  std::string home = NewHome("ann");
  Outcome untrusted = Cli(home, {"login", "--server", server, "--email", "ann@example.com"}, kPassword);
  EXPECT_EQ(untrusted.exit_code, 1) << untrusted;
  EXPECT_NE(untrusted.err.find("server certificate not trusted"), std::string::npos) << untrusted;
  Outcome login = Cli(home, {"login", "--server", server, "--email", "ann@example.com", "--cacert", cert}, kPassword);
  ASSERT_EQ(login.exit_code, 0) << login;
  EXPECT_EQ(json::parse(testing::ReadFile(home + "/.paddlecloud/config")).at("cacert").as_string(), cert);
  Outcome whoami = Cli(home, {"whoami"});  // the CA file comes from the config
  EXPECT_EQ(whoami.exit_code, 0) << whoami;
  EXPECT_NE(whoami.out.find("ann@example.com"), std::string::npos) << whoami;
  std::string script = "import sys; sys.path.insert(0, \"" + std::string(PADDLECLOUD_SOURCE_DIR) +
                       "/sdk/python\"); from paddlecloud import Client; "
                       "print(Client().request(\"GET\",\"/api/v1/me\")[\"user\"][\"email\"])";
  Outcome sdk = RunProgram({"python3", "-c", script}, home, "");  // the SDK trusts the config's CA file too
  EXPECT_EQ(sdk.exit_code, 0) << sdk;
  EXPECT_EQ(sdk.out, "ann@example.com\n") << sdk;

  // A client certificate from the platform: sign in by session, create it, unpack the zip.
  auto signin = anonymous->Send("POST", "/api/v1/auth/login",
                                json::serialize(json::object{{"email", "ann@example.com"}, {"password", kPassword}}),
                                {{"Content-Type", "application/json"}});
  ASSERT_TRUE(signin);
  ASSERT_EQ(signin->status, 200) << signin->body;
  std::smatch cookie;
  std::string set_cookie = signin->header("set-cookie");
  ASSERT_TRUE(std::regex_search(set_cookie, cookie, std::regex("pc_session=([^;]+)")));
  std::string csrf(json::parse(signin->body).at("csrf_token").as_string());
  auto zip = anonymous->Send("POST", "/api/v1/me/certificates", R"({"valid_days":30})",
                             {{"Content-Type", "application/json"}, {"Cookie", "pc_session=" + cookie[1].str()},
                              {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(zip);
  ASSERT_EQ(zip->status, 201) << zip->body;
  std::string keys = dir_.path() + "/keys";
  fs::create_directories(keys);
  std::ofstream(keys + "/keys.zip", std::ios::binary) << zip->body;
  ASSERT_EQ(std::system(("cd " + keys + " && python3 -m zipfile -e keys.zip .").c_str()), 0);
  std::string crt, pem;
  for (auto& e : fs::directory_iterator(keys)) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".crt") && name != "ca.crt") crt = e.path().string();
    if (name.ends_with(".key")) pem = e.path().string();
  }
  ASSERT_FALSE(crt.empty());
  ASSERT_FALSE(pem.empty());

  auto mtls = ApiClient::Create({.server = server, .ca_file = cert, .cert_file = crt, .key_file = pem});
  auto me = mtls->Call("GET", "/api/v1/me");
  ASSERT_TRUE(me) << me.error().ToString();
  EXPECT_EQ(me->at("auth_method").as_string(), "certificate");
  Outcome by_certificate = Cli(NewHome("cert-only"), {"whoami", "--server", server, "--cacert", cert, "--cert", crt, "--key", pem});
  EXPECT_EQ(by_certificate.exit_code, 0) << by_certificate;
  EXPECT_NE(by_certificate.out.find("email:    ann@example.com"), std::string::npos) << by_certificate;
}


using test::FreePort;
using test::TinyProxy;

// The CLI and the SDK go through the same proxy: http:// requests in absolute form (JSON calls and
// the streamed upload PUTs alike).
TEST_F(CliTest, HttpThroughTheProxyFromCliAndSdk) {
  StartServer();
  RegisterOverHttp("ann@example.com", "ann-lab");
  std::string home = NewHome("ann");
  std::string server = "http://" + addr_;
  ASSERT_EQ(Cli(home, {"login", "--server", server, "--email", "ann@example.com"}, kPassword).exit_code, 0);
  TinyProxy proxy(dir_.path() + "/proxy");
  ASSERT_TRUE(proxy.WaitReady()) << proxy.Log();
  std::map<std::string, std::string> env = {{"HTTP_PROXY", proxy.url()}};
  std::string me = "GET " + server + "/api/v1/me HTTP/1.1";
  std::string put = "PUT " + server + "/api/v1/uploads/";
  std::ofstream(dir_.path() + "/cli.bin") << std::string(300'000, 'c');
  std::ofstream(dir_.path() + "/sdk.bin") << std::string(200'000, 's');

  Outcome whoami = Cli(home, {"whoami"}, "", env);
  ASSERT_EQ(whoami.exit_code, 0) << whoami;
  EXPECT_TRUE(proxy.WaitForRequests(me, 1)) << proxy.Log();
  Outcome cp = Cli(home, {"cp", dir_.path() + "/cli.bin", "pc:datasets/cli.bin"}, "", env);
  ASSERT_EQ(cp.exit_code, 0) << cp;
  EXPECT_TRUE(proxy.WaitForRequests(put, 1)) << proxy.Log();

  Outcome sdk = Sdk(home, std::string(kSdkWhoami) + "upload('" + dir_.path() + "/sdk.bin', 'datasets/sdk.bin')\n", env);
  ASSERT_EQ(sdk.exit_code, 0) << sdk;
  EXPECT_EQ(sdk.out, "ann@example.com\n") << sdk;
  EXPECT_TRUE(proxy.WaitForRequests(me, 2)) << proxy.Log();
  EXPECT_TRUE(proxy.WaitForRequests(put, 2)) << proxy.Log();
  Outcome ls = Cli(home, {"ls", "-l", "datasets"});  // both arrived whole
  EXPECT_NE(ls.out.find("300000"), std::string::npos) << ls;
  EXPECT_NE(ls.out.find("200000"), std::string::npos) << ls;
}

// https:// goes through a CONNECT tunnel with the proxy's credentials from the proxy URL; TLS and
// its checks stay with the server. Wrong credentials are an error that names the proxy.
TEST_F(CliTest, HttpsThroughAConnectTunnelWithProxyCredentials) {
  std::string cert = dir_.path() + "/server.crt";
  auto anonymous = StartHttpsWithAnn(cert);
  ASSERT_TRUE(anonymous && !HasFatalFailure());
  std::string server = "https://" + addr_;
  TinyProxy proxy(dir_.path() + "/proxy", "alice s3cret");
  ASSERT_TRUE(proxy.WaitReady()) << proxy.Log();
  std::string authority = proxy.url().substr(std::string("http://").size());
  std::map<std::string, std::string> env = {{"https_proxy", "http://alice:s3cret@" + authority}};
  std::string tunnel = "CONNECT " + addr_ + " HTTP/1.";  // the SDK's http.client says 1.0

  std::string home = NewHome("ann");
  Outcome login = Cli(home, {"login", "--server", server, "--email", "ann@example.com", "--cacert", cert}, kPassword, env);
  ASSERT_EQ(login.exit_code, 0) << login;
  ASSERT_TRUE(proxy.WaitForRequests(tunnel, 1)) << proxy.Log();
  int before = proxy.Requests(tunnel);
  Outcome sdk = Sdk(home, kSdkWhoami, env);
  ASSERT_EQ(sdk.exit_code, 0) << sdk;
  EXPECT_EQ(sdk.out, "ann@example.com\n") << sdk;
  EXPECT_TRUE(proxy.WaitForRequests(tunnel, before + 1)) << proxy.Log();

  std::map<std::string, std::string> wrong = {{"https_proxy", "http://alice:wrong@" + authority}};
  Outcome refused = Cli(home, {"whoami"}, "", wrong);
  EXPECT_EQ(refused.exit_code, 1) << refused;
  EXPECT_NE(refused.err.find("the proxy " + proxy.url() + " asks for credentials (HTTP 401)"), std::string::npos)
      << refused;  // tinyproxy refuses a CONNECT with 401 rather than 407
  Outcome sdk_refused = Sdk(home, kSdkWhoami, wrong);
  EXPECT_EQ(sdk_refused.exit_code, 1) << sdk_refused;
  EXPECT_NE(sdk_refused.out.find("through the proxy " + proxy.url()), std::string::npos) << sdk_refused;
  EXPECT_NE(sdk_refused.out.find("401 Unauthorized"), std::string::npos) << sdk_refused;
}

// no_proxy sends a server around the proxy (loopback only when listed); a proxy that cannot be
// reached is an error that names it, from the CLI and the SDK alike.
TEST_F(CliTest, NoProxyBypassesAndAnUnreachableProxyIsNamed) {
  StartServer();
  RegisterOverHttp("ann@example.com", "ann-lab");
  std::string home = NewHome("ann");
  ASSERT_EQ(Cli(home, {"login", "--server", "http://" + addr_, "--email", "ann@example.com"}, kPassword).exit_code, 0);
  std::string dead = "http://127.0.0.1:" + std::to_string(FreePort());
  std::string port = addr_.substr(addr_.rfind(':') + 1);

  for (std::string no_proxy : std::vector<std::string>{"127.0.0.1", "localhost, 127.0.0.1:" + port, "*"}) {
    std::map<std::string, std::string> env = {{"http_proxy", dead}, {"NO_PROXY", no_proxy}};
    Outcome cli = Cli(home, {"whoami"}, "", env);
    EXPECT_EQ(cli.exit_code, 0) << no_proxy << "\n" << cli;
    Outcome sdk = Sdk(home, kSdkWhoami, env);
    EXPECT_EQ(sdk.exit_code, 0) << no_proxy << "\n" << sdk;
  }
  for (std::string no_proxy : {"", "localhost", "127.0.0.2", "127.0.0.1:1"}) {
    std::map<std::string, std::string> env = {{"http_proxy", dead}, {"no_proxy", no_proxy}};
    Outcome cli = Cli(home, {"whoami"}, "", env);
    EXPECT_EQ(cli.exit_code, 1) << no_proxy << "\n" << cli;
    EXPECT_NE(cli.err.find("cannot connect to the proxy " + dead), std::string::npos) << cli;
    Outcome sdk = Sdk(home, kSdkWhoami, env);
    EXPECT_EQ(sdk.exit_code, 1) << no_proxy << "\n" << sdk;
    EXPECT_NE(sdk.out.find("through the proxy " + dead), std::string::npos) << sdk;
  }
}

}  // namespace
}  // namespace paddlecloud::client
