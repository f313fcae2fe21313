// Job quotas: the rules (quota.h) on their own, then JobService's admission against a fake
// ClusterBackend over the real database.
#include "jobs/quota.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "jobs/job_service.h"
#include "mail/mailer.h"
#include "testing/server_process.h"
#include "testing/test_database.h"
#include "testing/jobs_only_backend.h"

namespace paddlecloud::jobs {
namespace {

using cluster::PodPhase;
using cluster::PodStatus;

constexpr std::int64_t kGi = 1LL << 30;

Amounts Cpus(std::int64_t cores) { return {.cpu_milli = cores * 1000, .memory_bytes = kGi, .gpus = 0, .running_jobs = 1}; }

TEST(QuotaRulesTest, AJobLargerThanTheQuotaOrTheLimitIsRefusedNamingTheResource) {
  Status refused = CheckJobWithin(Cpus(12), {.cpu_milli = 8000}, {});
  EXPECT_EQ(refused.code(), Code::kQuotaExceeded);
  EXPECT_EQ(refused.message(), "quota: this job asks 12 CPUs, the account's quota is 8 CPUs");
  EXPECT_EQ(refused.details().at("resource"), "cpu");
  EXPECT_EQ(CheckJobWithin(Cpus(2), {.memory_bytes = kGi / 2}, {}).message(),
            "quota: this job asks 1Gi of memory, the account's quota is 512Mi of memory");
  EXPECT_EQ(CheckJobWithin(Cpus(2), {.cpu_milli = 8000}, {.cpu_milli = 1500}).message(),
            "quota: this job asks 2 CPUs, your limit is 1.5 CPUs");
  EXPECT_EQ(CheckJobWithin(Cpus(1), {}, {.running_jobs = 0}).message(),
            "quota: this job asks 1 running job, your limit is 0 running jobs");
  EXPECT_TRUE(CheckJobWithin(Cpus(8), {.cpu_milli = 8000}, {.cpu_milli = 8000}).ok());
}

TEST(QuotaRulesTest, AJobWithinTheQuotaWaitsForWhatIsInUse) {
  auto wait = WaitFor(Cpus(4), Cpus(6), {.cpu_milli = 8000}, Cpus(6), {});
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->reason, "waiting for account quota: 6 of 8 CPUs in use");
  EXPECT_TRUE(wait->account);
  Amounts two_jobs = Cpus(1);
  two_jobs += Cpus(1);
  wait = WaitFor(Cpus(1), two_jobs, {}, two_jobs, {.running_jobs = 2});
  ASSERT_TRUE(wait);
  EXPECT_EQ(wait->reason, "waiting for your limit: 2 of 2 running jobs in use");
  EXPECT_FALSE(wait->account);
  EXPECT_FALSE(WaitFor(Cpus(2), Cpus(6), {.cpu_milli = 8000}, Cpus(6), {}));
}

TEST(QuotaRulesTest, TheQueueIsFirstInFirstOutPerAccountAndPerMember) {
  // Member 1 runs 6 of the account's 8 CPUs; member 2 may run one job at a time and runs one.
  QuotaQueue queue({.cpu_milli = 8000}, {{2, {.running_jobs = 1}}}, {{1, Cpus(6)}, {2, {}}});
  EXPECT_EQ(queue.Consider(1, Cpus(4)), "waiting for account quota: 6 of 8 CPUs in use");
  EXPECT_EQ(queue.Consider(1, Cpus(1)), "waiting for account quota: 6 of 8 CPUs in use");  // behind it, though it fits
  EXPECT_EQ(queue.Consider(2, Cpus(12)), "quota: this job asks 12 CPUs, the account's quota is 8 CPUs");

  QuotaQueue members({}, {{2, {.running_jobs = 1}}}, {{2, Cpus(1)}});
  EXPECT_EQ(members.Consider(2, Cpus(1)), "waiting for your limit: 1 of 1 running job in use");
  EXPECT_EQ(members.Consider(2, Cpus(1)), "waiting for your limit: 1 of 1 running job in use");
  EXPECT_EQ(members.Consider(1, Cpus(1)), std::nullopt);  // another member's job is not held up
  members.Started(1, Cpus(1));
  EXPECT_EQ(members.Consider(1, Cpus(1)), std::nullopt);
}

TEST(QuotaRulesTest, AMemberLimitAboveTheQuotaIsRefusedNamingTheField) {
  Status s = CheckLimitsWithin({.cpu_milli = 16000}, {.cpu_milli = 8000});
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.field(), "cpu");
  EXPECT_TRUE(CheckLimitsWithin({.cpu_milli = 16000}, {}).ok());  // no quota: only the cluster bounds it
  EXPECT_EQ(CheckLimitsWithin({.gpus = 2}, {.gpus = 1}).field(), "gpus");
}

