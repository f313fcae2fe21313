// The fixture of the accounts tests: a real SQLite database with the platform's migrations, an
// outbox mailer whose mails the tests read, and a clock the tests move.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "accounts/account_service.h"
#include "server/platform.h"
#include "testing/test_database.h"
#include "testing/server_process.h"

namespace paddlecloud::accounts {

// Decodes quoted-printable text (the outbox stores bodies as the SMTP server would receive them).
inline std::string DecodeQuotedPrintable(const std::string& in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '=' && i + 1 < in.size() && (in[i + 1] == '\n' || in[i + 1] == '\r')) {
      i += in[i + 1] == '\r' ? 2 : 1;
    } else if (in[i] == '=' && i + 2 < in.size() && std::isxdigit(static_cast<unsigned char>(in[i + 1]))) {
      out += static_cast<char>(std::stoi(in.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += in[i];
    }
  }
  return out;
}

class AccountServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto database = testing::OpenTestDatabase(dir_.path() + "/db.sqlite", server::PlatformMigrations());
    ASSERT_TRUE(database) << database.error().message();
    db_ = std::move(*database);
    auto mailer = mail::MakeMailer({.outbox_dir = outbox()});
    ASSERT_TRUE(mailer);
    mailer_ = std::move(*mailer);
    AccountsOptions options;
    options.password_params = TestPasswordParams();
    options.public_url_source = [] { return std::string("http://cloud.test"); };
    options.now = [this] { return now_; };
    service_ = std::make_unique<AccountService>(*db_, *mailer_, options);
  }
  std::string outbox() const { return dir_.path() + "/outbox"; }

  // Every mail written so far, decoded, oldest first.
  std::vector<std::string> Mails() {
    std::vector<std::string> paths;
    if (std::filesystem::exists(outbox()))
      for (auto& e : std::filesystem::directory_iterator(outbox()))
        if (e.path().extension() == ".eml") paths.push_back(e.path().string());
    std::sort(paths.begin(), paths.end());
    std::vector<std::string> out;
    for (auto& p : paths) {
      std::ifstream in(p);
      std::stringstream s;
      s << in.rdbuf();
      out.push_back(DecodeQuotedPrintable(s.str()));
    }
    return out;
  }
  // The token of the newest mailed link to `path` ("/verify").
  std::string LinkToken(const std::string& path) {
    auto mails = Mails();
    std::regex link("http://cloud\\.test" + path + "\\?token=([A-Za-z0-9_-]+)");
    for (auto it = mails.rbegin(); it != mails.rend(); ++it) {
      std::smatch m;
      if (std::regex_search(*it, m, link)) return m[1];
    }
    return "";
  }
  RequestMeta meta_{.remote_address = "192.0.2.1", .user_agent = "test"};

  User RegisterVerified(const std::string& email, const std::string& account) {
    auto user = service_->registration().Register(email, "correct horse battery", account, "", meta_);
    EXPECT_TRUE(user) << user.error().ToString();
    auto verified = service_->registration().VerifyEmail(LinkToken("/verify"), meta_);
    EXPECT_TRUE(verified) << verified.error().ToString();
    return *verified;
  }
  Principal SignIn(const std::string& email, const std::string& password = "correct horse battery") {
    auto session = service_->sign_in().Login(email, password, meta_);
    EXPECT_TRUE(session) << session.error().ToString();
    auto p = service_->sign_in().AuthenticateSession(session->id);
    EXPECT_TRUE(p);
    return *p;
  }

  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<mail::Mailer> mailer_;
  std::unique_ptr<AccountService> service_;
  std::int64_t now_ = 1'800'000'000;
};

}  // namespace paddlecloud::accounts
