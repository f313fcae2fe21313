#include "files/file_service.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "files/archive_limits.h"
#include "files/local/local_file_store.h"
#include "testing/test_database.h"
#include "testing/server_process.h"

namespace paddlecloud::files {
namespace {

namespace fs = std::filesystem;

Principal User(std::string account, std::int64_t id, std::string email) {
  return Principal{.user_id = id, .account_id = std::move(account), .email = std::move(email), .master = true};
}

class FileServiceTest : public ::testing::Test {
 protected:
  // A fault injected in the real database: every `event` (UPDATE, DELETE) on shares fails.
  bool RefuseOnShares(const std::string& event) {
    if (db_->Engine() != "postgres") {
      return db_->Execute("CREATE TRIGGER refuse_" + event + " BEFORE " + event +
                          " ON shares BEGIN SELECT RAISE(ABORT, 'injected'); END").has_value();
    }
    return db_->Execute("CREATE OR REPLACE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
                        "$$ BEGIN RAISE EXCEPTION 'injected'; END $$") &&
           db_->Execute("CREATE TRIGGER refuse_" + event + " BEFORE " + event +
                        " ON shares FOR EACH ROW EXECUTE FUNCTION refuse()");
  }
  bool AllowOnShares(const std::string& event) {
    return db_->Execute("DROP TRIGGER refuse_" + event + (db_->Engine() == "postgres" ? " ON shares" : "")).has_value();
  }
  void SetUp() override {
    auto database = testing::OpenTestDatabase(dir_.path() + "/db.sqlite", FileMigrations());
    ASSERT_TRUE(database) << database.error().message();
    db_ = std::move(*database);
    auto store = MakeLocalFileStore(dir_.path() + "/files");
    ASSERT_TRUE(store);
    store_ = std::move(*store);
    Make(1000);
  }
  void Make(std::uint64_t quota) {
    service_ = std::make_unique<FileService>(
        *db_, *store_,
        FilesOptions{.quota_bytes = quota, .upload_ttl = std::chrono::seconds(3600),
                     .account_exists = [](const std::string& a) { return a == "acme" || a == "beta"; }});
  }
  // Uploads `content` to `path` in one write; the finished upload.
  Result<files::Upload> Put(const Principal& who, const std::string& path, const std::string& content,
                        std::optional<std::uint64_t> size = std::nullopt) {
    auto up = service_->uploads().Create(who, path, size ? size : std::optional<std::uint64_t>(content.size()), std::nullopt);
    if (!up) return Err(up.error());
    auto w = service_->uploads().BeginWrite(who, up->id, 0, std::nullopt);
    if (!w) return Err(w.error());
    Status appended = content.size() > w->limit ? Status::QuotaExceeded("over") : w->writer->Append(content);
    return service_->uploads().FinishWrite(who, *w, appended);
  }
  std::string Root() const { return dir_.path() + "/files"; }
  // A .tar.gz of a folder holding `name` with `content`; its bytes.
  std::string TarGz(const std::string& name, const std::string& content) {
    std::string tree = dir_.path() + "/tree-" + name;
    fs::create_directories(tree);
    std::ofstream(tree + "/" + name, std::ios::binary) << content;
    std::string archive = tree + ".tar.gz";
    EXPECT_EQ(std::system(("tar -czf " + archive + " -C " + tree + " .").c_str()), 0);
    std::ifstream in(archive, std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  testing::TempDir dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<FileStore> store_;
  std::unique_ptr<FileService> service_;
  Principal ann_ = User("acme", 1, "ann@example.com");
  Principal bob_ = User("beta", 2, "bob@example.com");
};

TEST_F(FileServiceTest, UploadListAndTenancy) {
  auto done = Put(ann_, "datasets/mnist/train.csv", "a,b\n1,2\n");
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->complete);
  ASSERT_TRUE(done->file);
  EXPECT_EQ(done->file->uploaded_by, "ann@example.com");
  EXPECT_TRUE(fs::exists(Root() + "/acme/datasets/mnist/train.csv"));

  auto root = service_->browser().List(ann_, "", {});
  ASSERT_TRUE(root);
  EXPECT_EQ(root->entries.size(), 5u);
  auto listing = service_->browser().List(ann_, "datasets/mnist", {});
  ASSERT_TRUE(listing);
  ASSERT_EQ(listing->entries.size(), 1u);
  EXPECT_EQ(listing->entries[0].path, "datasets/mnist/train.csv");
  EXPECT_EQ(listing->entries[0].uploaded_by, "ann@example.com");
  EXPECT_EQ(listing->entries[0].size, 8u);
  // Bob has his own, empty datasets; Ann's path does not exist for him.
  EXPECT_EQ(service_->browser().Stat(bob_, "datasets/mnist/train.csv").error().code(), Code::kNotFound);
  EXPECT_EQ(service_->browser().Read(bob_, "datasets/mnist").error().code(), Code::kNotFound);
  EXPECT_TRUE(service_->browser().List(bob_, "datasets", {})->entries.empty());
  // Workspaces are per user.
  ASSERT_TRUE(Put(ann_, "workspace/notes.txt", "x"));
  EXPECT_TRUE(fs::exists(Root() + "/acme/workspace/1/notes.txt"));
  Principal carol = User("acme", 3, "carol@example.com");
  EXPECT_EQ(service_->browser().Stat(carol, "workspace/notes.txt").error().code(), Code::kNotFound);
}

TEST_F(FileServiceTest, ReadOnlySpacesAndBadPaths) {
  EXPECT_EQ(service_->uploads().Create(ann_, "public/datasets/x", 1, std::nullopt).error().code(), Code::kPermissionDenied);
  EXPECT_EQ(service_->browser().MakeFolder(ann_, "shared/beta/x").error().code(), Code::kPermissionDenied);
  EXPECT_EQ(service_->uploads().Create(ann_, "../etc/passwd", 1, std::nullopt).error().field(), "path");
  EXPECT_EQ(service_->uploads().Create(ann_, "elsewhere/x", 1, std::nullopt).error().code(), Code::kNotFound);
  EXPECT_EQ(service_->browser().Remove(ann_, "datasets", true).code(), Code::kPermissionDenied);
  EXPECT_EQ(service_->uploads().Create(ann_, "datasets/x", 1, std::string("nothex")).error().field(), "sha256");
}

TEST_F(FileServiceTest, ResumeAtTheServersOffsetOnly) {
  auto up = service_->uploads().Create(ann_, "models/m.bin", 10, std::nullopt);
  ASSERT_TRUE(up);
  auto first = service_->uploads().BeginWrite(ann_, up->id, 0, std::nullopt);
  ASSERT_TRUE(first);
  // A second writer while the first runs is refused.
  EXPECT_EQ(service_->uploads().BeginWrite(ann_, up->id, 0, std::nullopt).error().code(), Code::kConflict);
  ASSERT_TRUE(first->writer->Append("01234").ok());
  auto partial = service_->uploads().FinishWrite(ann_, *first, Status::Unavailable("client went away"));
  EXPECT_FALSE(partial);
  EXPECT_EQ(service_->uploads().Get(ann_, up->id)->offset, 5u);
  EXPECT_FALSE(service_->browser().Stat(ann_, "models/m.bin"));  // never a partial file
  auto wrong = service_->uploads().BeginWrite(ann_, up->id, 0, std::nullopt);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), Code::kConflict);
  EXPECT_EQ(wrong.error().details().at("offset"), "5");
  auto second = service_->uploads().BeginWrite(ann_, up->id, 5, std::nullopt);
  ASSERT_TRUE(second);
  ASSERT_TRUE(second->writer->Append("56789").ok());
  auto done = service_->uploads().FinishWrite(ann_, *second, Status::Ok());
  ASSERT_TRUE(done) << done.error().ToString();
  EXPECT_TRUE(done->complete);
  EXPECT_EQ(service_->uploads().Get(ann_, up->id).error().code(), Code::kNotFound);
  // Another tenant cannot see or write the session.
  auto other = service_->uploads().Create(ann_, "models/n.bin", 3, std::nullopt);
  EXPECT_EQ(service_->uploads().Get(bob_, other->id).error().code(), Code::kNotFound);
  EXPECT_EQ(service_->uploads().BeginWrite(bob_, other->id, 0, std::nullopt).error().code(), Code::kNotFound);
  EXPECT_EQ(service_->uploads().Cancel(bob_, other->id).code(), Code::kNotFound);
  EXPECT_TRUE(service_->uploads().Cancel(ann_, other->id).ok());
}

TEST_F(FileServiceTest, QuotaRefusesKnownSizesAndStopsUnknownOnes) {
  ASSERT_TRUE(Put(ann_, "datasets/a", std::string(600, 'a')));
  auto refused = service_->uploads().Create(ann_, "datasets/b", 500, std::nullopt);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kQuotaExceeded);
  EXPECT_EQ(refused.error().details().at("used_bytes"), "600");
  // Replacing a file counts only the difference.
  EXPECT_TRUE(service_->uploads().Create(ann_, "datasets/a", 900, std::nullopt));
  // Unknown size: the writer's limit is the remaining quota; passing it discards everything.
  auto open = service_->uploads().Create(ann_, "datasets/d", std::nullopt, std::nullopt);
  ASSERT_TRUE(open);
  auto w = service_->uploads().BeginWrite(ann_, open->id, 0, std::nullopt);
  ASSERT_TRUE(w);
  EXPECT_TRUE(w->limit_is_quota);
  EXPECT_LE(w->limit, 400u);
  auto stopped = service_->uploads().FinishWrite(ann_, *w, Status::QuotaExceeded("over"));
  EXPECT_EQ(stopped.error().code(), Code::kQuotaExceeded);
  EXPECT_EQ(service_->uploads().Get(ann_, open->id).error().code(), Code::kNotFound);
  EXPECT_EQ(service_->quota().Usage(ann_.account_id)->used_bytes, 600u);
}

