#include "cluster/kubernetes/kube_client.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "http/router.h"
#include "http/server.h"
#include "pki/certificate_authority.h"
#include "testing/server_process.h"

namespace paddlecloud::cluster::kubernetes {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using namespace std::chrono_literals;
using paddlecloud::testing::RunCommand;
using paddlecloud::testing::TempDir;
using paddlecloud::testing::WaitFor;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// What the fake API server saw of one request.
struct Seen {
  std::string method, path, body;
  std::map<std::string, std::string> query;
  std::string authorization, content_type, accept, user_agent, client_certificate;
};

asio::awaitable<void> Produce(http::ResponseStream& out, std::vector<std::string> chunks,
                              std::chrono::milliseconds first_delay, std::chrono::milliseconds gap,
                              std::chrono::milliseconds hold) {
  auto executor = co_await asio::this_coro::executor;
  auto wait = [&](std::chrono::milliseconds how_long) -> asio::awaitable<void> {
    auto until = std::chrono::steady_clock::now() + how_long;
    while (std::chrono::steady_clock::now() < until && !out.stopping()) {
      asio::steady_timer t(executor, std::min<std::chrono::milliseconds>(how_long, 50ms));
      co_await t.async_wait(asio::use_awaitable);
    }
  };
  co_await wait(first_delay);
  for (const auto& chunk : chunks) {
    if (!co_await out.Write(chunk)) co_return;
    asio::steady_timer t(executor, gap);
    co_await t.async_wait(asio::use_awaitable);
  }
  co_await wait(hold);  // the stream stays open, silent (a watch with nothing happening)
}

// A body written in `chunks`, `gap` apart (separate TCP writes), then held open for `hold`.
http::Response Streamed(int status, std::vector<std::string> chunks, std::chrono::milliseconds gap = 30ms,
                        std::chrono::milliseconds hold = 0ms, std::chrono::milliseconds first_delay = 0ms,
                        std::string content_type = "application/json") {
  http::Response r;
  r.status = status;
  r.headers.Add("Content-Type", std::move(content_type));
  r.stream = [chunks = std::move(chunks), gap, hold, first_delay](http::ResponseStream& out) {
    return Produce(out, chunks, first_delay, gap, hold);
  };
  return r;
}

http::Response Json(int status, const json::value& body) {
  return http::Response::Text(status, json::serialize(body), "application/json");
}

json::value KubeStatus(int code, std::string reason, std::string message, json::value details = nullptr) {
  json::object o{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}, {"status", "Failure"},
                 {"message", std::move(message)}, {"reason", std::move(reason)}, {"code", code}};
  if (!details.is_null()) o["details"] = std::move(details);
  return o;
}

// Certificates shared by the tests: a server certificate for 127.0.0.1 (self-signed, so it is its own
// CA), an unrelated one (the wrong CA), and a client CA issuing client certificates.
struct Pki {
  TempDir dir;
  std::string server_cert, server_key, other_cert;
  std::unique_ptr<pki::CertificateAuthority> client_ca;

  Pki() {
    server_cert = dir.path() + "/server.crt";
    server_key = dir.path() + "/server.key";
    other_cert = dir.path() + "/other.crt";
    RunCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 "
               "-addext subjectAltName=IP:127.0.0.1 -keyout " + server_key + " -out " + server_cert + " 2>&1");
    RunCommand("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 "
               "-addext subjectAltName=IP:127.0.0.1 -keyout " + dir.path() + "/other.key -out " + other_cert + " 2>&1");
    auto ca = pki::CertificateAuthority::OpenOrCreate(dir.path() + "/client-ca");
    if (ca) client_ca = std::move(*ca);
  }
};

Pki& SharedPki() {
  static Pki* pki = new Pki();
  return *pki;
}

// An HTTPS server answering every path with `script`, recording what it saw.
class FakeApiServer {
 public:
  using Script = std::function<http::Response(const http::Request&)>;

