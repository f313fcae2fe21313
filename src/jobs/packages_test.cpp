#include "jobs/packages.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "testing/server_process.h"
#include "testing/smtp_server.h"

namespace paddlecloud::jobs {
namespace {

namespace fs = std::filesystem;

// Builds an archive with Python's tarfile, which can write any entry name (also hostile ones).
void MakeTar(const std::string& path, const std::string& python_entries) {
  std::string script = "import io, tarfile\n"
                       "t = tarfile.open('" + path + "', 'w:gz')\n"
                       "def add(name, data=b'', mode=0o644, kind=tarfile.REGTYPE, link=''):\n"
                       "    i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode; i.type = kind; i.linkname = link\n"
                       "    t.addfile(i, io.BytesIO(data) if kind == tarfile.REGTYPE else None)\n" +
                       python_entries + "t.close()\n";
  std::string file = path + ".py";
  std::ofstream(file) << script;
  ASSERT_EQ(std::system(("/usr/bin/python3 " + file).c_str()), 0);
  fs::remove(file);
}

TEST(PackagesTest, ExtractsClaimsOnce) {
  testing::TempDir dir;
  PackageStore store(dir.path() + "/jobs");
  std::string upload = store.UploadPath("ann-lab");
  MakeTar(upload, "add('train.py', b'print(1)\\n', 0o755)\nadd('data/x.csv', b'a,b\\n1,2\\n')\n"
                  "add('data', kind=tarfile.DIRTYPE)\n");
  auto info = store.Extract("ann-lab", upload);
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->files, 2u);
  EXPECT_EQ(info->bytes, 17u);
  EXPECT_FALSE(fs::exists(upload));  // the upload is removed
  EXPECT_TRUE(store.Exists("ann-lab", info->id));
  EXPECT_FALSE(store.Exists("eve-lab", info->id));  // another tenant's package is not there
  std::string job_code = dir.path() + "/jobs/ann-lab/1/code";
  ASSERT_TRUE(store.Claim("ann-lab", info->id, job_code).ok());
  EXPECT_EQ(testing::ReadFile(job_code + "/data/x.csv"), "a,b\n1,2\n");
  struct stat st {};
  ASSERT_EQ(::stat((job_code + "/train.py").c_str(), &st), 0);
  EXPECT_TRUE(st.st_mode & S_IXUSR);
  Status again = store.Claim("ann-lab", info->id, dir.path() + "/jobs/ann-lab/2/code");
  EXPECT_EQ(again.code(), Code::kNotFound);
  EXPECT_EQ(again.field(), "package");
}

TEST(PackagesTest, HostileArchivesAreRefusedAndLeaveNothing) {
  testing::TempDir dir;
  PackageStore store(dir.path() + "/jobs");
  struct Case {
    std::string entries, message;
  };
  for (const auto& c : std::vector<Case>{
           {"add('../escape.py', b'x')\n", "unsafe path"},
           {"add('/etc/passwd', b'x')\n", "unsafe path"},
           {"add('a/../../b', b'x')\n", "unsafe path"},
           {"add('link', kind=tarfile.SYMTYPE, link='/etc/passwd')\n", "not a regular file"},
           {"add('dev', kind=tarfile.CHRTYPE)\n", "not a regular file"},
           {"add('a.py', b'x')\nadd('a.py', b'y')\n", "twice"},
           {"add('a.py', b'x')\nadd('a.py/b.py', b'y')\n", "under a file"},
       }) {
    std::string upload = store.UploadPath("ann-lab");
    MakeTar(upload, c.entries);
    auto info = store.Extract("ann-lab", upload);
    ASSERT_FALSE(info) << c.entries;
    EXPECT_NE(info.error().message().find(c.message), std::string::npos) << info.error().message();
  }
  std::string truncated = store.UploadPath("ann-lab");
  MakeTar(truncated, "import os\nadd('data.bin', os.urandom(200000))\n");
  fs::resize_file(truncated, fs::file_size(truncated) / 2);
  auto cut = store.Extract("ann-lab", truncated);
  ASSERT_FALSE(cut);
  EXPECT_EQ(cut.error().field(), "package");
  std::string garbage = store.UploadPath("ann-lab");
  std::ofstream(garbage) << "this is not an archive";
  EXPECT_EQ(store.Extract("ann-lab", garbage).error().field(), "package");
  // Nothing but the (empty) packages folder is left.
  EXPECT_TRUE(fs::is_empty(dir.path() + "/jobs/ann-lab/packages"));
  EXPECT_FALSE(fs::exists(dir.path() + "/escape.py"));
}

TEST(PackagesTest, TheSharedArchiveRuleAndTheStorageLeftStopExtraction) {
  testing::TempDir dir;
  PackageStore store(dir.path() + "/jobs");
  std::string bomb = store.UploadPath("ann-lab");
  MakeTar(bomb, "add('zeros', bytes(20 << 20))\n");
  ASSERT_LT(fs::file_size(bomb), 100'000u);
  auto refused = store.Extract("ann-lab", bomb);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code(), Code::kPayloadTooLarge);
  EXPECT_EQ(refused.error().details().at("limit"), "expansion_ratio");
  std::string small = store.UploadPath("ann-lab");
  MakeTar(small, "add('train.py', b'print(1)\\n' * 10)\n");
  auto over = store.Extract("ann-lab", small, 50);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), Code::kQuotaExceeded);
  EXPECT_TRUE(fs::is_empty(dir.path() + "/jobs/ann-lab/packages"));
  EXPECT_EQ(store.Usage("ann-lab"), 0u);
}

