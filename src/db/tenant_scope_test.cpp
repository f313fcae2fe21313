#include "db/tenant_scope.h"

#include <gtest/gtest.h>

namespace paddlecloud::db {
namespace {

TEST(TenantScopeTest, BindsTheAccountWhereverItIsNamed) {
  auto bound = TenantScope::Bind("SELECT * FROM t WHERE id = ? AND account_id = :account OR owner = :account AND x = ?",
                                 {std::int64_t{7}, std::string("y")}, "ann-lab");
  ASSERT_TRUE(bound);
  EXPECT_EQ(bound->first, "SELECT * FROM t WHERE id = ? AND account_id = ? OR owner = ? AND x = ?");
  ASSERT_EQ(bound->second.size(), 4u);
  EXPECT_EQ(std::get<std::int64_t>(bound->second[0]), 7);
  EXPECT_EQ(std::get<std::string>(bound->second[1]), "ann-lab");
  EXPECT_EQ(std::get<std::string>(bound->second[2]), "ann-lab");
  EXPECT_EQ(std::get<std::string>(bound->second[3]), "y");
}

TEST(TenantScopeTest, MismatchedParametersAreRefused) {
  EXPECT_FALSE(TenantScope::Bind("SELECT 1 WHERE a = :account AND b = ?", {}, "x"));
  EXPECT_FALSE(TenantScope::Bind("SELECT 1 WHERE a = :account", {std::int64_t{1}}, "x"));
}

#ifdef NDEBUG
TEST(TenantScopeTest, UnscopedStatementIsRefused) {
  auto bound = TenantScope::Bind("DELETE FROM jobs WHERE id = ?", {std::int64_t{1}}, "x");
  ASSERT_FALSE(bound);
  EXPECT_EQ(bound.error().code(), Code::kInternal);
}
#else
TEST(TenantScopeDeathTest, UnscopedStatementAsserts) {
  EXPECT_DEATH((void)TenantScope::Bind("DELETE FROM jobs WHERE id = ?", {std::int64_t{1}}, "x"), "without :account");
}
#endif

}  // namespace
}  // namespace paddlecloud::db