  explicit FakeApiServer(Script script) : script_(std::move(script)) {
    auto handler = [this](http::Request& r) -> asio::awaitable<http::Response> {
      Seen seen{r.method, r.path, r.body, r.query};
      seen.authorization = std::string(r.headers.Get("Authorization").value_or(""));
      seen.content_type = std::string(r.headers.Get("Content-Type").value_or(""));
      seen.accept = std::string(r.headers.Get("Accept").value_or(""));
      seen.user_agent = std::string(r.headers.Get("User-Agent").value_or(""));
      seen.client_certificate = r.client_certificate_fingerprint;
      Script script;
      {
        std::lock_guard lock(mu_);
        seen_.push_back(std::move(seen));
        script = script_;
      }
      co_return script(r);
    };
    for (const char* method : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
      router_.Add(method, "/{rest...}", "fake", handler, http::RouteOptions::Public());
    }
    Pki& pki = SharedPki();
    http::HttpServerOptions options;
    options.listen = "127.0.0.1:0";
    options.io_threads = 2;
    options.tls_cert_file = pki.server_cert;
    options.tls_key_file = pki.server_key;
    options.shutdown_timeout = 2s;
    options.configure_tls = [ca = pki.client_ca.get()](void* ctx) { return ca->ConfigureServerContext(ctx); };
    options.client_certificate_fingerprint = [](void* ssl) {
      auto peer = pki::CertificateAuthority::VerifiedPeerOf(ssl);
      return peer ? peer->fingerprint_sha256 : std::string();
    };
    server_ = std::make_unique<http::HttpServer>(options, router_);
    Status s = server_->Start();
    if (!s.ok()) ADD_FAILURE() << s.ToString();
    thread_ = std::thread([this] { server_->Run(); });
  }
  ~FakeApiServer() {
    server_->Shutdown();
    thread_.join();
  }

  std::string url() const { return "https://" + server_->bound_address(); }
  std::vector<Seen> seen() {
    std::lock_guard lock(mu_);
    return seen_;
  }
  Seen last() {
    std::lock_guard lock(mu_);
    return seen_.empty() ? Seen{} : seen_.back();
  }
  std::size_t connections() const { return server_->connection_count(); }

 private:
  Script script_;
  http::Router router_;
  std::unique_ptr<http::HttpServer> server_;
  std::thread thread_;
  std::mutex mu_;
  std::vector<Seen> seen_;
};

KubeConnection Trusting(const FakeApiServer& server, std::string token = "tok-123") {
  KubeConnection c;
  c.server = server.url();
  c.ca_pem = ReadAll(SharedPki().server_cert);
  c.token = std::move(token);
  c.namespace_name = "pc-a";
  return c;
}

// ---- requests ------------------------------------------------------------------------------------

TEST(KubeClientTest, SendsTheBearerTokenAndParsesTheAnswer) {
  FakeApiServer server([](const http::Request& r) {
    if (r.path == "/empty") return http::Response::Text(200, "");
    return Json(200, {{"kind", "Job"}, {"path", r.path}});
  });
  KubeClient client(Trusting(server), {.user_agent = "paddlecloud-test/1"});
  auto job = client.Get("/apis/batch/v1/namespaces/pc-a/jobs/x", QueryString({{"labelSelector", "a=b,c in (d)"}}));
  ASSERT_TRUE(job) << job.error().ToString();
  EXPECT_EQ(job->at("kind").as_string(), "Job");
  Seen seen = server.last();
  EXPECT_EQ(seen.method, "GET");
  EXPECT_EQ(seen.path, "/apis/batch/v1/namespaces/pc-a/jobs/x");
  EXPECT_EQ(seen.query["labelSelector"], "a=b,c in (d)");
  EXPECT_EQ(seen.authorization, "Bearer tok-123");
  EXPECT_EQ(seen.accept, "application/json");
  EXPECT_EQ(seen.user_agent, "paddlecloud-test/1");
  EXPECT_EQ(seen.client_certificate, "");

  auto empty = client.Get("/empty");
  ASSERT_TRUE(empty) << empty.error().ToString();
  EXPECT_TRUE(empty->is_null());
  EXPECT_EQ(client.requests_sent(), 2u);
}

