// Accounts end to end: the real binary, a real SMTP server (aiosmtpd), HTTP from outside.
#include <gtest/gtest.h>

#include <chrono>
#include <signal.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <regex>

#include "testing/http_client.h"
#include "testing/server_process.h"
#include "testing/platform_fixture.h"
#include "testing/smtp_server.h"

namespace paddlecloud {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::HttpReply;
using testing::RunCommand;

constexpr char kPassword[] = "correct horse battery";

// A signed-in browser: its session cookie and CSRF token.
struct Browser {
  std::string cookie;
  std::string csrf;
};

class AccountsTest : public testing::PlatformTest {
 protected:

  std::optional<HttpReply> Call(const std::string& method, const std::string& target, const json::value& body = nullptr,
                                const Browser* browser = nullptr, const std::string& extra = "") {
    std::string headers = extra;
    if (browser) {
      headers += "Cookie: pc_session=" + browser->cookie + "\r\n";
      if (method != "GET") headers += "X-CSRF-Token: " + browser->csrf + "\r\n";
    }
    std::string text = body.is_null() ? "" : json::serialize(body);
    if (!text.empty()) headers += "Content-Type: application/json\r\n";
    return testing::Request(addr_, method, target, text, headers);
  }
  static json::value Json(const std::optional<HttpReply>& r) { return json::parse(r->body); }
  static std::string ErrorField(const std::optional<HttpReply>& r) {
    auto v = json::parse(r->body);
    auto* details = v.at("error").as_object().if_contains("details");
    return details && details->as_object().if_contains("field")
               ? std::string(details->at("field").as_string())
               : std::string();
  }

  // The token of the last mailed link to `path`, waiting for the `n`-th message.
  std::string MailedToken(int n, const std::string& path) {
    EXPECT_TRUE(smtp_->WaitForMessages(n)) << "mail " << n << " never arrived\n" << server_->Log();
    std::string message = smtp_->DecodedMessage(n);
    std::smatch m;
    std::regex link("http://" + addr_ + path + "\\?token=([A-Za-z0-9_-]+)");
    EXPECT_TRUE(std::regex_search(message, m, link)) << message;
    return m.size() > 1 ? std::string(m[1]) : "";
  }

  // Registers, verifies through the mailed link and signs in.
  Browser Newcomer(const std::string& email, const std::string& account) {
    int before = smtp_->MessageCount();
    auto reg = Call("POST", "/api/v1/auth/register", {{"email", email}, {"password", kPassword}, {"account_id", account}});
    EXPECT_EQ(reg->status, 201) << reg->body;
    std::string token = MailedToken(before + 1, "/verify");
    auto verified = Call("POST", "/api/v1/auth/verify", {{"token", token}});
    EXPECT_EQ(verified->status, 200) << verified->body;
    EXPECT_TRUE(smtp_->WaitForMessages(before + 2));
    return SignIn(email);
  }
  Browser SignIn(const std::string& email, const std::string& password = kPassword) {
    auto login = Call("POST", "/api/v1/auth/login", {{"email", email}, {"password", password}});
    EXPECT_EQ(login->status, 200) << login->body;
    std::string set_cookie = login->header("set-cookie");
    std::smatch m;
    std::regex session("pc_session=([^;]+)");
    EXPECT_TRUE(std::regex_search(set_cookie, m, session)) << set_cookie;
    return {m.size() > 1 ? std::string(m[1]) : "", std::string(Json(login).at("csrf_token").as_string())};
  }

};

TEST_F(AccountsTest, NewcomerPathOverRealSmtp) {
  StartServer();
  auto reg = Call("POST", "/api/v1/auth/register",
                  {{"email", "ann@example.com"}, {"password", kPassword}, {"account_id", "ann-lab"}, {"display_name", "Ann"}});
  ASSERT_EQ(reg->status, 201) << reg->body;
  std::string token = MailedToken(1, "/verify");
  std::string first = smtp_->DecodedMessage(1);
  EXPECT_NE(first.find("To: ann@example.com"), std::string::npos) << first;

  auto unverified = Call("POST", "/api/v1/auth/login", {{"email", "ann@example.com"}, {"password", kPassword}});
  EXPECT_EQ(unverified->status, 403);
  EXPECT_EQ(Json(unverified).at("error").at("details").at("reason").as_string(), "email_not_verified");

  auto verified = Call("POST", "/api/v1/auth/verify", {{"token", token}});
  ASSERT_EQ(verified->status, 200) << verified->body;
  ASSERT_TRUE(smtp_->WaitForMessages(2));
  std::string welcome = smtp_->DecodedMessage(2);
  EXPECT_NE(welcome.find("Subject: Registration succeeded"), std::string::npos) << welcome;
  EXPECT_NE(welcome.find("ann-lab"), std::string::npos);

  auto reused = Call("POST", "/api/v1/auth/verify", {{"token", token}});
  EXPECT_EQ(reused->status, 409);

  auto login = Call("POST", "/api/v1/auth/login", {{"email", "ann@example.com"}, {"password", kPassword}});
  ASSERT_EQ(login->status, 200);
  std::string cookie = login->header("set-cookie");
  EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(cookie.find("SameSite=Lax"), std::string::npos);
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // plain HTTP here
  Browser ann = SignIn("ann@example.com");
  auto me = Call("GET", "/api/v1/me", nullptr, &ann);
  ASSERT_EQ(me->status, 200);
  EXPECT_EQ(Json(me).at("user").at("account_id").as_string(), "ann-lab");
  EXPECT_EQ(Json(me).at("user").at("role").as_string(), "master");

  auto logout = Call("POST", "/api/v1/auth/logout", nullptr, &ann);
  EXPECT_EQ(logout->status, 204);
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, &ann)->status, 401);  // revoked server-side
}

