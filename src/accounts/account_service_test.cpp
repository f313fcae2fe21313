// Across features: every feature keeps to the principal's account.
#include "accounts/account_test_fixture.h"

namespace paddlecloud::accounts {
namespace {

TEST_F(AccountServiceTest, AnotherTenantsResourcesAreNotFound) {
  RegisterVerified("ann@example.com", "ann-lab");
  RegisterVerified("eve@example.com", "eve-lab");
  Principal ann = SignIn("ann@example.com");
  Principal eve = SignIn("eve@example.com");
  auto token = service_->tokens().CreateToken(ann, "laptop", std::nullopt, meta_);
  ASSERT_TRUE(token);
  auto invitation = service_->invitations().Invite(ann, "bob@example.com", meta_);
  ASSERT_TRUE(invitation);
  EXPECT_EQ(service_->tokens().RevokeToken(eve, token->first.id, meta_).code(), Code::kNotFound);
  EXPECT_EQ(service_->invitations().RevokeInvitation(eve, invitation->id, meta_).code(), Code::kNotFound);
  EXPECT_EQ(service_->members().RemoveMember(eve, ann.user_id, meta_).code(), Code::kNotFound);
  EXPECT_EQ(service_->members().TransferMaster(eve, ann.user_id, meta_).code(), Code::kNotFound);
  EXPECT_EQ(service_->members().ListMembers(eve)->size(), 1u);
  EXPECT_TRUE(service_->invitations().ListInvitations(eve)->empty());
  EXPECT_TRUE(service_->sign_in().AuthenticateToken(token->second));  // untouched
}

}  // namespace
}  // namespace paddlecloud::accounts