TEST(KubeClientTest, WritesUseTheRightVerbsContentTypesAndQueries) {
  FakeApiServer server([](const http::Request& r) { return Json(r.method == "POST" ? 201 : 200, {{"ok", true}}); });
  KubeClient client(Trusting(server), {});
  json::value job = {{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", {{"name", "x"}}}};

  ASSERT_TRUE(client.Create("/apis/batch/v1/namespaces/pc-a/jobs", job));
  Seen s = server.last();
  EXPECT_EQ(s.method, "POST");
  EXPECT_EQ(s.content_type, "application/json");
  EXPECT_EQ(json::parse(s.body), job);
  EXPECT_EQ(s.query, (std::map<std::string, std::string>{{"fieldValidation", "Strict"}}));

  ASSERT_TRUE(client.Replace("/apis/batch/v1/namespaces/pc-a/jobs/x", job));
  s = server.last();
  EXPECT_EQ(s.method, "PUT");
  EXPECT_EQ(s.query["fieldValidation"], "Strict");
  EXPECT_EQ(json::parse(s.body), job);

  ASSERT_TRUE(client.MergePatch("/apis/batch/v1/namespaces/pc-a/jobs/x", {{"spec", {{"suspend", true}}}}));
  s = server.last();
  EXPECT_EQ(s.method, "PATCH");
  EXPECT_EQ(s.content_type, "application/merge-patch+json");
  EXPECT_EQ(s.query["fieldValidation"], "Strict");

  ASSERT_TRUE(client.Apply("/apis/batch/v1/namespaces/pc-a/jobs/x", job, "paddle cloud", true));
  s = server.last();
  EXPECT_EQ(s.method, "PATCH");
  EXPECT_EQ(s.content_type, "application/apply-patch+yaml");
  EXPECT_EQ(s.query, (std::map<std::string, std::string>{
                         {"fieldManager", "paddle cloud"}, {"force", "true"}, {"fieldValidation", "Strict"}}));
  EXPECT_EQ(json::parse(s.body), job);

  ASSERT_TRUE(client.Delete("/apis/batch/v1/namespaces/pc-a/jobs/x", 30, "Background"));
  s = server.last();
  EXPECT_EQ(s.method, "DELETE");
  EXPECT_EQ(s.query, (std::map<std::string, std::string>{{"gracePeriodSeconds", "30"}, {"propagationPolicy", "Background"}}));
  ASSERT_TRUE(client.Delete("/api/v1/namespaces/pc-a", std::nullopt, ""));
  EXPECT_TRUE(server.last().query.empty());
  EXPECT_EQ(client.requests_sent(), 6u);
}

TEST(KubeClientTest, SequentialCallsReuseOneConnection) {
  FakeApiServer server([](const http::Request&) { return Json(200, json::object()); });
  KubeClient client(Trusting(server), {});
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.Get("/api/v1/namespaces"));
  // Without reuse each call's connection would be closed by the client when the call ends.
  EXPECT_TRUE(WaitFor([&] { return server.connections() == 1; }, 5s)) << server.connections();
  auto again = client.Get("/api/v1/namespaces");
  ASSERT_TRUE(again);
  EXPECT_EQ(server.connections(), 1u);
}

TEST(KubeClientTest, ConcurrentCallsFromManyThreads) {
  FakeApiServer server([](const http::Request& r) { return Json(200, {{"path", r.path}}); });
  KubeClient client(Trusting(server), {});
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string path = "/p/" + std::to_string(t) + "/" + std::to_string(i);
        auto r = client.Get(path);
        if (r && r->at("path").as_string() == path) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(client.requests_sent(), 40u);
  EXPECT_LE(server.connections(), 4u);  // one per concurrent caller at most, kept for the next calls
}

TEST(KubeClientTest, RefusesBadPathsWithoutSendingAnything) {
  FakeApiServer server([](const http::Request&) { return Json(200, json::object()); });
  KubeClient client(Trusting(server), {});
  for (std::string_view bad : {"", "api/v1", "/api/v1 x", "/api/v1\r\nX: y", "/api?x=1", "/api#frag"}) {
    auto r = client.Get(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(client.Get("/ok", "a=b c").error().code(), Code::kInvalidArgument);
  EXPECT_TRUE(server.seen().empty());
}

TEST(KubeClientTest, ReadsTheTokenFromTheTokenFile) {
  TempDir dir;
  std::string token_file = dir.path() + "/token";
  std::ofstream(token_file) << "  rotated-token\n";
  FakeApiServer server([](const http::Request&) { return Json(200, json::object()); });
  KubeConnection c = Trusting(server, "");
  c.token_file = token_file;
  KubeClient client(c, {});
  ASSERT_TRUE(client.Get("/api"));
  EXPECT_EQ(server.last().authorization, "Bearer rotated-token");
  // Re-read at most once a minute: a change right away is not seen yet.
  std::ofstream(token_file) << "newer";
  ASSERT_TRUE(client.Get("/api"));
  EXPECT_EQ(server.last().authorization, "Bearer rotated-token");

  KubeClient rereading(c, {.token_reread_interval = 0s});
  ASSERT_TRUE(rereading.Get("/api"));
  EXPECT_EQ(server.last().authorization, "Bearer newer");
  std::ofstream(token_file) << "newest";
  ASSERT_TRUE(rereading.Get("/api"));
  EXPECT_EQ(server.last().authorization, "Bearer newest");
  std::filesystem::remove(token_file);  // unreadable: the last token is kept
  ASSERT_TRUE(rereading.Get("/api"));
  EXPECT_EQ(server.last().authorization, "Bearer newest");
}

TEST(KubeClientTest, DeeplyNestedObjectsParse) {
  // A CRD's openAPIV3Schema nests far deeper than Boost.JSON's default limit of 32.
  std::string deep;
  for (int i = 0; i < 200; ++i) deep += R"({"properties":)";
  deep += "{}";
  for (int i = 0; i < 200; ++i) deep += "}";
  FakeApiServer server([&](const http::Request&) { return http::Response::Text(200, deep, "application/json"); });
  KubeClient client(Trusting(server), {});
  auto r = client.Get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/paddlejobs.kubeflow.org");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->is_object());
}

TEST(KubeClientTest, ConnectionsFromTheLoadersWork) {
  FakeApiServer server([](const http::Request&) { return Json(200, json::object()); });
  std::string address = server.url().substr(std::string("https://").size());
  TempDir dir;
  std::ofstream(dir.path() + "/token") << "sa-token\n";
  std::ofstream(dir.path() + "/ca.crt") << ReadAll(SharedPki().server_cert);
  std::ofstream(dir.path() + "/namespace") << "pc-system";
  setenv("KUBERNETES_SERVICE_HOST", address.substr(0, address.rfind(':')).c_str(), 1);
  setenv("KUBERNETES_SERVICE_PORT", address.substr(address.rfind(':') + 1).c_str(), 1);
  auto in_cluster = LoadInCluster(dir.path());
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  ASSERT_TRUE(in_cluster) << in_cluster.error().ToString();
  auto r = KubeClient(*in_cluster, {}).Get("/api/v1/namespaces/pc-system/pods");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(server.last().authorization, "Bearer sa-token");

  auto issued = SharedPki().client_ca->IssueClientCertificate("admin@example.com", "system", 1);
  ASSERT_TRUE(issued);
  std::ofstream(dir.path() + "/admin.crt") << issued->certificate_pem;
  std::ofstream(dir.path() + "/admin.key") << issued->private_key_pem;
  std::ofstream(dir.path() + "/config") << "current-context: test\n"
                                          "clusters: [{name: t, cluster: {server: \"" << server.url()
                                       << "\", certificate-authority: ca.crt}}]\n"
                                          "contexts: [{name: test, context: {cluster: t, user: admin}}]\n"
                                          "users: [{name: admin, user: {client-certificate: admin.crt, client-key: admin.key}}]\n";
  auto kubeconfig = LoadKubeconfig(dir.path() + "/config");
  ASSERT_TRUE(kubeconfig) << kubeconfig.error().ToString();
  r = KubeClient(*kubeconfig, {}).Get("/api");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(server.last().client_certificate, issued->fingerprint_sha256);
}

// ---- TLS -----------------------------------------------------------------------------------------

TEST(KubeClientTest, VerifiesTheServerAgainstTheGivenCa) {
  FakeApiServer server([](const http::Request&) { return Json(200, json::object()); });
  KubeConnection wrong = Trusting(server);
  wrong.ca_pem = ReadAll(SharedPki().other_cert);
  auto r = KubeClient(wrong, {}).Get("/api");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("certificate is not trusted"), std::string::npos) << r.error().message();
  EXPECT_EQ(r.error().message().find("tok-123"), std::string::npos);

  KubeConnection system = Trusting(server);
  system.ca_pem.clear();
  auto untrusted = KubeClient(system, {}).Get("/api");
  ASSERT_FALSE(untrusted);
  EXPECT_NE(untrusted.error().message().find("not trusted"), std::string::npos) << untrusted.error().message();

  KubeConnection insecure = wrong;
  insecure.insecure_skip_tls_verify = true;
  auto accepted = KubeClient(insecure, {}).Get("/api");
  EXPECT_TRUE(accepted) << accepted.error().ToString();

  KubeConnection garbage = Trusting(server);
  garbage.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
  auto bad = KubeClient(garbage, {}).Get("/api");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message().find("/api"), std::string::npos) << bad.error().ToString();
  EXPECT_TRUE(server.seen().size() == 1u);  // only the insecure call got through
}

TEST(KubeClientTest, PresentsTheClientCertificate) {
  FakeApiServer server([](const http::Request&) { return Json(200, json::object()); });
  auto issued = SharedPki().client_ca->IssueClientCertificate("kube@example.com", "acct", 1);
  ASSERT_TRUE(issued) << issued.error().ToString();
  KubeConnection c = Trusting(server, "");
  c.client_cert_pem = issued->certificate_pem;
  c.client_key_pem = issued->private_key_pem;
  KubeClient client(c, {});
  auto r = client.Get("/api");
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(server.last().client_certificate, issued->fingerprint_sha256);
  EXPECT_EQ(server.last().authorization, "");

  KubeConnection broken = c;
  broken.client_key_pem = "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n";
  auto refused = KubeClient(broken, {}).Get("/api");
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kInvalidArgument) << refused.error().ToString();
  EXPECT_NE(refused.error().message().find("client certificate or key"), std::string::npos) << refused.error().message();
  EXPECT_EQ(refused.error().message().find("AAAA"), std::string::npos);
}

