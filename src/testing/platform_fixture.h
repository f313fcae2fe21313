// PlatformTest: a GoogleTest fixture with a real SMTP server (aiosmtpd) and the real paddlecloud
// server mailing through it, both in the test's temporary directory, running pods on the cluster
// `cluster_kind_` names (a parametrized suite sets it before StartServer).
#pragma once

#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "testing/cluster_under_test.h"
#include "testing/http_client.h"
#include "testing/server_process.h"
#include "testing/smtp_server.h"

namespace paddlecloud::testing {

class PlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    smtp_ = std::make_unique<SmtpTestServer>(dir_.path() + "/mail");
    ASSERT_TRUE(smtp_->WaitReady()) << smtp_->Log();
  }
  // Starts (or, after a stop, restarts) the server on the same data dir; `extra` adds flags.
  void StartServer(std::vector<std::string> extra = {}, ServerProcessOptions options = {}) {
    if (cluster_kind_ != ClusterKind::kLocal && !cluster_) {
      cluster_ = std::make_unique<ClusterUnderTest>(cluster_kind_, dir_.path() + "/cluster", dir_.path() + "/data");
      ASSERT_TRUE(cluster_->ok()) << cluster_->error();
    }
    std::vector<std::string> args = {"--smtp-host", "127.0.0.1", "--smtp-port", std::to_string(smtp_->port()),
                                     "--smtp-security", "none", "--access-log", "false"};
    if (cluster_) {
      auto flags = cluster_->ServerFlags();
      args.insert(args.end(), flags.begin(), flags.end());
    }
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<ServerProcess>(dir_.path() + "/data", args, std::move(options));
    ASSERT_TRUE(server_->WaitReady()) << server_->Log();
    addr_ = server_->address();
  }

  // A registered, verified user of a new account, and an API token of theirs.
  std::string RegisterUser(const std::string& email, const std::string& account) {
    int mails = smtp_->MessageCount();
    auto r = CallWith("", "POST", "/api/v1/auth/register",
                      {{"email", email}, {"password", "correct horse battery"}, {"account_id", account}});
    EXPECT_EQ(r->status, 201) << r->body;
    EXPECT_TRUE(smtp_->WaitForMessages(mails + 1));
    std::smatch m;
    std::string mail = smtp_->DecodedMessage(mails + 1);
    EXPECT_TRUE(std::regex_search(mail, m, std::regex("token=([A-Za-z0-9_-]+)")));
    EXPECT_EQ(CallWith("", "POST", "/api/v1/auth/verify", {{"token", m[1].str()}})->status, 200);
    auto token = CallWith("", "POST", "/api/v1/auth/tokens",
                          {{"email", email}, {"password", "correct horse battery"}, {"name", "test"}});
    return std::string(boost::json::parse(token->body).at("token").as_string());
  }

  // Uploads `content` to the cloud path `path` in one request; the final reply.
  std::optional<HttpReply> UploadFile(const std::string& token, const std::string& path, const std::string& content) {
    auto created = CallWith(token, "POST", "/api/v1/uploads",
                            {{"path", path}, {"size", static_cast<std::int64_t>(content.size())}});
    if (!created || created->status != 201 || content.empty()) return created;
    std::string id(boost::json::parse(created->body).at("id").as_string());
    return Request(addr_, "PUT", "/api/v1/uploads/" + id, content,
                   "Authorization: Bearer " + token + "\r\nContent-Range: bytes 0-" +
                       std::to_string(content.size() - 1) + "/" + std::to_string(content.size()) + "\r\n");
  }

  // A JSON API call with `token` as the bearer (none when empty).
  std::optional<HttpReply> CallWith(const std::string& token, const std::string& method, const std::string& target,
                                    const boost::json::value& body = nullptr) {
    std::string headers = token.empty() ? "" : "Authorization: Bearer " + token + "\r\n";
    std::string text = body.is_null() ? "" : boost::json::serialize(body);
    if (!text.empty()) headers += "Content-Type: application/json\r\n";
    return Request(addr_, method, target, text, headers);
  }

  void TearDown() override {
    if (cluster_) {
      auto unvalidated = cluster_->UnvalidatedWrites();
      EXPECT_TRUE(unvalidated.empty()) << "writes without Strict field validation, first: " << unvalidated.front();
    }
  }

  TempDir dir_;
  ClusterKind cluster_kind_ = ClusterKind::kLocal;
  std::unique_ptr<ClusterUnderTest> cluster_;  // outlives the server, whose pods it runs
  std::unique_ptr<SmtpTestServer> smtp_;
  std::unique_ptr<ServerProcess> server_;
  std::string addr_;
};

}  // namespace paddlecloud::testing
