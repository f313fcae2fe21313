#include "jobs/log_reader.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <fstream>

#include "testing/server_process.h"

namespace paddlecloud::jobs {
namespace {

TEST(LogReaderTest, ALogThatIsALinkIsNotFollowed) {
  testing::TempDir dir;
  std::string secret = dir.path() + "/ca.key";
  std::ofstream(secret) << "PRIVATE KEY";
  std::string path = dir.path() + "/pod.log";
  ASSERT_EQ(::symlink(secret.c_str(), path.c_str()), 0);
  EXPECT_FALSE(TailLines(path, 10));
  EXPECT_FALSE(ReadLogRange(path, 0, 100));
}

TEST(LogReaderTest, TailsLinesAcrossBlocks) {
  testing::TempDir dir;
  std::string path = dir.path() + "/pod.log";
  {
    std::ofstream out(path);
    for (int i = 0; i < 20000; ++i) out << "line " << i << " " << std::string(i % 7, 'x') << "\n";
  }
  auto tail = TailLines(path, 3);
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->text, "line 19997 " + std::string(19997 % 7, 'x') + "\nline 19998 " + std::string(19998 % 7, 'x') +
                            "\nline 19999 " + std::string(19999 % 7, 'x') + "\n");
  EXPECT_EQ(tail->offset + tail->text.size(), tail->size);
  auto many = TailLines(path, 15000);  // spans many 64 KiB blocks
  ASSERT_TRUE(many);
  EXPECT_EQ(many->text.rfind("line 5000 ", 0), 0u);
  auto all = TailLines(path, 100000);
  EXPECT_EQ(all->offset, 0u);
}

TEST(LogReaderTest, UnterminatedLastLineAndEmptyAndMissing) {
  testing::TempDir dir;
  std::string path = dir.path() + "/pod.log";
  std::ofstream(path) << "a\nb\nc";
  EXPECT_EQ(TailLines(path, 2)->text, "b\nc");
  std::ofstream(dir.path() + "/empty.log") << "";
  EXPECT_EQ(TailLines(dir.path() + "/empty.log", 5)->text, "");
  EXPECT_EQ(TailLines(dir.path() + "/none.log", 5).error().code(), Code::kNotFound);
}

TEST(LogReaderTest, RangesStopAtTheEnd) {
  testing::TempDir dir;
  std::string path = dir.path() + "/pod.log";
  std::ofstream(path) << "0123456789";
  EXPECT_EQ(ReadLogRange(path, 2, 3)->text, "234");
  EXPECT_EQ(ReadLogRange(path, 8, 100)->text, "89");
  auto past = ReadLogRange(path, 50, 10);
  EXPECT_EQ(past->text, "");
  EXPECT_EQ(past->size, 10u);
}

}  // namespace
}  // namespace paddlecloud::jobs