// ---- errors --------------------------------------------------------------------------------------

TEST(KubeClientTest, MapsStatusErrorsKeepingTheServersMessage) {
  const std::string forbidden =
      "jobs.batch is forbidden: User \"system:serviceaccount:pc:paddlecloud\" cannot create resource \"jobs\" in API "
      "group \"batch\" in the namespace \"pc-a\"";
  FakeApiServer server([&](const http::Request& r) -> http::Response {
    if (r.path == "/forbidden") return Json(403, KubeStatus(403, "Forbidden", forbidden));
    if (r.path == "/unauthorized") return Json(401, KubeStatus(401, "Unauthorized", "Unauthorized"));
    if (r.path == "/missing") return Json(404, KubeStatus(404, "NotFound", "jobs.batch \"x\" not found"));
    if (r.path == "/exists") return Json(409, KubeStatus(409, "AlreadyExists", "jobs.batch \"x\" already exists"));
    if (r.path == "/stale") {
      return Json(409, KubeStatus(409, "Conflict", "Operation cannot be fulfilled on jobs.batch \"x\": the object has "
                                                   "been modified; please apply your changes to the latest version"));
    }
    if (r.path == "/expired") return Json(410, KubeStatus(410, "Expired", "too old resource version: 5 (90)"));
    if (r.path == "/invalid") {
      json::value details = {{"name", "x"}, {"kind", "Job"},
                             {"causes", json::array{{{"reason", "FieldValueRequired"}, {"message", "Required value"},
                                                     {"field", "spec.template.spec.containers[0].image"}},
                                                    {{"reason", "FieldValueInvalid"}, {"message", "Invalid value: -1"},
                                                     {"field", "spec.parallelism"}}}}};
      return Json(422, KubeStatus(422, "Invalid",
                                  "Job.batch \"x\" is invalid: spec.template.spec.containers[0].image: Required value",
                                  details));
    }
    if (r.path == "/throttled") {
      auto resp = Json(429, KubeStatus(429, "TooManyRequests", "too many requests"));
      resp.headers.Add("Retry-After", "3");
      return resp;
    }
    if (r.path == "/proxy") return http::Response::Text(502, "<html><body>Bad Gateway</body></html>", "text/html");
    if (r.path == "/notjson") return http::Response::Text(200, "{not json", "application/json");
    return Json(500, KubeStatus(500, "InternalError", "etcd is down"));
  });
  KubeClient client(Trusting(server), {});

  auto f = client.Create("/forbidden", json::object());
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(f.error().message(), "POST /forbidden: " + forbidden);
  EXPECT_EQ(KubeReason(f.error()), "Forbidden");

  EXPECT_EQ(client.Get("/unauthorized").error().code(), Code::kUnauthenticated);
  auto missing = client.Get("/missing");
  EXPECT_EQ(missing.error().code(), Code::kNotFound);
  EXPECT_EQ(KubeReason(missing.error()), "NotFound");
  EXPECT_FALSE(IsGone(missing.error()));

  auto exists = client.Create("/exists", json::object());
  EXPECT_EQ(exists.error().code(), Code::kConflict);
  EXPECT_EQ(KubeReason(exists.error()), "AlreadyExists");
  EXPECT_EQ(exists.error().message(), "POST /exists: jobs.batch \"x\" already exists");
  auto stale = client.Replace("/stale", json::object());
  EXPECT_EQ(stale.error().code(), Code::kConflict);
  EXPECT_EQ(KubeReason(stale.error()), "Conflict");
  EXPECT_FALSE(IsGone(stale.error()));
  EXPECT_TRUE(stale.error().message().starts_with("PUT /stale: Operation cannot be fulfilled")) << stale.error().message();

  auto expired = client.Get("/expired", "resourceVersion=5");
  EXPECT_TRUE(IsGone(expired.error())) << expired.error().ToString();
  EXPECT_EQ(KubeReason(expired.error()), "Expired");

  auto invalid = client.Apply("/invalid", json::object(), "pc", false);
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(KubeReason(invalid.error()), "Invalid");
  EXPECT_EQ(invalid.error().field(), "spec.template.spec.containers[0].image");
  EXPECT_EQ(invalid.error().message(),
            "PATCH /invalid: Job.batch \"x\" is invalid: spec.template.spec.containers[0].image: Required value "
            "[causes: spec.parallelism: Invalid value: -1]");

  auto throttled = client.Get("/throttled");
  EXPECT_EQ(throttled.error().code(), Code::kUnavailable);
  EXPECT_EQ(throttled.error().details().at("retry_after"), "3");

  auto down = client.Delete("/down", std::nullopt, "Background");
  EXPECT_EQ(down.error().code(), Code::kUnavailable);
  EXPECT_EQ(down.error().message(), "DELETE /down: etcd is down");

  auto proxy = client.Get("/proxy");
  EXPECT_EQ(proxy.error().code(), Code::kUnavailable);
  EXPECT_EQ(proxy.error().message(), "GET /proxy: HTTP 502: <html><body>Bad Gateway</body></html>");
  EXPECT_EQ(KubeReason(proxy.error()), "");

  auto garbage = client.Get("/notjson");
  EXPECT_EQ(garbage.error().code(), Code::kInternal);
}

