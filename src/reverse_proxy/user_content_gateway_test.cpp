#include "reverse_proxy/user_content_gateway.h"

#include <gtest/gtest.h>

#include "reverse_proxy/test_servers.h"
#include "testing/http_client.h"

namespace paddlecloud::reverse_proxy {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

class UserContentGatewayTest : public ::testing::Test {
 protected:
  UserContentGatewayTest() {
    GatewayOptions options;
    options.handoff_start_url = "http://127.0.0.1:1/api/v1/notebook/handoff";
    options.now = [this] { return now_; };
    options.proxy.private_cookies = {"pc_session"};
    // User 7 has a notebook (its kernel channels on the WebSocket upstream); user 8 has none.
    gateway_ = std::make_unique<UserContentGateway>(
        options, [this](const GatewayUser& user, std::string_view path) -> asio::awaitable<Result<Upstream>> {
          if (user.user_id != 7) co_return Err(Status::NotFound("no notebook is running"));
          std::uint16_t port = path.find("/channels") != std::string_view::npos ? ws_.port() : echo_.port();
          co_return Upstream{"127.0.0.1", port, "t7"};
        });
    gateway_->AddRoutes(server_.router);
    server_.Start();
    origin_ = "http://" + server_.address();
  }
  ~UserContentGatewayTest() override { server_.Stop(); }

  Principal User(std::int64_t id) { return Principal{.user_id = id, .account_id = "acct"}; }
  // The path and query of a handoff URL on the gateway.
  std::string Local(const std::string& url) { return url.substr(origin_.size()); }
  // Signs user `id` in through a handoff; the gateway cookie ("name=value").
  std::string SignIn(std::int64_t id) {
    auto url = gateway_->StartHandoff(User(id), "", origin_);
    EXPECT_TRUE(url.has_value());
    auto reply = testing::Request(server_.address(), "GET", Local(*url));
    EXPECT_EQ(reply->status, 302);
    auto set_cookie = reply->header("set-cookie");
    return set_cookie.substr(0, set_cookie.find(';'));
  }

  std::chrono::steady_clock::time_point now_ = std::chrono::steady_clock::now();
  EchoUpstream echo_;
  WebSocketEchoUpstream ws_;
  TestServer server_;
  std::unique_ptr<UserContentGateway> gateway_;
  std::string origin_;
};

TEST_F(UserContentGatewayTest, HandoffSetsTheGatewayCookieAndRedirectsToNext) {
  auto url = gateway_->StartHandoff(User(7), "/user/7/tree?x=1", origin_);
  ASSERT_TRUE(url.has_value());
  auto reply = testing::Request(server_.address(), "GET", Local(*url));
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 302) << reply->body;
  EXPECT_EQ(reply->header("location"), "/user/7/tree?x=1");
  auto cookie = reply->header("set-cookie");
  EXPECT_TRUE(cookie.starts_with("pc_user_content=pcs_")) << cookie;
  EXPECT_NE(cookie.find("; Path=/"), std::string::npos);
  EXPECT_NE(cookie.find("; HttpOnly; SameSite=Lax"), std::string::npos);
  EXPECT_EQ(cookie.find("Domain"), std::string::npos);  // host-only
  EXPECT_EQ(cookie.find("Secure"), std::string::npos);  // plain HTTP here
}

TEST_F(UserContentGatewayTest, ReplayedForgedAndExpiredTokensAreRefused) {
  auto url = gateway_->StartHandoff(User(7), "", origin_);
  ASSERT_TRUE(url.has_value());
  EXPECT_EQ(testing::Request(server_.address(), "GET", Local(*url))->status, 302);
  auto replayed = testing::Request(server_.address(), "GET", Local(*url));
  EXPECT_EQ(replayed->status, 403);
  EXPECT_TRUE(replayed->header("set-cookie").empty());
  auto forged = testing::Request(server_.address(), "GET", "/hub/handoff?token=pch_forged&next=%2Fuser%2F7%2F");
  EXPECT_EQ(forged->status, 403);
  EXPECT_NE(forged->body.find("permission_denied"), std::string::npos);
  auto late = gateway_->StartHandoff(User(7), "", origin_);
  now_ += 61s;
  EXPECT_EQ(testing::Request(server_.address(), "GET", Local(*late))->status, 403);
}

