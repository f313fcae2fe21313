#include "files/cloud_path.h"

#include <gtest/gtest.h>

// files_test does not link Boost.JSON (src/files/CMakeLists.txt); its header-only form reads the vectors.
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>


namespace paddlecloud::files {
namespace {

TEST(CloudPathTest, SplitsValidPaths) {
  auto p = ParseCloudPath("datasets/mnist/train set ü.csv/");
  ASSERT_TRUE(p) << p.error().ToString();
  EXPECT_EQ(*p, (std::vector<std::string>{"datasets", "mnist", "train set ü.csv"}));
  EXPECT_TRUE(ParseCloudPath("")->empty());
  EXPECT_EQ(JoinSegments(*p, 1), "mnist/train set ü.csv");
}

TEST(CloudPathTest, RefusesUnsafePathsNamingTheField) {
  for (const std::string& bad : std::vector<std::string>{"/etc/passwd", "datasets/../x", "datasets/./x", "a//b", "..", std::string("a\0b", 3),
                          "a\\b", "a/\x01", std::string(256, 'x'), "a/" + std::string(4100, 'y'), "bad/\xff\xfe"}) {
    auto p = ParseCloudPath(bad, "to");
    ASSERT_FALSE(p) << bad;
    EXPECT_EQ(p.error().code(), Code::kInvalidArgument);
    EXPECT_EQ(p.error().field(), "to");
  }
  EXPECT_TRUE(ParseCloudPath(std::string(255, 'x')));
}

// The vectors the SDK and the web test too (testdata/cloud_paths.json; the rule: docs/files.md).
TEST(CloudPathTest, FollowsTheSharedVectors) {
  std::ifstream in(std::string(PADDLECLOUD_SOURCE_DIR) + "/testdata/cloud_paths.json");
  ASSERT_TRUE(in) << "testdata/cloud_paths.json not found in " PADDLECLOUD_SOURCE_DIR;
  std::stringstream text;
  text << in.rdbuf();
  // What the server's message says for each error code of the vectors.
  const std::map<std::string, std::string> said = {
      {"absolute", "must be relative"},       {"empty_segment", "empty segment"},
      {"dot_segment", "'.' or '..'"},         {"nul", "NUL"},
      {"backslash", "backslashes"},           {"control", "control characters"},
      {"segment_too_long", "longer than 255"}, {"path_too_long", "longer than 4096"}};
  auto vectors = boost::json::parse(text.str()).at("vectors").as_array();
  ASSERT_GT(vectors.size(), 20u);
  for (const auto& v : vectors) {
    std::string input(v.at("input").as_string());
    auto parsed = ParseCloudPath(input);
    if (const auto* path = v.as_object().if_contains("path")) {
      ASSERT_TRUE(parsed) << input << ": " << parsed.error().ToString();
      EXPECT_EQ(JoinSegments(*parsed), path->as_string()) << input;
    } else {
      std::string code(v.at("error").as_string());
      ASSERT_FALSE(parsed) << input;
      ASSERT_TRUE(said.contains(code)) << code;
      EXPECT_NE(parsed.error().message().find(said.at(code)), std::string::npos)
          << code << ": " << parsed.error().message();
    }
  }
}

TEST(CloudPathTest, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("数据集 ü 😀"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));       // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe6\x95"));       // truncated
  EXPECT_FALSE(IsValidUtf8("\x80"));
}

}  // namespace
}  // namespace paddlecloud::files
