// What `paddlecloud top` and `paddlecloud usage` show, built from the usage API's answers
// (docs/monitoring.md) and formatted here: pure functions, so tests can pin the formats.
//
// A value that was never read stays unknown (nullopt) and prints "-", never 0; the reason the
// server gave (`not_measured`) is printed below the table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/value.hpp>

namespace paddlecloud::client {

struct PodTop {
  std::string name, role, phase;
  double cpu_request = 0;              // cores; 0: none
  std::int64_t memory_limit = 0;       // bytes; 0: none
  std::int64_t gpus = 0;               // requested
  std::optional<double> cpu_cores;     // the latest values
  std::optional<double> memory_working_set_bytes;
  std::optional<double> gpu_utilization_percent;
  std::optional<double> gpu_memory_used_bytes;
  std::optional<double> gpu_memory_total_bytes;
  std::string not_measured;  // the server's reason, when it gave one
};

struct JobTop {
  std::int64_t id = 0;
  std::string name, state;
  std::int64_t interval_ms = 0;
  std::int64_t t_ms = 0;  // when the shown values were sampled (the latest); 0: none
  std::vector<PodTop> pods;
  std::optional<double> network_rx_bytes_per_s, network_tx_bytes_per_s;
  std::string network_not_measured;
};

// The job's pods and network from a GET /api/v1/jobs/{job}/usage answer: for each metric its last
// bucket with a mean (requests, limits and reasons come with every answer).
JobTop TopFromUsage(const boost::json::value& usage, const std::string& job_name);
// Takes the values of a `sample` event of /usage/stream: every value it holds, null ones and
// those of pods it leaves out becoming unknown; pods the job did not list before are added.
void ApplySample(JobTop& top, const boost::json::value& sample);

// The POD, CPU, CPU%, MEMORY, MEM%, GPU%, GPU MEM table of every pod of `jobs`, then for each job
// its network ("Network of spin (id 3): rx 1.2 KiB/s, tx 640 B/s") and why values show "-".
std::string FormatTop(const std::vector<JobTop>& jobs);
// {"jobs": [{"id", "name", "state", "t", "pods": [{"name", "role", "phase", "cpu_cores",
// "cpu_percent_of_request", "memory_working_set_bytes", "memory_percent_of_limit",
// "gpu_utilization_percent", "gpu_memory_used_bytes", "gpu_memory_total_bytes", "not_measured"}],
// "network": {"rx_bytes_per_s", "tx_bytes_per_s", "not_measured"}}]}; bytes as integers, unknown
// values null.
boost::json::value TopJson(const std::vector<JobTop>& jobs);

// Kubernetes style memory: "512Ki", "212Mi", "1.5Gi" (bytes below 1 KiB: "900").
std::string FormatMemory(double bytes);

// A GET /api/v1/account/usage answer: CPU and GPU hours of the window, the per-user table, and
// the last 30 days' CPU (and GPU, when any) hours as a bar chart of Unicode blocks.
std::string FormatAccountUsage(const boost::json::value& usage);
// A GET /api/v1/account/quota answer: each resource's use against the account's quota (or the
// cluster's capacity where there is none) with a bar, then each member's use against their limits.
std::string FormatQuota(const boost::json::value& quota);
// `values` as vertical bars `height` rows high (eighth blocks for the tops, at least one for a
// value above 0), one column per value, the largest value labelled on the top row, `first` and
// `last` under the first and the last column.
std::string BarChart(const std::vector<double>& values, int height, const std::string& unit, const std::string& first,
                     const std::string& last);

}  // namespace paddlecloud::client