TEST_F(FileServiceTest, ExpiredSessionsLoseTheirData) {
  service_ = std::make_unique<FileService>(*db_, *store_, FilesOptions{.quota_bytes = 1000, .upload_ttl = std::chrono::seconds(0)});
  auto up = service_->uploads().Create(ann_, "datasets/slow", 10, std::nullopt);
  ASSERT_TRUE(up);
  auto w = service_->uploads().BeginWrite(ann_, up->id, 0, std::nullopt);
  ASSERT_TRUE(w->writer->Append("abc").ok());
  EXPECT_EQ(service_->uploads().Expire(), 0);  // busy sessions are kept
  (void)service_->uploads().FinishWrite(ann_, *w, Status::Unavailable("gone"));
  EXPECT_EQ(service_->uploads().Expire(), 1);
  EXPECT_FALSE(store_->StagedSize(up->id));
  EXPECT_EQ(service_->uploads().Get(ann_, up->id).error().code(), Code::kNotFound);
}

TEST_F(FileServiceTest, MoveCopyRemoveKeepMetadata) {
  ASSERT_TRUE(Put(ann_, "datasets/raw/x.csv", "1"));
  auto moved = service_->browser().Move(ann_, "datasets/raw", "models/raw2");
  ASSERT_TRUE(moved) << moved.error().ToString();
  auto entry = service_->browser().Stat(ann_, "models/raw2/x.csv");
  ASSERT_TRUE(entry);
  EXPECT_EQ(entry->uploaded_by, "ann@example.com");
  EXPECT_EQ(service_->browser().Move(ann_, "models/raw2", "models/raw2/inner").error().field(), "path");
  EXPECT_EQ(service_->browser().Move(ann_, "models", "datasets/m").error().code(), Code::kPermissionDenied);
  ASSERT_TRUE(service_->browser().Copy(ann_, "models/raw2", "datasets/copy"));
  EXPECT_EQ(service_->browser().Remove(ann_, "datasets/copy", false).code(), Code::kConflict);
  EXPECT_TRUE(service_->browser().Remove(ann_, "datasets/copy", true).ok());
  EXPECT_EQ(service_->browser().MakeFolder(ann_, "models/raw2").error().code(), Code::kConflict);
}