TEST_F(UserContentGatewayTest, NextOutsideTheUsersPrefixIsRefused) {
  for (std::string next : {"//evil.example/", "https://evil.example/user/7/", "/user/8/", "/user/7/\\evil", "/hub/x"}) {
    auto url = gateway_->StartHandoff(User(7), next, origin_);
    ASSERT_FALSE(url.has_value()) << next;
    EXPECT_EQ(url.error().field(), "next");
  }
  // A link whose next was changed on the way is refused (and used up).
  auto url = gateway_->StartHandoff(User(7), "/user/7/tree", origin_);
  std::string tampered = Local(*url);
  tampered = tampered.substr(0, tampered.find("&next=")) + "&next=%2F%2Fevil.example%2F";
  auto reply = testing::Request(server_.address(), "GET", tampered);
  EXPECT_EQ(reply->status, 400);
  EXPECT_TRUE(reply->header("location").empty());
  EXPECT_EQ(testing::Request(server_.address(), "GET", Local(*url))->status, 403);
}

TEST_F(UserContentGatewayTest, SignedInRequestsReachTheUpstreamWithTheTokenAndWithoutPlatformCookies) {
  std::string cookie = SignIn(7);
  auto reply = testing::Request(server_.address(), "GET", "/user/7/api/status", "",
                                "Cookie: pc_session=platform; " + cookie + "; _xsrf=1\r\n");
  ASSERT_TRUE(reply);
  ASSERT_EQ(reply->status, 200) << reply->body;
  auto echo = boost::json::parse(reply->body).as_object();
  EXPECT_EQ(echo["target"], "/user/7/api/status");
  auto& headers = echo["headers"].as_object();
  EXPECT_EQ(headers["authorization"], "token t7");
  EXPECT_EQ(headers["cookie"], "_xsrf=1");
}

TEST_F(UserContentGatewayTest, AnotherUsersPathIs404) {
  std::string cookie = SignIn(7);
  auto reply = testing::Request(server_.address(), "GET", "/user/8/api/status", "", "Cookie: " + cookie + "\r\n");
  EXPECT_EQ(reply->status, 404);
  // Signed in as 8 (no notebook): its own path is 404 from the resolver, 7's path 404 too.
  std::string other = SignIn(8);
  EXPECT_EQ(testing::Request(server_.address(), "GET", "/user/8/tree", "", "Cookie: " + other + "\r\n")->status, 404);
  EXPECT_EQ(testing::Request(server_.address(), "GET", "/user/7/tree", "", "Cookie: " + other + "\r\n")->status, 404);
}

TEST_F(UserContentGatewayTest, WithoutTheCookieAGetIsSentToTheHandoffStart) {
  auto reply = testing::Request(server_.address(), "GET", "/user/7/tree?a=b", "", "Cookie: pc_session=platform\r\n");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 302);
  EXPECT_EQ(reply->header("location"), "http://127.0.0.1:1/api/v1/notebook/handoff?next=%2Fuser%2F7%2Ftree%3Fa%3Db");
  EXPECT_EQ(testing::Request(server_.address(), "POST", "/user/7/api/contents", "{}")->status, 401);
  auto forged = testing::Request(server_.address(), "GET", "/user/7/tree", "", "Cookie: pc_user_content=pcs_x\r\n");
  EXPECT_EQ(forged->status, 302);
}

TEST_F(UserContentGatewayTest, SessionsExpire) {
  std::string cookie = SignIn(7);
  now_ += 13h;
  EXPECT_EQ(testing::Request(server_.address(), "GET", "/user/7/tree", "", "Cookie: " + cookie + "\r\n")->status, 302);
}

TEST_F(UserContentGatewayTest, KernelWebSocketGoesThroughForTheOwnerOnly) {
  std::string cookie = SignIn(7);
  std::string host = server_.address();
  auto client = WebSocketClient::Connect(host, host, "http://" + host, "/user/7/api/kernels/k1/channels", cookie);
  ASSERT_TRUE(client.ok()) << client.error;
  EXPECT_EQ(client.Echo("{\"msg_type\":\"execute_request\"}"), "{\"msg_type\":\"execute_request\"}");
  EXPECT_EQ(ws_.last_handshake()["authorization"], "token t7");
  EXPECT_EQ(ws_.last_handshake().count("cookie"), 0u);
  auto anonymous = WebSocketClient::Connect(host, host, "http://" + host, "/user/7/api/kernels/k1/channels");
  EXPECT_EQ(anonymous.status, 401);
}

}  // namespace
}  // namespace paddlecloud::reverse_proxy
