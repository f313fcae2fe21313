#include <gtest/gtest.h>

#include <limits>

#include "db/database.h"

namespace paddlecloud::db {
namespace {

Rows OneRow(std::vector<Value> values) {
  std::vector<std::string> columns;
  for (std::size_t i = 0; i < values.size(); ++i) {
    columns.emplace_back("c");
    columns.back() += std::to_string(i);  // not "c" + ...: g++ 12 -O3 false -Wrestrict (PR 105329)
  }
  return Rows(std::move(columns), {std::move(values)});
}

TEST(RowsTest, ReadsEachTypeByColumnName) {
  Rows rows({"id", "score", "name", "gone"}, {{std::int64_t{7}, 0.5, std::string("ada"), Value{}}});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows.empty());
  EXPECT_EQ(rows.Int(0, "id"), 7);
  EXPECT_DOUBLE_EQ(rows.Real(0, "score"), 0.5);
  EXPECT_EQ(rows.Text(0, "name"), "ada");
  EXPECT_TRUE(rows.IsNull(0, "gone"));
  EXPECT_FALSE(rows.IsNull(0, "id"));
}

TEST(RowsTest, NullReadsAsZeroOrEmpty) {
  Rows rows = OneRow({Value{}});
  EXPECT_EQ(rows.Int(0, "c0"), 0);
  EXPECT_EQ(rows.Real(0, "c0"), 0.0);
  EXPECT_EQ(rows.Text(0, "c0"), "");
}

TEST(RowsTest, IntConvertsRealAndText) {
  Rows rows = OneRow({2.9, -2.9, std::string("42"), std::string(" 17 "), std::string("1.5"),
                      std::string("12abc"), std::string("abc"), 1e300, std::string("-1e300")});
  EXPECT_EQ(rows.Int(0, "c0"), 2);
  EXPECT_EQ(rows.Int(0, "c1"), -2);
  EXPECT_EQ(rows.Int(0, "c2"), 42);
  EXPECT_EQ(rows.Int(0, "c3"), 17);
  EXPECT_EQ(rows.Int(0, "c4"), 1);
  EXPECT_EQ(rows.Int(0, "c5"), 12);
  EXPECT_EQ(rows.Int(0, "c6"), 0);
  EXPECT_EQ(rows.Int(0, "c7"), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(rows.Int(0, "c8"), std::numeric_limits<std::int64_t>::min());
}

TEST(RowsTest, RealConvertsIntAndText) {
  Rows rows = OneRow({std::int64_t{3}, std::string("2.25"), std::string("x")});
  EXPECT_DOUBLE_EQ(rows.Real(0, "c0"), 3.0);
  EXPECT_DOUBLE_EQ(rows.Real(0, "c1"), 2.25);
  EXPECT_DOUBLE_EQ(rows.Real(0, "c2"), 0.0);
}

TEST(RowsTest, TextRendersNumbers) {
  Rows rows = OneRow({std::int64_t{-12}, 0.1, 2.0});
  EXPECT_EQ(rows.Text(0, "c0"), "-12");
  EXPECT_EQ(rows.Text(0, "c1"), "0.1");
  EXPECT_EQ(rows.Text(0, "c2"), "2");
}

TEST(RowsDeathTest, UnknownColumnIsAProgrammingError) {
  Rows rows = OneRow({std::int64_t{1}});
  EXPECT_DEBUG_DEATH({ EXPECT_TRUE(rows.IsNull(0, "typo")); }, "no such column");
}

}  // namespace
}  // namespace paddlecloud::db