TEST_F(FileServiceTest, AMoveWhoseRecordsCannotFollowIsUndone) {
  ASSERT_TRUE(Put(ann_, "datasets/mnist/train.csv", "data"));
  ASSERT_TRUE(service_->shares().Create(ann_, "datasets/mnist", "beta", false, std::nullopt));
  // The fault, injected in the real database: the shares cannot be updated.
  ASSERT_TRUE(RefuseOnShares("UPDATE"));
  auto moved = service_->browser().Move(ann_, "datasets/mnist", "datasets/mnist2");
  ASSERT_FALSE(moved);
  // Nothing moved: the files are where the share points, and Bob still reads them.
  EXPECT_TRUE(service_->browser().Stat(ann_, "datasets/mnist/train.csv"));
  EXPECT_EQ(service_->browser().Stat(ann_, "datasets/mnist2").error().code(), Code::kNotFound);
  EXPECT_TRUE(service_->browser().Read(bob_, "shared/acme/datasets/mnist/train.csv"));
  EXPECT_EQ(service_->browser().Stat(ann_, "datasets/mnist/train.csv")->uploaded_by, "ann@example.com");

  ASSERT_TRUE(AllowOnShares("UPDATE"));
  ASSERT_TRUE(service_->browser().Move(ann_, "datasets/mnist", "datasets/mnist2"));
  EXPECT_TRUE(service_->browser().Read(bob_, "shared/acme/datasets/mnist2/train.csv"));  // the share followed
  EXPECT_EQ(service_->browser().Stat(ann_, "datasets/mnist2/train.csv")->uploaded_by, "ann@example.com");

  // A removal whose records cannot be dropped says so.
  ASSERT_TRUE(RefuseOnShares("DELETE"));
  EXPECT_FALSE(service_->browser().Remove(ann_, "datasets/mnist2", true).ok());
}

