#include "common/names.h"

#include <gtest/gtest.h>

namespace paddlecloud::names {
namespace {

TEST(NamesTest, DnsLabels) {
  for (const char* good : {"a", "ann-lab", "job-1", "a1-2-3"}) EXPECT_TRUE(IsDnsLabel(good)) << good;
  for (const char* bad : {"", "1job", "-a", "a-", "Ann", "a_b", "a b", "a.b", "é"}) EXPECT_FALSE(IsDnsLabel(bad)) << bad;
  EXPECT_TRUE(IsDnsLabel(std::string(63, 'a')));
  EXPECT_FALSE(IsDnsLabel(std::string(64, 'a')));
  EXPECT_FALSE(IsDnsLabel("ab", 3, 40));
}

TEST(NamesTest, TheMessageSaysWhatIsWrongFirst) {
  Status s = CheckDnsLabel("Alice Team", "account ID", "account_id", 3, 40);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.field(), "account_id");
  EXPECT_EQ(s.message(),
            "account ID \"Alice Team\" has an upper-case letter ('A') and has a space: use 3 to 40 lower-case letters, "
            "digits or '-', starting with a letter and not ending with '-'");
  EXPECT_NE(CheckDnsLabel("ab", "account ID", "account_id", 3, 40).message().find("is too short"), std::string::npos);
  EXPECT_NE(CheckDnsLabel("9lives", "job name", "name", 1, 40).message().find("does not start with a letter"),
            std::string::npos);
  EXPECT_NE(CheckDnsLabel("team_a-", "job name", "name", 1, 40).message().find("has '_' and ends with '-'"),
            std::string::npos);
  EXPECT_NE(CheckDnsLabel(std::string(500, 'a'), "job name", "name", 1, 40).message().find("...\" is too long"),
            std::string::npos);  // long input is cut in the message
  EXPECT_TRUE(CheckDnsLabel("ann-lab", "account ID", "account_id", 3, 40).ok());
}

}  // namespace
}  // namespace paddlecloud::names