// Every submitted job's pods run until the test ends them. Thread-safe, as backends are.
class RunningBackend : public testing::JobsOnlyBackend {
 public:
  std::string_view Name() const override { return "fake"; }
  cluster::Capacity GetCapacity() override { return {.total = {64'000, 1LL << 40, 8}, .in_use = {}}; }
  Status Submit(const cluster::JobRun& run) override {
    std::lock_guard lock(mu);
    runs.push_back(run);
    for (int i = 0; i < run.trainers; ++i)
      pods[run.job].push_back({.name = cluster::PodName(run.job, cluster::PodRole::kTrainer, i),
                               .role = cluster::PodRole::kTrainer, .index = i, .phase = PodPhase::kRunning,
                               .started_at = 900});
    return Status::Ok();
  }
  Status Stop(const std::string&, const std::string& job, std::optional<cluster::PodRole>,
              std::chrono::milliseconds) override {
    std::lock_guard lock(mu);
    for (auto& p : pods[job]) p.phase = PodPhase::kFailed, p.reason = "Stopped";
    return Status::Ok();
  }
  Result<std::vector<PodStatus>> GetPods(const std::string&, const std::string& job) override {
    std::lock_guard lock(mu);
    auto it = pods.find(job);
    if (it == pods.end()) return Err(Status::NotFound("no job " + job));
    return it->second;
  }
  Result<cluster::JobUsage> GetUsage(const std::string&, const std::string&) override { return cluster::JobUsage{}; }
  Status Delete(const std::string&, const std::string&) override { return Status::Ok(); }

  void Finish(const std::string& job) {
    std::lock_guard lock(mu);
    for (auto& p : pods[job]) p.phase = PodPhase::kSucceeded, p.reason = "Completed", p.exit_code = 0;
  }

  std::mutex mu;
  std::vector<cluster::JobRun> runs;
  std::map<std::string, std::vector<PodStatus>> pods;
};

class QuotaAdmissionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<db::Migration> migrations = accounts::AccountMigrations();
    for (auto& m : JobMigrations()) migrations.push_back(std::move(m));
    auto database = testing::OpenTestDatabase(dir_.path() + "/db.sqlite", std::move(migrations));
    ASSERT_TRUE(database) << database.error().message();
    db_ = std::move(*database);
    ASSERT_TRUE(db_->Execute("INSERT INTO accounts (id, display_name, created_at) VALUES ('acme', 'Acme', 1)"));
    for (const char* user : {"(1, 'acme', 'ann@example.com', 'Ann', 'x', 1, 1)", "(2, 'acme', 'bob@example.com', 'Bob', 'x', 0, 1)"})
      ASSERT_TRUE(db_->Execute(std::string("INSERT INTO users (id, account_id, email, display_name, password_hash, "
                                           "is_master, created_at) VALUES ") + user));
    auto mailer = mail::MakeMailer({.outbox_dir = dir_.path() + "/outbox"});
    ASSERT_TRUE(mailer);
    mailer_ = std::move(*mailer);
    accounts_ = std::make_unique<accounts::AccountService>(*db_, *mailer_, accounts::AccountsOptions{});
    quotas_ = std::make_unique<QuotaStore>(*db_, QuotaDefaults{.quota = {.jobs = {.cpu_milli = 8000}}});
    JobsOptions options;
    options.jobs_dir = dir_.path() + "/jobs";
    options.files_dir = dir_.path() + "/files";
    options.now = [] { return std::int64_t{1'000}; };
    service_ = std::make_unique<JobService>(*db_, backend_, *accounts_, *quotas_, options);
  }

  // A job of `cores` one-CPU trainers.
  Result<Job> Submit(const Principal& who, const std::string& name, int cores) {
    auto spec = ParseJobSpec({{"name", name}, {"entry", "true"}, {"num_trainer", cores}, {"cpu_per_trainer", "1"},
                              {"mem_per_trainer", "64Mi"}});
    EXPECT_TRUE(spec) << spec.error().message();
    return service_->Submit(who, *spec);
  }
  Job Get(std::int64_t id) {
    auto job = service_->Get(ann_, id);
    EXPECT_TRUE(job) << job.error().message();
    return job.value_or(Job{});
  }
  std::string Backend(const Job& job) { return job.spec.name + "-" + std::to_string(job.id); }

  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<mail::Mailer> mailer_;
  std::unique_ptr<accounts::AccountService> accounts_;
  RunningBackend backend_;
  std::unique_ptr<QuotaStore> quotas_;
  std::unique_ptr<JobService> service_;
  Principal ann_{.user_id = 1, .account_id = "acme", .email = "ann@example.com", .master = true};
  Principal bob_{.user_id = 2, .account_id = "acme", .email = "bob@example.com", .master = false};
};

TEST_F(QuotaAdmissionTest, AJobLargerThanTheQuotaIsRefusedAndNothingIsRecorded) {
  auto refused = Submit(ann_, "big", 12);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kQuotaExceeded);
  EXPECT_EQ(refused.error().message(), "quota: this job asks 12 CPUs, the account's quota is 8 CPUs");
  EXPECT_TRUE(backend_.runs.empty());
  EXPECT_TRUE(service_->List(ann_, {}, nullptr)->empty());
}

TEST_F(QuotaAdmissionTest, AJobWaitsBesideWhatRunsAndStartsWhenTheFirstEnds) {
  auto first = Submit(ann_, "first", 6);
  ASSERT_TRUE(first) << first.error().message();
  EXPECT_TRUE(first->admitted_at);
  auto second = Submit(ann_, "second", 4);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_EQ(second->state, JobState::kPending);
  EXPECT_EQ(second->reason, "waiting for account quota: 6 of 8 CPUs in use");
  EXPECT_FALSE(second->admitted_at);
  ASSERT_EQ(backend_.runs.size(), 1u);  // not handed to the backend

  service_->Reconcile();  // the first runs: the second still waits
  EXPECT_EQ(Get(first->id).state, JobState::kRunning);
  EXPECT_EQ(Get(second->id).reason, "waiting for account quota: 6 of 8 CPUs in use");
  EXPECT_EQ(backend_.runs.size(), 1u);

  backend_.Finish(Backend(*first));
  service_->Reconcile();
  EXPECT_EQ(Get(first->id).state, JobState::kSucceeded);
  ASSERT_EQ(backend_.runs.size(), 2u);
  const cluster::JobRun& run = backend_.runs[1];
  EXPECT_EQ(run.job, Backend(*second));
  EXPECT_EQ(run.trainers, 4);
  EXPECT_TRUE(run.secret_env.at("PADDLE_CLOUD_TOKEN").starts_with("pct_"));  // built at admission, with its token
  EXPECT_EQ(run.working_dir, "/job/code");
  Job admitted = Get(second->id);
  EXPECT_TRUE(admitted.admitted_at);
  service_->Reconcile();
  EXPECT_EQ(Get(second->id).state, JobState::kRunning);
  auto events = service_->Events(ann_, second->id, 0);
  ASSERT_TRUE(events);
  ASSERT_GE(events->size(), 2u);
  EXPECT_EQ((*events)[1].type, "Queued");
  EXPECT_EQ((*events)[1].message, "waiting for account quota: 6 of 8 CPUs in use");
}

TEST_F(QuotaAdmissionTest, QueuedJobsStartFirstInFirstOut) {
  auto first = Submit(ann_, "first", 6);
  auto big = Submit(ann_, "big", 4);
  auto small = Submit(bob_, "small", 2);  // would fit beside the first, but waits behind "big"
  ASSERT_TRUE(first && big && small);
  EXPECT_EQ(small->reason, "waiting for account quota: 6 of 8 CPUs in use");
  backend_.Finish(Backend(*first));
  service_->Reconcile();
  ASSERT_EQ(backend_.runs.size(), 3u);
  EXPECT_EQ(backend_.runs[1].job, Backend(*big));
  EXPECT_EQ(backend_.runs[2].job, Backend(*small));
}

TEST_F(QuotaAdmissionTest, AMembersLimitRefusesAndQueuesOnlyTheirJobs) {
  ASSERT_TRUE(quotas_->SetLimits("acme", bob_.user_id, {.cpu_milli = 3000, .running_jobs = 1}).ok());
  auto refused = Submit(bob_, "wide", 4);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kQuotaExceeded);
  EXPECT_EQ(refused.error().message(), "quota: this job asks 4 CPUs, your limit is 3 CPUs");

  auto one = Submit(bob_, "one", 1);
  auto two = Submit(bob_, "two", 1);
  ASSERT_TRUE(one && two);
  EXPECT_TRUE(one->admitted_at);
  EXPECT_EQ(two->reason, "waiting for your limit: 1 of 1 running job in use");
  auto anns = Submit(ann_, "anns", 2);  // Ann's job is not held up by Bob's limit
  ASSERT_TRUE(anns);
  EXPECT_TRUE(anns->admitted_at);

  backend_.Finish(Backend(*one));
  service_->Reconcile();
  EXPECT_TRUE(Get(two->id).admitted_at);
}

TEST_F(QuotaAdmissionTest, AQuotaLoweredBelowWhatRunsStopsNothingAndNewJobsWait) {
  auto running = Submit(ann_, "running", 6);
  ASSERT_TRUE(running);
  service_->Reconcile();
  ASSERT_TRUE(quotas_->SetQuota("acme", {{"cpu", 4000}}).ok());
  service_->Reconcile();
  EXPECT_EQ(Get(running->id).state, JobState::kRunning);
  auto pods = backend_.GetPods("acme", Backend(*running));
  for (const auto& p : *pods) EXPECT_EQ(p.phase, PodPhase::kRunning);

  auto next = Submit(ann_, "next", 1);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->reason, "waiting for account quota: 6 of 4 CPUs in use");
  EXPECT_EQ(backend_.runs.size(), 1u);
}

