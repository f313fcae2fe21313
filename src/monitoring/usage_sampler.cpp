#include "monitoring/usage_sampler.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "common/fs.h"
#include "timeseries/series_store.h"

namespace paddlecloud::monitoring {

namespace fs = std::filesystem;
namespace json = boost::json;

struct UsageSampler::JobTrack {
  std::map<std::string, PodReading> readings;  // the previous pass's, by pod
  std::map<std::string, std::unique_ptr<timeseries::SeriesWriter>> writers;  // by pod, and kNetworkSeries
  std::optional<NetworkReading> network;
  std::set<std::string> ended;  // pods whose last sample (at their end) is written
  NotMeasured not_measured;  // as last written to the job's not-measured.json
  std::uint64_t sequence = 0;
};

namespace {

// Appends to the series `name` of the job, opening it on first use. Errors are logged: a series
// that cannot be written must not stop the other pods' sampling.
void Append(const std::string& usage_dir, const std::string& name, std::size_t columns,
            std::map<std::string, std::unique_ptr<timeseries::SeriesWriter>>& writers, const timeseries::Sample& sample) {
  auto& writer = writers[name];
  if (!writer) {
    std::error_code ec;
    fs::create_directories(usage_dir, ec);  // the job's folder exists since its submission
    auto opened = timeseries::SeriesWriter::Open((fs::path(usage_dir) / name).string(), columns);
    if (!opened) {
      spdlog::warn("usage series {}/{} cannot be opened: {}", usage_dir, name, opened.error().message());
      writers.erase(name);
      return;
    }
    writer = std::move(*opened);
  }
  if (Status s = writer->Append(sample); !s.ok()) spdlog::warn("usage series {}/{}: {}", usage_dir, name, s.message());
}

void Seal(const std::string& name, std::unique_ptr<timeseries::SeriesWriter>& writer) {
  if (!writer) return;
  if (Status s = writer->Seal(); !s.ok()) spdlog::warn("usage series {}: not sealed: {}", name, s.message());
}

std::int64_t PodGpus(const jobs::Job& job, const std::string& pod) {
  bool pserver = pod.starts_with(jobs::JobService::BackendName(job) + "-pserver-");
  return pserver ? job.spec.pserver.gpus : job.spec.trainer.gpus;
}

}  // namespace

NotMeasured ReadNotMeasured(const std::string& usage_dir) {
  std::ifstream in(fs::path(usage_dir) / kNotMeasuredFile);
  std::stringstream text;
  text << in.rdbuf();
  NotMeasured why;
  boost::system::error_code ec;
  json::value parsed = json::parse(text.str(), ec);
  if (ec || !parsed.is_object()) return why;
  for (const auto& [pod, reason] : parsed.as_object())
    if (reason.is_string()) why[std::string(pod)] = std::string(reason.as_string());
  return why;
}

UsageSampler::UsageSampler(jobs::JobService& jobs, cluster::ClusterBackend& backend, Accounting& accounting,
                           SamplerOptions options)
    : jobs_(jobs), backend_(backend), accounting_(accounting), options_(std::move(options)) {}

UsageSampler::~UsageSampler() = default;

std::int64_t UsageSampler::NowMs() const {
  if (options_.now_ms) return options_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void UsageSampler::SampleOnce() {
  auto started = std::chrono::steady_clock::now();
  std::int64_t now = NowMs();
  auto running = jobs_.RunningJobs();
  if (!running) {
    spdlog::warn("usage sampler: running jobs not read: {}", running.error().message());
    return;
  }
  std::vector<PodCharge> charges;
  std::vector<std::int64_t> ended;
  {
    std::lock_guard lock(tracks_mutex_);
    std::map<std::int64_t, std::unique_ptr<JobTrack>> sampled;
    for (const jobs::Job& job : *running) {
      auto& track = sampled[job.id];
      if (auto it = tracks_.find(job.id); it != tracks_.end()) track = std::move(it->second);
      if (!track) track = std::make_unique<JobTrack>();
      SampleJob(job, *track, now, charges);
    }
    for (auto& [id, gone] : tracks_) {  // no longer running: ended between JobEnded and this pass
      if (!gone) continue;
      for (auto& [name, writer] : gone->writers) Seal(name, writer);
      ended.push_back(id);
    }
    tracks_ = std::move(sampled);
    first_pass_done_ = true;
    previous_pass_ms_ = now;
  }
  if (Status charged = accounting_.Charge(charges); !charged.ok())
    spdlog::warn("usage sampler: {} charges not recorded: {}", charges.size(), charged.message());
  std::lock_guard lock(live_mutex_);
  for (std::int64_t id : ended) live_.erase(id);
  stats_.last_pass_ms = now;
  stats_.last_pass_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  ++stats_.passes;
}

void UsageSampler::SampleJob(const jobs::Job& job, JobTrack& track, std::int64_t now, std::vector<PodCharge>& charges) {
  auto usage = backend_.GetUsage(job.account_id, jobs::JobService::BackendName(job));
  if (!usage) return;  // ended between the listing and now: JobEnded seals its series
  const std::string dir = jobs_.UsageDir(job);
  LiveSample live{.sequence = ++track.sequence, .t_ms = usage->at_ms > 0 ? usage->at_ms : now, .pods = {}, .network = {}};
  NotMeasured why;
  std::map<std::string, PodReading> readings;  // of the pods still running
  for (const cluster::PodUsage& pod : usage->pods) {
    if (pod.ended_at_ms && track.ended.count(pod.name)) continue;  // its last sample is written
    PodReading reading{.at_ms = pod.ended_at_ms.value_or(live.t_ms), .usage = pod};
    std::optional<PodReading> before;
    if (auto previous = track.readings.find(pod.name); previous != track.readings.end()) before = previous->second;
    timeseries::Sample sample = PodSample(reading, before);
    Append(dir, pod.name, kPodMetrics.size(), track.writers, sample);
    if (!pod.not_measured.empty()) why[pod.name] = pod.not_measured;
    if (auto charge = ChargeOf(job, reading, before)) charges.push_back(*charge);
    if (pod.ended_at_ms) {
      track.ended.insert(pod.name);  // its writer is sealed below, as it is not among the readings
      continue;
    }
    live.pods[pod.name] = sample.values;
    readings[pod.name] = std::move(reading);
  }
  for (auto& [name, writer] : track.writers)
    if (name != kNetworkSeries && !readings.count(name)) Seal(dir + "/" + name, writer);
  std::erase_if(track.writers, [&](const auto& w) { return w.first != kNetworkSeries && !readings.count(w.first); });
  track.readings = std::move(readings);

  if (usage->network) {
    NetworkReading reading{.at_ms = live.t_ms, .usage = *usage->network};
    timeseries::Sample sample = NetworkSample(reading, track.network);
    Append(dir, kNetworkSeries, kNetworkMetrics.size(), track.writers, sample);
    live.network = sample.values;
    track.network = reading;
  } else if (!usage->network_not_measured.empty()) {
    why["network"] = usage->network_not_measured;
  }
  RecordNotMeasured(job, track, std::move(why));
  std::lock_guard lock(live_mutex_);
  live_[job.id] = std::move(live);
}

std::optional<PodCharge> UsageSampler::ChargeOf(const jobs::Job& job, const PodReading& reading,
                                                std::optional<PodReading> before) const {
  // A pod first seen after the server's first pass started since the previous pass: all its CPU
  // time is new. On the first pass after a restart, the readings are only a baseline.
  if (!before && first_pass_done_) before = PodReading{.at_ms = previous_pass_ms_, .usage = {}};
  if (!before) return std::nullopt;
  if (!before->usage.cpu_ns) before->usage.cpu_ns = 0;
  std::optional<double> cpu = CpuSecondsBetween(reading, before);
  double held_s = std::max(0.0, static_cast<double>(reading.at_ms - before->at_ms) / 1000);
  return PodCharge{.account_id = job.account_id, .user_id = job.user_id, .job_id = job.id, .pod = reading.usage.name,
                   .at_s = reading.at_ms / 1000, .cpu_seconds = cpu.value_or(0),
                   .gpu_seconds = static_cast<double>(PodGpus(job, reading.usage.name)) * held_s};
}

void UsageSampler::RecordNotMeasured(const jobs::Job& job, JobTrack& track, NotMeasured why) {
  // Reasons are kept once seen: a pod that ended keeps its reason for the finished job's graphs.
  NotMeasured merged = track.not_measured;
  for (auto& [name, reason] : why) merged[name] = std::move(reason);
  if (merged == track.not_measured) return;
  json::object doc;
  for (const auto& [name, reason] : merged) doc[name] = reason;
  std::string path = (fs::path(jobs_.UsageDir(job)) / kNotMeasuredFile).string();
  if (Status s = fsutil::WriteFileAtomic(path, json::serialize(doc), {.mode = 0600, .durable = false}); !s.ok()) {
    spdlog::warn("job {}: {}", job.id, s.message());
    return;
  }
  track.not_measured = std::move(merged);
}

void UsageSampler::JobEnded(const jobs::Job& job) {
  std::vector<PodCharge> charges;
  {
    std::lock_guard lock(tracks_mutex_);
    auto& track = tracks_[job.id];
    if (!track) track = std::make_unique<JobTrack>();
    SampleJob(job, *track, NowMs(), charges);
    for (auto& [name, writer] : track->writers) Seal(name, writer);
    tracks_.erase(job.id);
  }
  if (Status charged = accounting_.Charge(charges); !charged.ok())
    spdlog::warn("job {}: its last usage was not charged: {}", job.id, charged.message());
  std::lock_guard lock(live_mutex_);
  live_.erase(job.id);
}

void UsageSampler::Prune(const std::string& jobs_dir) {
  std::int64_t now = NowMs();
  std::error_code ec;
  // <jobs_dir>/<account>/<job>/usage/<series>: directories the server made; links are not followed.
  for (const auto& account : fs::directory_iterator(jobs_dir, ec)) {
    if (!account.is_directory() || account.is_symlink()) continue;
    for (const auto& job : fs::directory_iterator(account.path(), ec)) {
      fs::path usage = job.path() / "usage";
      if (!fs::is_directory(fs::symlink_status(usage))) continue;
      for (const auto& series : fs::directory_iterator(usage, ec)) {
        if (!series.is_directory() || series.is_symlink()) continue;
        Status pruned = timeseries::Prune(series.path().string(), now, options_.sample_retention.count(),
                                          options_.rollup_retention.count());
        if (!pruned.ok()) spdlog::warn("usage series {}: {}", series.path().string(), pruned.message());
      }
    }
  }
}

std::optional<LiveSample> UsageSampler::Latest(std::int64_t job_id) const {
  std::lock_guard lock(live_mutex_);
  auto it = live_.find(job_id);
  if (it == live_.end()) return std::nullopt;
  return it->second;
}

UsageSampler::Stats UsageSampler::stats() const {
  std::lock_guard lock(live_mutex_);
  return stats_;
}

}  // namespace paddlecloud::monitoring
