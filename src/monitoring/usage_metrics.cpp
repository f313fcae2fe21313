#include "monitoring/usage_metrics.h"

#include <cmath>
#include <limits>

namespace paddlecloud::monitoring {
namespace {

constexpr float kNotMeasured = std::numeric_limits<float>::quiet_NaN();

float Value(const std::optional<std::uint64_t>& v) { return v ? static_cast<float>(*v) : kNotMeasured; }

// The counter's increase per second; NaN without a previous value, over no time, or when it went down.
float Rate(std::optional<std::uint64_t> now, std::optional<std::uint64_t> before, std::int64_t elapsed_ms,
           double unit = 1.0) {
  if (!now || !before || elapsed_ms <= 0 || *now < *before) return kNotMeasured;
  return static_cast<float>(static_cast<double>(*now - *before) / unit / (static_cast<double>(elapsed_ms) / 1000));
}

template <typename Field>
std::optional<std::uint64_t> Previous(const std::optional<PodReading>& previous, Field field) {
  if (!previous) return std::nullopt;
  return previous->usage.*field;
}

}  // namespace

timeseries::Sample PodSample(const PodReading& now, const std::optional<PodReading>& previous) {
  const cluster::PodUsage& u = now.usage;
  std::int64_t elapsed = previous ? now.at_ms - previous->at_ms : 0;
  timeseries::Sample sample{.t_ms = now.at_ms, .values = std::vector<float>(kPodMetrics.size(), kNotMeasured)};
  auto& v = sample.values;
  v[0] = Rate(u.cpu_ns, Previous(previous, &cluster::PodUsage::cpu_ns), elapsed, 1e9);
  v[1] = Rate(u.cpu_throttled_ns, Previous(previous, &cluster::PodUsage::cpu_throttled_ns), elapsed, 1e9);
  v[2] = Value(u.memory_working_set_bytes);
  v[3] = Value(u.memory_rss_bytes);
  if (u.oom_kills) v[4] = static_cast<float>(*u.oom_kills);
  v[5] = Rate(u.disk_read_bytes, Previous(previous, &cluster::PodUsage::disk_read_bytes), elapsed);
  v[6] = Rate(u.disk_write_bytes, Previous(previous, &cluster::PodUsage::disk_write_bytes), elapsed);
  double utilization = 0, used = 0, total = 0;
  int utilizations = 0, useds = 0, totals = 0;
  for (const cluster::GpuUsage& gpu : u.gpus) {
    if (gpu.utilization_percent) utilization += *gpu.utilization_percent, ++utilizations;
    if (gpu.memory_used_bytes) used += static_cast<double>(*gpu.memory_used_bytes), ++useds;
    if (gpu.memory_total_bytes) total += static_cast<double>(*gpu.memory_total_bytes), ++totals;
  }
  if (utilizations > 0) v[7] = static_cast<float>(utilization / utilizations);
  if (useds > 0) v[8] = static_cast<float>(used);
  if (totals > 0) v[9] = static_cast<float>(total);
  return sample;
}

timeseries::Sample NetworkSample(const NetworkReading& now, const std::optional<NetworkReading>& previous) {
  timeseries::Sample sample{.t_ms = now.at_ms, .values = std::vector<float>(kNetworkMetrics.size(), kNotMeasured)};
  if (!previous) return sample;
  std::int64_t elapsed = now.at_ms - previous->at_ms;
  const cluster::NetworkUsage& a = now.usage;
  const cluster::NetworkUsage& b = previous->usage;
  sample.values = {Rate(a.rx_bytes, b.rx_bytes, elapsed), Rate(a.tx_bytes, b.tx_bytes, elapsed),
                   Rate(a.rx_packets, b.rx_packets, elapsed), Rate(a.tx_packets, b.tx_packets, elapsed)};
  return sample;
}

std::optional<double> CpuSecondsBetween(const PodReading& now, const std::optional<PodReading>& previous) {
  if (!now.usage.cpu_ns || !previous || !previous->usage.cpu_ns) return std::nullopt;
  std::uint64_t before = *previous->usage.cpu_ns, after = *now.usage.cpu_ns;
  return static_cast<double>(after >= before ? after - before : after) / 1e9;
}

}  // namespace paddlecloud::monitoring
