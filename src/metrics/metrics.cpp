#include "metrics/metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <cassert>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace paddlecloud::metrics {
namespace {

std::string RenderLabels(const Labels& labels) {
  if (labels.empty()) return "";
  std::string out = "{";
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (i) out += ',';
    out += labels[i].first + "=\"" + EscapeLabelValue(labels[i].second) + "\"";
  }
  out += '}';
  return out;
}

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f", v);
    return buf;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

// Adds `le` to an already rendered label set.
std::string WithLe(const std::string& rendered, const std::string& le) {
  if (rendered.empty()) return "{le=\"" + le + "\"}";
  return rendered.substr(0, rendered.size() - 1) + ",le=\"" + le + "\"}";
}

}  // namespace

std::string EscapeLabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(new std::atomic<std::uint64_t>[bounds_.size() + 1]) {
  for (std::size_t i = 0; i <= bounds_.size(); ++i) counts_[i] = 0;
}

void Histogram::Observe(double v) {
  std::size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i]) ++i;
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  double old = sum_.load(std::memory_order_relaxed);
  while (!sum_.compare_exchange_weak(old, old + v, std::memory_order_relaxed)) {}
}

std::vector<std::uint64_t> Histogram::CumulativeCounts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t running = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    running += counts_[i].load(std::memory_order_relaxed);
    out[i] = running;
  }
  return out;
}

std::vector<double> DefaultLatencyBuckets() {
  return {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

Registry::Family& Registry::FamilyFor(const std::string& name, const std::string& help, Type type) {
  auto [it, inserted] = families_.try_emplace(name);
  if (inserted) {
    it->second.help = help;
    it->second.type = type;
  }
  assert(it->second.type == type && "metric registered twice with different types");
  return it->second;
}

Counter& Registry::GetCounter(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = FamilyFor(name, help, Type::kCounter).counters[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Counter>();
  return *slot;
}

Gauge& Registry::GetGauge(const std::string& name, const std::string& help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  auto& slot = FamilyFor(name, help, Type::kGauge).gauges[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Gauge>();
  return *slot;
}

Histogram& Registry::GetHistogram(const std::string& name, const std::string& help, const Labels& labels,
                                  std::vector<double> bounds) {
  std::lock_guard lock(mutex_);
  auto& slot = FamilyFor(name, help, Type::kHistogram).histograms[RenderLabels(labels)];
  if (!slot) slot = std::make_unique<Histogram>(std::move(bounds));
  return *slot;
}

void Registry::AddCollector(std::function<void(Registry&)> collect) {
  std::lock_guard lock(mutex_);
  collectors_.push_back(std::move(collect));
}

std::string Registry::Render() {
  std::vector<std::function<void(Registry&)>> collectors;
  {
    std::lock_guard lock(mutex_);
    collectors = collectors_;
  }
  for (auto& c : collectors) c(*this);

  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    static const char* kTypes[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + name + " " + family.help + "\n";
    out += "# TYPE " + name + " " + kTypes[static_cast<int>(family.type)] + "\n";
    for (const auto& [labels, c] : family.counters) out += name + labels + " " + FormatNumber(c->value()) + "\n";
    for (const auto& [labels, g] : family.gauges) out += name + labels + " " + FormatNumber(g->value()) + "\n";
    for (const auto& [labels, h] : family.histograms) {
      auto counts = h->CumulativeCounts();
      for (std::size_t i = 0; i < h->bounds().size(); ++i)
        out += name + "_bucket" + WithLe(labels, FormatNumber(h->bounds()[i])) + " " + std::to_string(counts[i]) + "\n";
      out += name + "_bucket" + WithLe(labels, "+Inf") + " " + std::to_string(counts.back()) + "\n";
      out += name + "_sum" + labels + " " + FormatNumber(h->sum()) + "\n";
      out += name + "_count" + labels + " " + std::to_string(counts.back()) + "\n";
    }
  }
  return out;
}

void RegisterProcessCollector(Registry& registry) {
  registry.AddCollector([](Registry& r) {
    static const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
    static const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    std::ifstream stat("/proc/self/stat");
    std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the parenthesised command name; the name itself may contain spaces.
    auto close = content.rfind(')');
    if (close == std::string::npos) return;
    std::istringstream fields(content.substr(close + 2));
    std::vector<std::string> f;
    for (std::string s; fields >> s;) f.push_back(s);
    // f[0] is field 3 (state); utime=14, stime=15, starttime=22, vsize=23, rss=24.
    if (f.size() < 22) return;
    double utime = std::stod(f[11]), stime = std::stod(f[12]);
    r.GetCounter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.")
        .SetTotal((utime + stime) / ticks);
    r.GetGauge("process_virtual_memory_bytes", "Virtual memory size in bytes.").Set(std::stod(f[20]));
    r.GetGauge("process_resident_memory_bytes", "Resident memory size in bytes.").Set(std::stod(f[21]) * page);

    static const double boot_time = [] {
      std::ifstream in("/proc/stat");
      for (std::string line; std::getline(in, line);)
        if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
      return 0.0;
    }();
    r.GetGauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
        .Set(boot_time + std::stod(f[19]) / ticks);

    int fds = 0;
    if (DIR* d = opendir("/proc/self/fd")) {
      while (dirent* e = readdir(d))
        if (e->d_name[0] != '.') ++fds;
      closedir(d);
      --fds;  // the directory stream itself
    }
    r.GetGauge("process_open_fds", "Number of open file descriptors.").Set(fds);
  });
}

}  // namespace paddlecloud::metrics
