#include "files/tar_format.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "testing/server_process.h"

namespace paddlecloud::files {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(TarFormatTest, HeadersAreBlocksWithValidChecksums) {
  std::string h = TarHeader("folder/a.txt", false, 5, 1700000000);
  ASSERT_EQ(h.size(), 512u);
  EXPECT_EQ(h.substr(0, 12), "folder/a.txt");
  EXPECT_EQ(h.substr(257, 5), "ustar");
  unsigned sum = 0;
  for (std::size_t i = 0; i < 512; ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(h[i]);
  EXPECT_EQ(std::stoul(h.substr(148, 6), nullptr, 8), sum);
  EXPECT_EQ(TarPadding(5).size(), 507u);
  EXPECT_EQ(TarPadding(512).size(), 0u);
  // Long and non-ASCII names get a pax header first.
  std::string long_name = TarHeader(std::string(150, 'n') + "/ü.bin", false, 1, 0);
  EXPECT_EQ(long_name.size(), 3 * 512u);
  EXPECT_EQ(long_name[156], 'x');
  EXPECT_NE(long_name.find("path=" + std::string(150, 'n') + "/ü.bin\n"), std::string::npos);
}

// Writes an archive the way a folder download streams it, then lets GNU tar, an independent reader,
// check and unpack it.
class TarArchiveTest : public ::testing::Test {
 protected:
  void AddFile(const std::string& path, std::string_view content, std::int64_t mtime = 0) {
    archive_ += TarHeader(path, false, content.size(), mtime);
    archive_ += content;
    archive_ += TarPadding(content.size());
  }
  std::string Unpack() {
    std::ofstream(dir_.path() + "/a.tar", std::ios::binary) << archive_;
    std::string out = dir_.path() + "/out";
    return testing::RunCommand("mkdir " + out + " && tar -xvf " + dir_.path() + "/a.tar -C " + out + " 2>&1; echo exit=$?");
  }
  testing::TempDir dir_;
  std::string archive_;
};

TEST_F(TarArchiveTest, FoldersFilesAndLongNonAsciiNamesUnpack) {
  std::string long_name = "data/" + std::string(150, 'n') + "/数据 ü.bin";
  archive_ += TarHeader("data", true, 0, 1700000000);
  AddFile("data/a.txt", "hello", 1700000000);
  AddFile("data/empty", "");
  AddFile(long_name, "abc");
  AddFile("data/block", std::string(512, 'b'));
  archive_ += TarEnd();
  std::string listing = Unpack();
  EXPECT_NE(listing.find("exit=0"), std::string::npos) << listing;
  EXPECT_EQ(Slurp(dir_.path() + "/out/data/a.txt"), "hello");
  EXPECT_EQ(Slurp(dir_.path() + "/out/data/empty"), "");
  EXPECT_EQ(Slurp(dir_.path() + "/out/" + long_name), "abc");
  EXPECT_EQ(Slurp(dir_.path() + "/out/data/block"), std::string(512, 'b'));
  EXPECT_EQ(testing::RunCommand("stat -c %Y " + dir_.path() + "/out/data/a.txt"), "1700000000\n");
}

TEST_F(TarArchiveTest, SizesOfEightGibibytesAndMoreGoInAPaxRecord) {
  std::string header = TarHeader("huge.bin", false, 9ull << 30, 0);
  ASSERT_EQ(header.size(), 3 * 512u);
  EXPECT_EQ(header[156], 'x');
  EXPECT_NE(header.find(" size=" + std::to_string(9ull << 30) + "\n"), std::string::npos);
  // GNU tar reads the pax size: listing the header alone reports the full size, then the missing data.
  std::ofstream(dir_.path() + "/h.tar", std::ios::binary) << header;
  std::string listing = testing::RunCommand("tar -tvf " + dir_.path() + "/h.tar 2>&1");
  EXPECT_NE(listing.find(std::to_string(9ull << 30)), std::string::npos) << listing;
}

}  // namespace
}  // namespace paddlecloud::files
