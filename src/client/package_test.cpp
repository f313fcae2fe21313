// Packing a job's directory (read back with libarchive), the SSE decoder and the output formats.
#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "client/output.h"
#include "client/package.h"
#include "testing/server_process.h"

namespace paddlecloud::client {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Entry {
  bool dir = false;
  int perm = 0;
  std::string content;
};

// Every entry of a tar(.gz) archive by path.
std::map<std::string, Entry> ReadArchive(const std::string& path) {
  std::map<std::string, Entry> out;
  struct archive* a = archive_read_new();
  archive_read_support_filter_all(a);
  archive_read_support_format_all(a);
  EXPECT_EQ(archive_read_open_filename(a, path.c_str(), 10240), ARCHIVE_OK) << archive_error_string(a);
  struct archive_entry* entry = nullptr;
  while (archive_read_next_header(a, &entry) == ARCHIVE_OK) {
    Entry e;
    e.dir = archive_entry_filetype(entry) == AE_IFDIR;
    e.perm = static_cast<int>(archive_entry_perm(entry));
    EXPECT_TRUE(e.dir || archive_entry_filetype(entry) == AE_IFREG) << archive_entry_pathname(entry);
    char buffer[4096];
    for (la_ssize_t n; (n = archive_read_data(a, buffer, sizeof buffer)) > 0;) e.content.append(buffer, n);
    std::string name = archive_entry_pathname(entry);
    if (!name.empty() && name.back() == '/') name.pop_back();
    out[name] = e;
  }
  archive_read_free(a);
  return out;
}

void Write(const std::string& path, const std::string& content) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

class PackageTest : public ::testing::Test {
 protected:
  std::string Src() const { return dir_.path() + "/src"; }
  std::string Archive() const { return dir_.path() + "/out.tar.gz"; }
  testing::TempDir dir_;
};

TEST_F(PackageTest, PacksFilesAndFoldersWithoutCachesAndGit) {
  Write(Src() + "/train.py", "print('hi')\n");
  Write(Src() + "/run.sh", "#!/bin/sh\n");
  ::chmod((Src() + "/run.sh").c_str(), 0755);
  Write(Src() + "/data/part-0.txt", std::string(300'000, 'x'));  // more than one read buffer
  fs::create_directories(Src() + "/empty");
  Write(Src() + "/.git/HEAD", "ref: refs/heads/main\n");
  Write(Src() + "/__pycache__/train.cpython-311.pyc", "junk");
  Write(Src() + "/lib/__pycache__/x.pyc", "junk");
  Write(Src() + "/lib/util.pyc", "junk");
  Write(Src() + "/lib/util.py", "X = 1\n");
  Write(Src() + "/.gitignore", "*.pyc\n");  // only .git itself is left out

  auto packed = PackDirectory(Src(), Archive());
  ASSERT_TRUE(packed) << packed.error().ToString();
  EXPECT_EQ(packed->files, 5u);
  EXPECT_EQ(packed->directories, 3u);  // data, empty, lib
  EXPECT_EQ(packed->bytes, 12u + 10u + 300'000u + 6u + 6u);
  EXPECT_TRUE(packed->skipped.empty());

  auto entries = ReadArchive(Archive());
  std::vector<std::string> names;
  for (const auto& [name, e] : entries) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{".gitignore", "data", "data/part-0.txt", "empty", "lib", "lib/util.py",
                                             "run.sh", "train.py"}));
  EXPECT_EQ(entries["train.py"].content, "print('hi')\n");
  EXPECT_EQ(entries["data/part-0.txt"].content.size(), 300'000u);
  EXPECT_EQ(entries["run.sh"].perm & 0111, 0111);
  EXPECT_TRUE(entries["empty"].dir);
}

TEST_F(PackageTest, LinksInsideAreCopiedLinksOutsideAreRefused) {
  Write(Src() + "/real.py", "REAL = True\n");
  Write(Src() + "/sub/inner.txt", "inner\n");
  fs::create_symlink("real.py", Src() + "/alias.py");
  fs::create_symlink("sub", Src() + "/sub-link");
  ASSERT_EQ(::mkfifo((Src() + "/pipe").c_str(), 0600), 0);
  auto packed = PackDirectory(Src(), Archive());
  ASSERT_TRUE(packed) << packed.error().ToString();
  auto entries = ReadArchive(Archive());
  EXPECT_EQ(entries["alias.py"].content, "REAL = True\n");  // a copy, not a link
  EXPECT_FALSE(entries.count("sub-link"));
  EXPECT_FALSE(entries.count("pipe"));
  EXPECT_EQ(packed->skipped, (std::vector<std::string>{"pipe (not a regular file)", "sub-link (link to a folder)"}));

  Write(dir_.path() + "/secret.txt", "do not upload\n");
  fs::create_symlink("../../secret.txt", Src() + "/sub/leak.txt");
  auto outside = PackDirectory(Src(), Archive());
  ASSERT_FALSE(outside);
  EXPECT_EQ(outside.error().code(), Code::kInvalidArgument);
  EXPECT_NE(outside.error().message().find(Src() + "/sub/leak.txt is a symbolic link to '../../secret.txt', outside"),
            std::string::npos)
      << outside.error().message();
  fs::remove(Src() + "/sub/leak.txt");

  // A sibling whose name starts like the directory is still outside it.
  Write(Src() + "-other/x", "x");
  fs::create_symlink(Src() + "-other/x", Src() + "/x");
  EXPECT_FALSE(PackDirectory(Src(), Archive()));
  fs::remove(Src() + "/x");

  fs::create_symlink("nowhere.py", Src() + "/dangling.py");
  auto dangling = PackDirectory(Src(), Archive());
  ASSERT_FALSE(dangling);
  EXPECT_NE(dangling.error().message().find("does not exist"), std::string::npos) << dangling.error().message();
}

TEST_F(PackageTest, LimitsAndBadInput) {
  Write(Src() + "/a.txt", std::string(600, 'a'));
  Write(Src() + "/b.txt", std::string(600, 'b'));
  auto big = PackDirectory(Src(), Archive(), {.max_bytes = 1000, .max_entries = 100});
  ASSERT_FALSE(big);
  EXPECT_NE(big.error().message().find("more than 1000 bytes"), std::string::npos) << big.error().message();
  auto many = PackDirectory(Src(), Archive(), {.max_bytes = 1 << 20, .max_entries = 1});
  ASSERT_FALSE(many);
  EXPECT_NE(many.error().message().find("more than 1 files and folders"), std::string::npos) << many.error().message();
  EXPECT_TRUE(PackDirectory(Src(), Archive(), {.max_bytes = 1200, .max_entries = 2}));

  auto missing = PackDirectory(dir_.path() + "/nope", Archive());
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message(), dir_.path() + "/nope is not a directory");

  // The archive written inside the packed directory does not pack itself.
  auto self = PackDirectory(Src(), Src() + "/self.tar.gz");
  ASSERT_TRUE(self) << self.error().ToString();
  EXPECT_EQ(self->files, 2u);
}

TEST(TempFileTest, IsRemovedWithItsOwner) {
  std::string path;
  {
    auto file = TempFile::Create("paddlecloud-test-", ".tar.gz");
    ASSERT_TRUE(file) << file.error().ToString();
    path = file->path();
    EXPECT_TRUE(path.ends_with(".tar.gz"));
    EXPECT_TRUE(fs::exists(path));
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
  }
  EXPECT_FALSE(fs::exists(path));
}

TEST(SseDecoderTest, ReassemblesEventsAcrossChunks) {
  SseDecoder decoder;
  std::vector<std::pair<std::string, std::string>> seen;
  auto collect = [&](const std::string& e, const std::string& d) {
    seen.emplace_back(e, d);
    return true;
  };
  std::string stream = "retry: 3000\n\n: keep-alive\n\nevent: log\ndata: {\"a\":1}\n\nevent: log\r\ndata: one\r\ndata: two\r\n\r\n"
                       "data: plain\n\nevent: end\ndata: {\"state\":\"Succeeded\"}\n\n";
  for (char c : stream) ASSERT_TRUE(decoder.Feed(std::string_view(&c, 1), collect));
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0], std::make_pair(std::string("log"), std::string("{\"a\":1}")));
  EXPECT_EQ(seen[1], std::make_pair(std::string("log"), std::string("one\ntwo")));
  EXPECT_EQ(seen[2], std::make_pair(std::string("message"), std::string("plain")));
  EXPECT_EQ(seen[3], std::make_pair(std::string("end"), std::string("{\"state\":\"Succeeded\"}")));

