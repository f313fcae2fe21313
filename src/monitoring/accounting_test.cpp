#include "monitoring/accounting.h"

#include <gtest/gtest.h>

#include "accounts/account_service.h"
#include "testing/server_process.h"
#include "testing/test_database.h"

namespace paddlecloud::monitoring {
namespace {

constexpr std::int64_t kNow = 1'764'979'200 + 12 * 3600;  // 2025-12-06 12:00 UTC

class AccountingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<db::Migration> migrations = accounts::AccountMigrations();
    for (auto& m : AccountingMigrations()) migrations.push_back(std::move(m));
    auto database = testing::OpenTestDatabase(dir_.path() + "/db.sqlite", std::move(migrations));
    ASSERT_TRUE(database) << database.error().message();
    db_ = std::move(*database);
    accounting_ = std::make_unique<Accounting>(*db_, [] { return kNow; });
  }
  PodCharge Charge(std::string account, std::int64_t user, std::int64_t at_s, double cpu, double gpu) {
    return {.account_id = std::move(account), .user_id = user, .job_id = user * 10, .pod = "p-trainer-0",
            .at_s = at_s, .cpu_seconds = cpu, .gpu_seconds = gpu};
  }

  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<Accounting> accounting_;
  Principal master_{.user_id = 1, .account_id = "acme", .email = "ann@example.com", .master = true};
  Principal member_{.user_id = 2, .account_id = "acme", .email = "bob@example.com", .master = false};
};

TEST_F(AccountingTest, WindowsSumWhatFallsInsideThem) {
  ASSERT_TRUE(accounting_->Charge({Charge("acme", 1, kNow - 60, 100, 10), Charge("acme", 1, kNow - 30, 50, 0),
                                   Charge("acme", 1, kNow - 3 * 86400, 1000, 0),
                                   Charge("acme", 1, kNow - 20 * 86400, 7000, 0)})
                  .ok());
  auto day = accounting_->ForAccount(master_, "1d");
  ASSERT_TRUE(day) << day.error().message();
  EXPECT_DOUBLE_EQ(day->total.cpu_seconds, 150);
  EXPECT_DOUBLE_EQ(day->total.gpu_seconds, 10);
  EXPECT_DOUBLE_EQ(accounting_->ForAccount(master_, "7d")->total.cpu_seconds, 1150);
  EXPECT_DOUBLE_EQ(accounting_->ForAccount(master_, "30d")->total.cpu_seconds, 8150);
}

TEST_F(AccountingTest, DailySeriesCoversThirtyDaysOldestFirst) {
  ASSERT_TRUE(accounting_->Charge({Charge("acme", 1, kNow, 60, 0), Charge("acme", 1, kNow - 86400, 30, 0),
                                   Charge("acme", 1, kNow - 40 * 86400, 999, 0)})
                  .ok());
  auto usage = accounting_->ForAccount(master_, "30d");
  ASSERT_TRUE(usage);
  ASSERT_EQ(usage->daily.size(), 30u);
  EXPECT_EQ(usage->daily.back().day, "2025-12-06");
  EXPECT_EQ(usage->daily.front().day, "2025-11-07");
  EXPECT_DOUBLE_EQ(usage->daily.back().usage.cpu_seconds, 60);
  EXPECT_DOUBLE_EQ(usage->daily[28].usage.cpu_seconds, 30);
}

TEST_F(AccountingTest, AMemberSeesOnlyTheirOwnAndNoAccountSeesAnothers) {
  ASSERT_TRUE(accounting_->Charge({Charge("acme", 1, kNow, 100, 0), Charge("acme", 2, kNow, 20, 0),
                                   Charge("globex", 3, kNow, 5000, 0)})
                  .ok());
  auto mine = accounting_->ForAccount(member_, "1d");
  ASSERT_TRUE(mine);
  EXPECT_DOUBLE_EQ(mine->total.cpu_seconds, 20);
  ASSERT_EQ(mine->users.size(), 1u);
  EXPECT_EQ(mine->users[0].user_id, 2);
  auto all = accounting_->ForAccount(master_, "1d");
  ASSERT_TRUE(all);
  EXPECT_DOUBLE_EQ(all->total.cpu_seconds, 120);  // not globex's
  EXPECT_EQ(all->users.size(), 2u);
  EXPECT_TRUE(accounting_->ForJob("acme", 30)->empty());  // globex's job, asked as acme
}

TEST_F(AccountingTest, ChargesOfOneHourAddUpAndBadWindowsAreRefused) {
  ASSERT_TRUE(accounting_->Charge({Charge("acme", 1, kNow, 1.5, 0)}).ok());
  ASSERT_TRUE(accounting_->Charge({Charge("acme", 1, kNow + 5, 2.5, 0)}).ok());
  auto job = accounting_->ForJob("acme", 10);
  ASSERT_TRUE(job && job->size() == 1);
  EXPECT_DOUBLE_EQ((*job)[0].second.cpu_seconds, 4.0);
  for (const char* bad : {"", "2d", "1d;--", "30D"}) {
    auto refused = accounting_->ForAccount(master_, bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().field(), "window");
  }
}

}  // namespace
}  // namespace paddlecloud::monitoring