TEST_F(AccountsTest, BadInputGetsClearErrorsAndChangesNothing) {
  StartServer();
  Browser ann = Newcomer("ann@example.com", "ann-lab");
  int mails = smtp_->MessageCount();
  struct Case {
    json::value body;
    int status;
    std::string field;
  };
  std::vector<Case> cases = {
      {{{"email", "ann@example.com"}, {"password", kPassword}, {"account_id", "other-lab"}}, 409, "email"},
      {{{"email", "bob@example.com"}, {"password", kPassword}, {"account_id", "ann-lab"}}, 409, "account_id"},
      {{{"email", "bob@example.com"}, {"password", kPassword}, {"account_id", "Not_A_Label"}}, 400, "account_id"},
      {{{"email", "bob@example.com"}, {"password", "qwerty123"}, {"account_id", "bob-lab"}}, 400, "password"},
      {{{"email", "bob@example.com"}, {"password", "short"}, {"account_id", "bob-lab"}}, 400, "password"},
      {{{"email", "bob"}, {"password", kPassword}, {"account_id", "bob-lab"}}, 400, "email"},
      {{{"email", "bob@example.com"}, {"password", kPassword}}, 400, "account_id"},
      {{{"email", "bob@example.com"}, {"password", kPassword}, {"account_id", 7}}, 400, "account_id"},
      {{{"email", "bob@example.com"}, {"password", kPassword}, {"account_id", "bob-lab"}, {"admin", true}}, 400, "admin"},
  };
  for (const auto& c : cases) {
    auto r = Call("POST", "/api/v1/auth/register", c.body);
    EXPECT_EQ(r->status, c.status) << json::serialize(c.body) << " -> " << r->body;
    EXPECT_EQ(ErrorField(r), c.field) << r->body;
  }
  auto malformed = testing::Request(addr_, "POST", "/api/v1/auth/register", "{\"email\": ", "Content-Type: application/json\r\n");
  EXPECT_EQ(malformed->status, 400);
  auto oversized = testing::Request(addr_, "POST", "/api/v1/auth/register", std::string(70 * 1024, ' '));
  EXPECT_EQ(oversized->status, 413);
  EXPECT_EQ(smtp_->MessageCount(), mails);  // nothing was registered

  auto wrong = Call("POST", "/api/v1/auth/login", {{"email", "ann@example.com"}, {"password", "not the password"}});
  EXPECT_EQ(wrong->status, 401);
  auto forged = Call("GET", "/api/v1/me", nullptr, nullptr, "Cookie: pc_session=pcs_forged\r\n");
  EXPECT_EQ(forged->status, 401);
  EXPECT_NE(forged->header("set-cookie").find("Max-Age=0"), std::string::npos);  // the stale cookie is cleared
  auto expired_link = Call("POST", "/api/v1/auth/verify", {{"token", "made-up"}});
  EXPECT_EQ(expired_link->status, 404);

  // Unsafe methods need the CSRF token with a session cookie, and same-origin.
  auto no_csrf = Call("PATCH", "/api/v1/me", {{"display_name", "Mallory"}}, nullptr,
                      "Cookie: pc_session=" + ann.cookie + "\r\n");
  EXPECT_EQ(no_csrf->status, 403);
  EXPECT_NE(no_csrf->body.find("CSRF"), std::string::npos);
  auto cross_origin = Call("PATCH", "/api/v1/me", {{"display_name", "Mallory"}}, &ann, "Origin: https://evil.example\r\n");
  EXPECT_EQ(cross_origin->status, 403);
  EXPECT_EQ(Json(Call("GET", "/api/v1/me", nullptr, &ann)).at("user").at("display_name").as_string(), "ann");
}

