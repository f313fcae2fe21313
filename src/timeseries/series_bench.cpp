// make bench: what the series store costs. Prints the bytes a pod's day of samples takes, the time
// of a 24-hour usage query of a 12-pod job at 1,000 points, and of folding 1,000,000 points into
// 1,000 buckets, each against the target.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "timeseries/series_store.h"

namespace fs = std::filesystem;
using namespace paddlecloud::timeseries;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kStart = 1'700'006'400'000;
constexpr std::int64_t kDay = 86'400'000;
constexpr std::size_t kColumns = 8;  // cpu, working set, rss, disk read/write, net rx/tx, throttled
constexpr int kPods = 12;

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * (values.size() - 1))];
}

}  // namespace

int main() {
  fs::path root = fs::temp_directory_path() / ("series_bench." + std::to_string(::getpid()));
  fs::create_directories(root);
  std::uintmax_t bytes = 0;
  for (int pod = 0; pod < kPods; ++pod) {
    std::string dir = (root / ("pod" + std::to_string(pod))).string();
    auto writer = SeriesWriter::Open(dir, kColumns);
    if (!writer) return std::fprintf(stderr, "%s\n", writer.error().message().c_str()), 1;
    std::vector<float> values(kColumns);
    for (std::int64_t t = kStart, i = 0; t < kStart + kDay; t += 5000, ++i) {
      for (std::size_t c = 0; c < kColumns; ++c) values[c] = static_cast<float>(std::sin(i * 0.01 + c) + 1);
      if (!(*writer)->Append({t, values}).ok()) return 1;
    }
    if (!(*writer)->Seal().ok()) return 1;
  }
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) bytes += e.file_size();
  std::printf("series store: %.2f MB per pod-day (8 columns every 5 s)\n", bytes / kPods / 1e6);

  std::vector<double> query_ms;
  std::size_t records = 0;
  for (int round = 0; round < 200; ++round) {
    auto begin = Clock::now();
    for (int pod = 0; pod < kPods; ++pod) {
      auto r = Query((root / ("pod" + std::to_string(pod))).string(), kStart, kStart + kDay, 1000);
      if (!r) return 1;
      records = r->records_read;
    }
    query_ms.push_back(Millis(Clock::now() - begin));
  }
  std::printf("usage query, 24 h of a 12-pod job at 1,000 points: p50 %.2f ms, p99 %.2f ms (target p99 < 5 ms); "
              "%zu records read per pod\n",
              Percentile(query_ms, 0.5), Percentile(query_ms, 0.99), records);

  std::vector<float> points(1'000'000);
  std::vector<std::int64_t> times(points.size());
  for (std::size_t i = 0; i < points.size(); ++i) {
    points[i] = static_cast<float>(i % 977);
    times[i] = static_cast<std::int64_t>(i);
  }
  points[424'242] = 1e6f;
  std::vector<double> fold_ms;
  float highest = 0;
  for (int round = 0; round < 20; ++round) {
    auto begin = Clock::now();
    Downsampler d(1, 0, 1000, 1000);
    d.AddSeries(times.data(), points.data(), points.size());
    auto buckets = d.Take();
    fold_ms.push_back(Millis(Clock::now() - begin));
    highest = buckets[424].columns[0].max;
  }
  std::printf("downsampling 1,000,000 points to 1,000 buckets: p50 %.2f ms (target < 1 ms); spike kept: %s\n",
              Percentile(fold_ms, 0.5), highest == 1e6f ? "yes" : "NO");
  fs::remove_all(root);
}
