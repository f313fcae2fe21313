#include "http/static_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "testing/server_process.h"

namespace paddlecloud::http {
namespace {

TEST(RangeTest, ParsesTheForms) {
  auto r = ParseRange("bytes=0-99", 1000);
  ASSERT_TRUE(r && *r);
  EXPECT_EQ((*r)->first, 0u);
  EXPECT_EQ((*r)->last, 99u);
  r = ParseRange("bytes=900-", 1000);
  EXPECT_EQ((*r)->first, 900u);
  EXPECT_EQ((*r)->last, 999u);
  r = ParseRange("bytes=-100", 1000);
  EXPECT_EQ((*r)->first, 900u);
  r = ParseRange("bytes=990-5000", 1000);
  EXPECT_EQ((*r)->last, 999u);
}

TEST(RangeTest, UnsatisfiableAndIgnored) {
  EXPECT_EQ(ParseRange("bytes=1000-", 1000).error().code(), Code::kRangeNotSatisfiable);
  EXPECT_EQ(ParseRange("bytes=-0", 1000).error().code(), Code::kRangeNotSatisfiable);
  EXPECT_FALSE(*ParseRange("items=0-1", 1000));         // other unit: whole
  EXPECT_FALSE(*ParseRange("bytes=0-1,5-6", 1000));     // several ranges: whole
  EXPECT_FALSE(*ParseRange("bytes=5-1", 1000));         // invalid: whole
  EXPECT_FALSE(*ParseRange("bytes=a-b", 1000));
}

TEST(MimeTest, KnownAndUnknownExtensions) {
  EXPECT_EQ(MimeTypeFor("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(MimeTypeFor("assets/app-1.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(MimeTypeFor("a/b.svg"), "image/svg+xml");
  EXPECT_EQ(MimeTypeFor("model.tar.gz"), "application/gzip");
  EXPECT_EQ(MimeTypeFor("README"), "application/octet-stream");
}

TEST(AssetSourceTest, DirectorySourceNeverLeavesItsRoot) {
  testing::TempDir dir;
  namespace fs = std::filesystem;
  fs::create_directories(dir.path() + "/web/assets");
  fs::create_directories(dir.path() + "/secret");
  std::ofstream(dir.path() + "/web/index.html") << "<html></html>";
  std::ofstream(dir.path() + "/secret/key.pem") << "KEY";
  fs::create_symlink(dir.path() + "/secret/key.pem", dir.path() + "/web/assets/key.pem");
  auto source = MakeDirectoryAssetSource(dir.path() + "/web");
  auto index = source->Find("index.html");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->size, 13u);
  EXPECT_EQ(index->content_type, "text/html; charset=utf-8");
  EXPECT_FALSE(source->Find("assets/key.pem"));
  EXPECT_FALSE(source->Find("../secret/key.pem"));
  EXPECT_FALSE(source->Find("assets"));  // a directory is not an asset
}

TEST(AssetSourceTest, EmbeddedSourceFindsByPath) {
  static const EmbeddedFile files[] = {{"index.html", "<html>", "\"abc\""}};
  auto source = MakeEmbeddedAssetSource(files);
  auto a = source->Find("index.html");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->data, "<html>");
  EXPECT_EQ(a->etag, "\"abc\"");
  EXPECT_FALSE(source->Find("other.html"));
}

}  // namespace
}  // namespace paddlecloud::http