TEST_F(AccountsTest, FailedLoginsAreThrottledWithRetryAfter) {
  StartServer();
  Newcomer("ann@example.com", "ann-lab");
  auto fifth_sent = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    if (i == 4) fifth_sent = std::chrono::steady_clock::now();
    EXPECT_EQ(Call("POST", "/api/v1/auth/login", {{"email", "ann@example.com"}, {"password", "guess number x"}})->status, 401);
  }
  auto blocked = Call("POST", "/api/v1/auth/login", {{"email", "ann@example.com"}, {"password", kPassword}});
  EXPECT_EQ(blocked->status, 429);
  // 30 s from the fifth failure: less what has passed since (a loaded machine hashes slowly),
  // and a second boundary crossed.
  auto passed = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - fifth_sent).count();
  int retry_after = std::atoi(blocked->header("retry-after").c_str());
  EXPECT_GE(retry_after, 29 - passed);
  EXPECT_LE(retry_after, 30);
}

TEST_F(AccountsTest, PasswordResetAndChange) {
  StartServer();
  Browser ann = Newcomer("ann@example.com", "ann-lab");
  int mails = smtp_->MessageCount();
  auto unknown = Call("POST", "/api/v1/auth/password-reset", {{"email", "nobody@example.com"}});
  auto known = Call("POST", "/api/v1/auth/password-reset", {{"email", "ann@example.com"}});
  EXPECT_EQ(unknown->status, 202);
  EXPECT_EQ(known->status, 202);
  EXPECT_EQ(unknown->body, known->body);  // the same answer either way
  std::string token = MailedToken(mails + 1, "/reset-password");
  EXPECT_EQ(smtp_->MessageCount(), mails + 1);
  auto weak = Call("POST", "/api/v1/auth/password-reset/confirm", {{"token", token}, {"password", "password123"}});
  EXPECT_EQ(weak->status, 400);
  auto reset = Call("POST", "/api/v1/auth/password-reset/confirm", {{"token", token}, {"password", "a fresh passphrase"}});
  EXPECT_EQ(reset->status, 204);
  auto reused = Call("POST", "/api/v1/auth/password-reset/confirm", {{"token", token}, {"password", "another passphrase"}});
  EXPECT_EQ(reused->status, 409);
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, &ann)->status, 401);  // reset ended every session

  Browser here = SignIn("ann@example.com", "a fresh passphrase");
  Browser there = SignIn("ann@example.com", "a fresh passphrase");
  auto wrong = Call("POST", "/api/v1/me/password", {{"current_password", "nope nope nope"}, {"new_password", "x"}}, &here);
  EXPECT_EQ(ErrorField(wrong), "current_password");
  auto changed = Call("POST", "/api/v1/me/password",
                      {{"current_password", "a fresh passphrase"}, {"new_password", "the third passphrase"}}, &here);
  EXPECT_EQ(changed->status, 204) << changed->body;
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, &here)->status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/me", nullptr, &there)->status, 401);
}

