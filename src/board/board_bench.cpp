// make bench: what the Paddle Board store costs. Prints the ingestion rate (against plain write(2)
// of the same bytes), the time of drawing a 1,000,000-point curve at 1,000 points, of comparing 10
// such boards at once, and of a smoothed query, each against the target.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "board/board_store.h"

namespace fs = std::filesystem;
using namespace paddlecloud::board;
using Clock = std::chrono::steady_clock;

namespace {

constexpr std::int64_t kPoints = 1'000'000;
constexpr std::int64_t kBatch = 1000;  // points of one curve the ingester appends at once, about
constexpr int kBoards = 10;
const CurveKey kLoss{"loss", "loss", "trainer-0"};

double Millis(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(p * (values.size() - 1))];
}

std::uintmax_t FolderBytes(const fs::path& dir) {
  std::uintmax_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) bytes += e.file_size();
  return bytes;
}

// Writes `bytes` to a new file in kPoints / kBatch writes, as the store does; returns the seconds.
double PlainWriteSeconds(const fs::path& file, std::uintmax_t bytes) {
  std::string chunk(bytes / (kPoints / kBatch) + 1, 'x');
  int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  auto begin = Clock::now();
  for (std::uintmax_t written = 0; written < bytes; written += chunk.size())
    if (::write(fd, chunk.data(), chunk.size()) < 0) break;
  double seconds = Millis(Clock::now() - begin) / 1000;
  ::close(fd);
  return seconds;
}

// p50 and p99 of `rounds` runs of `query`, in ms.
template <typename Query>
std::pair<double, double> Time(int rounds, Query&& query) {
  std::vector<double> ms;
  for (int round = 0; round < rounds; ++round) {
    auto begin = Clock::now();
    if (!query()) return {-1, -1};
    ms.push_back(Millis(Clock::now() - begin));
  }
  return {Percentile(ms, 0.5), Percentile(ms, 0.99)};
}

}  // namespace

int main() {
  fs::path root = fs::temp_directory_path() / ("board_bench." + std::to_string(::getpid()));
  fs::create_directories(root);
  std::string first = (root / "board0").string();
  double ingest_s = 0;
  {
    auto writer = BoardWriter::Open(first);
    if (!writer) return std::fprintf(stderr, "%s\n", writer.error().message().c_str()), 1;
    std::vector<Point> batch(kBatch);
    for (std::int64_t from = 0; from < kPoints; from += kBatch) {
      for (std::int64_t i = 0; i < kBatch; ++i) {
        std::int64_t step = from + i;
        double value = 1.0 + 0.01 * std::sin(step * 0.001) + (step == 424'242 ? 99 : 0);
        batch[i] = {step, 1'796'000'000.0 + step * 0.1, value};
      }
      auto begin = Clock::now();
      if (!(*writer)->Append(kLoss, batch)) return 1;
      ingest_s += Millis(Clock::now() - begin) / 1000;
    }
    if (!(*writer)->Seal().ok()) return 1;
  }
  std::uintmax_t bytes = FolderBytes(first);
  double plain_s = PlainWriteSeconds(root / "plain", bytes);
  for (int board = 1; board < kBoards; ++board)
    fs::copy(first, root / ("board" + std::to_string(board)), fs::copy_options::recursive);

  auto one = Time(200, [&] { return QueryGraph(first, "loss", {.points = 1000}).has_value(); });
  auto ten = Time(200, [&] {
    for (int board = 0; board < kBoards; ++board)
      if (!QueryGraph((root / ("board" + std::to_string(board))).string(), "loss", {.points = 1000})) return false;
    return true;
  });
  auto zoom = Time(200, [&] {
    return QueryGraph(first, "loss", {.from_step = 400'000, .to_step = 450'000, .points = 1000}).has_value();
  });
  auto smoothed = Time(20, [&] { return QueryGraph(first, "loss", {.points = 1000, .smoothing = 0.6}).has_value(); });

  std::printf("board store, one curve of %lld points (%.1f MB on disk, %.1f bytes a point):\n",
              static_cast<long long>(kPoints), bytes / 1e6, static_cast<double>(bytes) / kPoints);
  std::printf("  %-44s %10.2f M points/s  (plain write(2) of the same bytes: %.1fx faster)\n",
              "ingestion, batches of 1,000 points", kPoints / ingest_s / 1e6, ingest_s / plain_s);
  std::printf("  %-44s p50 %6.3f ms  p99 %6.3f ms  (target p99 <= 1 ms)\n", "1,000,000 points -> 1,000 buckets",
              one.first, one.second);
  std::printf("  %-44s p50 %6.3f ms  p99 %6.3f ms  (target p99 <= 10 ms)\n", "10 boards compared, 1,000 buckets each",
              ten.first, ten.second);
  std::printf("  %-44s p50 %6.3f ms  p99 %6.3f ms\n", "zoom: 50,000 steps -> 1,000 buckets", zoom.first, zoom.second);
  std::printf("  %-44s p50 %6.3f ms  p99 %6.3f ms  (reads every point up to the range's end)\n",
              "smoothed (w = 0.6), 1,000 buckets", smoothed.first, smoothed.second);
  fs::remove_all(root);
}