TEST_F(FileServiceTest, SharesAreReadOnlyAndRevocable) {
  ASSERT_TRUE(Put(ann_, "datasets/mnist/train.csv", "data"));
  EXPECT_EQ(service_->shares().Create(ann_, "datasets/mnist", "nobody", false, std::nullopt).error().field(), "account");
  EXPECT_EQ(service_->shares().Create(ann_, "workspace", "beta", false, std::nullopt).error().field(), "path");
  auto share = service_->shares().Create(ann_, "datasets/mnist", "beta", false, std::nullopt);
  ASSERT_TRUE(share) << share.error().ToString();
  EXPECT_EQ(service_->shares().Create(ann_, "datasets/mnist", "beta", false, std::nullopt).error().code(), Code::kConflict);
  auto mine = service_->shares().SharedWithMe(bob_);
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].mount(), "shared/acme/datasets/mnist");
  // Bob browses shared/ down to the file, and reads it; he cannot write or see beside it.
  EXPECT_EQ(service_->browser().List(bob_, "shared", {})->entries.at(0).name, "acme");
  EXPECT_EQ(service_->browser().List(bob_, "shared/acme", {})->entries.at(0).name, "datasets");
  auto listing = service_->browser().List(bob_, "shared/acme/datasets/mnist", {});
  ASSERT_TRUE(listing);
  EXPECT_FALSE(listing->folder.writable);
  EXPECT_EQ(listing->entries.at(0).path, "shared/acme/datasets/mnist/train.csv");
  EXPECT_TRUE(service_->browser().Read(bob_, "shared/acme/datasets/mnist/train.csv"));
  EXPECT_EQ(service_->browser().Stat(bob_, "shared/acme/models").error().code(), Code::kNotFound);
  EXPECT_EQ(service_->uploads().Create(bob_, "shared/acme/datasets/mnist/x", 1, std::nullopt).error().code(),
            Code::kPermissionDenied);
  auto mounts = service_->shares().SharedMountsFor("beta");
  ASSERT_EQ(mounts->size(), 1u);
  EXPECT_EQ((*mounts)[0].key, "acme/datasets/mnist");
  // Only the owner revokes.
  EXPECT_EQ(service_->shares().Revoke(bob_, share->id).code(), Code::kNotFound);
  ASSERT_TRUE(service_->shares().Revoke(ann_, share->id).ok());
  EXPECT_EQ(service_->browser().Stat(bob_, "shared/acme/datasets/mnist").error().code(), Code::kNotFound);
}

TEST_F(FileServiceTest, PublicLinksExpire) {
  ASSERT_TRUE(Put(ann_, "models/resnet/weights.bin", "w"));
  auto link = service_->shares().Create(ann_, "models/resnet", "", true, std::nullopt);
  ASSERT_TRUE(link);
  ASSERT_FALSE(link->link_token.empty());
  auto listing = service_->shares().ListLink(link->link_token, "", {});
  ASSERT_TRUE(listing) << listing.error().ToString();
  EXPECT_EQ(listing->entries.at(0).path, "weights.bin");
  EXPECT_TRUE(service_->shares().ReadLink(link->link_token, "weights.bin"));
  EXPECT_EQ(service_->shares().ReadLink(link->link_token, "../x").error().code(), Code::kInvalidArgument);
  EXPECT_EQ(service_->shares().ListLink("wrong", "", {}).error().code(), Code::kNotFound);
  EXPECT_EQ(service_->shares().Create(ann_, "models/resnet", "", true, 1).error().field(), "expires_at");
  ASSERT_TRUE(db_->Execute("UPDATE shares SET expires_at = 1").has_value());
  EXPECT_EQ(service_->shares().ListLink(link->link_token, "", {}).error().code(), Code::kNotFound);
}

