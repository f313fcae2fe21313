#include "accounts/account_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "server/platform.h"
#include "sqlite/sqlite_database.h"
#include "testing/server_process.h"

namespace paddlecloud::accounts {
namespace {

namespace fs = std::filesystem;

// Decodes quoted-printable text (the outbox stores bodies as the SMTP server would receive them).
std::string DecodeQuotedPrintable(const std::string& in) {
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
    auto database = db::OpenSqliteDatabase({.path = dir_.path() + "/db.sqlite", .busy_timeout_ms = 5000, .pool_size = 2});
    ASSERT_TRUE(database);
    db_ = std::move(*database);
    auto migrations = server::PlatformMigrations();
    ASSERT_TRUE(db_->Migrate(migrations).ok());
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
    if (fs::exists(outbox()))
      for (auto& e : fs::directory_iterator(outbox()))
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