TEST(KubeClientTest, ConnectionRefusedAndTimeoutsAreUnavailable) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);  // nothing listens there now
  KubeConnection c;
  c.server = "https://127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  c.token = "secret-token";
  KubeClient refused(c, {});
  auto r = refused.Get("/api");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), Code::kUnavailable);
  EXPECT_NE(r.error().message().find("cannot connect"), std::string::npos) << r.error().message();
  EXPECT_EQ(r.error().message().find("secret-token"), std::string::npos);
  std::stop_source never;
  EXPECT_EQ(refused.Watch("/api/v1/pods", "", [](std::string_view, json::value&) { return true; }, never.get_token())
                .code(),
            Code::kUnavailable);

  FakeApiServer slow([](const http::Request&) { return Streamed(200, {"{}"}, 10ms, 0ms, 5s); });
  KubeClient client(Trusting(slow), {.timeout = 300ms});
  auto start = std::chrono::steady_clock::now();
  auto late = client.Get("/slow");
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code(), Code::kUnavailable);
  EXPECT_NE(late.error().message().find("timed out"), std::string::npos) << late.error().message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

// ---- watch ---------------------------------------------------------------------------------------

std::string Event(std::string_view type, std::string_view name, std::string_view rv) {
  return json::serialize(json::value{{"type", type},
                                     {"object", {{"kind", "Pod"}, {"metadata", {{"name", name}, {"resourceVersion", rv}}}}}});
}