TEST(PackagesTest, UnusedPackagesCountAndExpire) {
  testing::TempDir dir;
  PackageStore store(dir.path() + "/jobs");
  std::string upload = store.UploadPath("ann-lab");
  // As `tar -C dir .` writes it: the root folder "./" first.
  MakeTar(upload, "add('./', kind=tarfile.DIRTYPE)\nadd('./train.py', b'print(1)\\n')\n"
                  "add('./data/x.csv', b'a,b\\n1,2\\n')\n");
  auto info = store.Extract("ann-lab", upload);
  ASSERT_TRUE(info) << info.error().ToString();
  // A link planted beside it, to a big file outside, is not counted.
  std::ofstream(dir.path() + "/big", std::ios::binary) << std::string(5000, 'b');
  fs::create_symlink(dir.path() + "/big", dir.path() + "/jobs/ann-lab/packages/" + info->id + "/big");
  fs::create_directory_symlink("/", dir.path() + "/jobs/ann-lab/packages/" + info->id + "/root");
  EXPECT_EQ(store.Usage("ann-lab"), 17u);
  EXPECT_EQ(store.Usage("bob-lab"), 0u);
  EXPECT_EQ(store.ExpireUnused(std::chrono::hours(1)), 0);  // still fresh
  EXPECT_TRUE(store.Exists("ann-lab", info->id));
  EXPECT_EQ(store.ExpireUnused(std::chrono::seconds(0)), 1);
  EXPECT_FALSE(store.Exists("ann-lab", info->id));
  EXPECT_EQ(store.Usage("ann-lab"), 0u);
  EXPECT_TRUE(fs::exists(dir.path() + "/big"));  // the link's target is untouched
  EXPECT_EQ(store.Claim("ann-lab", info->id, dir.path() + "/jobs/ann-lab/1/code").code(), Code::kNotFound);
}

TEST(PackagesTest, CopyCodeCopiesFilesAndFoldersButNoLinksWithinTheLimits) {
  testing::TempDir dir;
  fs::path code = dir.path() + "/jobs/ann-lab/1/code";
  fs::create_directories(code / "data" / "deep");
  std::ofstream(code / "train.py") << "print(1)\n";
  fs::permissions(code / "train.py", fs::perms::owner_exec, fs::perm_options::add);
  std::ofstream(code / "data" / "deep" / "x.csv") << "a,b\n";
  std::ofstream(dir.path() + "/secret") << "other tenant";
  fs::create_symlink(dir.path() + "/secret", code / "file-link");
  fs::create_directory_symlink(dir.path(), code / "dir-link");
  ::mkfifo((code / "fifo").c_str(), 0644);

  std::string copy = dir.path() + "/jobs/ann-lab/2/code";
  auto info = PackageStore::CopyCode(code.string(), copy);
  ASSERT_TRUE(info) << info.error().ToString();
  EXPECT_EQ(info->files, 2u);
  EXPECT_EQ(info->bytes, 13u);
  EXPECT_TRUE(fs::exists(copy + "/data/deep/x.csv"));
  EXPECT_TRUE((fs::status(copy + "/train.py").permissions() & fs::perms::owner_exec) != fs::perms::none);
  for (const char* left_out : {"file-link", "dir-link", "fifo"})
    EXPECT_FALSE(fs::exists(fs::symlink_status(copy + "/" + left_out))) << left_out;

  // Past the account's storage: nothing of the copy is kept, and the error names the field.
  auto over = PackageStore::CopyCode(code.string(), dir.path() + "/jobs/ann-lab/3/code", 5);
  ASSERT_FALSE(over);
  EXPECT_EQ(over.error().code(), Code::kQuotaExceeded);
  EXPECT_EQ(over.error().field(), "code_from_job");
  EXPECT_FALSE(fs::exists(dir.path() + "/jobs/ann-lab/3/code"));
  auto gone = PackageStore::CopyCode(dir.path() + "/jobs/ann-lab/9/code", dir.path() + "/jobs/ann-lab/4/code");
  ASSERT_FALSE(gone);
  EXPECT_EQ(gone.error().code(), Code::kNotFound);
  EXPECT_EQ(gone.error().field(), "code_from_job");
}

}  // namespace
}  // namespace paddlecloud::jobs
