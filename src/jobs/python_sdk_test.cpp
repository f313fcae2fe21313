#include "jobs/python_sdk.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "testing/server_process.h"

#ifndef PADDLECLOUD_SOURCE_DIR
#define PADDLECLOUD_SOURCE_DIR "."
#endif

namespace paddlecloud::jobs {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> Entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(PythonSdkTest, TheBinaryEmbedsEverySdkModuleAsInTheSourceTree) {
  fs::path source = fs::path(PADDLECLOUD_SOURCE_DIR) / "sdk/python/paddlecloud";
  std::size_t modules = 0;
  for (const auto& entry : fs::directory_iterator(source))
    if (entry.path().extension() == ".py") ++modules;
  auto files = EmbeddedPythonSdk();
  ASSERT_EQ(files.size(), modules);
  for (const auto& file : files) {
    EXPECT_TRUE(file.path.ends_with(".py")) << file.path;
    EXPECT_EQ(file.data, ReadFile(source / file.path)) << file.path;
  }
}

TEST(PythonSdkTest, InstallsOnceReadOnlyAndClearsAnInterruptedInstall) {
  testing::TempDir dir;
  std::string root = dir.path() + "/sdk/python";
  fs::create_directories(root + "/.tmp-abc123/paddlecloud");   // what a killed server left
  std::ofstream(root + "/.tmp-abc123/paddlecloud/board.py") << "half";
  auto installed = InstallPythonSdk(root);
  ASSERT_TRUE(installed.has_value()) << installed.error().message();
  EXPECT_EQ(fs::path(*installed).parent_path(), fs::path(root));
  EXPECT_EQ(Entries(root), std::vector<std::string>{fs::path(*installed).filename().string()});
  for (const auto& file : EmbeddedPythonSdk()) {
    fs::path path = fs::path(*installed) / "paddlecloud" / file.path;
    EXPECT_EQ(ReadFile(path), file.data) << path;
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0444u) << path;
  }
  // The same files again: the folder is reused as it is.
  auto again = InstallPythonSdk(root);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(*again, *installed);
  // Other files are another version beside it; nothing is written without files.
  http::EmbeddedFile changed[] = {{"__init__.py", "X = 1\n", "\"e1\""}};
  auto other = InstallPythonSdk(root, changed);
  ASSERT_TRUE(other.has_value());
  EXPECT_NE(*other, *installed);
  EXPECT_EQ(ReadFile(fs::path(*other) / "paddlecloud/__init__.py"), "X = 1\n");
  EXPECT_TRUE(fs::exists(*installed));
  EXPECT_EQ(*InstallPythonSdk(root, {}), "");
}

TEST(PythonSdkTest, AnUnwritableRootIsAnErrorNamingIt) {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/file") << "x";
  auto installed = InstallPythonSdk(dir.path() + "/file/sdk");
  ASSERT_FALSE(installed.has_value());
  EXPECT_NE(installed.error().message().find(dir.path() + "/file/sdk"), std::string::npos)
      << installed.error().message();
}

}  // namespace
}  // namespace paddlecloud::jobs
