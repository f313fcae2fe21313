// Passwords: changing one and resetting a forgotten one.
#include "accounts/account_test_fixture.h"

namespace paddlecloud::accounts {
namespace {

TEST_F(AccountServiceTest, PasswordChangeEndsOtherSessions) {
  RegisterVerified("ann@example.com", "ann-lab");
  Principal here = SignIn("ann@example.com");
  auto elsewhere = service_->sign_in().Login("ann@example.com", "correct horse battery", meta_);
  ASSERT_TRUE(elsewhere);
  auto wrong = service_->passwords().ChangePassword(here, "not my password", "another good passphrase", meta_);
  EXPECT_EQ(wrong.field(), "current_password");
  auto weak = service_->passwords().ChangePassword(here, "correct horse battery", "qwerty123", meta_);
  EXPECT_EQ(weak.field(), "new_password");
  auto token = service_->tokens().CreateToken(here, "laptop", std::nullopt, meta_);
  ASSERT_TRUE(token);
  auto job_token = service_->tokens().CreateJobToken(here, 7);
  ASSERT_TRUE(job_token);
  ASSERT_TRUE(service_->certificates().RecordCertificate(here, {.serial = "ab01", .subject = "CN=ann", .fingerprint_sha256 = "00",
                                                 .not_before = now_, .not_after = now_ + 86400, .created_at = now_},
                                          meta_).ok());
  ASSERT_TRUE(service_->passwords().ChangePassword(here, "correct horse battery", "another good passphrase", meta_).ok());
  EXPECT_FALSE(service_->sign_in().AuthenticateSession(elsewhere->id));
  EXPECT_TRUE(service_->sign_in().Login("ann@example.com", "another good passphrase", meta_));
  EXPECT_FALSE(service_->sign_in().AuthenticateToken(token->second)) << "a changed password revokes API tokens";
  EXPECT_TRUE(service_->certificates().ListCertificates(here)->at(0).revoked_at.has_value());
  EXPECT_TRUE(service_->sign_in().AuthenticateToken(*job_token)) << "a running job keeps its token";
  // Unless the user asks to keep their tokens.
  auto kept = service_->tokens().CreateToken(here, "ci", std::nullopt, meta_);
  ASSERT_TRUE(service_->passwords().ChangePassword(here, "another good passphrase", "a third good passphrase", meta_,
                                       /*keep_tokens=*/true).ok());
  EXPECT_TRUE(service_->sign_in().AuthenticateToken(kept->second));
}

TEST_F(AccountServiceTest, ResetAnswersTheSameAndIsSingleUse) {
  RegisterVerified("ann@example.com", "ann-lab");
  std::size_t mails = Mails().size();
  EXPECT_TRUE(service_->passwords().RequestPasswordReset("nobody@example.com", meta_).ok());
  EXPECT_EQ(Mails().size(), mails);
  EXPECT_TRUE(service_->passwords().RequestPasswordReset("ann@example.com", meta_).ok());
  std::string token = LinkToken("/reset-password");
  ASSERT_FALSE(token.empty());
  EXPECT_EQ(service_->passwords().ResetPassword(token, "short", meta_).field(), "password");
  Principal before = SignIn("ann@example.com");
  auto api_token = service_->tokens().CreateToken(before, "laptop", std::nullopt, meta_);
  auto job_token = service_->tokens().CreateJobToken(before, 7);
  ASSERT_TRUE(service_->certificates().RecordCertificate(before, {.serial = "cd02", .subject = "CN=ann", .fingerprint_sha256 = "f2",
                                                   .not_before = now_, .not_after = now_ + 86400, .created_at = now_},
                                          meta_).ok());
  EXPECT_TRUE(service_->sign_in().AuthenticateCertificate("f2"));
  ASSERT_TRUE(service_->passwords().ResetPassword(token, "a brand new passphrase", meta_).ok());
  EXPECT_FALSE(service_->sign_in().AuthenticateToken(api_token->second)) << "a reset revokes every token";
  EXPECT_FALSE(service_->sign_in().AuthenticateToken(*job_token));
  EXPECT_FALSE(service_->sign_in().AuthenticateCertificate("f2"));
  EXPECT_EQ(service_->passwords().ResetPassword(token, "yet another passphrase", meta_).code(), Code::kConflict);
  EXPECT_TRUE(service_->sign_in().Login("ann@example.com", "a brand new passphrase", meta_));
  // An expired link.
  ASSERT_TRUE(service_->passwords().RequestPasswordReset("ann@example.com", meta_).ok());
  now_ += 2 * 3600;
  EXPECT_NE(service_->passwords().ResetPassword(LinkToken("/reset-password"), "yet another passphrase", meta_).message().find("expired"),
            std::string::npos);
}

}  // namespace
}  // namespace paddlecloud::accounts