TEST_F(AccountsTest, MembersTokensAndMasterOnlyRoutes) {
  StartServer();
  Browser ann = Newcomer("ann@example.com", "ann-lab");
  int mails = smtp_->MessageCount();
  auto invited = Call("POST", "/api/v1/account/invitations", {{"email", "bob@example.com"}}, &ann);
  ASSERT_EQ(invited->status, 201) << invited->body;
  std::string token = MailedToken(mails + 1, "/invite");
  auto described = Call("POST", "/api/v1/auth/invitation", {{"token", token}});
  EXPECT_EQ(Json(described).at("account_id").as_string(), "ann-lab");
  auto joined = Call("POST", "/api/v1/auth/invitation/accept", {{"token", token}, {"password", "bobs own passphrase"}});
  ASSERT_EQ(joined->status, 201) << joined->body;
  EXPECT_TRUE(smtp_->WaitForMessages(mails + 2));  // "registration succeeded" for Bob too
  EXPECT_EQ(Call("POST", "/api/v1/auth/invitation/accept", {{"token", token}, {"password", "bobs own passphrase"}})->status,
            409);
  Browser bob = SignIn("bob@example.com", "bobs own passphrase");

  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/api/v1/account/invitations"}, {"GET", "/api/v1/account/audit"}}) {
    auto r = Call(method, target, nullptr, &bob);
    EXPECT_EQ(r->status, 403) << target;
    EXPECT_NE(r->body.find("only the account's master user"), std::string::npos);
  }
  EXPECT_EQ(Call("POST", "/api/v1/account/invitations", {{"email", "carol@example.com"}}, &bob)->status, 403);
  EXPECT_EQ(Call("POST", "/api/v1/account/master", {{"user_id", 1}}, &bob)->status, 403);
  EXPECT_EQ(Json(Call("GET", "/api/v1/account/members", nullptr, &bob)).at("items").as_array().size(), 2u);

  // API tokens: shown once, authenticate as Bearer, revocable.
  auto created = Call("POST", "/api/v1/me/tokens", {{"name", "laptop"}}, &bob);
  ASSERT_EQ(created->status, 201);
  std::string secret(Json(created).at("token").as_string());
  auto as_token = Call("GET", "/api/v1/me", nullptr, nullptr, "Authorization: Bearer " + secret + "\r\n");
  EXPECT_EQ(as_token->status, 200);
  EXPECT_EQ(Json(as_token).at("auth_method").as_string(), "token");
  auto listed = Call("GET", "/api/v1/me/tokens", nullptr, &bob);
  EXPECT_EQ(listed->body.find(secret), std::string::npos);
  std::int64_t id = Json(created).at("id").as_int64();
  EXPECT_EQ(Call("DELETE", "/api/v1/me/tokens/" + std::to_string(id), nullptr, &bob)->status, 204);
  auto revoked = Call("GET", "/api/v1/me", nullptr, nullptr, "Authorization: Bearer " + secret + "\r\n");
  EXPECT_EQ(revoked->status, 401);
  EXPECT_EQ(revoked->header("www-authenticate"), "Bearer error=\"invalid_token\"");

  auto audit = Call("GET", "/api/v1/account/audit?limit=100", nullptr, &ann);
  ASSERT_EQ(audit->status, 200);
  for (const char* event : {"account.registered", "login.succeeded", "member.invited", "member.joined", "token.created",
                            "token.revoked"})
    EXPECT_NE(audit->body.find(event), std::string::npos) << event;
  EXPECT_TRUE(Json(audit).at("next_cursor").is_null());  // every event fit: no next page, not even an empty one
  std::size_t events = Json(audit).at("items").as_array().size();
  std::string cursor;
  std::size_t paged = 0;
  for (int page = 0; page < 50; ++page) {  // one event a page, as many pages as events
    auto one = Json(Call("GET", "/api/v1/account/audit?limit=1" + (cursor.empty() ? "" : "&cursor=" + cursor), nullptr, &ann));
    paged += one.at("items").as_array().size();
    if (one.at("next_cursor").is_null()) break;
    cursor = std::string(one.at("next_cursor").as_string());
  }
  EXPECT_EQ(paged, events);
}

