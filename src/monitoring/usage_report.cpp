#include "monitoring/usage_report.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "monitoring/usage_metrics.h"
#include "monitoring/usage_sampler.h"
#include "timeseries/series_store.h"

namespace paddlecloud::monitoring {
namespace {

constexpr float kNone = std::numeric_limits<float>::quiet_NaN();

template <std::size_t N>
MetricMap EmptyMetrics(const std::array<MetricInfo, N>& metrics, std::size_t buckets) {
  MetricMap map;
  for (const MetricInfo& m : metrics)
    map[std::string(m.name)] = {std::vector<float>(buckets, kNone), std::vector<float>(buckets, kNone),
                                std::vector<float>(buckets, kNone)};
  return map;
}

// Reads one series into `metrics` (made by EmptyMetrics with the same columns). NotFound (never
// sampled) leaves it empty.
template <std::size_t N>
Status ReadSeries(const std::string& dir, const std::array<MetricInfo, N>& columns, const JobUsageReport& report,
                  MetricMap& metrics) {
  auto result = timeseries::Query(dir, report.from_ms, report.to_ms, report.t.size());
  if (!result) return result.error().code() == Code::kNotFound ? Status::Ok() : result.error();
  for (const timeseries::Bucket& bucket : result->buckets) {
    std::size_t i = static_cast<std::size_t>((bucket.t_ms - report.from_ms) / report.bucket_ms);
    if (i >= report.t.size() || bucket.columns.size() != N) continue;
    for (std::size_t c = 0; c < N; ++c) {
      const timeseries::ColumnStat& stat = bucket.columns[c];
      if (stat.count == 0) continue;
      MetricBuckets& m = metrics[std::string(columns[c].name)];
      m.min[i] = stat.min, m.max[i] = stat.max, m.mean[i] = stat.mean;
    }
  }
  return Status::Ok();
}

void AddInto(std::vector<float>& total, const std::vector<float>& part) {
  for (std::size_t i = 0; i < total.size(); ++i)
    if (!std::isnan(part[i])) total[i] = std::isnan(total[i]) ? part[i] : total[i] + part[i];
}

std::vector<std::int64_t> OomKillTimes(const JobUsageReport& report, const MetricBuckets& kills) {
  std::vector<std::int64_t> times;
  float seen = kNone;
  for (std::size_t i = 0; i < report.t.size(); ++i) {
    if (std::isnan(kills.max[i])) continue;
    if ((!std::isnan(seen) && kills.max[i] > seen) || (std::isnan(seen) && kills.min[i] < kills.max[i]))
      times.push_back(report.t[i]);
    seen = kills.max[i];
  }
  return times;
}

Status CheckRange(const UsageRange& range, JobUsageReport& report, std::int64_t now_ms) {
  if (range.points < 1 || range.points > kMaxUsagePoints)
    return Status::InvalidArgument("points must be from 1 to " + std::to_string(kMaxUsagePoints), "points");
  const jobs::Job& job = report.job;
  std::int64_t start = job.started_at.value_or(job.submitted_at) * 1000;
  std::int64_t end = job.finished_at ? (*job.finished_at + 1) * 1000 : now_ms;
  report.from_ms = range.from_ms.value_or(start);
  report.to_ms = range.to_ms.value_or(std::max(end, report.from_ms + 1000));
  if (report.from_ms < 0) return Status::InvalidArgument("from must be a time in unix milliseconds", "from");
  if (report.from_ms >= report.to_ms) return Status::InvalidArgument("from must be before to", "from");
  std::int64_t span = report.to_ms - report.from_ms;
  auto points = static_cast<std::int64_t>(range.points);
  if (range.sampling_interval_ms > 0)
    points = std::clamp<std::int64_t>((span + range.sampling_interval_ms - 1) / range.sampling_interval_ms, 1, points);
  report.bucket_ms = std::max<std::int64_t>(1, (span + points - 1) / points);  // as the store divides the range
  for (std::int64_t t = report.from_ms; t < report.to_ms; t += report.bucket_ms) report.t.push_back(t);
  return Status::Ok();
}

}  // namespace

Result<JobUsageReport> ReadJobUsage(jobs::JobService& jobs, Accounting& accounting, const Principal& principal,
                                    std::int64_t job_id, const UsageRange& range, std::int64_t now_ms) {
  auto job = jobs.Get(principal, job_id);
  if (!job) return Err(job.error());
  auto pods = jobs.Pods(principal, job_id);
  if (!pods) return Err(pods.error());
  JobUsageReport report{.job = *job};
  PC_RETURN_IF_ERROR(CheckRange(range, report, now_ms));
  const std::string dir = jobs.UsageDir(*job);
  NotMeasured why = ReadNotMeasured(dir);
  auto charged = accounting.ForJob(job->account_id, job_id);
  if (!charged) return Err(charged.error());
  std::map<std::string, UsageTotals> time(charged->begin(), charged->end());

  report.job_total = EmptyMetrics(kPodMetrics, report.t.size());
  for (const jobs::Pod& pod : *pods) {
    PodUsageReport p{.pod = pod,
                     .requests = pod.role == "pserver" ? job->spec.pserver : job->spec.trainer,
                     .metrics = EmptyMetrics(kPodMetrics, report.t.size()),
                     .oom_kill_times = {},
                     .not_measured = why[pod.name],
                     .time = time[pod.name]};
    PC_RETURN_IF_ERROR(ReadSeries(dir + "/" + pod.name, kPodMetrics, report, p.metrics));
    for (auto& [name, m] : p.metrics) {
      MetricBuckets& total = report.job_total[name];
      AddInto(total.min, m.min), AddInto(total.max, m.max), AddInto(total.mean, m.mean);
    }
    p.oom_kill_times = OomKillTimes(report, p.metrics[std::string(kPodMetrics[kOomKillsColumn].name)]);
    report.time.cpu_seconds += p.time.cpu_seconds;
    report.time.gpu_seconds += p.time.gpu_seconds;
    report.pods.push_back(std::move(p));
  }
  report.network = EmptyMetrics(kNetworkMetrics, report.t.size());
  PC_RETURN_IF_ERROR(ReadSeries(dir + "/" + kNetworkSeries, kNetworkMetrics, report, report.network));
  report.network_not_measured = why["network"];
  return report;
}

}  // namespace paddlecloud::monitoring
