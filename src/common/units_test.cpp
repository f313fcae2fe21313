// The one grammar of units.h, as test vectors.
#include "common/units.h"

#include <gtest/gtest.h>

namespace paddlecloud::units {
namespace {

using std::chrono::milliseconds;

TEST(UnitsTest, Durations) {
  const std::pair<const char*, std::int64_t> good[] = {
      {"250ms", 250},     {"10", 10'000},          {"90s", 90'000},         {"30m", 1'800'000},
      {"2h", 7'200'000},  {"1.5h", 5'400'000},     {"7d", 604'800'000},     {"2w", 1'209'600'000},
      {"0", 0},           {"0.5ms", 1},  // rounded up to a whole ms
  };
  for (auto [text, ms] : good) EXPECT_EQ(ParseDuration(text).value(), milliseconds(ms)) << text;
  for (const char* bad : {"", "ten seconds", "5 s", " 5s", "5S", "5y", "s", "1.2.3s", "-5s", "+5s", "1e3s",
                          "99999999999999999999s", "999999999999w"}) {
    auto r = ParseDuration(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
  EXPECT_NE(ParseDuration("5y").error().message().find("\"5y\" is not a duration (use e.g."), std::string::npos);
  EXPECT_NE(ParseDuration("-5s").error().message().find("must not be negative"), std::string::npos);
}

TEST(UnitsTest, ByteSizesUseOneMeaningForEachPrefix) {
  const std::pair<const char*, std::int64_t> good[] = {
      {"1000", 1000},           {"0", 0},                   {"12B", 12},
      {"1k", 1000},             {"1K", 1000},               {"500KB", 500'000},
      {"1M", 1'000'000},        {"2G", 2'000'000'000},      {"2GB", 2'000'000'000},
      {"3T", 3'000'000'000'000}, {"1Ki", 1024},             {"512KiB", 512 << 10},
      {"512Mi", 512LL << 20},   {"64MiB", 64LL << 20},      {"1Gi", 1LL << 30},
      {"1.5Gi", 3LL << 29},     {"2Ti", 2LL << 40},         {"1.5K", 1500},
      {"0.5", 1},  // rounded up to a whole byte
  };
  for (auto [text, bytes] : good) EXPECT_EQ(ParseByteSize(text).value(), bytes) << text;
  for (const char* bad : {"", "Gi", "1Gb", "1g", "1gb", "abc", "1..5Gi", "100m", "1 Mi", "-1", "-1Gi", "1e6",
                          "9999999999Ei", "99999999999999999999"}) {
    auto r = ParseByteSize(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code(), Code::kInvalidArgument);
  }
}

TEST(UnitsTest, CpuQuantities) {
  const std::pair<const char*, std::int64_t> good[] = {
      {"2", 2000}, {"500m", 500}, {"1.5", 1500}, {"0.1", 100}, {"0", 0}, {"0.0001", 1},  // as Kubernetes rounds
  };
  for (auto [text, milli] : good) EXPECT_EQ(ParseCpuMilli(text).value(), milli) << text;
  for (const char* bad : {"", "abc", "1x", "m", "1.2.3", "1e3", " 1", "1 ", "+1", "-1", "1M", "99999999999999999999"})
    EXPECT_FALSE(ParseCpuMilli(bad)) << bad;
}

TEST(UnitsTest, QuantitiesReadBackToTheSameValue) {
  for (std::int64_t milli : {0LL, 1LL, 500LL, 1000LL, 1500LL, 64000LL}) EXPECT_EQ(ParseCpuMilli(CpuQuantity(milli)).value(), milli);
  for (std::int64_t bytes : {0LL, 1LL, 1000LL, 1024LL, 1536LL, 512LL << 20, 3LL << 29, 5LL << 40})
    EXPECT_EQ(ParseByteSize(ByteQuantity(bytes)).value(), bytes);
  EXPECT_EQ(CpuQuantity(500), "500m");
  EXPECT_EQ(CpuQuantity(2000), "2");
  EXPECT_EQ(ByteQuantity(512LL << 20), "512Mi");
  EXPECT_EQ(ByteQuantity(1536), "1536");
}

TEST(UnitsTest, DescriptionsForPeople) {
  EXPECT_EQ(DescribeCpu(1000), "1 CPU");
  EXPECT_EQ(DescribeCpu(2000), "2 CPUs");
  EXPECT_EQ(DescribeCpu(500), "0.5 CPUs");
  EXPECT_EQ(DescribeCpu(1250), "1.25 CPUs");
  EXPECT_EQ(DescribeCpu(1), "0.001 CPUs");
  EXPECT_EQ(DescribeBytes(2LL << 30), "2Gi");
  EXPECT_EQ(DescribeBytes(3LL << 10), "3Ki");
  EXPECT_EQ(DescribeBytes((1LL << 30) + 1), "1025Mi");  // rounded up
  EXPECT_EQ(DescribeBytes(1000), "1000 bytes");
}

}  // namespace
}  // namespace paddlecloud::units

namespace paddlecloud::units {
namespace {

TEST(UnitsTest, CountsAreWholeNonNegativeNumbers) {
  EXPECT_EQ(ParseCount("0").value(), 0);
  EXPECT_EQ(ParseCount("10").value(), 10);
  for (const char* bad : {"", "1.5", "2k", "x", " 1"}) EXPECT_FALSE(ParseCount(bad)) << bad;
  EXPECT_EQ(ParseCount("-1").error().message(), "a whole number must not be negative");
}

}  // namespace
}  // namespace paddlecloud::units
