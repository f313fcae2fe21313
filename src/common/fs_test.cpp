#include "common/fs.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>


namespace paddlecloud::fsutil {
namespace {

// A fresh directory, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "paddlecloud-fs-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(FsTest, WriteFileAtomicReplacesWithTheModeAndLeavesNoTemporaryFile) {
  TempDir dir;
  std::string path = dir.path() + "/state.json";
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  ASSERT_TRUE(WriteFileAtomic(path, "new", {.mode = 0600, .durable = false}).ok());
  EXPECT_EQ(Read(path), "new");
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.exists();
  EXPECT_EQ(entries, 1);
}

TEST(FsTest, AFailedWriteNamesThePathAndKeepsTheOldFile) {
  TempDir dir;
  std::string path = dir.path() + "/keep";
  ASSERT_TRUE(WriteFileAtomic(path, "old").ok());
  std::filesystem::create_directory(dir.path() + "/blocker");
  Status s = WriteFileAtomic(dir.path() + "/blocker", "x");  // renaming a file over a directory fails
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find(dir.path() + "/blocker"), std::string::npos) << s.message();
  EXPECT_FALSE(WriteFileAtomic(dir.path() + "/missing/dir/file", "x").ok());
  EXPECT_EQ(Read(path), "old");
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) entries += e.exists();
  EXPECT_EQ(entries, 2);  // keep and blocker: no temporary file left
}

TEST(FsTest, HexAndErrno) {
  EXPECT_EQ(ToHex(std::string("\x00\x7f\xff", 3)), "007fff");
  EXPECT_EQ(ToHex(""), "");
  EXPECT_EQ(ErrnoText(ENOENT), "No such file or directory");
}

}  // namespace
}  // namespace paddlecloud::fsutil