struct Received {
  std::vector<std::string> types, names;
};

TEST(KubeClientTest, WatchSplitsEventsAcrossAndWithinChunks) {
  std::string e1 = Event("ADDED", "a", "1"), e2 = Event("MODIFIED", "a", "2"), e3 = Event("ADDED", "b", "3"),
              e4 = Event("DELETED", "a", "4"), e5 = Event("ADDED", "c", "5"),
              bookmark = json::serialize(json::value{
                  {"type", "BOOKMARK"}, {"object", {{"kind", "Pod"}, {"metadata", {{"resourceVersion", "9"}}}}}});
  std::vector<std::string> chunks = {
      e1 + "\n" + e2.substr(0, 10),
      e2.substr(10) + "\n" + e3 + "\n\n" + e4 + "\n" + e5.substr(0, 5),
      e5.substr(5, 3),
      e5.substr(8) + "\n" + bookmark,  // the last event has no final newline
  };
  FakeApiServer server([&](const http::Request&) { return Streamed(200, chunks); });
  KubeClient client(Trusting(server), {});
  Received got;
  std::stop_source stop;
  Status s = client.Watch("/api/v1/namespaces/pc-a/pods", QueryString({{"resourceVersion", "0"}, {"timeoutSeconds", "300"}}),
                          [&](std::string_view type, json::value& object) {
                            got.types.emplace_back(type);
                            auto* name = object.at("metadata").as_object().if_contains("name");
                            got.names.emplace_back(name ? name->as_string().c_str() : "");
                            return true;
                          },
                          stop.get_token());
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(got.types, (std::vector<std::string>{"ADDED", "MODIFIED", "ADDED", "DELETED", "ADDED", "BOOKMARK"}));
  EXPECT_EQ(got.names, (std::vector<std::string>{"a", "a", "b", "a", "c", ""}));
  Seen seen = server.last();
  EXPECT_EQ(seen.query, (std::map<std::string, std::string>{{"resourceVersion", "0"},
                                                            {"timeoutSeconds", "300"},
                                                            {"watch", "1"},
                                                            {"allowWatchBookmarks", "true"}}));
  EXPECT_EQ(seen.authorization, "Bearer tok-123");
}

