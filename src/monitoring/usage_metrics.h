// What one usage sample of a pod (and of a job's network) holds, and how the backend's cumulative
// counters become it: the columns of the usage series and the rates between two readings.
//
// Rates need the previous reading of the same pod. A counter that went down (the pod restarted in
// place) or a first reading gives no rate for that interval (NaN, "not measured"), never a spike.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include "cluster/cluster_backend.h"
#include "timeseries/series_store.h"

namespace paddlecloud::monitoring {

struct MetricInfo {
  std::string_view name;  // as the API names it
  std::string_view unit;  // "cores", "bytes", "bytes/s", "packets/s", "%", "count"
};

// The columns of a pod's series, in order.
inline constexpr std::array<MetricInfo, 10> kPodMetrics = {{
    {"cpu_cores", "cores"},
    {"cpu_throttled_cores", "cores"},
    {"memory_working_set_bytes", "bytes"},
    {"memory_rss_bytes", "bytes"},
    {"oom_kills", "count"},
    {"disk_read_bytes_per_s", "bytes/s"},
    {"disk_write_bytes_per_s", "bytes/s"},
    {"gpu_utilization_percent", "%"},
    {"gpu_memory_used_bytes", "bytes"},
    {"gpu_memory_total_bytes", "bytes"},
}};
inline constexpr std::size_t kCpuCoresColumn = 0;
inline constexpr std::size_t kOomKillsColumn = 4;

// The columns of a job's network series (its pods share one network namespace).
inline constexpr std::array<MetricInfo, 4> kNetworkMetrics = {{
    {"network_rx_bytes_per_s", "bytes/s"},
    {"network_tx_bytes_per_s", "bytes/s"},
    {"network_rx_packets_per_s", "packets/s"},
    {"network_tx_packets_per_s", "packets/s"},
}};

// One reading of a pod's cumulative counters, kept until the next one.
struct PodReading {
  std::int64_t at_ms = 0;
  cluster::PodUsage usage;
};

// The sample of `now` given the pod's previous reading (nullopt: none).
timeseries::Sample PodSample(const PodReading& now, const std::optional<PodReading>& previous);

struct NetworkReading {
  std::int64_t at_ms = 0;
  cluster::NetworkUsage usage;
};
timeseries::Sample NetworkSample(const NetworkReading& now, const std::optional<NetworkReading>& previous);

// CPU seconds the pod used between the readings: the counter's increase; after a restart in place
// (the counter went down) what the new run used. No previous reading: nullopt (unknown).
std::optional<double> CpuSecondsBetween(const PodReading& now, const std::optional<PodReading>& previous);

}  // namespace paddlecloud::monitoring