TEST_F(FileServiceTest, PublishFolderAndArchive) {
  ASSERT_TRUE(Put(ann_, "models/out/model.bin", "weights"));
  auto published = service_->publications().Publish(ann_, {.kind = "model", .name = "resnet", .version = "1.0",
                                            .description = "a net", .path = "models/out"});
  ASSERT_TRUE(published) << published.error().ToString();
  EXPECT_EQ(published->path(), "public/models/acme/resnet/1.0");
  EXPECT_EQ(published->files, 1);
  EXPECT_EQ(published->bytes, 7);
  EXPECT_EQ(service_->publications().Publish(ann_, {.name = "resnet", .version = "1.0", .path = "models/out"}).error().code(),
            Code::kConflict);
  EXPECT_EQ(service_->publications().Publish(ann_, {.name = "Bad Name", .version = "1", .path = "models/out"}).error().field(), "name");
  // Everybody sees it and can copy it into their own space.
  auto list = service_->publications().List("model", "net");
  ASSERT_EQ(list->size(), 1u);
  EXPECT_TRUE(service_->browser().Read(bob_, "public/models/acme/resnet/1.0/model.bin"));
  ASSERT_TRUE(service_->browser().Copy(bob_, "public/models/acme/resnet/1.0", "models/resnet"));
  EXPECT_TRUE(fs::exists(Root() + "/beta/models/resnet/model.bin"));
  EXPECT_EQ(service_->publications().Withdraw(bob_, published->id).code(), Code::kPermissionDenied);

  // A tar.gz archive is extracted.
  std::string tree = dir_.path() + "/tree";
  fs::create_directories(tree + "/sub");
  std::ofstream(tree + "/sub/a.txt") << "aaa";
  std::string archive = dir_.path() + "/m.tar.gz";
  ASSERT_EQ(std::system(("tar -czf " + archive + " -C " + tree + " .").c_str()), 0);
  std::ifstream in(archive, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_TRUE(Put(ann_, "models/m.tar.gz", bytes));
  auto from_archive = service_->publications().Publish(ann_, {.kind = "dataset", .name = "tiny", .version = "2", .path = "models/m.tar.gz"});
  ASSERT_TRUE(from_archive) << from_archive.error().ToString();
  EXPECT_EQ(from_archive->files, 1);
  EXPECT_TRUE(fs::exists(Root() + "/public/datasets/acme/tiny/2/sub/a.txt"));
  ASSERT_TRUE(service_->publications().Withdraw(ann_, from_archive->id).ok());
  EXPECT_FALSE(fs::exists(Root() + "/public/datasets/acme/tiny/2"));
}

TEST(ExtractionBudgetTest, EachCapIsNamed) {
  ExtractionBudget entries(ArchiveLimits{.max_entries = 2}, 100);
  EXPECT_TRUE(entries.AddEntry().ok());
  EXPECT_TRUE(entries.AddEntry().ok());
  EXPECT_EQ(entries.AddEntry().details().at("limit"), "archive_entries");
  ExtractionBudget bytes(ArchiveLimits{.max_bytes = 10}, 100);
  EXPECT_TRUE(bytes.AddBytes(10).ok());
  EXPECT_EQ(bytes.AddBytes(1).code(), Code::kPayloadTooLarge);
  EXPECT_EQ(bytes.AddBytes(1).details().at("limit"), "archive_bytes");
  ExtractionBudget ratio(ArchiveLimits{.max_ratio = 100}, 1000);
  EXPECT_TRUE(ratio.AddBytes(kRatioAllowanceBytes).ok());  // small outputs always pass
  EXPECT_EQ(ratio.AddBytes(100 * 1000).details().at("limit"), "expansion_ratio");
  ExtractionBudget quota(ArchiveLimits{.quota_left = 5}, 100);
  EXPECT_TRUE(quota.AddBytes(5).ok());
  EXPECT_EQ(quota.AddBytes(1).code(), Code::kQuotaExceeded);
}

TEST_F(FileServiceTest, PublicationsCountAgainstThePublisherAndStopAtTheQuota) {
  // The review's case: a small archive published again and again. Each copy counts.
  ASSERT_TRUE(Put(ann_, "datasets/a.tar.gz", TarGz("a.txt", std::string(300, 'a'))));
  std::uint64_t archive = service_->quota().Usage(ann_.account_id)->used_bytes;
  auto first = service_->publications().Publish(ann_, {.kind = "dataset", .name = "a", .version = "1", .path = "datasets/a.tar.gz"});
  ASSERT_TRUE(first) << first.error().ToString();
  auto usage = service_->quota().Usage(ann_.account_id);
  EXPECT_EQ(usage->published_bytes, 300u);
  EXPECT_EQ(usage->files_bytes, archive);
  EXPECT_EQ(usage->used_bytes, archive + 300);
  ASSERT_TRUE(service_->publications().Publish(ann_, {.kind = "dataset", .name = "a", .version = "2", .path = "datasets/a.tar.gz"}));
  auto third = service_->publications().Publish(ann_, {.kind = "dataset", .name = "a", .version = "3", .path = "datasets/a.tar.gz"});
  ASSERT_FALSE(third);
  EXPECT_EQ(third.error().code(), Code::kQuotaExceeded);
  EXPECT_FALSE(fs::exists(Root() + "/public/datasets/acme/a/3"));  // what it wrote is removed
  EXPECT_EQ(service_->publications().List("dataset", "")->size(), 2u);
  EXPECT_LE(service_->quota().Usage(ann_.account_id)->used_bytes, 1000u);
  // A folder (no archive) that does not fit is refused before anything is copied.
  ASSERT_TRUE(service_->publications().Withdraw(ann_, first->id).ok());
  EXPECT_EQ(service_->quota().Usage(ann_.account_id)->published_bytes, 300u);
  ASSERT_TRUE(Put(ann_, "models/big/w.bin", std::string(350, 'w')));
  EXPECT_EQ(service_->publications().Publish(ann_, {.name = "big", .version = "1", .path = "models/big"}).error().code(),
            Code::kQuotaExceeded);
  EXPECT_FALSE(fs::exists(Root() + "/public/models/acme/big"));
}

TEST_F(FileServiceTest, AnArchiveBombIsStoppedByTheSharedRuleAndLeavesNothing) {
  Make(1ull << 30);
  std::string bomb = TarGz("zeros", std::string(20 << 20, '\0'));
  ASSERT_LT(bomb.size(), 100'000u);
  ASSERT_TRUE(Put(ann_, "datasets/bomb.tar.gz", bomb));
  auto refused = service_->publications().Publish(ann_, {.kind = "dataset", .name = "bomb", .version = "1", .path = "datasets/bomb.tar.gz"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kPayloadTooLarge);
  EXPECT_EQ(refused.error().details().at("limit"), "expansion_ratio");
  EXPECT_FALSE(fs::exists(Root() + "/public/datasets/acme/bomb"));
  EXPECT_TRUE(service_->publications().List("", "")->empty());
  EXPECT_EQ(service_->quota().Usage(ann_.account_id)->used_bytes, bomb.size());
}

TEST_F(FileServiceTest, TheQuotaIsCheckedAgainAtCommit) {
  // Replacing x is credited x's size only while x is still there: moving it away first does not pass.
  ASSERT_TRUE(Put(ann_, "datasets/x", std::string(600, 'x')));
  auto up = service_->uploads().Create(ann_, "datasets/x", 900, std::nullopt);
  ASSERT_TRUE(up) << up.error().ToString();
  auto w = service_->uploads().BeginWrite(ann_, up->id, 0, std::nullopt);
  ASSERT_TRUE(w);
  ASSERT_TRUE(w->writer->Append(std::string(900, 'y')).ok());
  ASSERT_TRUE(service_->browser().Move(ann_, "datasets/x", "datasets/kept"));
  auto done = service_->uploads().FinishWrite(ann_, *w, Status::Ok());
  ASSERT_FALSE(done);
  EXPECT_EQ(done.error().code(), Code::kQuotaExceeded);
  EXPECT_EQ(service_->quota().Usage(ann_.account_id)->used_bytes, 600u);
  EXPECT_FALSE(service_->browser().Stat(ann_, "datasets/x"));
  EXPECT_EQ(service_->uploads().Get(ann_, up->id).error().code(), Code::kNotFound);  // its data is removed
  // Bytes written by a job after the upload began count at commit too.
  auto late = service_->uploads().Create(ann_, "datasets/late", 300, std::nullopt);
  ASSERT_TRUE(late);
  auto lw = service_->uploads().BeginWrite(ann_, late->id, 0, std::nullopt);
  ASSERT_TRUE(lw->writer->Append(std::string(300, 'l')).ok());
  std::ofstream(Root() + "/acme/datasets/from-job", std::ios::binary) << std::string(200, 'j');
  EXPECT_EQ(service_->uploads().FinishWrite(ann_, *lw, Status::Ok()).error().code(), Code::kQuotaExceeded);
}

TEST_F(FileServiceTest, ConcurrentUploadsNeverPassTheQuotaTogether) {
  std::vector<std::thread> threads;
  std::atomic<int> stored = 0;
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      if (Put(ann_, "datasets/part" + std::to_string(i), std::string(300, 'p'))) ++stored;
    });
  for (auto& t : threads) t.join();
  EXPECT_LE(stored.load(), 3);
  EXPECT_LE(service_->quota().Usage(ann_.account_id)->used_bytes, 1000u);
}

TEST_F(FileServiceTest, JobPackagesCountInTheUsage) {
  service_ = std::make_unique<FileService>(
      *db_, *store_,
      FilesOptions{.quota_bytes = 1000, .package_bytes = [](const std::string& a) { return a == "acme" ? 700u : 0u; }});
  auto usage = service_->quota().Usage(ann_.account_id);
  EXPECT_EQ(usage->package_bytes, 700u);
  EXPECT_EQ(usage->used_bytes, 700u);
  EXPECT_EQ(*service_->quota().StorageLeft("acme"), 300u);
  EXPECT_EQ(service_->uploads().Create(ann_, "datasets/d", 400, std::nullopt).error().code(), Code::kQuotaExceeded);
  EXPECT_TRUE(service_->uploads().Create(bob_, "datasets/d", 400, std::nullopt));
}

TEST_F(FileServiceTest, WhatOthersSharedOrPublishedCannotBePublishedAgain) {
  ASSERT_TRUE(Put(ann_, "datasets/mnist/train.csv", "data"));
  ASSERT_TRUE(service_->shares().Create(ann_, "datasets/mnist", "beta", false, std::nullopt));
  auto reshared = service_->publications().Publish(bob_, {.kind = "dataset", .name = "mine", .version = "1",
                                           .path = "shared/acme/datasets/mnist"});
  ASSERT_FALSE(reshared);
  EXPECT_EQ(reshared.error().code(), Code::kPermissionDenied);
  EXPECT_EQ(reshared.error().details().at("reason"), "republish_forbidden");
  ASSERT_TRUE(service_->publications().Publish(ann_, {.kind = "dataset", .name = "mnist", .version = "1", .path = "datasets/mnist"}));
  EXPECT_EQ(service_->publications().Publish(bob_, {.kind = "dataset", .name = "mine", .version = "1",
                                     .path = "public/datasets/acme/mnist/1"})
                .error()
                .details()
                .at("reason"),
            "republish_forbidden");
  EXPECT_TRUE(service_->publications().List("", "mine")->empty());
  // The owner may publish its own publication again; anyone may copy shared data into their space.
  EXPECT_TRUE(service_->publications().Publish(ann_, {.kind = "dataset", .name = "mnist", .version = "2",
                                       .path = "public/datasets/acme/mnist/1"}));
  ASSERT_TRUE(service_->browser().Copy(bob_, "shared/acme/datasets/mnist", "datasets/copy"));
  EXPECT_EQ(service_->quota().Usage(bob_.account_id)->used_bytes, 4u);
}

TEST_F(FileServiceTest, PlantedLinksAreNeitherCountedPublishedCopiedNorFollowed) {
  // A job writes straight into the account's space: links to a big file outside and to /.
  std::string big = dir_.path() + "/outside.bin";
  std::ofstream(big, std::ios::binary) << std::string(5000, 'b');
  ASSERT_TRUE(Put(ann_, "datasets/set/real.txt", "real"));
  fs::create_symlink(big, Root() + "/acme/datasets/set/big.bin");
  fs::create_directory_symlink("/", Root() + "/acme/datasets/set/root");
  fs::create_symlink(big, Root() + "/acme/datasets/big.bin");
  auto usage = service_->quota().Usage(ann_.account_id);
  EXPECT_EQ(usage->used_bytes, 4u);
  ASSERT_EQ(service_->browser().List(ann_, "datasets/set", {})->entries.size(), 1u);
  EXPECT_EQ(service_->browser().Read(ann_, "datasets/big.bin").error().code(), Code::kNotFound);
  EXPECT_EQ(service_->browser().Read(ann_, "datasets/set/root/etc").error().code(), Code::kNotFound);
  EXPECT_EQ(service_->publications().Publish(ann_, {.name = "l", .version = "1", .path = "datasets/big.bin"}).error().code(),
            Code::kNotFound);
  EXPECT_EQ(service_->browser().Copy(ann_, "datasets/big.bin", "models/b").error().code(), Code::kNotFound);
  auto published = service_->publications().Publish(ann_, {.name = "set", .version = "1", .path = "datasets/set"});
  ASSERT_TRUE(published) << published.error().ToString();
  EXPECT_EQ(published->files, 1);
  EXPECT_EQ(published->bytes, 4);
  EXPECT_FALSE(fs::exists(fs::symlink_status(Root() + "/public/models/acme/set/1/big.bin")));
  ASSERT_TRUE(service_->browser().Copy(ann_, "datasets/set", "models/set"));
  EXPECT_FALSE(fs::exists(fs::symlink_status(Root() + "/acme/models/set/big.bin")));
  EXPECT_FALSE(fs::exists(fs::symlink_status(Root() + "/acme/models/set/root")));
  EXPECT_EQ(service_->quota().Usage(ann_.account_id)->used_bytes, 12u);  // 4 + 4 published + 4 copied
}

// What a job's pods wrote: files without a record, changed since it started, in the folders it could write.
TEST_F(FileServiceTest, FilesAJobWroteAreAttributedToItWithoutFollowingLinks) {
  ASSERT_TRUE(Put(ann_, "models/uploaded.txt", "u"));
  auto write = [](const std::string& path) {
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path) << "x";
  };
  write(Root() + "/acme/models/run/model.bin");
  write(Root() + "/acme/workspace/1/notes.txt");
  write(Root() + "/acme/workspace/3/carols.txt");  // another member's workspace: not the job's
  write(Root() + "/acme/datasets/old.csv");
  fs::last_write_time(Root() + "/acme/datasets/old.csv", fs::file_time_type::clock::now() - std::chrono::hours(1));
  write(Root() + "/beta/datasets/secret.txt");
  // Links a hostile job planted toward another account's files and outside the data directory.
  fs::create_symlink(Root() + "/beta/datasets/secret.txt", Root() + "/acme/models/run/to-bob.txt");
  fs::create_directory_symlink(Root() + "/beta/datasets", Root() + "/acme/models/run/bob");
  fs::create_directory_symlink("/", Root() + "/acme/models/root");
  std::int64_t started = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch()).count() - 60;

  auto recorded = service_->job_outputs().Record("acme", 1, 42, started);
  ASSERT_TRUE(recorded) << recorded.error().ToString();
  EXPECT_EQ(*recorded, 2u);
  auto model = service_->browser().Stat(ann_, "models/run/model.bin");
  EXPECT_EQ(model->written_by_job, "42");
  EXPECT_EQ(model->uploaded_by, "");
  EXPECT_EQ(service_->browser().List(ann_, "workspace", {})->entries.at(0).written_by_job, "42");
  EXPECT_EQ(service_->browser().Stat(ann_, "models/uploaded.txt")->uploaded_by, "ann@example.com");
  EXPECT_EQ(service_->browser().Stat(ann_, "models/uploaded.txt")->written_by_job, "");
  EXPECT_EQ(service_->browser().Stat(ann_, "datasets/old.csv")->written_by_job, "");
  EXPECT_EQ(service_->browser().Stat(bob_, "datasets/secret.txt")->written_by_job, "");
  auto rows = db_->Query("SELECT account_id, key FROM file_meta WHERE written_by_job = 42 ORDER BY key");
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ(rows->Text(0, "key"), "acme/models/run/model.bin");
  EXPECT_EQ(rows->Text(1, "key"), "acme/workspace/1/notes.txt");
  // A later job does not take them over; a move keeps who wrote them.
  EXPECT_EQ(*service_->job_outputs().Record("acme", 1, 43, started), 0u);
  ASSERT_TRUE(service_->browser().Move(ann_, "models/run", "models/run2"));
  EXPECT_EQ(service_->browser().Stat(ann_, "models/run2/model.bin")->written_by_job, "42");
}

TEST_F(FileServiceTest, AttributingAJobsFilesIsBounded) {
  for (int i = 0; i < 10; ++i) {
    fs::create_directories(Root() + "/acme/models/many");
    std::ofstream(Root() + "/acme/models/many/f" + std::to_string(i)) << i;
  }
  FileSpace space(*db_, *store_);
  JobOutputs outputs(space, 4);
  auto recorded = outputs.Record("acme", 1, 7, 0);
  ASSERT_TRUE(recorded);
  EXPECT_LE(*recorded, 4u);
  EXPECT_GT(*recorded, 0u);
}

}  // namespace
}  // namespace paddlecloud::files
