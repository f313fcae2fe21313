// Members and invitations.
#include "accounts/account_test_fixture.h"

namespace paddlecloud::accounts {
namespace {

TEST_F(AccountServiceTest, MembersInvitationsAndMasterRole) {
  RegisterVerified("ann@example.com", "ann-lab");
  Principal ann = SignIn("ann@example.com");
  auto invitation = service_->invitations().Invite(ann, "bob@example.com", meta_);
  ASSERT_TRUE(invitation) << invitation.error().ToString();
  std::string token = LinkToken("/invite");
  std::string account;
  ASSERT_TRUE(service_->invitations().DescribeInvitation(token, &account));
  EXPECT_EQ(account, "ann-lab");
  auto bob_user = service_->invitations().AcceptInvitation(token, "bobs good passphrase", "Bob", meta_);
  ASSERT_TRUE(bob_user) << bob_user.error().ToString();
  EXPECT_FALSE(bob_user->master);
  EXPECT_EQ(service_->invitations().AcceptInvitation(token, "bobs good passphrase", "Bob", meta_).error().code(), Code::kConflict);
  Principal bob = SignIn("bob@example.com", "bobs good passphrase");

  // A member cannot do master-only actions.
  EXPECT_EQ(service_->invitations().Invite(bob, "carol@example.com", meta_).error().code(), Code::kPermissionDenied);
  EXPECT_EQ(service_->members().RemoveMember(bob, ann.user_id, meta_).code(), Code::kPermissionDenied);
  EXPECT_EQ(service_->audit().ListAudit(bob, {.limit = 10}).error().code(), Code::kPermissionDenied);
  EXPECT_EQ(service_->members().ListMembers(bob)->size(), 2u);

  // The master hands over the role, then the new master removes the old one.
  ASSERT_TRUE(service_->members().TransferMaster(ann, bob.user_id, meta_).ok());
  bob = SignIn("bob@example.com", "bobs good passphrase");
  ann = SignIn("ann@example.com");
  EXPECT_TRUE(bob.master);
  EXPECT_FALSE(ann.master);
  ASSERT_TRUE(service_->members().Leave(ann, meta_).ok());
  EXPECT_EQ(service_->members().ListMembers(bob)->size(), 1u);
  auto audit = service_->audit().ListAudit(bob, {.limit = 100});
  ASSERT_TRUE(audit);
  std::vector<std::string> events;
  for (auto& e : *audit) events.push_back(e.event);
  for (const char* expected : {"member.invited", "member.joined", "member.master_transferred", "member.left"})
    EXPECT_NE(std::find(events.begin(), events.end(), expected), events.end()) << expected;
}

TEST_F(AccountServiceTest, InvitationsExpireAndCanBeWithdrawn) {
  RegisterVerified("ann@example.com", "ann-lab");
  Principal ann = SignIn("ann@example.com");
  auto first = service_->invitations().Invite(ann, "bob@example.com", meta_);
  ASSERT_TRUE(first);
  std::string first_token = LinkToken("/invite");
  ASSERT_TRUE(service_->invitations().RevokeInvitation(ann, first->id, meta_).ok());
  EXPECT_EQ(service_->invitations().AcceptInvitation(first_token, "bobs good passphrase", "", meta_).error().code(), Code::kNotFound);
  ASSERT_TRUE(service_->invitations().Invite(ann, "bob@example.com", meta_));
  std::string second_token = LinkToken("/invite");
  now_ += 8 * 86400;
  EXPECT_NE(service_->invitations().AcceptInvitation(second_token, "bobs good passphrase", "", meta_).error().message().find("expired"),
            std::string::npos);
}

}  // namespace
}  // namespace paddlecloud::accounts