// Pages ask who is signed in at start-up: a visitor gets an answer, not a 401 the browser logs.
TEST_F(AccountsTest, SessionAnswersVisitorsAndSignedInUsers) {
  StartServer();
  auto visitor = Call("GET", "/api/v1/session");
  ASSERT_EQ(visitor->status, 200) << visitor->body;
  EXPECT_FALSE(Json(visitor).at("signed_in").as_bool());
  EXPECT_EQ(visitor->header("cache-control"), "no-store");
  Browser ann = Newcomer("ann@example.com", "ann-lab");
  auto signed_in = Json(Call("GET", "/api/v1/session", nullptr, &ann));
  EXPECT_TRUE(signed_in.at("signed_in").as_bool());
  EXPECT_EQ(signed_in.at("user").at("account_id").as_string(), "ann-lab");
  EXPECT_EQ(signed_in.at("csrf_token").as_string(), ann.csrf);
  EXPECT_EQ(Call("GET", "/api/v1/me")->status, 401);
}

// Every route with a path parameter, called by a user of another account with this account's
// ids, answers 404. The list comes from the served OpenAPI document, so new routes are covered
// (and must get an example id here).
TEST_F(AccountsTest, AnotherTenantsResourcesAnswer404OnEveryRoute) {
  StartServer();
  Browser ann = Newcomer("ann@example.com", "ann-lab");
  Browser eve = Newcomer("eve@example.com", "eve-lab");
  auto token = Call("POST", "/api/v1/me/tokens", {{"name", "ci"}}, &ann);
  auto invitation = Call("POST", "/api/v1/account/invitations", {{"email", "bob@example.com"}}, &ann);
  auto certificate = Call("POST", "/api/v1/me/certificates", {{"valid_days", 30}}, &ann);
  ASSERT_EQ(certificate->status, 201) << certificate->body;
  auto certificates = Call("GET", "/api/v1/me/certificates", nullptr, &ann);
  auto me = Call("GET", "/api/v1/me", nullptr, &ann);
  auto job = Call("POST", "/api/v1/jobs",
                  {{"name", "secret-job"}, {"entry", "sleep 30"}, {"cpu_per_trainer", "100m"}, {"mem_per_trainer", "64Mi"}},
                  &ann);
  ASSERT_EQ(job->status, 201) << job->body;
  std::int64_t job_id = Json(job).at("id").as_int64();
  ASSERT_EQ(Call("POST", "/api/v1/folders", {{"path", "datasets/secret"}}, &ann)->status, 201);
  auto pending = Call("POST", "/api/v1/uploads", {{"path", "datasets/secret/b.csv"}}, &ann);
  auto share = Call("POST", "/api/v1/shares", {{"path", "datasets/secret"}, {"link", true}}, &ann);
  ASSERT_EQ(share->status, 201) << share->body;
  auto publication = Call("POST", "/api/v1/publications",
                          {{"name", "secret-model"}, {"version", "1"}, {"path", "datasets/secret"}}, &ann);
  ASSERT_EQ(publication->status, 201) << publication->body;
  auto run = Call("POST", "/api/v1/board/runs", {{"name", "secret-run"}}, &ann);
  ASSERT_EQ(run->status, 201) << run->body;
  auto serving = Call("POST", "/api/v1/serving",
                      {{"name", "secret-serving"}, {"model", "datasets/secret"}, {"runtime", "command"},
                       {"command", "sleep 300"}, {"cpu", "100m"}, {"memory", "64Mi"}},
                      &ann);
  ASSERT_EQ(serving->status, 201) << serving->body;
  std::map<std::string, std::string> ann_ids = {
      {"token", std::to_string(Json(token).at("id").as_int64())},
      {"invitation", std::to_string(Json(invitation).at("id").as_int64())},
      {"user", std::to_string(Json(me).at("user").at("id").as_int64())},
      {"serial", std::string(Json(certificates).at("items").at(0).at("serial").as_string())},
      {"job", std::to_string(job_id)},
      {"pod", "secret-job-" + std::to_string(job_id) + "-trainer-0"},
      {"path", "datasets/secret"},
      {"upload", std::string(Json(pending).at("id").as_string())},
      {"share", std::to_string(Json(share).at("id").as_int64())},
      {"link", "not-a-link"},  // links are capabilities: without the token nothing is found
      {"publication", std::to_string(Json(publication).at("id").as_int64())},
      {"run", std::to_string(Json(run).at("id").as_int64())},
      {"name", "secret-serving"},
      {"index", "0"},
      {"account", "ann-lab"},
      {"rest", "v2/models/secret-serving/infer"},
  };
  // Publications are public to every signed-in user by design; only their account withdraws them.
  std::map<std::string, int> by_design = {{"GET /api/v1/publications/{publication}", 200},
                                          {"DELETE /api/v1/publications/{publication}", 403}};

  auto doc = Json(Call("GET", "/api/v1/openapi.json"));
  int checked = 0;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    if (path.find('{') == std::string::npos) continue;
    std::string target(path);
    std::regex param("\\{([a-z_]+)(\\.\\.\\.)?\\}");
    std::smatch m;
    while (std::regex_search(target, m, param)) {
      ASSERT_TRUE(ann_ids.count(m[1])) << "give an example id of another tenant for {" << m[1] << "} in " << path;
      target = m.prefix().str() + ann_ids[m[1]] + m.suffix().str();
    }
    for (const auto& [method, op] : item.as_object()) {
      std::string upper(method);
      for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      auto r = Call(upper, target, upper == "GET" || upper == "DELETE" ? json::value(nullptr) : json::value(json::object{}),
                    &eve);
      auto expected = by_design.find(upper + " " + std::string(path));
      EXPECT_EQ(r->status, expected == by_design.end() ? 404 : expected->second) << upper << " " << target << " -> " << r->body;
      ++checked;
    }
  }
  EXPECT_GE(checked, 4);
  EXPECT_EQ(Call("POST", "/api/v1/account/master", {{"user_id", std::stoll(ann_ids["user"])}}, &eve)->status, 404);
  // Ann's resources are untouched.
  EXPECT_EQ(Call("GET", "/api/v1/files/datasets/secret", nullptr, &ann)->status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/uploads/" + ann_ids["upload"], nullptr, &ann)->status, 200);
  EXPECT_EQ(Call("GET", "/api/v1/publications/" + ann_ids["publication"], nullptr, &ann)->status, 200);
  EXPECT_EQ(Json(Call("GET", "/api/v1/serving/secret-serving", nullptr, &ann)).at("state").as_string(), "starting");
  EXPECT_EQ(Call("DELETE", "/api/v1/serving/secret-serving", nullptr, &ann)->status, 204);
  EXPECT_EQ(Json(Call("GET", "/api/v1/shares", nullptr, &ann)).at("shares").as_array().size(), 1u);
  auto tokens = Json(Call("GET", "/api/v1/me/tokens", nullptr, &ann)).at("items").as_array();
  ASSERT_EQ(tokens.size(), 1u);  // the job's own token is not listed among the user's
  EXPECT_EQ(tokens.at(0).at("name").as_string(), "ci");
  EXPECT_EQ(Json(Call("GET", "/api/v1/account/invitations", nullptr, &ann)).at("items").as_array().size(), 1u);
  EXPECT_TRUE(Json(Call("GET", "/api/v1/me/certificates", nullptr, &ann)).at("items").at(0).at("revoked_at").is_null());
  auto still = Json(Call("GET", "/api/v1/jobs/" + std::to_string(job_id), nullptr, &ann));
  EXPECT_FALSE(still.at("stop_requested").as_bool());
  EXPECT_TRUE(Json(Call("GET", "/api/v1/jobs", nullptr, &eve)).at("items").as_array().empty());
  EXPECT_EQ(Call("POST", "/api/v1/jobs/" + std::to_string(job_id) + "/stop", nullptr, &ann)->status, 202);
  EXPECT_TRUE(testing::WaitFor(
      [&] { return Json(Call("GET", "/api/v1/jobs/" + std::to_string(job_id), nullptr, &ann)).at("state") == "Stopped"; },
      30s));
}

