// Registration: creating an account, verifying its email, and links anyone may ask to be mailed.
#include "accounts/account_test_fixture.h"

namespace paddlecloud::accounts {
namespace {

TEST_F(AccountServiceTest, RegisterVerifyWelcomeAndLogin) {
  auto user = service_->registration().Register(" Ann@Example.com ", "correct horse battery", "ann-lab", "Ann", meta_);
  ASSERT_TRUE(user) << user.error().ToString();
  EXPECT_EQ(user->email, "ann@example.com");
  EXPECT_TRUE(user->master);
  EXPECT_FALSE(user->verified);

  auto before = service_->sign_in().Login("ann@example.com", "correct horse battery", meta_);
  ASSERT_FALSE(before);
  EXPECT_EQ(before.error().code(), Code::kPermissionDenied);

  std::string token = LinkToken("/verify");
  ASSERT_FALSE(token.empty());
  auto verified = service_->registration().VerifyEmail(token, meta_);
  ASSERT_TRUE(verified) << verified.error().ToString();
  EXPECT_TRUE(verified->verified);
  EXPECT_NE(Mails().back().find("registration succeeded"), std::string::npos);
  EXPECT_EQ(service_->registration().VerifyEmail(token, meta_).error().code(), Code::kConflict);  // single use

  auto session = service_->sign_in().Login("ANN@example.com", "correct horse battery", meta_);
  ASSERT_TRUE(session) << session.error().ToString();
  auto principal = service_->sign_in().AuthenticateSession(session->id);
  ASSERT_TRUE(principal);
  EXPECT_EQ(principal->account_id, "ann-lab");
  EXPECT_EQ(principal->csrf_token, session->csrf_token);
  EXPECT_TRUE(service_->sign_in().Logout(*principal, meta_).ok());
  EXPECT_FALSE(service_->sign_in().AuthenticateSession(session->id));
}

TEST_F(AccountServiceTest, RegistrationRejectsBadInputAndChangesNothing) {
  RegisterVerified("ann@example.com", "ann-lab");
  std::size_t mails = Mails().size();
  struct Case {
    std::string email, password, account, field;
    Code code;
  };
  for (const Case& c : std::vector<Case>{
           {"ann@example.com", "correct horse battery", "other-lab", "email", Code::kConflict},
           {"bob@example.com", "correct horse battery", "ann-lab", "account_id", Code::kConflict},
           {"bob@example.com", "correct horse battery", "Bad_ID", "account_id", Code::kInvalidArgument},
           {"bob@example.com", "correct horse battery", "kube-system", "account_id", Code::kConflict},
           {"not-an-email", "correct horse battery", "bob-lab", "email", Code::kInvalidArgument},
           {"bob@example.com", "password123", "bob-lab", "password", Code::kInvalidArgument},
       }) {
    auto r = service_->registration().Register(c.email, c.password, c.account, "", meta_);
    ASSERT_FALSE(r) << c.email << " " << c.account;
    EXPECT_EQ(r.error().code(), c.code) << r.error().ToString();
    EXPECT_EQ(r.error().field(), c.field) << r.error().ToString();
  }
  EXPECT_EQ(Mails().size(), mails);
  auto count = db_->Query("SELECT COUNT(*) AS n FROM users");
  EXPECT_EQ(count->Int(0, "n"), 1);
}

TEST_F(AccountServiceTest, ExpiredVerificationLinkIsRefused) {
  ASSERT_TRUE(service_->registration().Register("ann@example.com", "correct horse battery", "ann-lab", "", meta_));
  now_ += 49 * 3600;
  auto r = service_->registration().VerifyEmail(LinkToken("/verify"), meta_);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message().find("expired"), std::string::npos);
  EXPECT_EQ(service_->registration().VerifyEmail("forged-token", meta_).error().code(), Code::kNotFound);
}

// Verification and reset links follow one rule: each email gets 3 mails an hour, each client
// address 10 requests an hour, and the answer never tells whether a mail went.
TEST_F(AccountServiceTest, LinksAnyoneMayAskForAreThrottledPerEmailAndPerAddress) {
  ASSERT_TRUE(service_->registration().Register("ann@example.com", "correct horse battery", "ann-lab", "", meta_));
  std::size_t mails = Mails().size();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(service_->registration().ResendVerification("ann@example.com", meta_).ok());
  EXPECT_EQ(Mails().size(), mails + 3);
  EXPECT_TRUE(service_->registration().ResendVerification("ann@example.com", meta_).ok());
  EXPECT_TRUE(service_->passwords().RequestPasswordReset("ann@example.com", meta_).ok());
  EXPECT_EQ(Mails().size(), mails + 3) << "the email had its share, whichever link is asked for";

  // The address has made 6 requests (the registration counts); the 10th is its last.
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(service_->registration().ResendVerification("nobody@example.com", meta_).ok());
  Status blocked = service_->passwords().RequestPasswordReset("bob@example.com", meta_);
  EXPECT_EQ(blocked.code(), Code::kResourceExhausted);
  EXPECT_EQ(blocked.details().count("retry_after"), 1u);
  EXPECT_EQ(service_->registration().ResendVerification("ann@example.com", meta_).code(), Code::kResourceExhausted);
  RequestMeta elsewhere{.remote_address = "192.0.2.2", .user_agent = "test"};
  EXPECT_TRUE(service_->registration().ResendVerification("nobody@example.com", elsewhere).ok());

  now_ += 3601;
  ASSERT_TRUE(service_->registration().ResendVerification("ann@example.com", meta_).ok());
  EXPECT_EQ(Mails().size(), mails + 4);
  ASSERT_TRUE(service_->registration().VerifyEmail(LinkToken("/verify"), meta_));
  mails = Mails().size();  // with the welcome
  EXPECT_TRUE(service_->registration().ResendVerification("ann@example.com", meta_).ok());
  EXPECT_EQ(Mails().size(), mails) << "a verified email gets no new verification link";
}

}  // namespace
}  // namespace paddlecloud::accounts
