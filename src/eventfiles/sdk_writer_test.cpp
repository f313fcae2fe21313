// The Python SDK's draw_board (sdk/python/paddlecloud/board.py) writes event files this reader reads:
// a real /usr/bin/python3 process writes one into a job dir, the reader checks every point.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "eventfiles/event_file_reader.h"
#include "testing/server_process.h"

namespace paddlecloud::eventfiles {
namespace {

namespace fs = std::filesystem;

constexpr char kScript[] = R"(
from paddlecloud import draw_board
cost, evaluator = 2.5, 0.75
draw_board(cost, evaluator)
draw_board(cost * 2, evaluator=float("nan"), step=5)
draw_board(loss=float("-inf"), title="train/eval")
draw_board(cost, evaluator)
# no flush: the points buffered are written at exit
)";

double Seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration<double>(t.time_since_epoch()).count();
}

TEST(SdkWriterTest, DrawBoardFileReadsBackWithTagsStepsAndValues) {
  testing::TempDir job_dir;
  const std::string script = job_dir.path() + "/draw.py";
  std::ofstream(script) << kScript;
  const double before = Seconds(std::chrono::system_clock::now());
  const std::string output = testing::RunCommand(
      "PADDLE_CLOUD_JOB_DIR=" + job_dir.path() + " PYTHONPATH=" PADDLECLOUD_SOURCE_DIR "/sdk/python POD_NAME=pod-0 "
      "/usr/bin/python3 " + script + " && echo SCRIPT-OK");
  const double after = Seconds(std::chrono::system_clock::now());
  ASSERT_NE(output.find("SCRIPT-OK"), std::string::npos) << output;

  ASSERT_TRUE(fs::is_directory(job_dir.path() + "/board")) << "no board folder; the script printed:\n" << output;
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(job_dir.path() + "/board")) files.push_back(entry.path());
  ASSERT_EQ(files.size(), 1u);
  const std::string name = files[0].filename().string();
  EXPECT_EQ(KindOfFileName(name), FileKind::kTensorBoard) << name;
  EXPECT_NE(name.find(".pod-0."), std::string::npos) << name;

  auto reader = EventFileReader::Open(files[0].string());
  ASSERT_TRUE(reader.has_value()) << reader.error().ToString();
  auto batch = (*reader)->ReadMore(Tail::kFinal);
  ASSERT_TRUE(batch.has_value()) << batch.error().ToString();
  EXPECT_EQ(batch->corrupt, 0u);
  EXPECT_EQ(batch->ignored, 1u);  // the file_version event
  EXPECT_EQ(batch->records, 5u);
  EXPECT_EQ(batch->pending_bytes, 0u);

  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<ScalarPoint> expected = {
      {"cost, evaluator/cost", 0, 0, 2.5},
      {"cost, evaluator/evaluator", 0, 0, 0.75},
      {"cost * 2, evaluator/cost * 2", 5, 0, 5.0},
      {"cost * 2, evaluator/evaluator", 5, 0, nan},
      {"train%2Feval/loss", 0, 0, -std::numeric_limits<double>::infinity()},
      {"cost, evaluator/cost", 1, 0, 2.5},
      {"cost, evaluator/evaluator", 1, 0, 0.75},
  };
  ASSERT_EQ(batch->points.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const ScalarPoint& point = batch->points[i];
    EXPECT_EQ(point.tag, expected[i].tag) << i;
    EXPECT_EQ(point.step, expected[i].step) << i;
    if (std::isnan(expected[i].value)) EXPECT_TRUE(std::isnan(point.value)) << i;
    else EXPECT_EQ(point.value, expected[i].value) << i;
    EXPECT_GE(point.wall_time_s, before - 1) << i;
    EXPECT_LE(point.wall_time_s, after + 1) << i;
  }
}

}  // namespace
}  // namespace paddlecloud::eventfiles
