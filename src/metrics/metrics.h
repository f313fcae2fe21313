// A small Prometheus metrics registry: counters, gauges and histograms with labels, rendered in the
// text exposition format (version 0.0.4). Metric objects live as long as the registry; handles
// returned by Get* stay valid, so hot paths look a series up once and then only touch atomics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace paddlecloud::metrics {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Counter {
 public:
  void Increment(double by = 1) { Add(value_, by); }
  // For a total counted elsewhere (the kernel's CPU time of this process): it must never decrease.
  void SetTotal(double total) { value_.store(total, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  friend class Gauge;
  static void Add(std::atomic<double>& a, double by) {
    double old = a.load(std::memory_order_relaxed);
    while (!a.compare_exchange_weak(old, old + by, std::memory_order_relaxed)) {}
  }
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double by) { Counter::Add(value_, by); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void Observe(double v);
  const std::vector<double>& bounds() const { return bounds_; }
  // Cumulative counts per bound, then +Inf; and the sum of observations.
  std::vector<std::uint64_t> CumulativeCounts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }

 private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1 buckets
  std::atomic<double> sum_{0};
};

// Latency buckets in seconds, from 0.5 ms to 10 s.
std::vector<double> DefaultLatencyBuckets();

class Registry {
 public:
  Counter& GetCounter(const std::string& name, const std::string& help, const Labels& labels = {});
  Gauge& GetGauge(const std::string& name, const std::string& help, const Labels& labels = {});
  Histogram& GetHistogram(const std::string& name, const std::string& help, const Labels& labels = {},
                          std::vector<double> bounds = DefaultLatencyBuckets());

  // A callback run at each Render, before rendering, to refresh gauges (process CPU, RSS ...).
  void AddCollector(std::function<void(Registry&)> collect);

  // Text exposition of every family, sorted by name and labels.
  std::string Render();

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Family {
    std::string help;
    Type type;
    std::map<std::string, std::unique_ptr<Counter>> counters;  // keyed by rendered labels
    std::map<std::string, std::unique_ptr<Gauge>> gauges;
    std::map<std::string, std::unique_ptr<Histogram>> histograms;
  };
  Family& FamilyFor(const std::string& name, const std::string& help, Type type);

  std::mutex mutex_;  // guards families_ and collectors_ (a series itself is updated lock-free)
  std::map<std::string, Family> families_;
  std::vector<std::function<void(Registry&)>> collectors_;
};

// Registers process_cpu_seconds_total, process_resident_memory_bytes, process_virtual_memory_bytes,
// process_open_fds, process_start_time_seconds (read from /proc/self at each scrape).
void RegisterProcessCollector(Registry& registry);

// Escapes a label value for the exposition format.
std::string EscapeLabelValue(const std::string& value);

}  // namespace paddlecloud::metrics
