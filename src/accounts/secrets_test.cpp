#include "accounts/secrets.h"

#include <gtest/gtest.h>

namespace paddlecloud::accounts {
namespace {

TEST(SecretsTest, PasswordRules) {
  EXPECT_TRUE(CheckNewPassword("correct horse battery", "ann@example.com", "ann-lab").ok());
  EXPECT_EQ(CheckNewPassword("short", "", "").field(), "password");
  EXPECT_NE(CheckNewPassword("Password123", "", "").message().find("too common"), std::string::npos);
  EXPECT_NE(CheckNewPassword("aaaaaaaaaaaa", "", "").message().find("single character"), std::string::npos);
  EXPECT_FALSE(CheckNewPassword("ann@example.com", "ann@example.com", "").ok());
  EXPECT_FALSE(CheckNewPassword("the-lab-account", "", "the-lab-account").ok());
  EXPECT_EQ(CheckNewPassword("x", "", "", "new_password").field(), "new_password");
  EXPECT_TRUE(CheckNewPassword("пароль-надёжный", "", "").ok());  // counted in characters, not bytes
}

TEST(SecretsTest, HashVerifyAndRehash) {
  auto hash = HashPassword("correct horse battery", TestPasswordParams());
  ASSERT_TRUE(hash);
  EXPECT_EQ(hash->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword("correct horse battery", *hash));
  EXPECT_FALSE(VerifyPassword("correct horse batterx", *hash));
  EXPECT_FALSE(VerifyPassword("anything", ""));
  EXPECT_FALSE(PasswordNeedsRehash(*hash, TestPasswordParams()));
  EXPECT_TRUE(PasswordNeedsRehash(*hash, DefaultPasswordParams()));
}

TEST(SecretsTest, SecretsAreLongRandomAndStoredHashed) {
  std::string a = NewSecret("pct_"), b = NewSecret("pct_");
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("pct_", 0), 0u);
  EXPECT_EQ(a.size(), 4u + 43u);
  EXPECT_EQ(HashSecret(a).size(), 64u);
  EXPECT_EQ(HashSecret(a), HashSecret(a));
  EXPECT_NE(HashSecret(a), HashSecret(b));
  EXPECT_TRUE(ConstantTimeEquals(a, a));
  EXPECT_FALSE(ConstantTimeEquals(a, b));
  EXPECT_FALSE(ConstantTimeEquals(a, a.substr(1)));
}

}  // namespace
}  // namespace paddlecloud::accounts
