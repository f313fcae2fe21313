#include "eventfiles/event_file_reader.h"

#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <algorithm>

#include "eventfiles/test_encoder.h"
#include "testing/server_process.h"

namespace paddlecloud::eventfiles {
namespace {

using namespace testenc;
namespace fs = std::filesystem;

const std::string kTestdata = PADDLECLOUD_TESTDATA_DIR;
const std::string kTensorBoardFile = kTestdata + "/events.out.tfevents.1700000000.testhost.4242.0";
const std::string kVisualDlFile = kTestdata + "/vdlrecords.1700000000.log";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::unique_ptr<EventFileReader> OpenOrFail(const std::string& path) {
  auto reader = EventFileReader::Open(path);
  EXPECT_TRUE(reader.has_value()) << reader.error().ToString();
  return reader ? std::move(*reader) : nullptr;
}

ReadBatch ReadOrFail(EventFileReader& reader, Tail tail = Tail::kMayGrow, std::uint64_t max_bytes = 0) {
  auto batch = reader.ReadMore(tail, max_bytes);
  EXPECT_TRUE(batch.has_value()) << batch.error().ToString();
  return batch.value_or(ReadBatch{});
}

// Equality that treats NaN as equal to NaN.
void ExpectPoints(const std::vector<ScalarPoint>& actual, const std::vector<ScalarPoint>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t i = 0; i < actual.size(); ++i) {
    EXPECT_EQ(actual[i].tag, expected[i].tag) << i;
    EXPECT_EQ(actual[i].step, expected[i].step) << i;
    EXPECT_EQ(actual[i].wall_time_s, expected[i].wall_time_s) << i;
    if (std::isnan(expected[i].value)) EXPECT_TRUE(std::isnan(actual[i].value)) << i;
    else EXPECT_EQ(actual[i].value, expected[i].value) << i;
  }
}

const std::vector<ScalarPoint> kTensorBoardPoints = {
    {"train/loss", 0, 1700000001.5, 2.5},
    {"train/loss", 1, 1700000002.5, 1.25},
    {"eval/accuracy", 1, 1700000002.75, 0.875},
    {"eval/accuracy", 2, 1700000003.5, 0.5},
    {"train/loss", 2, 1700000004.0, std::nan("")},
    {"lr", 4, 1700000006.0, static_cast<double>(0.001f)},
    {"epoch", 4, 1700000006.0, 7},
};
const std::vector<ScalarPoint> kVisualDlPoints = {
    {"train/loss", 0, 1700000001.0, 3.0},
    {"train/loss", 1, 1700000001.25, 2.0},
    {"train/loss", 2, 1700000001.5, 1.5},
    {"train/acc", 3, 1700000002.5, -std::numeric_limits<double>::infinity()},
};

class EventFileReaderTest : public ::testing::Test {
 protected:
  std::string Path(const std::string& name) const { return tmp_.path() + "/" + name; }
  testing::TempDir tmp_;
};

TEST(KindOfFileNameTest, ByPrefixAndSuffix) {
  EXPECT_EQ(KindOfFileName("events.out.tfevents.1700000000.host.1.0"), FileKind::kTensorBoard);
  EXPECT_EQ(KindOfFileName("events.out.tfevents.1700000000.host.1.0.v2"), FileKind::kTensorBoard);
  EXPECT_EQ(KindOfFileName("vdlrecords.1700000000.log"), FileKind::kVisualDl);
  EXPECT_EQ(KindOfFileName("vdlrecords.1700000000.logx"), std::nullopt);
  EXPECT_EQ(KindOfFileName("vdlrecords..log"), std::nullopt);
  EXPECT_EQ(KindOfFileName("events.out"), std::nullopt);
  EXPECT_EQ(KindOfFileName("train.log"), std::nullopt);
}

TEST_F(EventFileReaderTest, ReadsATensorBoardFileWrittenByTheProtobufLibrary) {
  auto reader = OpenOrFail(kTensorBoardFile);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->kind(), FileKind::kTensorBoard);
  const ReadBatch batch = ReadOrFail(*reader);
  ExpectPoints(batch.points, kTensorBoardPoints);
  EXPECT_EQ(batch.records, 10u);
  EXPECT_EQ(batch.ignored, 4u);  // file_version, a 2x3 tensor, a string tensor, a graph
  EXPECT_EQ(batch.corrupt, 0u);
  EXPECT_EQ(batch.pending_bytes, 0u);
  EXPECT_EQ(reader->offset(), fs::file_size(kTensorBoardFile));
  EXPECT_TRUE(ReadOrFail(*reader).points.empty());
}