  SseDecoder stopping;
  int calls = 0;
  EXPECT_FALSE(stopping.Feed("data: 1\n\ndata: 2\n\n", [&](const std::string&, const std::string&) {
    ++calls;
    return false;
  }));
  EXPECT_EQ(calls, 1);
}

TEST(OutputTest, Formats) {
  EXPECT_EQ(FormatBytes(0), "0 B");
  EXPECT_EQ(FormatBytes(1023), "1023 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(5ULL << 20), "5.0 MiB");
  EXPECT_EQ(FormatBytes(3ULL << 30), "3.0 GiB");
  EXPECT_EQ(FormatAge(-5), "0s");
  EXPECT_EQ(FormatAge(45), "45s");
  EXPECT_EQ(FormatAge(17 * 60), "17m");
  EXPECT_EQ(FormatAge(3 * 3600 + 5), "3h");
  EXPECT_EQ(FormatAge(3 * 86400), "3d");
  EXPECT_EQ(FormatTime(0), "-");
  EXPECT_EQ(FormatTime(1700000000).size(), 19u);
  EXPECT_EQ(FormatProgress(512, 1024, 0ms), " 50% 512 B / 1.0 KiB");
  EXPECT_EQ(FormatProgress(2 << 20, 2 << 20, 2000ms), "100% 2.0 MiB / 2.0 MiB  1.0 MiB/s");
  EXPECT_EQ(FormatProgress(0, 0, 0ms), "100% 0 B / 0 B");
  EXPECT_EQ(FormatTable({"NAME", "ID", "STATE"}, {{"fit-a-line", "3", "Succeeded"}, {"x", "12", ""}}),
            "NAME        ID  STATE\n"
            "fit-a-line  3   Succeeded\n"
            "x           12\n");
}

}  // namespace
}  // namespace paddlecloud::client
