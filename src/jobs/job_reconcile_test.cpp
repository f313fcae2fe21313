// The act step of reconciliation (JobService::Reconcile and Stop) against a fake ClusterBackend:
// the real database, no processes.
#include <gtest/gtest.h>

#include <algorithm>

#include <boost/json/serialize.hpp>

#include "jobs/job_service.h"
#include "mail/mailer.h"
#include "testing/server_process.h"
#include "testing/test_database.h"
#include "testing/jobs_only_backend.h"

namespace paddlecloud::jobs {
namespace {

using cluster::PodPhase;
using cluster::PodRole;
using cluster::PodStatus;

// Pods are what the test says they are; every call is recorded.
class FakeBackend : public testing::JobsOnlyBackend {
 public:
  std::string_view Name() const override { return "fake"; }
  cluster::Capacity GetCapacity() override { return {.total = {64'000, 1LL << 40, 8}, .in_use = {}}; }
  Status Submit(const cluster::JobRun&) override { return Status::Ok(); }
  Status Stop(const std::string&, const std::string& job, std::optional<PodRole> role,
              std::chrono::milliseconds) override {
    stops.push_back(job + (role ? " " + std::string(cluster::RoleName(*role)) : " all"));
    return stop_result;
  }
  Result<std::vector<PodStatus>> GetPods(const std::string&, const std::string& job) override {
    if (!get_result.ok()) return Err(get_result);
    auto it = pods.find(job);
    if (it == pods.end()) return Err(Status::NotFound("no job " + job));
    return it->second;
  }
  Result<cluster::JobUsage> GetUsage(const std::string&, const std::string& job) override {
    if (!pods.count(job)) return Err(Status::NotFound("no job " + job));
    return cluster::JobUsage{};
  }
  Status Delete(const std::string&, const std::string& job) override {
    if (replaced_pod_runs && std::find(stops.begin(), stops.end(), job + " all") == stops.end())
      return Status::Conflict("job " + job + " still has running pods");
    deleted.push_back(job);
    return Status::Ok();
  }

  std::map<std::string, std::vector<PodStatus>> pods;  // by backend job name
  Status get_result = Status::Ok();
  Status stop_result = Status::Ok();
  bool replaced_pod_runs = false;  // a controller's replacement of a deleted pod, unseen by GetPods
  std::vector<std::string> stops;    // "<job> pserver" or "<job> all"
  std::vector<std::string> deleted;
};

PodStatus MakePod(PodRole role, PodPhase phase, std::string reason = "", std::optional<int> exit_code = {}) {
  return {.name = cluster::PodName("fit-1", role, 0), .role = role, .index = 0, .phase = phase,
          .reason = std::move(reason), .exit_code = exit_code, .restarts = 0,
          .started_at = phase == PodPhase::kPending ? std::nullopt : std::optional<std::int64_t>(900),
          .finished_at = std::nullopt, .endpoint = ""};
}

class JobReconcileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<db::Migration> migrations = accounts::AccountMigrations();
    for (auto& m : JobMigrations()) migrations.push_back(std::move(m));
    auto database = testing::OpenTestDatabase(dir_.path() + "/db.sqlite", std::move(migrations));
    ASSERT_TRUE(database) << database.error().message();
    db_ = std::move(*database);
    auto mailer = mail::MakeMailer({.outbox_dir = dir_.path() + "/outbox"});
    ASSERT_TRUE(mailer);
    mailer_ = std::move(*mailer);
    accounts_ = std::make_unique<accounts::AccountService>(*db_, *mailer_, accounts::AccountsOptions{});
    JobsOptions options;
    options.jobs_dir = dir_.path() + "/jobs";
    options.now = [] { return std::int64_t{1'000}; };
    quotas_ = std::make_unique<QuotaStore>(*db_, QuotaDefaults{});
    service_ = std::make_unique<JobService>(*db_, backend_, *accounts_, *quotas_, options);
  }

  // A job "fit" (id 1) of one trainer and one pserver as Submit records it once it is admitted.
  void AddJob() {
    auto spec = ParseJobSpec({{"name", "fit"}, {"entry", "true"}, {"num_ps", 1}});
    ASSERT_TRUE(spec) << spec.error().message();
    auto inserted = db_->Query(
        "INSERT INTO jobs (account_id, user_id, name, spec, state, reason, submitted_at, admitted_at) "
        "VALUES ('acme', 1, 'fit', ?, 'Pending', 'submitted', 500, 500) RETURNING id",
        {boost::json::serialize(JobSpecToJson(*spec))});
    ASSERT_TRUE(inserted);
    ASSERT_EQ(inserted->Int(0, "id"), 1);
  }
  Job GetJob() {
    auto job = service_->Get(principal_, 1);
    EXPECT_TRUE(job) << job.error().message();
    return job ? *job : Job{};
  }
  std::vector<std::string> Events() {
    std::vector<std::string> out;
    auto events = service_->Events(principal_, 1, 0);
    EXPECT_TRUE(events);
    if (events)
      for (const auto& e : *events) out.push_back((e.pod.empty() ? "" : e.pod + " ") + e.type);
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<mail::Mailer> mailer_;
  std::unique_ptr<accounts::AccountService> accounts_;
  FakeBackend backend_;
  std::unique_ptr<QuotaStore> quotas_;
  std::unique_ptr<JobService> service_;
  Principal principal_{.user_id = 1, .account_id = "acme", .email = "ann@example.com", .master = true};
};

TEST_F(JobReconcileTest, RecordsTheStateThePodsAndTheirEvents) {
  AddJob();
  backend_.pods["fit-1"] = {MakePod(PodRole::kTrainer, PodPhase::kRunning),
                            MakePod(PodRole::kPserver, PodPhase::kPending, "waiting for 1 CPU")};
  service_->Reconcile();
  Job job = GetJob();
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_EQ(job.started_at, 900);
  EXPECT_EQ(Events(), (std::vector<std::string>{"fit-1-trainer-0 Scheduled", "fit-1-trainer-0 Started",
                                                "fit-1-pserver-0 Scheduled"}));
  service_->Reconcile();  // nothing changed: no new event
  EXPECT_EQ(Events().size(), 3u);
  EXPECT_TRUE(backend_.stops.empty());
}

TEST_F(JobReconcileTest, LivePodsAreShownAsTheReconcilerRecordsThem) {
  // Read between the pservers' stop and the pass that ends the job: the stopped pserver completed.
  AddJob();
  backend_.pods["fit-1"] = {MakePod(PodRole::kTrainer, PodPhase::kRunning), MakePod(PodRole::kPserver, PodPhase::kRunning)};
  service_->Reconcile();
  backend_.pods["fit-1"] = {MakePod(PodRole::kTrainer, PodPhase::kSucceeded, "Completed", 0),
                            MakePod(PodRole::kPserver, PodPhase::kFailed, "Stopped", 143)};
  auto pods = service_->Pods(principal_, 1);
  ASSERT_TRUE(pods) << pods.error().message();
  ASSERT_EQ(pods->size(), 2u);
  EXPECT_EQ((*pods)[1].phase, "Succeeded");
  EXPECT_EQ((*pods)[1].reason, "Completed");
}

TEST_F(JobReconcileTest, StopsTheParameterServersOnceThenEndsSucceeded) {
  AddJob();
  backend_.pods["fit-1"] = {MakePod(PodRole::kTrainer, PodPhase::kRunning), MakePod(PodRole::kPserver, PodPhase::kRunning)};
  service_->Reconcile();
  backend_.pods["fit-1"][0] = MakePod(PodRole::kTrainer, PodPhase::kSucceeded, "Completed", 0);
  service_->Reconcile();
  service_->Reconcile();
  EXPECT_EQ(backend_.stops, std::vector<std::string>{"fit-1 pserver"});  // sent once, not at every pass
  EXPECT_EQ(GetJob().reason, "trainers finished; stopping parameter servers");
  EXPECT_TRUE(backend_.deleted.empty());

  backend_.pods["fit-1"][1] = MakePod(PodRole::kPserver, PodPhase::kFailed, "Stopped", 143);
  service_->Reconcile();
  Job job = GetJob();
  EXPECT_EQ(job.state, JobState::kSucceeded);
  EXPECT_EQ(job.finished_at, 1'000);
  EXPECT_EQ(backend_.deleted, std::vector<std::string>{"fit-1"});
  EXPECT_EQ(Events().back(), "Succeeded");
  // Ended: its pods are read from the database now, the pserver shown as completed.
  backend_.pods.clear();
  auto pods = service_->Pods(principal_, 1);
  ASSERT_TRUE(pods);
  ASSERT_EQ(pods->size(), 2u);
  EXPECT_EQ((*pods)[1].name, "fit-1-pserver-0");
  EXPECT_EQ((*pods)[1].phase, "Succeeded");
  EXPECT_EQ((*pods)[1].reason, "Completed");
}

TEST_F(JobReconcileTest, AStopRequestStopsEveryPodAndEndsStopped) {
  AddJob();
  backend_.pods["fit-1"] = {MakePod(PodRole::kTrainer, PodPhase::kRunning), MakePod(PodRole::kPserver, PodPhase::kRunning)};
  auto stopping = service_->Stop(principal_, 1);
  ASSERT_TRUE(stopping);
  // Acted on at once, not at the next pass.
  EXPECT_EQ(backend_.stops, std::vector<std::string>{"fit-1 all"});
  EXPECT_EQ(stopping->reason, "stopping");

  backend_.pods["fit-1"] = {MakePod(PodRole::kTrainer, PodPhase::kFailed, "Stopped", 143),
                            MakePod(PodRole::kPserver, PodPhase::kFailed, "Stopped", 143)};
  service_->Reconcile();
  EXPECT_EQ(GetJob().state, JobState::kStopped);
  EXPECT_EQ(backend_.stops.size(), 1u);
  EXPECT_EQ(backend_.deleted, std::vector<std::string>{"fit-1"});
  EXPECT_EQ(Events().back(), "Stopped");
  EXPECT_EQ(service_->Stop(principal_, 1).error().code(), Code::kConflict);
}

TEST_F(JobReconcileTest, ABackendErrorChangesNothing) {
  AddJob();
  backend_.pods["fit-1"] = {MakePod(PodRole::kTrainer, PodPhase::kSucceeded, "Completed", 0),
                            MakePod(PodRole::kPserver, PodPhase::kFailed, "Stopped", 143)};
  backend_.get_result = Status::Unavailable("the API server does not answer");
  service_->Reconcile();
  Job job = GetJob();
  EXPECT_EQ(job.state, JobState::kPending);
  EXPECT_EQ(job.reason, "submitted");
  EXPECT_TRUE(Events().empty());
  EXPECT_TRUE(backend_.stops.empty());
  EXPECT_TRUE(backend_.deleted.empty());

  backend_.get_result = Status::Ok();  // back: the next pass catches up
  service_->Reconcile();
  EXPECT_EQ(GetJob().state, JobState::kSucceeded);
}

TEST_F(JobReconcileTest, AStopTheBackendDidNotTakeIsSentAgain) {
  AddJob();
  backend_.pods["fit-1"] = {MakePod(PodRole::kTrainer, PodPhase::kFailed, "Error", 1),
                            MakePod(PodRole::kPserver, PodPhase::kRunning)};
  backend_.stop_result = Status::Unavailable("cannot write stop.json (disk full?)");
  service_->Reconcile();
  backend_.stop_result = Status::Ok();
  service_->Reconcile();
  service_->Reconcile();
  EXPECT_EQ(backend_.stops, (std::vector<std::string>{"fit-1 all", "fit-1 all"}));  // again once, then no more

  backend_.pods["fit-1"][1] = MakePod(PodRole::kPserver, PodPhase::kFailed, "Stopped", 143);
  service_->Reconcile();
  EXPECT_EQ(GetJob().state, JobState::kFailed);
  EXPECT_EQ(GetJob().reason, "1 trainer(s) failed; the job tolerates 0");
}

TEST_F(JobReconcileTest, APodAControllerPutInPlaceOfADeletedOneIsStoppedWhenTheJobEnds) {
  AddJob();
  // Seen ended (the trainer deleted under the platform); its replacement appeared since.
  backend_.pods["fit-1"] = {MakePod(PodRole::kTrainer, PodPhase::kFailed, "Deleted"),
                            MakePod(PodRole::kPserver, PodPhase::kFailed, "Stopped", 143)};
  backend_.replaced_pod_runs = true;
  service_->Reconcile();
  EXPECT_EQ(GetJob().state, JobState::kFailed);
  EXPECT_EQ(backend_.stops, std::vector<std::string>{"fit-1 all"});
  EXPECT_EQ(backend_.deleted, std::vector<std::string>{"fit-1"});
}

}  // namespace
}  // namespace paddlecloud::jobs

namespace paddlecloud::jobs {
namespace {

using JobSearchTest = JobReconcileTest;

TEST_F(JobSearchTest, AListedJobWhosePodsRunIsRunningBeforeTheNextPass) {
  AddJob();
  auto listed = [&] { return service_->List(principal_, {}, nullptr).value_or(std::vector<Job>{}); };
  ASSERT_EQ(listed().size(), 1u);
  EXPECT_EQ(listed()[0].state, JobState::kPending);  // no pod has started
  backend_.pods["fit-1"] = {MakePod(PodRole::kTrainer, PodPhase::kRunning),
                            MakePod(PodRole::kPserver, PodPhase::kPending, "waiting for 1 CPU")};
  Job job = listed()[0];
  EXPECT_EQ(job.state, JobState::kRunning);
  EXPECT_EQ(job.started_at, 900);
  EXPECT_EQ(job.state, GetJob().state);  // as the job's own answer says
}

TEST_F(JobSearchTest, NamesAreFoundByAnyPartNewestFirstPageByPageWithinTheAccount) {
  auto add = [&](const std::string& account, const std::string& name) {
    ASSERT_TRUE(db_->Execute("INSERT INTO jobs (account_id, user_id, name, spec, state, submitted_at) "
                             "VALUES (?, 1, ?, ?, 'Succeeded', 500)",
                             {account, name, "{\"name\":\"" + name + "\",\"entry\":\"true\"}"}));
  };
  for (std::string name : {"cifar-resnet-1", "mnist-mlp", "cifar-resnet-2", "imagenet-resnet", "cifar-vgg"})
    add("acme", name);
  add("other", "other-resnet");
  auto names = [&](const std::string& part, int limit = 50, std::int64_t cursor = 0, std::int64_t* next = nullptr) {
    std::vector<std::string> out;
    auto jobs = service_->List(principal_, {.name_contains = part, .limit = limit, .cursor = cursor}, next);
    EXPECT_TRUE(jobs) << jobs.error().message();
    for (const Job& job : jobs.value_or(std::vector<Job>{})) out.push_back(job.spec.name);
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names("resnet"), (Names{"imagenet-resnet", "cifar-resnet-2", "cifar-resnet-1"}));
  EXPECT_EQ(names("ar-res"), (Names{"cifar-resnet-2", "cifar-resnet-1"}));
  EXPECT_EQ(names("-2"), (Names{"cifar-resnet-2"}));  // too short for trigrams: still found
  EXPECT_EQ(names("g"), (Names{"cifar-vgg", "imagenet-resnet"}));
  EXPECT_EQ(names("RESNET"), Names{});  // as before the index: case matters
  EXPECT_EQ(names("a\"b OR resnet"), Names{});  // the query is a phrase, never FTS syntax
  std::int64_t next = 0;
  EXPECT_EQ(names("resnet", 2, 0, &next), (Names{"imagenet-resnet", "cifar-resnet-2"}));
  ASSERT_GT(next, 0);
  EXPECT_EQ(names("resnet", 2, next, &next), (Names{"cifar-resnet-1"}));
  EXPECT_EQ(next, 0);
}

}  // namespace
}  // namespace paddlecloud::jobs