TEST_F(EventFileReaderTest, ReadsAVisualDlFileWrittenByTheProtobufLibrary) {
  auto reader = OpenOrFail(kVisualDlFile);
  ASSERT_TRUE(reader);
  EXPECT_EQ(reader->kind(), FileKind::kVisualDl);
  const ReadBatch batch = ReadOrFail(*reader);
  ExpectPoints(batch.points, kVisualDlPoints);
  EXPECT_EQ(batch.records, 6u);
  EXPECT_EQ(batch.ignored, 2u);  // meta data, an image
  EXPECT_EQ(batch.corrupt, 0u);
}

// The writer is caught at every byte of the file: the points read before and after add up to each
// point exactly once.
TEST_F(EventFileReaderTest, TornTailCompletedLaterYieldsEachPointOnce) {
  for (const auto& [source, name, expected] :
       {std::tuple{kTensorBoardFile, "events.out.tfevents.1.host", &kTensorBoardPoints},
        std::tuple{kVisualDlFile, "vdlrecords.1.log", &kVisualDlPoints}}) {
    const std::string bytes = ReadFile(source);
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
      const std::string path = Path(name);
      WriteFile(path, bytes.substr(0, cut));
      auto reader = OpenOrFail(path);
      ASSERT_TRUE(reader);
      ReadBatch first = ReadOrFail(*reader);
      EXPECT_EQ(reader->offset() + first.pending_bytes, cut);
      AppendFile(path, bytes.substr(cut));
      const ReadBatch second = ReadOrFail(*reader, Tail::kFinal);
      first.points.insert(first.points.end(), second.points.begin(), second.points.end());
      ExpectPoints(first.points, *expected);
      ASSERT_EQ(first.corrupt + second.corrupt, 0u) << name << " cut at " << cut;
    }
  }
}

TEST_F(EventFileReaderTest, ResumesFromASavedPosition) {
  const std::string path = Path("events.out.tfevents.resume");
  const std::string bytes = ReadFile(kTensorBoardFile);
  WriteFile(path, bytes.substr(0, bytes.size() / 2));
  ReadPosition saved;
  std::vector<ScalarPoint> points;
  {
    auto reader = OpenOrFail(path);
    ASSERT_TRUE(reader);
    points = ReadOrFail(*reader).points;
    saved = reader->position();
  }
  AppendFile(path, bytes.substr(bytes.size() / 2));
  auto resumed = EventFileReader::Open(path, saved);
  ASSERT_TRUE(resumed.has_value());
  const ReadBatch rest = ReadOrFail(**resumed);
  points.insert(points.end(), rest.points.begin(), rest.points.end());
  ExpectPoints(points, kTensorBoardPoints);
}

// Any single flipped bit loses the one record it hits, found by its checksum, and nothing else.
TEST_F(EventFileReaderTest, EveryFlippedBitCostsOneRecord) {
  const std::string bytes = ReadFile(kTensorBoardFile);
  const std::string path = Path("events.out.tfevents.flips");
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ (1 << (i % 8)));
    WriteFile(path, flipped);
    auto reader = OpenOrFail(path);
    ASSERT_TRUE(reader);
    const ReadBatch batch = ReadOrFail(*reader, Tail::kFinal);
    ASSERT_EQ(batch.corrupt, 1u) << "bit flipped in byte " << i;
    ASSERT_GE(batch.points.size(), kTensorBoardPoints.size() - 2) << i;  // one record holds two points
    for (const ScalarPoint& point : batch.points) {
      const auto found = std::ranges::find_if(kTensorBoardPoints, [&](const ScalarPoint& p) {
        return p.tag == point.tag && p.step == point.step && p.wall_time_s == point.wall_time_s;
      });
      ASSERT_NE(found, kTensorBoardPoints.end()) << i;
    }
  }
}

