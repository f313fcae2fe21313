#include "monitoring/usage_metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace paddlecloud::monitoring {
namespace {

PodReading Reading(std::int64_t at_ms, std::uint64_t cpu_ns, std::uint64_t written) {
  cluster::PodUsage usage;
  usage.name = "fit-1-trainer-0";
  usage.cpu_ns = cpu_ns;
  usage.memory_working_set_bytes = 200u << 20;
  usage.disk_write_bytes = written;
  return {.at_ms = at_ms, .usage = usage};
}

TEST(UsageMetricsTest, CountersBecomeRatesOverTheInterval) {
  auto sample = PodSample(Reading(15'000, 7'000'000'000, 300u << 20), Reading(10'000, 2'000'000'000, 100u << 20));
  EXPECT_EQ(sample.t_ms, 15'000);
  ASSERT_EQ(sample.values.size(), kPodMetrics.size());
  EXPECT_FLOAT_EQ(sample.values[kCpuCoresColumn], 1.0f);           // 5 s of CPU in 5 s
  EXPECT_FLOAT_EQ(sample.values[2], static_cast<float>(200u << 20));  // working set as read
  EXPECT_FLOAT_EQ(sample.values[6], static_cast<float>(40u << 20));   // 200 MiB in 5 s
}

TEST(UsageMetricsTest, AFirstReadingOrAResetCounterGivesNoRateRatherThanASpike) {
  auto first = PodSample(Reading(10'000, 2'000'000'000, 0), std::nullopt);
  EXPECT_TRUE(std::isnan(first.values[kCpuCoresColumn]));
  EXPECT_FALSE(std::isnan(first.values[2]));  // a gauge needs no previous reading
  auto reset = PodSample(Reading(15'000, 1'000'000'000, 0), Reading(10'000, 9'000'000'000, 0));
  EXPECT_TRUE(std::isnan(reset.values[kCpuCoresColumn]));
}

TEST(UsageMetricsTest, WhatWasNotReadIsNotMeasuredNeverZero) {
  PodReading reading{.at_ms = 10'000, .usage = {}};
  auto sample = PodSample(reading, reading);
  for (float v : sample.values) EXPECT_TRUE(std::isnan(v));
  auto network = NetworkSample({.at_ms = 5'000, .usage = {}}, std::nullopt);
  for (float v : network.values) EXPECT_TRUE(std::isnan(v));
}

TEST(UsageMetricsTest, GpusAreAveragedAndTheirMemorySummed) {
  PodReading reading = Reading(10'000, 0, 0);
  reading.usage.gpus = {{.index = 0, .utilization_percent = 90, .memory_used_bytes = 1ull << 30, .memory_total_bytes = 8ull << 30},
                        {.index = 1, .utilization_percent = 50, .memory_used_bytes = 3ull << 30, .memory_total_bytes = 8ull << 30}};
  auto sample = PodSample(reading, std::nullopt);
  EXPECT_FLOAT_EQ(sample.values[7], 70.0f);
  EXPECT_FLOAT_EQ(sample.values[8], static_cast<float>(4ull << 30));
  EXPECT_FLOAT_EQ(sample.values[9], static_cast<float>(16ull << 30));
}

TEST(UsageMetricsTest, CpuSecondsCountARestartedPodsNewRun) {
  EXPECT_DOUBLE_EQ(*CpuSecondsBetween(Reading(2, 5'000'000'000, 0), Reading(1, 2'000'000'000, 0)), 3.0);
  EXPECT_DOUBLE_EQ(*CpuSecondsBetween(Reading(2, 1'000'000'000, 0), Reading(1, 9'000'000'000, 0)), 1.0);
  EXPECT_FALSE(CpuSecondsBetween(Reading(2, 1, 0), std::nullopt));
}

}  // namespace
}  // namespace paddlecloud::monitoring
