#include "kube_test_server/kube_util.h"

#include <gtest/gtest.h>

namespace paddlecloud::kube_test {
namespace {
namespace json = boost::json;

json::object WithLabels(json::object labels) {
  return json::object{{"metadata", json::object{{"labels", std::move(labels)}}}};
}

TEST(LabelSelector, EqualityInAndExistence) {
  std::string error;
  auto s = ParseLabelSelector("app=web, tier in (a,b),!gone,env!=prod", &error);
  ASSERT_TRUE(s) << error;
  EXPECT_TRUE(Matches(*s, WithLabels({{"app", "web"}, {"tier", "b"}})));
  EXPECT_FALSE(Matches(*s, WithLabels({{"app", "web"}, {"tier", "c"}})));
  EXPECT_FALSE(Matches(*s, WithLabels({{"app", "web"}, {"tier", "a"}, {"gone", "x"}})));
  EXPECT_FALSE(Matches(*s, WithLabels({{"app", "web"}, {"tier", "a"}, {"env", "prod"}})));
  EXPECT_FALSE(Matches(*s, json::object{}));
  auto notin = ParseLabelSelector("x notin (1,2),y", &error);
  ASSERT_TRUE(notin) << error;
  EXPECT_TRUE(Matches(*notin, WithLabels({{"y", ""}})));
  EXPECT_FALSE(Matches(*notin, WithLabels({{"x", "1"}, {"y", "z"}})));
  auto empty = ParseLabelSelector("", &error);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(Matches(*empty, json::object{}));
}

TEST(LabelSelector, RejectsGarbage) {
  std::string error;
  EXPECT_FALSE(ParseLabelSelector("a=b,", &error));
  EXPECT_FALSE(ParseLabelSelector("a in (x", &error));
  EXPECT_FALSE(ParseLabelSelector("a foo (x)", &error));
  EXPECT_FALSE(ParseLabelSelector("a=b c", &error));
  EXPECT_FALSE(ParseLabelSelector("=b", &error));
  EXPECT_FALSE(error.empty());
}

TEST(FieldSelector, NameAndUnknownField) {
  std::string error;
  auto s = ParseFieldSelector("metadata.name=p1", &error);
  ASSERT_TRUE(s);
  EXPECT_TRUE(Matches(*s, json::object{{"metadata", json::object{{"name", "p1"}}}}));
  EXPECT_FALSE(Matches(*s, json::object{{"metadata", json::object{{"name", "p2"}}}}));
  EXPECT_FALSE(ParseFieldSelector("spec.foo=1", &error));
  EXPECT_NE(error.find("not a known field selector"), std::string::npos);
}

TEST(Quantity, CpuMemoryAndGarbage) {
  EXPECT_EQ(ParseMilli("500m"), 500);
  EXPECT_EQ(ParseMilli("2"), 2000);
  EXPECT_EQ(ParseMilli("1.5"), 1500);
  EXPECT_EQ(ParseUnits("1Gi"), 1LL << 30);
  EXPECT_EQ(ParseUnits("512Mi"), 512LL << 20);
  EXPECT_EQ(ParseUnits("1G"), 1000000000);
  EXPECT_EQ(ParseUnits("1e3"), 1000);
  EXPECT_FALSE(ParseUnits("abc"));
  EXPECT_FALSE(ParseUnits("1Xi"));
  EXPECT_FALSE(ParseUnits(""));
}

TEST(MergePatch, Rfc7386) {
  json::value target = json::parse(R"({"a":"b","c":{"d":"e","f":"g"},"l":[1,2]})");
  MergePatch(target, json::parse(R"({"a":"z","c":{"f":null},"l":[3],"n":{"x":1}})"));
  EXPECT_EQ(target, json::parse(R"({"a":"z","c":{"d":"e"},"l":[3],"n":{"x":1}})"));
}

TEST(Time, Rfc3339RoundTrip) {
  EXPECT_EQ(ParseRfc3339(Rfc3339(1700000000)), 1700000000);
  EXPECT_EQ(ParseRfc3339("2026-01-02T03:04:05.123Z"), ParseRfc3339("2026-01-02T03:04:05Z"));
  EXPECT_FALSE(ParseRfc3339("yesterday"));
  EXPECT_FALSE(ParseRfc3339("2026-01-02T03:04:05+02:00"));
  EXPECT_EQ(NormalizeRfc3339Nano("2026-01-02T03:04:05Z"), "2026-01-02T03:04:05.000000000Z");
  EXPECT_EQ(NormalizeRfc3339Nano("2026-01-02T03:04:05.5Z"), "2026-01-02T03:04:05.500000000Z");
  EXPECT_EQ(NormalizeRfc3339Nano("2026-01-02T03:04:05.1234567891Z"), "2026-01-02T03:04:05.123456789Z");
  EXPECT_FALSE(NormalizeRfc3339Nano("soon"));
  EXPECT_EQ(NowRfc3339Nano().size(), std::string("2026-01-02T03:04:05.123456789Z").size());
}

TEST(Names, Rfc1123) {
  EXPECT_TRUE(IsDnsSubdomain("fit-a-line-12-trainer"));
  EXPECT_TRUE(IsDnsSubdomain("a.b"));
  EXPECT_FALSE(IsDnsSubdomain("Upper"));
  EXPECT_FALSE(IsDnsSubdomain("-x"));
  EXPECT_FALSE(IsDnsSubdomain(""));
  EXPECT_FALSE(IsDnsLabel("a.b"));
  EXPECT_EQ(RandomSuffix(5).size(), 5u);
  EXPECT_EQ(NewUid().size(), 36u);
}

}  // namespace
}  // namespace paddlecloud::kube_test
