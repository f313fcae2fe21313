// ApiTokens: personal and job tokens.
#include "accounts/account_test_fixture.h"

namespace paddlecloud::accounts {
namespace {

TEST_F(AccountServiceTest, TokensAuthenticateUntilRevokedOrExpired) {
  RegisterVerified("ann@example.com", "ann-lab");
  Principal ann = SignIn("ann@example.com");
  auto created = service_->tokens().CreateToken(ann, "laptop", 1, meta_);
  ASSERT_TRUE(created);
  auto p = service_->sign_in().AuthenticateToken(created->second);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->method, "token");
  auto listed = service_->tokens().ListTokens(ann);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ(listed->front().last_used_at, now_);
  now_ += 2 * 86400;
  EXPECT_FALSE(service_->sign_in().AuthenticateToken(created->second));  // expired
  auto cli = service_->tokens().CreateTokenWithPassword("ann@example.com", "correct horse battery", "cli", meta_);
  ASSERT_TRUE(cli);
  ASSERT_TRUE(service_->tokens().RevokeToken(ann, cli->first.id, meta_).ok());
  EXPECT_FALSE(service_->sign_in().AuthenticateToken(cli->second));
  EXPECT_EQ(service_->tokens().RevokeToken(ann, cli->first.id, meta_).code(), Code::kNotFound);
}

}  // namespace
}  // namespace paddlecloud::accounts