TEST(KubeClientTest, WatchManyEventsInOneChunk) {
  std::string all;
  for (int i = 0; i < 500; ++i) all += Event("ADDED", "p" + std::to_string(i), std::to_string(i)) + "\n";
  FakeApiServer server([&](const http::Request&) { return Streamed(200, {all}); });
  KubeClient client(Trusting(server), {});
  int count = 0;
  bool in_order = true;
  Status s = client.Watch("/api/v1/pods", "", [&](std::string_view, json::value& o) {
    in_order &= o.at("metadata").at("name").as_string() == "p" + std::to_string(count);
    ++count;
    return true;
  }, {});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(count, 500);
  EXPECT_TRUE(in_order);
}

TEST(KubeClientTest, WatchErrorEventGoneAndOtherEndings) {
  std::string gone = json::serialize(json::value{
      {"type", "ERROR"}, {"object", KubeStatus(410, "Expired", "too old resource version: 12 (4711)")}});
  FakeApiServer server([&](const http::Request& r) -> http::Response {
    if (r.path == "/gone") return Streamed(200, {Event("ADDED", "a", "13") + "\n", gone + "\n", Event("ADDED", "never", "14") + "\n"});
    if (r.path == "/garbage") return Streamed(200, {Event("ADDED", "a", "1") + "\n{\"type\":\n"});
    if (r.path == "/forbidden") return Json(403, KubeStatus(403, "Forbidden", "pods is forbidden: cannot watch"));
    return Streamed(200, {Event("ADDED", "a", "1") + "\n" + Event("ADDED", "b", "2") + "\n"});
  });
  KubeClient client(Trusting(server), {});
  std::vector<std::string> names;
  auto collect = [&](std::string_view, json::value& o) {
    names.emplace_back(o.at("metadata").at("name").as_string());
    return true;
  };
  Status s = client.Watch("/gone", "resourceVersion=12", collect, {});
  EXPECT_TRUE(IsGone(s)) << s.ToString();
  EXPECT_EQ(KubeReason(s), "Expired");
  EXPECT_NE(s.message().find("too old resource version"), std::string::npos) << s.message();
  EXPECT_EQ(names, std::vector<std::string>{"a"});

  names.clear();
  Status garbage = client.Watch("/garbage", "", collect, {});
  EXPECT_EQ(garbage.code(), Code::kUnavailable) << garbage.ToString();
  EXPECT_EQ(names, std::vector<std::string>{"a"});

  Status forbidden = client.Watch("/forbidden", "", collect, {});
  EXPECT_EQ(forbidden.code(), Code::kPermissionDenied);
  EXPECT_EQ(forbidden.message(), "GET /forbidden: pods is forbidden: cannot watch");

  int calls = 0;
  Status declined = client.Watch("/two", "", [&](std::string_view, json::value&) { return ++calls < 1; }, {});
  EXPECT_TRUE(declined.ok()) << declined.ToString();
  EXPECT_EQ(calls, 1);
}

// Runs `body` on a thread, waits for `ready`, requests stop and returns how long the call took to end.
template <typename Body>
std::chrono::milliseconds StopLatency(Body body, const std::function<bool()>& ready, Status* result) {
  std::stop_source stop;
  std::atomic<bool> done{false};
  std::thread t([&] {
    *result = body(stop.get_token());
    done = true;
  });
  EXPECT_TRUE(WaitFor(ready, 10s));
  auto start = std::chrono::steady_clock::now();
  stop.request_stop();
  EXPECT_TRUE(WaitFor([&] { return done.load(); }, 10s));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  t.join();
  return took;
}

