// A job's recorded resource usage over a time range, read from its usage series: per pod, summed
// over the job, and the job's network, in at most `points` buckets of equal width that keep each
// metric's min, max and mean.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/principal.h"
#include "jobs/job_service.h"
#include "monitoring/accounting.h"

namespace paddlecloud::monitoring {

inline constexpr std::size_t kMaxUsagePoints = 5000;

struct UsageRange {
  std::optional<std::int64_t> from_ms;  // default: when the job started (or was submitted)
  std::optional<std::int64_t> to_ms;    // default: when it ended, or now
  std::size_t points = 500;             // 1..kMaxUsagePoints
  // Buckets much narrower than the sampling interval would be mostly empty: fewer points then.
  std::int64_t sampling_interval_ms = 0;
};

// One metric over the answer's buckets; NaN where nothing was sampled.
struct MetricBuckets {
  std::vector<float> min, max, mean;
};
using MetricMap = std::map<std::string, MetricBuckets>;  // by metric name

struct PodUsageReport {
  jobs::Pod pod;
  cluster::Resources requests;  // also its limits: the local backend enforces requests as limits
  MetricMap metrics;
  std::vector<std::int64_t> oom_kill_times;  // start of each bucket in which the OOM count rose
  std::string not_measured;
  UsageTotals time;  // CPU and GPU seconds charged so far
};

struct JobUsageReport {
  jobs::Job job;
  std::int64_t from_ms = 0, to_ms = 0, bucket_ms = 0;
  std::vector<std::int64_t> t;  // start of each bucket
  std::vector<PodUsageReport> pods;
  MetricMap job_total;  // the pods' values summed per bucket
  MetricMap network;
  std::string network_not_measured;
  UsageTotals time;
};

// NotFound for a job the principal may not see; InvalidArgument naming `from`, `to` or `points`.
Result<JobUsageReport> ReadJobUsage(jobs::JobService& jobs, Accounting& accounting, const Principal& principal,
                                    std::int64_t job_id, const UsageRange& range, std::int64_t now_ms);

}  // namespace paddlecloud::monitoring
