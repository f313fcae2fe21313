// The usage sampler: every interval, reads the counters of every running job's pods through the
// cluster backend, appends one sample per pod (and one for the job's network) to the job's usage
// series, and charges the pods' CPU and GPU time to their account (see accounting.h).
//
// A pod that ended gets a last sample from the counters the backend kept of its end (when it kept
// them) and its series sealed; one whose counters vanished ends cleanly at its last sample. When
// the job ends, JobEnded takes that last pass before its pods are forgotten. Why a counter could not be read is kept in
// <usage dir>/not-measured.json, so a finished job's graphs still say it. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "cluster/cluster_backend.h"
#include "jobs/job_service.h"
#include "monitoring/accounting.h"
#include "monitoring/usage_metrics.h"

namespace paddlecloud::monitoring {

struct SamplerOptions {
  std::chrono::milliseconds interval{5'000};
  std::chrono::milliseconds sample_retention{7LL * 24 * 3600 * 1000};
  std::chrono::milliseconds rollup_retention{365LL * 24 * 3600 * 1000};
  std::function<std::int64_t()> now_ms;  // unix milliseconds; the system clock when empty
};

// The newest sample of a running job, for live views.
struct LiveSample {
  std::uint64_t sequence = 0;  // grows with every pass that sampled the job
  std::int64_t t_ms = 0;
  std::map<std::string, std::vector<float>> pods;  // columns of kPodMetrics; NaN: not measured
  std::vector<float> network;                      // columns of kNetworkMetrics; empty: not measured
};

// Why counters of a job could not be read: by pod name, and "network" for the job's network.
using NotMeasured = std::map<std::string, std::string>;
inline constexpr char kNotMeasuredFile[] = "not-measured.json";
inline constexpr char kNetworkSeries[] = "_network";  // the job's network series beside its pods'
NotMeasured ReadNotMeasured(const std::string& usage_dir);

class UsageSampler {
 public:
  UsageSampler(jobs::JobService& jobs, cluster::ClusterBackend& backend, Accounting& accounting,
               SamplerOptions options);
  ~UsageSampler();

  // One pass over every running job. Blocks: run it on its own thread or the blocking pool.
  void SampleOnce();
  // The job has ended (its pods are still known to the backend): a last pass records their end,
  // then its series are sealed and its live sample dropped.
  void JobEnded(const jobs::Job& job);
  // Removes expired series segments under every job's usage dir.
  void Prune(const std::string& jobs_dir);
  std::optional<LiveSample> Latest(std::int64_t job_id) const;

  struct Stats {
    std::int64_t last_pass_ms = 0;        // unix ms when the last pass started (0: none yet)
    double last_pass_seconds = 0;         // how long it took
    std::uint64_t passes = 0;
  };
  Stats stats() const;
  std::chrono::milliseconds interval() const { return options_.interval; }

 private:
  struct JobTrack;
  std::int64_t NowMs() const;
  void SampleJob(const jobs::Job& job, JobTrack& track, std::int64_t now, std::vector<PodCharge>& charges);
  void RecordNotMeasured(const jobs::Job& job, JobTrack& track, NotMeasured why);
  // What the pod used since `before` (its previous reading, if any).
  std::optional<PodCharge> ChargeOf(const jobs::Job& job, const PodReading& reading,
                                    std::optional<PodReading> before) const;

  jobs::JobService& jobs_;
  cluster::ClusterBackend& backend_;
  Accounting& accounting_;
  SamplerOptions options_;
  std::mutex tracks_mutex_;  // tracks_: a pass and JobEnded
  std::map<std::int64_t, std::unique_ptr<JobTrack>> tracks_;
  bool first_pass_done_ = false;
  std::int64_t previous_pass_ms_ = 0;
  mutable std::mutex live_mutex_;  // live_ and stats_, read by request handlers
  std::map<std::int64_t, LiveSample> live_;
  Stats stats_;
};

}  // namespace paddlecloud::monitoring
