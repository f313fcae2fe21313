// The sampler and the usage report against a scripted ClusterBackend (counters as the test says,
// including a pod whose cgroup vanished); the real database and series files. The counters of real
// processes are tested in cluster_test (PodUsageTest) and end to end in the server's tests.
#include "monitoring/usage_sampler.h"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include <cmath>

#include "mail/mailer.h"
#include "monitoring/usage_report.h"
#include "testing/server_process.h"
#include "testing/test_database.h"
#include "testing/jobs_only_backend.h"

namespace paddlecloud::monitoring {
namespace {

constexpr std::int64_t kStartMs = 1'764'979'200'000;

class ScriptedBackend : public testing::JobsOnlyBackend {
 public:
  std::string_view Name() const override { return "scripted"; }
  cluster::Capacity GetCapacity() override { return {.total = {64'000, 1LL << 40, 8}, .in_use = {}}; }
  Status Submit(const cluster::JobRun&) override { return Status::Ok(); }
  Status Stop(const std::string&, const std::string&, std::optional<cluster::PodRole>, std::chrono::milliseconds) override {
    return Status::Ok();
  }
  Result<std::vector<cluster::PodStatus>> GetPods(const std::string&, const std::string& job) override {
    return Err(Status::NotFound("pods of " + job + " are as the database says"));
  }
  Result<cluster::JobUsage> GetUsage(const std::string&, const std::string& job) override {
    auto it = usage.find(job);
    if (it == usage.end()) return Err(Status::NotFound("no job " + job));
    return it->second;
  }
  Status Delete(const std::string&, const std::string&) override { return Status::Ok(); }

  std::map<std::string, cluster::JobUsage> usage;  // by backend job name
};

cluster::PodUsage Pod(const std::string& name, double cpu_seconds, std::uint64_t memory) {
  cluster::PodUsage pod;
  pod.name = name;
  pod.cpu_ns = static_cast<std::uint64_t>(cpu_seconds * 1e9);
  pod.memory_working_set_bytes = memory;
  return pod;
}

class UsageSamplerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<db::Migration> migrations = accounts::AccountMigrations();
    for (auto& m : jobs::JobMigrations()) migrations.push_back(std::move(m));
    for (auto& m : AccountingMigrations()) migrations.push_back(std::move(m));
    auto database = testing::OpenTestDatabase(dir_.path() + "/db.sqlite", std::move(migrations));
    ASSERT_TRUE(database) << database.error().message();
    db_ = std::move(*database);
    auto mailer = mail::MakeMailer({.outbox_dir = dir_.path() + "/outbox"});
    ASSERT_TRUE(mailer);
    mailer_ = std::move(*mailer);
    accounts_ = std::make_unique<accounts::AccountService>(*db_, *mailer_, accounts::AccountsOptions{});
    jobs::JobsOptions options;
    options.jobs_dir = dir_.path() + "/jobs";
    options.now = [this] { return now_ms_ / 1000; };
    quotas_ = std::make_unique<jobs::QuotaStore>(*db_, jobs::QuotaDefaults{});
    jobs_ = std::make_unique<jobs::JobService>(*db_, backend_, *accounts_, *quotas_, options);
    accounting_ = std::make_unique<Accounting>(*db_, [this] { return now_ms_ / 1000; });
    sampler_ = std::make_unique<UsageSampler>(*jobs_, backend_, *accounting_,
                                              SamplerOptions{.now_ms = [this] { return now_ms_; }});
  }

  // A running job "fit" of `account` with two trainers of one CPU each; returns its id.
  std::int64_t AddRunningJob(const std::string& account) {
    auto spec = jobs::ParseJobSpec({{"name", "fit"}, {"entry", "true"}, {"num_trainer", 2}, {"cpu_per_trainer", "1"}});
    EXPECT_TRUE(spec) << spec.error().message();
    auto inserted = db_->Query(
        "INSERT INTO jobs (account_id, user_id, name, spec, state, reason, submitted_at, started_at) "
        "VALUES (?, 1, 'fit', ?, 'Running', '', ?, ?) RETURNING id",
        {account, boost::json::serialize(jobs::JobSpecToJson(*spec)), now_ms_ / 1000, now_ms_ / 1000});
    EXPECT_TRUE(inserted);
    std::int64_t id = inserted ? inserted->Int(0, "id") : 0;
    for (int i = 0; i < 2; ++i)
      EXPECT_TRUE(db_->Execute("INSERT INTO pods (job_id, name, role, idx, phase, restarts, endpoint) "
                               "VALUES (?, ?, 'trainer', ?, 'Running', 0, '')",
                               {id, PodName(id, i), static_cast<std::int64_t>(i)}));
    return id;
  }
  static std::string PodName(std::int64_t id, int i) { return "fit-" + std::to_string(id) + "-trainer-" + std::to_string(i); }
  // Both pods busy on `cores` each since the job started, at now_ms_.
  void SetCounters(std::int64_t id, double cores, double since_s) {
    cluster::JobUsage usage{.at_ms = now_ms_, .pods = {}, .network = cluster::NetworkUsage{}, .network_not_measured = ""};
    for (int i = 0; i < 2; ++i) usage.pods.push_back(Pod(PodName(id, i), cores * since_s, 200u << 20));
    usage.network->rx_bytes = static_cast<std::uint64_t>(since_s * 1e6);
    backend_.usage["fit-" + std::to_string(id)] = usage;
  }
  // Passes every 5 s for `seconds`, pods busy on `cores` each.
  void Run(std::int64_t id, double cores, int seconds, double& elapsed_s) {
    for (int t = 0; t < seconds; t += 5) {
      now_ms_ += 5000, elapsed_s += 5;
      SetCounters(id, cores, elapsed_s);
      sampler_->SampleOnce();
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<mail::Mailer> mailer_;
  std::unique_ptr<accounts::AccountService> accounts_;
  ScriptedBackend backend_;
  std::unique_ptr<jobs::QuotaStore> quotas_;
  std::unique_ptr<jobs::JobService> jobs_;
  std::unique_ptr<Accounting> accounting_;
  std::unique_ptr<UsageSampler> sampler_;
  std::int64_t now_ms_ = kStartMs;
  Principal acme_{.user_id = 1, .account_id = "acme", .email = "ann@example.com", .master = true};
  Principal globex_{.user_id = 9, .account_id = "globex", .email = "eve@example.com", .master = true};
};

TEST_F(UsageSamplerTest, RecordsEveryPodAndTheJobsSumAndChargesMeasuredCpuTime) {
  sampler_->SampleOnce();  // the server's first pass: nothing runs yet
  std::int64_t id = AddRunningJob("acme");
  double elapsed = 0;
  Run(id, 1.0, 60, elapsed);

  auto report = ReadJobUsage(*jobs_, *accounting_, acme_, id, {.from_ms = kStartMs, .to_ms = now_ms_ + 1, .points = 12},
                             now_ms_);
  ASSERT_TRUE(report) << report.error().message();
  ASSERT_EQ(report->pods.size(), 2u);
  ASSERT_EQ(report->t.size(), 12u);
  const MetricBuckets& cpu = report->pods[0].metrics.at("cpu_cores");
  EXPECT_FLOAT_EQ(cpu.mean[5], 1.0f);
  EXPECT_FLOAT_EQ(report->job_total.at("cpu_cores").mean[5], 2.0f);
  EXPECT_FLOAT_EQ(report->pods[1].metrics.at("memory_working_set_bytes").max[5], static_cast<float>(200u << 20));
  EXPECT_FLOAT_EQ(report->network.at("network_rx_bytes_per_s").mean[5], 1e6f);
  EXPECT_EQ(report->pods[0].requests.cpu_milli, 1000);
  // 60 s on one core each, the first interval included: the pods started after the first pass.
  EXPECT_NEAR(report->time.cpu_seconds, 120, 0.01);
  EXPECT_NEAR(accounting_->ForAccount(acme_, "1d")->total.cpu_seconds, 120, 0.01);
}

TEST_F(UsageSamplerTest, AfterARestartTheFirstReadingIsOnlyABaseline) {
  std::int64_t id = AddRunningJob("acme");
  double elapsed = 1000;  // the pods ran long before this server started
  Run(id, 0.5, 10, elapsed);
  // Only the second pass's 5 s count, at half a core each.
  EXPECT_NEAR(accounting_->ForAccount(acme_, "1d")->total.cpu_seconds, 5.0, 0.01);
}

TEST_F(UsageSamplerTest, APodWhoseCgroupVanishedEndsCleanlyAndTheOtherGoesOn) {
  sampler_->SampleOnce();
  std::int64_t id = AddRunningJob("acme");
  double elapsed = 0;
  Run(id, 1.0, 20, elapsed);
  std::int64_t vanished_at = now_ms_;
  for (int pass = 0; pass < 4; ++pass) {
    now_ms_ += 5000, elapsed += 5;
    SetCounters(id, 1.0, elapsed);
    auto& pods = backend_.usage["fit-" + std::to_string(id)].pods;
    pods.erase(pods.begin() + 1);
    pods[0].not_measured = "disk: no I/O accounting";
    sampler_->SampleOnce();
  }
  auto report = ReadJobUsage(*jobs_, *accounting_, acme_, id, {.from_ms = kStartMs, .to_ms = now_ms_ + 1, .points = 8},
                             now_ms_);
  ASSERT_TRUE(report) << report.error().message();
  const MetricBuckets& gone = report->pods[1].metrics.at("memory_working_set_bytes");
  for (std::size_t i = 0; i < report->t.size(); ++i) {
    if (report->t[i] <= vanished_at) continue;
    EXPECT_TRUE(std::isnan(gone.max[i])) << i;  // no zeros after the end
  }
  EXPECT_FALSE(std::isnan(report->pods[0].metrics.at("cpu_cores").mean.back()));
  EXPECT_EQ(report->pods[0].not_measured, "disk: no I/O accounting");  // kept for the finished job's graphs
  auto live = sampler_->Latest(id);
  ASSERT_TRUE(live);
  EXPECT_EQ(live->pods.size(), 1u);
  jobs::Job job;
  job.id = id;
  sampler_->JobEnded(job);
  EXPECT_FALSE(sampler_->Latest(id));
}

TEST_F(UsageSamplerTest, APodThatEndedBetweenPassesIsChargedItsWholeCpuTimeOnce) {
  sampler_->SampleOnce();
  std::int64_t id = AddRunningJob("acme");
  now_ms_ += 5000;
  cluster::JobUsage usage{.at_ms = now_ms_, .pods = {}, .network = std::nullopt, .network_not_measured = "no network"};
  for (int i = 0; i < 2; ++i) {
    cluster::PodUsage pod = Pod(PodName(id, i), 3.0, 0);
    pod.memory_working_set_bytes.reset();
    pod.ended_at_ms = now_ms_ - 1000;  // ran 3 s of CPU and ended before this pass
    usage.pods.push_back(pod);
  }
  backend_.usage["fit-" + std::to_string(id)] = usage;
  sampler_->SampleOnce();
  now_ms_ += 5000;
  backend_.usage["fit-" + std::to_string(id)].at_ms = now_ms_;
  sampler_->SampleOnce();  // the same ended pods again: already recorded
  jobs::Job job = *jobs_->Get(acme_, id);
  sampler_->JobEnded(job);  // and once more at the job's end
  EXPECT_NEAR(accounting_->ForAccount(acme_, "1d")->total.cpu_seconds, 6.0, 0.01);
  auto report = ReadJobUsage(*jobs_, *accounting_, acme_, id, {.from_ms = kStartMs, .to_ms = now_ms_ + 1, .points = 10},
                             now_ms_);
  ASSERT_TRUE(report) << report.error().message();
  EXPECT_EQ(report->network_not_measured, "no network");
  EXPECT_NEAR(report->pods[0].time.cpu_seconds, 3.0, 0.01);
}

TEST_F(UsageSamplerTest, AnotherAccountsJobIsNotFoundAndBadRangesNameTheirField) {
  std::int64_t id = AddRunningJob("acme");
  double elapsed = 0;
  Run(id, 1.0, 10, elapsed);
  auto hidden = ReadJobUsage(*jobs_, *accounting_, globex_, id, {}, now_ms_);
  ASSERT_FALSE(hidden);
  EXPECT_EQ(hidden.error().code(), Code::kNotFound);
  struct Case {
    UsageRange range;
    std::string field;
  };
  for (const Case& c : {Case{{.from_ms = 5000, .to_ms = 4000, .points = 10}, "from"},
                        Case{{.from_ms = 5000, .to_ms = 5000, .points = 10}, "from"},
                        Case{{.from_ms = -5, .to_ms = 4000, .points = 10}, "from"},
                        Case{{.from_ms = {}, .to_ms = {}, .points = 0}, "points"},
                        Case{{.from_ms = {}, .to_ms = {}, .points = kMaxUsagePoints + 1}, "points"}}) {
    auto refused = ReadJobUsage(*jobs_, *accounting_, acme_, id, c.range, now_ms_);
    ASSERT_FALSE(refused) << c.field;
    EXPECT_EQ(refused.error().field(), c.field);
  }
  auto defaults = ReadJobUsage(*jobs_, *accounting_, acme_, id, {}, now_ms_);
  ASSERT_TRUE(defaults) << defaults.error().message();
  EXPECT_EQ(defaults->from_ms, kStartMs);  // the job's start
  EXPECT_LE(defaults->t.size(), 500u);
}

}  // namespace
}  // namespace paddlecloud::monitoring
