// The leadership lease on the real database engines (both, as ctest runs this binary on each).
#include "leader/leader_lease.h"

#include <gtest/gtest.h>

#include <atomic>

#include "testing/server_process.h"
#include "testing/test_database.h"

namespace paddlecloud::leader {
namespace {

using namespace std::chrono_literals;

class LeaderLeaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = testing::OpenTestDatabase(dir_.path() + "/db.sqlite", LeaderMigrations());
    ASSERT_TRUE(db) << db.error().message();
    db_ = std::move(*db);
  }
  LeaseOptions Options(const std::string& holder, std::chrono::milliseconds ttl = 3000ms, bool fake_clock = true) {
    LeaseOptions o{.holder = holder, .address = holder + ":8080", .ttl = ttl, .now_ms = nullptr};
    if (fake_clock) o.now_ms = [this] { return now_ms_.load(); };
    return o;
  }
  // Runs Fence in a transaction, as a fenced write would.
  Status Fenced(const LeaderLease& lease) {
    return db_->Transaction([&](db::Session& s) { return lease.Fence(s); });
  }

  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  std::atomic<std::int64_t> now_ms_{1'000'000};
};

TEST_F(LeaderLeaseTest, OneLeadsTheOtherStandsByUntilTheLeaseExpiresThenTheDeposedIsFenced) {
  LeaderLease a(*db_, Options("a")), b(*db_, Options("b"));
  ASSERT_EQ(a.TryAcquire().value_or(false), true);
  EXPECT_TRUE(a.IsLeader());
  EXPECT_EQ(a.epoch(), 1);
  EXPECT_TRUE(Fenced(a).ok());
  EXPECT_EQ(b.TryAcquire().value_or(true), false);
  EXPECT_FALSE(b.IsLeader());
  EXPECT_EQ(b.leader_seen(), "a");
  EXPECT_EQ(b.leader_address_seen(), "a:8080");
  ASSERT_EQ(a.TryAcquire().value_or(false), true);  // a renewal keeps the epoch
  EXPECT_EQ(a.epoch(), 1);

  now_ms_ += 3001;  // a stopped renewing (paused, dead): its lease ran out
  ASSERT_EQ(b.TryAcquire().value_or(false), true);
  EXPECT_EQ(b.epoch(), 2);
  Status fenced = Fenced(a);  // a, waking, still thinks it leads by the database's clock: the row says no
  EXPECT_EQ(fenced.code(), Code::kUnavailable) << fenced.ToString();
  EXPECT_EQ(a.TryAcquire().value_or(true), false);
  EXPECT_FALSE(a.IsLeader());
  EXPECT_EQ(a.leader_seen(), "b");
  EXPECT_TRUE(Fenced(b).ok());
}

TEST_F(LeaderLeaseTest, AReleasedLeaseIsTakenAtOnce) {
  LeaderLease a(*db_, Options("a")), b(*db_, Options("b"));
  ASSERT_EQ(a.TryAcquire().value_or(false), true);
  a.KeepRenewing([] {});
  a.Release();  // stops the renewals first
  EXPECT_FALSE(a.IsLeader());
  ASSERT_EQ(b.TryAcquire().value_or(false), true);
  EXPECT_EQ(b.epoch(), 2);
}

// The local deadline: a holder that did not renew stops believing it leads when its lease may have
// passed to another, without asking anyone.
TEST_F(LeaderLeaseTest, AHolderThatStoppedRenewingKnowsItNoLongerLeads) {
  LeaderLease a(*db_, Options("a", 300ms, /*fake_clock=*/false));
  ASSERT_EQ(a.TryAcquire().value_or(false), true);
  EXPECT_TRUE(a.IsLeader());
  EXPECT_TRUE(testing::WaitFor([&] { return !a.IsLeader(); }, 5s));
  LeaderLease b(*db_, Options("b", 300ms, false));
  EXPECT_TRUE(testing::WaitFor([&] { return b.TryAcquire().value_or(false); }, 5s));
}

TEST_F(LeaderLeaseTest, RenewingKeepsTheLeaseAndLosingItIsReported) {
  LeaderLease a(*db_, Options("a", 600ms, false));
  ASSERT_EQ(a.TryAcquire().value_or(false), true);
  std::atomic<bool> lost{false};
  a.KeepRenewing([&] { lost = true; });
  LeaderLease b(*db_, Options("b", 600ms, false));
  const auto until = std::chrono::steady_clock::now() + 1500ms;  // over two lease lengths
  while (std::chrono::steady_clock::now() < until) {
    EXPECT_EQ(b.TryAcquire().value_or(true), false);
    std::this_thread::sleep_for(50ms);  // the interval of the standby's attempts, not synchronization
  }
  EXPECT_TRUE(a.IsLeader());
  EXPECT_FALSE(lost.load());

  // Another takes the row by force (as after a pause of `a` past its lease): a's next renewal sees it.
  ASSERT_TRUE(db_->Execute("UPDATE leader_lease SET holder = 'c', epoch = epoch + 1"));
  EXPECT_TRUE(testing::WaitFor([&] { return lost.load(); }, 5s));
  EXPECT_FALSE(a.IsLeader());
}

TEST_F(LeaderLeaseTest, AStandbyWaitsForLeadershipAndCanBeStopped) {
  LeaderLease a(*db_, Options("a")), b(*db_, Options("b", 300ms));
  ASSERT_EQ(a.TryAcquire().value_or(false), true);
  std::stop_source stop;
  std::atomic<int> result{-1};
  std::thread standby([&] { result = b.WaitForLeadership(stop.get_token()) ? 1 : 0; });
  now_ms_ += 5000;
  EXPECT_TRUE(testing::WaitFor([&] { return result.load() == 1; }, 5s));
  standby.join();

  LeaderLease c(*db_, Options("c", 300ms));
  std::thread waiting([&] { result = c.WaitForLeadership(stop.get_token()) ? 1 : 0; });
  stop.request_stop();
  waiting.join();
  EXPECT_EQ(result.load(), 0);
}

}  // namespace
}  // namespace paddlecloud::leader