TEST_F(QuotaAdmissionTest, StoppingAQueuedJobEndsItWithoutTheBackend) {
  auto first = Submit(ann_, "first", 8);
  auto queued = Submit(ann_, "queued", 1);
  ASSERT_TRUE(first && queued);
  auto stopped = service_->Stop(ann_, queued->id);
  ASSERT_TRUE(stopped) << stopped.error().message();
  EXPECT_EQ(stopped->state, JobState::kStopped);
  EXPECT_EQ(stopped->reason, "stopped by a user");
  backend_.Finish(Backend(*first));
  service_->Reconcile();
  EXPECT_EQ(backend_.runs.size(), 1u);  // never reached the backend
  EXPECT_EQ(Get(queued->id).state, JobState::kStopped);
  EXPECT_EQ(service_->Stop(ann_, queued->id).error().code(), Code::kConflict);
}

TEST_F(QuotaAdmissionTest, ConcurrentSubmissionsNeverAdmitMoreThanTheQuota) {
  std::vector<std::thread> submitters;
  std::atomic<int> admitted{0}, queued{0};
  for (int i = 0; i < 8; ++i)
    submitters.emplace_back([&, i] {
      auto job = Submit(i % 2 ? bob_ : ann_, "job-" + std::to_string(i), 2);
      ASSERT_TRUE(job) << job.error().message();
      ++(job->admitted_at ? admitted : queued);
    });
  for (auto& t : submitters) t.join();
  EXPECT_EQ(admitted.load(), 4);  // 4 × 2 CPUs of 8
  EXPECT_EQ(queued.load(), 4);
  EXPECT_EQ(backend_.runs.size(), 4u);
}

}  // namespace
}  // namespace paddlecloud::jobs