TEST(KubeClientTest, StopEndsAWatchAndALogStreamPromptly) {
  FakeApiServer server([](const http::Request& r) {
    if (r.path.ends_with("/log")) return Streamed(200, {"line 1\n", "line 2\n"}, 10ms, 30s, 0ms, "text/plain");
    if (r.path == "/plain") return Json(200, {{"ok", true}});
    return Streamed(200, {Event("ADDED", "a", "1") + "\n"}, 10ms, 30s);
  });
  KubeClient client(Trusting(server), {});
  std::atomic<int> events{0};
  Status watch_status = Status::Internal("not run");
  auto took = StopLatency(
      [&](std::stop_token stop) {
        return client.Watch("/api/v1/pods", "", [&](std::string_view, json::value&) { ++events; return true; }, stop);
      },
      [&] { return events.load() == 1; }, &watch_status);
  EXPECT_TRUE(watch_status.ok()) << watch_status.ToString();
  EXPECT_LT(took, 500ms);

  std::mutex mu;
  std::string text;
  Status stream_status = Status::Internal("not run");
  took = StopLatency(
      [&](std::stop_token stop) {
        return client.Stream("/api/v1/namespaces/pc-a/pods/p/log", QueryString({{"follow", "true"}}),
                             [&](std::string_view chunk) {
                               std::lock_guard lock(mu);
                               text.append(chunk);
                               return true;
                             },
                             stop);
      },
      [&] {
        std::lock_guard lock(mu);
        return text == "line 1\nline 2\n";
      },
      &stream_status);
  EXPECT_TRUE(stream_status.ok()) << stream_status.ToString();
  EXPECT_LT(took, 500ms);
  EXPECT_EQ(server.last().accept, "*/*");
  EXPECT_EQ(server.last().query["follow"], "true");
  auto after = client.Get("/plain");  // the handles of the interrupted calls are fine to use again
  ASSERT_TRUE(after) << after.error().ToString();

  // A stop requested before the call: it returns at once.
  std::stop_source stopped;
  stopped.request_stop();
  auto start = std::chrono::steady_clock::now();
  std::uint64_t sent = client.requests_sent();
  EXPECT_TRUE(client.Watch("/api/v1/pods", "", [](std::string_view, json::value&) { return true; }, stopped.get_token()).ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  EXPECT_EQ(client.requests_sent(), sent);
}

TEST(KubeClientTest, ASilentWatchIsCutAfterTheIdleTimeout) {
  FakeApiServer server([](const http::Request&) { return Streamed(200, {Event("ADDED", "a", "1") + "\n"}, 10ms, 30s); });
  KubeClient client(Trusting(server), {.watch_idle_timeout = 1s});
  int events = 0;
  auto start = std::chrono::steady_clock::now();
  Status s = client.Watch("/api/v1/pods", "", [&](std::string_view, json::value&) { ++events; return true; }, {});
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
  EXPECT_EQ(events, 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 10s);
}

TEST(KubeClientTest, LogStreamErrorsAreMapped) {
  FakeApiServer server([](const http::Request&) {
    return Json(400, KubeStatus(400, "BadRequest", "container \"paddle\" in pod \"p\" is waiting to start"));
  });
  KubeClient client(Trusting(server), {});
  bool called = false;
  Status s = client.Stream("/api/v1/namespaces/pc-a/pods/p/log", "", [&](std::string_view) { return called = true; }, {});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(KubeReason(s), "BadRequest");
  EXPECT_NE(s.message().find("is waiting to start"), std::string::npos);
  EXPECT_FALSE(called);
}

TEST(KubeClientTest, QueryStringPercentEncodes) {
  EXPECT_EQ(QueryString({}), "");
  EXPECT_EQ(QueryString({{"labelSelector", "app.kubernetes.io/managed-by=paddlecloud,x!=y"}, {"limit", "500"}}),
            "labelSelector=app.kubernetes.io%2Fmanaged-by%3Dpaddlecloud%2Cx%21%3Dy&limit=500");
  EXPECT_EQ(QueryString({{"a b", "c&d=e~f_g-h.i"}, {"u", "\xc3\xa9"}}), "a%20b=c%26d%3De~f_g-h.i&u=%C3%A9");
}

TEST(KubeClientTest, ReasonHelpersOnOtherStatuses) {
  EXPECT_EQ(KubeReason(Status::Ok()), "");
  EXPECT_FALSE(IsGone(Status::Ok()));
  EXPECT_FALSE(IsGone(Status::NotFound("x")));
  EXPECT_EQ(KubeReason(Status::Conflict("x")), "");
}

}  // namespace
}  // namespace paddlecloud::cluster::kubernetes
