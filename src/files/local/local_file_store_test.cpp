#include "files/local/local_file_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/server_process.h"

namespace paddlecloud::files {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Run with openat2 and with the per-segment resolution used where it is missing.
class LocalFileStoreTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    root_ = dir_.path() + "/files";
    auto store = MakeLocalFileStore(root_, GetParam());
    ASSERT_TRUE(store) << store.error().ToString();
    store_ = std::move(*store);
  }
  void Put(const std::string& key, const std::string& content) {
    auto w = store_->OpenStaged("put", 0);
    ASSERT_TRUE(w) << w.error().ToString();
    ASSERT_TRUE((*w)->Append(content).ok());
    w->reset();
    Status s = store_->CommitStaged("put", key, std::nullopt);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  testing::TempDir dir_;
  std::string root_;
  std::unique_ptr<FileStore> store_;
};

TEST_P(LocalFileStoreTest, StagedWritesBecomeVisibleOnlyWhenCommitted) {
  auto w = store_->OpenStaged("up_1", 0);
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->Append("hello ").ok());
  w->reset();
  EXPECT_FALSE(store_->Stat("acme/datasets/a.txt"));
  // Continuing at a wrong offset is refused with the right one.
  auto wrong = store_->OpenStaged("up_1", 3);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code(), Code::kConflict);
  EXPECT_EQ(wrong.error().details().at("offset"), "6");
  auto more = store_->OpenStaged("up_1", 6);
  ASSERT_TRUE(more);
  ASSERT_TRUE((*more)->Append("world").ok());
  EXPECT_EQ((*more)->size(), 11u);
  more->reset();
  EXPECT_EQ(*store_->StagedSize("up_1"), 11u);
  ASSERT_TRUE(store_->CommitStaged("up_1", "acme/datasets/a.txt", std::nullopt).ok());
  EXPECT_EQ(ReadAll(root_ + "/acme/datasets/a.txt"), "hello world");
  EXPECT_FALSE(store_->StagedSize("up_1"));
  auto listed = store_->List("");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);  // the staging folder is never listed
  EXPECT_EQ((*listed)[0].name, "acme");
}

TEST_P(LocalFileStoreTest, ChecksumMismatchDiscardsTheUpload) {
  auto w = store_->OpenStaged("up_2", 0);
  ASSERT_TRUE((*w)->Append("abc").ok());
  w->reset();
  Status s = store_->CommitStaged("up_2", "acme/x", std::string(64, '0'));
  EXPECT_EQ(s.code(), Code::kInvalidArgument);
  EXPECT_EQ(s.field(), "sha256");
  EXPECT_FALSE(store_->StagedSize("up_2"));
  EXPECT_FALSE(store_->Stat("acme/x"));
  auto again = store_->OpenStaged("up_3", 0);
  ASSERT_TRUE((*again)->Append("abc").ok());
  again->reset();
  EXPECT_TRUE(store_->CommitStaged("up_3", "acme/x", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad").ok());
}

TEST_P(LocalFileStoreTest, SymlinksAreNeverFollowed) {
  Put("acme/datasets/real.txt", "mine");
  fs::create_directories(dir_.path() + "/outside");
  std::ofstream(dir_.path() + "/outside/secret.txt") << "secret";
  fs::create_directory_symlink(dir_.path() + "/outside", root_ + "/acme/datasets/escape");
  fs::create_symlink(root_ + "/acme/datasets/real.txt", root_ + "/acme/datasets/link.txt");
  auto listed = store_->List("acme/datasets");
  ASSERT_TRUE(listed);
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "real.txt");
  EXPECT_EQ(store_->Open("acme/datasets/escape/secret.txt").error().code(), Code::kNotFound);
  EXPECT_EQ(store_->Open("acme/datasets/link.txt").error().code(), Code::kNotFound);
  EXPECT_EQ(store_->Stat("acme/datasets/escape").error().code(), Code::kNotFound);
  EXPECT_FALSE(store_->MakeFolder("acme/datasets/escape/new").ok());
  EXPECT_FALSE(fs::exists(dir_.path() + "/outside/new"));
  // A commit through a planted link is refused instead of writing outside.
  auto w = store_->OpenStaged("up_4", 0);
  w->reset();
  EXPECT_FALSE(store_->CommitStaged("up_4", "acme/datasets/escape/x", std::nullopt).ok());
  EXPECT_FALSE(fs::exists(dir_.path() + "/outside/x"));
  // Removing a folder removes links inside it, not what they point at.
  ASSERT_TRUE(store_->Remove("acme/datasets", true).ok());
  EXPECT_TRUE(fs::exists(dir_.path() + "/outside/secret.txt"));
  EXPECT_EQ(*store_->Usage("acme"), 0u);
}

TEST_P(LocalFileStoreTest, MoveCopyRemoveAndUsage) {
  Put("acme/datasets/a/one.txt", "1");
  Put("acme/datasets/a/b/two.txt", "22");
  EXPECT_EQ(*store_->Usage("acme"), 3u);
  EXPECT_EQ(store_->Remove("acme/datasets/a", false).code(), Code::kConflict);
  ASSERT_TRUE(store_->Copy("acme/datasets/a", "acme/models/copy/a").ok());
  EXPECT_EQ(ReadAll(root_ + "/acme/models/copy/a/b/two.txt"), "22");
  EXPECT_EQ(store_->Copy("acme/datasets/a", "acme/models/copy/a").code(), Code::kConflict);
  ASSERT_TRUE(store_->Move("acme/datasets/a", "acme/datasets/renamed").ok());
  EXPECT_EQ(store_->Move("acme/datasets/renamed", "acme/models/copy/a").code(), Code::kConflict);
  EXPECT_EQ(store_->Move("acme/datasets/nothing", "acme/x").code(), Code::kNotFound);
  auto walked = store_->Walk("acme/datasets/renamed");
  ASSERT_TRUE(walked);
  EXPECT_EQ(walked->size(), 3u);
  EXPECT_EQ(*store_->Usage("acme"), 6u);
  EXPECT_EQ(store_->MakeFolder("acme/datasets/renamed/one.txt/sub").code(), Code::kConflict);
  ASSERT_TRUE(store_->Remove("acme/datasets/renamed", true).ok());
  EXPECT_FALSE(store_->Stat("acme/datasets/renamed"));
  auto reader = store_->Open("acme/models/copy/a/b/two.txt");
  ASSERT_TRUE(reader);
  char buf[8];
  EXPECT_EQ(*(*reader)->ReadAt(1, buf, sizeof buf), 1u);
  EXPECT_EQ(buf[0], '2');
  EXPECT_GE((*reader)->native_handle(), 0);
}

INSTANTIATE_TEST_SUITE_P(Resolution, LocalFileStoreTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "openat2" : "per_segment"; });

}  // namespace
}  // namespace paddlecloud::files
