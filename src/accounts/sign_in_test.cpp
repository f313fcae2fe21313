// SignIn: password sign-in and its throttling, sessions, and the credential cache.
#include "accounts/account_test_fixture.h"

namespace paddlecloud::accounts {
namespace {

TEST_F(AccountServiceTest, FailedLoginsAreThrottledPerEmailThenRecover) {
  RegisterVerified("ann@example.com", "ann-lab");
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(service_->sign_in().Login("ann@example.com", "wrong password!", meta_).error().code(), Code::kUnauthenticated);
  auto blocked = service_->sign_in().Login("ann@example.com", "correct horse battery", meta_);
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().code(), Code::kResourceExhausted);
  EXPECT_EQ(blocked.error().details().at("retry_after"), "30");
  now_ += 31;
  EXPECT_TRUE(service_->sign_in().Login("ann@example.com", "correct horse battery", meta_));
  // Unknown emails fail exactly like wrong passwords.
  EXPECT_EQ(service_->sign_in().Login("nobody@example.com", "correct horse battery", meta_).error().message(),
            "wrong email or password");
}

TEST_F(AccountServiceTest, GuessesFromOneAddressNeverLockTheUserOutElsewhere) {
  RegisterVerified("ann@example.com", "ann-lab");
  RequestMeta attacker{.remote_address = "198.51.100.7", .user_agent = "guesser"};
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(service_->sign_in().Login("ann@example.com", "wrong password!", attacker).error().code(), Code::kUnauthenticated);
  EXPECT_EQ(service_->sign_in().Login("ann@example.com", "correct horse battery", attacker).error().code(), Code::kResourceExhausted);
  EXPECT_TRUE(service_->sign_in().Login("ann@example.com", "correct horse battery", meta_)) << "ann, from her own address";
  // The guesser's delay grows with every further failure.
  now_ += 31;
  EXPECT_FALSE(service_->sign_in().Login("ann@example.com", "wrong password!", attacker));
  auto longer = service_->sign_in().Login("ann@example.com", "correct horse battery", attacker);
  ASSERT_FALSE(longer);
  EXPECT_EQ(longer.error().details().at("retry_after"), "60");
}

TEST_F(AccountServiceTest, UnknownEmailsAreCheckedAgainstAHashMadeLikeRealOnes) {
  AccountsOptions options;
  options.password_params = {TestPasswordParams().ops_limit + 1, TestPasswordParams().mem_limit * 2};
  AccountService service(*db_, *mailer_, options);
  auto real = HashPassword("a real passphrase", options.password_params);
  ASSERT_TRUE(real);
  EXPECT_FALSE(PasswordNeedsRehash(service.sign_in().DummyPasswordHash(), options.password_params));
  EXPECT_EQ(service.sign_in().DummyPasswordHash().substr(0, service.sign_in().DummyPasswordHash().find("$", 20)),
            real->substr(0, real->find("$", 20)));  // $argon2id$v=19$m=...,t=...,p=...
}

TEST_F(AccountServiceTest, CachedCredentialsDieTheMomentTheyAreRevoked) {
  RegisterVerified("ann@example.com", "ann-lab");
  Principal ann = SignIn("ann@example.com");
  auto token = service_->tokens().CreateToken(ann, "laptop", std::nullopt, meta_);
  ASSERT_TRUE(token);
  EXPECT_FALSE(service_->sign_in().CachedTokenPrincipal(token->second));
  ASSERT_TRUE(service_->sign_in().AuthenticateToken(token->second));
  ASSERT_TRUE(service_->sign_in().CachedTokenPrincipal(token->second)) << "verified once, then served from memory";
  ASSERT_TRUE(service_->tokens().RevokeToken(ann, token->first.id, meta_).ok());
  EXPECT_FALSE(service_->sign_in().CachedTokenPrincipal(token->second));
  EXPECT_FALSE(service_->sign_in().AuthenticateToken(token->second));

  auto job_token = service_->tokens().CreateJobToken(ann, 9);
  ASSERT_TRUE(service_->sign_in().AuthenticateToken(*job_token));
  ASSERT_TRUE(service_->tokens().RevokeJobTokens("ann-lab", 9).ok());
  EXPECT_FALSE(service_->sign_in().AuthenticateToken(*job_token));

  auto session = service_->sign_in().Login("ann@example.com", "correct horse battery", meta_);
  auto signed_in = service_->sign_in().AuthenticateSession(session->id);
  ASSERT_TRUE(service_->sign_in().CachedSessionPrincipal(session->id));
  ASSERT_TRUE(service_->sign_in().Logout(*signed_in, meta_).ok());
  EXPECT_FALSE(service_->sign_in().CachedSessionPrincipal(session->id));
  EXPECT_FALSE(service_->sign_in().AuthenticateSession(session->id));

  // A revocation the cache did not see (another replica's) is seen within the re-check minute.
  auto other = service_->tokens().CreateToken(ann, "ci", std::nullopt, meta_);
  ASSERT_TRUE(service_->sign_in().AuthenticateToken(other->second));
  ASSERT_TRUE(db_->Execute("UPDATE api_tokens SET revoked_at = 1 WHERE id = ?", {other->first.id}));
  EXPECT_TRUE(service_->sign_in().AuthenticateToken(other->second));
  now_ += 60;
  EXPECT_FALSE(service_->sign_in().AuthenticateToken(other->second));
}

TEST_F(AccountServiceTest, SessionsExpireWhenIdleAndAbsolutely) {
  RegisterVerified("ann@example.com", "ann-lab");
  auto session = service_->sign_in().Login("ann@example.com", "correct horse battery", meta_);
  ASSERT_TRUE(session);
  now_ += 23 * 3600;
  EXPECT_TRUE(service_->sign_in().AuthenticateSession(session->id));  // refreshes the idle clock
  now_ += 23 * 3600;
  EXPECT_TRUE(service_->sign_in().AuthenticateSession(session->id));
  now_ += 25 * 3600;
  EXPECT_FALSE(service_->sign_in().AuthenticateSession(session->id));  // idle > 24 h
  EXPECT_FALSE(service_->sign_in().AuthenticateSession("pcs_forged"));
}

}  // namespace
}  // namespace paddlecloud::accounts