TEST_F(AccountsTest, ClientCertificatesSignInOverTlsUntilRevoked) {
  std::string cert = dir_.path() + "/server.crt", key = dir_.path() + "/server.key";
  RunCommand("openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
             "-keyout " + key + " -out " + cert);
  ASSERT_TRUE(fs::exists(cert));
  StartServer({"--tls-cert", cert, "--tls-key", key});
  // The API over plain HTTP is gone; drive it with curl over TLS.
  auto curl = [&](const std::string& args) {
    return RunCommand("curl -sS --max-time 20 --cacert " + cert + " " + args);
  };
  std::string base = "https://" + addr_;
  std::string jar = dir_.path() + "/cookies";
  curl("-H 'Content-Type: application/json' -d '{\"email\":\"ann@example.com\",\"password\":\"" + std::string(kPassword) +
       "\",\"account_id\":\"ann-lab\"}' " + base + "/api/v1/auth/register");
  ASSERT_TRUE(smtp_->WaitForMessages(1)) << server_->Log();
  std::smatch m;
  std::string mail = smtp_->DecodedMessage(1);
  ASSERT_TRUE(std::regex_search(mail, m, std::regex("token=([A-Za-z0-9_-]+)")));
  curl("-H 'Content-Type: application/json' -d '{\"token\":\"" + m[1].str() + "\"}' " + base + "/api/v1/auth/verify");
  std::string login = curl("-D - -c " + jar + " -H 'Content-Type: application/json' -d '{\"email\":\"ann@example.com\","
                           "\"password\":\"" + std::string(kPassword) + "\"}' " + base + "/api/v1/auth/login");
  EXPECT_NE(login.find("Secure"), std::string::npos) << login;  // the cookie is Secure under TLS
  std::smatch csrf;
  ASSERT_TRUE(std::regex_search(login, csrf, std::regex("\"csrf_token\":\"([^\"]+)\""))) << login;
  std::string zip = dir_.path() + "/keys.zip";
  std::string made = curl("-b " + jar + " -H 'X-CSRF-Token: " + csrf[1].str() + "' -H 'Content-Type: application/json' "
                          "-d '{\"valid_days\":30}' -o " + zip + " -w '%{http_code}' " + base + "/api/v1/me/certificates");
  ASSERT_EQ(made, "201");
  std::string unpacked = dir_.path() + "/keys";
  RunCommand("mkdir -p " + unpacked + " && cd " + unpacked + " && python3 -m zipfile -e " + zip + " .");
  std::string crt, pem;
  for (auto& e : fs::directory_iterator(unpacked)) {
    std::string name = e.path().filename().string();
    if (name.ends_with(".crt") && name != "ca.crt") crt = e.path().string();
    if (name.ends_with(".key")) pem = e.path().string();
  }
  ASSERT_FALSE(crt.empty());
  ASSERT_FALSE(pem.empty());
  EXPECT_TRUE(fs::exists(unpacked + "/ca.crt"));

  std::string as_cert = curl("--cert " + crt + " --key " + pem + " " + base + "/api/v1/me");
  EXPECT_NE(as_cert.find("\"auth_method\":\"certificate\""), std::string::npos) << as_cert;
  EXPECT_NE(curl("-w '%{http_code}' -o /dev/null " + base + "/api/v1/me"), "200");  // no certificate, no user

  std::smatch serial;
  std::string listed = curl("-b " + jar + " " + base + "/api/v1/me/certificates");
  ASSERT_TRUE(std::regex_search(listed, serial, std::regex("\"serial\":\"([0-9a-f]+)\""))) << listed;
  // Someone with the CA key (or a leaked one) signs another subject and key under ann's serial:
  // the serial alone signs in no one.
  std::string forged = dir_.path() + "/forged";
  std::ofstream(forged + ".ext") << "extendedKeyUsage=clientAuth\n";
  RunCommand("openssl req -new -newkey rsa:2048 -nodes -subj /CN=eve@example.com/O=ann-lab -keyout " + forged +
             ".key -out " + forged + ".csr && openssl x509 -req -in " + forged + ".csr -CA " + dir_.path() +
             "/data/ca/ca.crt -CAkey " + dir_.path() + "/data/ca/ca.key -set_serial 0x" + serial[1].str() +
             " -days 1 -extfile " + forged + ".ext -out " + forged + ".crt");
  ASSERT_TRUE(fs::exists(forged + ".crt"));
  EXPECT_EQ(curl("--cert " + forged + ".crt --key " + forged + ".key -w '%{http_code}' -o /dev/null " + base + "/api/v1/me"),
            "401");
  EXPECT_EQ(curl("-b " + jar + " -X DELETE -H 'X-CSRF-Token: " + csrf[1].str() + "' -w '%{http_code}' " + base +
                 "/api/v1/me/certificates/" + serial[1].str()),
            "204");
  std::string refused = curl("--cert " + crt + " --key " + pem + " -w '%{http_code}' -o /dev/null " + base + "/api/v1/me");
  EXPECT_EQ(refused, "401");
}

}  // namespace
}  // namespace paddlecloud