// VisualDL files carry no checksum: a flipped byte may change what is read, but never crashes it.
TEST_F(EventFileReaderTest, VisualDlFileSurvivesEveryFlippedByte) {
  const std::string bytes = ReadFile(kVisualDlFile);
  const std::string path = Path("vdlrecords.flips.log");
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    for (const unsigned char mask : {0x01, 0x80, 0xFF}) {
      std::string flipped = bytes;
      flipped[i] = static_cast<char>(flipped[i] ^ mask);
      WriteFile(path, flipped);
      auto reader = OpenOrFail(path);
      ASSERT_TRUE(reader);
      const ReadBatch batch = ReadOrFail(*reader, Tail::kFinal);
      EXPECT_LE(batch.points.size(), kVisualDlPoints.size() + 1) << i;
    }
  }
}

TEST_F(EventFileReaderTest, FlippedByteSkipsOneRecordAndReadsTheRest) {
  std::string bytes = ReadFile(kTensorBoardFile);
  // The third record (train/loss at step 1): flip a byte of its data.
  std::size_t offset = 0;
  for (int record = 0; record < 2; ++record) offset += 16 + static_cast<unsigned char>(bytes[offset]);
  bytes[offset + 12 + 5] ^= 0x20;
  WriteFile(Path("events.out.tfevents.flipped"), bytes);
  auto reader = OpenOrFail(Path("events.out.tfevents.flipped"));
  ASSERT_TRUE(reader);
  const ReadBatch batch = ReadOrFail(*reader);
  EXPECT_EQ(batch.corrupt, 1u);
  std::vector<ScalarPoint> expected = kTensorBoardPoints;
  expected.erase(expected.begin() + 1);
  ExpectPoints(batch.points, expected);
}

TEST_F(EventFileReaderTest, AbsurdLengthWaitsThenCountsAsCorruptWhenTheWriterIsDone) {
  const std::string path = Path("vdlrecords.absurd.log");
  WriteFile(path, LengthPrefixed(VdlScalar(1, "a", 1000, 1.0f)) + LittleEndian(1ull << 62, 8) + "garbage");
  auto reader = OpenOrFail(path);
  ASSERT_TRUE(reader);
  const ReadBatch growing = ReadOrFail(*reader);
  EXPECT_EQ(growing.points.size(), 1u);
  EXPECT_EQ(growing.pending_bytes, 15u);
  EXPECT_EQ(growing.corrupt, 0u);
  const ReadBatch final = ReadOrFail(*reader, Tail::kFinal);
  EXPECT_EQ(final.corrupt, 1u);
  EXPECT_EQ(final.pending_bytes, 0u);
  EXPECT_EQ(ReadOrFail(*reader, Tail::kFinal).corrupt, 0u);  // counted once
}

TEST_F(EventFileReaderTest, MalformedProtobufInAWellFramedRecordIsCountedAndSkipped) {
  const std::string path = Path("events.out.tfevents.malformed");
  const std::string truncated_varint = DoubleField(1, 1.0) + Key(2, 0) + "\x80\x80";
  WriteFile(path, TFRecord(ScalarEvent(1, 1, "a", 1)) + TFRecord(truncated_varint) + TFRecord(ScalarEvent(2, 2, "a", 2)));
  auto reader = OpenOrFail(path);
  ASSERT_TRUE(reader);
  const ReadBatch batch = ReadOrFail(*reader);
  EXPECT_EQ(batch.corrupt, 1u);
  EXPECT_EQ(batch.records, 3u);
  ExpectPoints(batch.points, {{"a", 1, 1, 1}, {"a", 2, 2, 2}});
}

TEST_F(EventFileReaderTest, EmptyFileReadsNothingUntilWritten) {
  const std::string path = Path("events.out.tfevents.empty");
  WriteFile(path, "");
  auto reader = OpenOrFail(path);
  ASSERT_TRUE(reader);
  const ReadBatch empty = ReadOrFail(*reader);
  EXPECT_TRUE(empty.points.empty());
  EXPECT_EQ(empty.records + empty.corrupt + empty.ignored + empty.pending_bytes, 0u);
  AppendFile(path, TFRecord(ScalarEvent(5, 1, "a", 3)));
  ExpectPoints(ReadOrFail(*reader).points, {{"a", 1, 5, 3}});
}

TEST_F(EventFileReaderTest, SymbolicLinkIsRefused) {
  const std::string target = Path("target");
  WriteFile(target, TFRecord(ScalarEvent(5, 1, "a", 3)));
  fs::create_symlink(target, Path("events.out.tfevents.link"));
  auto reader = EventFileReader::Open(Path("events.out.tfevents.link"));
  ASSERT_FALSE(reader.has_value());
  EXPECT_EQ(reader.error().code(), Code::kPermissionDenied);
  EXPECT_NE(reader.error().message().find("symbolic link"), std::string::npos) << reader.error().message();
}

TEST_F(EventFileReaderTest, OtherFilesAreRefusedWithAClearError) {
  fs::create_directory(Path("events.out.tfevents.dir"));
  const auto directory = EventFileReader::Open(Path("events.out.tfevents.dir"));
  ASSERT_FALSE(directory.has_value());
  EXPECT_EQ(directory.error().code(), Code::kInvalidArgument);

  const auto missing = EventFileReader::Open(Path("vdlrecords.missing.log"));
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code(), Code::kNotFound);

  WriteFile(Path("train.log"), "");
  const auto wrong_name = EventFileReader::Open(Path("train.log"));
  ASSERT_FALSE(wrong_name.has_value());
  EXPECT_EQ(wrong_name.error().code(), Code::kInvalidArgument);
  EXPECT_EQ(wrong_name.error().field(), "path");
}

TEST_F(EventFileReaderTest, TruncatedFileIsAConflict) {
  const std::string path = Path("events.out.tfevents.truncated");
  WriteFile(path, TFRecord(ScalarEvent(5, 1, "a", 3)));
  auto reader = OpenOrFail(path);
  ASSERT_TRUE(reader);
  ReadOrFail(*reader);
  ASSERT_EQ(::truncate(path.c_str(), 4), 0);
  const auto batch = reader->ReadMore();
  ASSERT_FALSE(batch.has_value());
  EXPECT_EQ(batch.error().code(), Code::kConflict);
}

TEST_F(EventFileReaderTest, ByteBudgetReadsALargeFileInPiecesEachPointOnce) {
  const std::string path = Path("events.out.tfevents.pieces");
  std::string bytes;
  for (int step = 0; step < 1000; ++step) bytes += TFRecord(ScalarEvent(step, step, "loss", static_cast<float>(step)));
  WriteFile(path, bytes);
  auto reader = OpenOrFail(path);
  ASSERT_TRUE(reader);
  std::vector<ScalarPoint> points;
  int calls = 0;
  for (ReadBatch batch; calls == 0 || batch.pending_bytes > 0; ++calls) {
    batch = ReadOrFail(*reader, Tail::kMayGrow, 4096);
    EXPECT_LE(batch.points.size(), 4096u / 40 + 1);
    points.insert(points.end(), batch.points.begin(), batch.points.end());
  }
  EXPECT_GT(calls, 10);
  ASSERT_EQ(points.size(), 1000u);
  for (int step = 0; step < 1000; ++step) EXPECT_EQ(points[step].step, step);
}

TEST_F(EventFileReaderTest, HundredThousandPoints) {
  constexpr int kPoints = 100'000;
  for (const std::string name : {"events.out.tfevents.big", "vdlrecords.big.log"}) {
    const bool tensorboard = name.starts_with("events");
    std::string bytes;
    for (int step = 0; step < kPoints; ++step) {
      bytes += tensorboard ? TFRecord(ScalarEvent(1700000000 + step, step, "train/loss", static_cast<float>(step)))
                           : LengthPrefixed(VdlScalar(step, "train/loss", 1700000000000 + step, static_cast<float>(step)));
    }
    WriteFile(Path(name), bytes);
    auto reader = OpenOrFail(Path(name));
    ASSERT_TRUE(reader);
    const auto start = std::chrono::steady_clock::now();
    const ReadBatch batch = ReadOrFail(*reader);
    const auto elapsed = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
    std::cout << "[ timing   ] " << name << ": " << batch.points.size() << " points, " << bytes.size() << " bytes in "
              << elapsed.count() << " ms\n";
    ASSERT_EQ(batch.points.size(), static_cast<std::size_t>(kPoints));
    const double last_wall_time = tensorboard ? 1700000000.0 + (kPoints - 1)
                                              : static_cast<double>(1700000000000 + kPoints - 1) / 1000.0;
    EXPECT_EQ(batch.points.back(), (ScalarPoint{"train/loss", kPoints - 1, last_wall_time, kPoints - 1}));
  }
}

}  // namespace
}  // namespace paddlecloud::eventfiles
