#include "eventfiles/record_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "eventfiles/test_encoder.h"
#include "testing/server_process.h"

namespace paddlecloud::eventfiles {
namespace {

using namespace testenc;

class RecordReaderTest : public ::testing::Test {
 protected:
  std::string path() const { return tmp_.path() + "/records"; }

  // Scans the file from `from` and collects the records it hands out.
  ScanResult Scan(ReadPosition from, ScanOptions options = {}) {
    const int fd = ::open(path().c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(fd, 0);
    auto result = ScanRecords(fd, from, options, [&](std::string_view data) { records_.emplace_back(data); });
    ::close(fd);
    EXPECT_TRUE(result.has_value()) << result.error().ToString();
    return result.value_or(ScanResult{});
  }

  testing::TempDir tmp_;
  std::vector<std::string> records_;
};

TEST_F(RecordReaderTest, ReadsEveryRecordAndEndsAtTheEnd) {
  const std::string bytes = TFRecord("first") + TFRecord("") + TFRecord(std::string(3000, 'x'));
  WriteFile(path(), bytes);
  const ScanResult result = Scan({});
  EXPECT_EQ(records_, (std::vector<std::string>{"first", "", std::string(3000, 'x')}));
  EXPECT_EQ(result.records, 3u);
  EXPECT_EQ(result.next, (ReadPosition{bytes.size(), false}));
  EXPECT_EQ(result.pending_bytes, 0u);
  EXPECT_EQ(result.corrupt, 0u);
}

TEST_F(RecordReaderTest, EmptyFileReadsNothing) {
  WriteFile(path(), "");
  const ScanResult result = Scan({});
  EXPECT_TRUE(records_.empty());
  EXPECT_EQ(result.next.offset, 0u);
}

TEST_F(RecordReaderTest, TornTailIsLeftForTheNextCallAndReadOnceWhenComplete) {
  const std::string first = TFRecord("one"), second = TFRecord("two");
  // The writer stops at every byte of the second record in turn: each scan resumes where it ended.
  WriteFile(path(), first);
  ReadPosition position = Scan({}).next;
  for (char byte : second) {
    AppendFile(path(), std::string(1, byte));
    const ScanResult result = Scan(position);
    position = result.next;
    EXPECT_EQ(result.corrupt, 0u);
  }
  EXPECT_EQ(records_, (std::vector<std::string>{"one", "two"}));
  EXPECT_EQ(position.offset, first.size() + second.size());
}

TEST_F(RecordReaderTest, TornTailCountsAsCorruptWhenTheWriterIsDone) {
  const std::string bytes = TFRecord("one") + TFRecord("two").substr(0, 10);
  WriteFile(path(), bytes);
  const ScanResult growing = Scan({});
  EXPECT_EQ(growing.pending_bytes, 10u);
  const ScanResult final = Scan(growing.next, {.tail = Tail::kFinal});
  EXPECT_EQ(final.corrupt, 1u);
  EXPECT_EQ(final.next.offset, bytes.size());
  EXPECT_EQ(final.pending_bytes, 0u);
}

TEST_F(RecordReaderTest, DataChecksumMismatchSkipsThatRecordOnly) {
  std::string bytes = TFRecord("aaaa") + TFRecord("bbbb") + TFRecord("cccc");
  bytes[20 + 12 + 1] ^= 0x01;  // a byte of "bbbb" (each record is 20 bytes)
  WriteFile(path(), bytes);
  const ScanResult result = Scan({});
  EXPECT_EQ(records_, (std::vector<std::string>{"aaaa", "cccc"}));
  EXPECT_EQ(result.corrupt, 1u);
  EXPECT_EQ(result.next.offset, bytes.size());
}

TEST_F(RecordReaderTest, LengthChecksumMismatchResynchronizesOnTheNextValidRecord) {
  std::string bytes = TFRecord("aaaa") + TFRecord("bbbb") + TFRecord("cccc");
  bytes[20 + 3] ^= 0x40;  // a byte of the second record's length
  WriteFile(path(), bytes);
  const ScanResult result = Scan({});
  EXPECT_EQ(records_, (std::vector<std::string>{"aaaa", "cccc"}));
  EXPECT_EQ(result.corrupt, 1u);
}

TEST_F(RecordReaderTest, GarbageAtTheEndIsCountedOnceAcrossCalls) {
  WriteFile(path(), TFRecord("aaaa") + std::string(100, '\x5A'));
  const ScanResult first = Scan({});
  EXPECT_EQ(first.corrupt, 1u);
  EXPECT_TRUE(first.next.in_corruption);
  const ScanResult again = Scan(first.next);
  EXPECT_EQ(again.corrupt, 0u);
  AppendFile(path(), TFRecord("after"));  // the writer recovers: its next record is found
  const ScanResult recovered = Scan(again.next);
  EXPECT_EQ(recovered.corrupt, 0u);
  EXPECT_EQ(records_, (std::vector<std::string>{"aaaa", "after"}));
  EXPECT_FALSE(recovered.next.in_corruption);
}

TEST_F(RecordReaderTest, AbsurdLengthIsNeverAllocated) {
  // A well-checksummed length of 1 TiB: waited for as a torn tail, then corrupt when the writer is done.
  const std::string length = LittleEndian(1ull << 40, 8);
  const std::string bytes = TFRecord("ok") + length + LittleEndian(MaskCrc(Crc32c(length)), 4) + "tiny";
  WriteFile(path(), bytes);
  const ScanResult growing = Scan({});
  EXPECT_EQ(records_, std::vector<std::string>{"ok"});
  EXPECT_EQ(growing.next.offset, TFRecord("ok").size());
  EXPECT_EQ(growing.corrupt, 0u);
  const ScanResult final = Scan(growing.next, {.tail = Tail::kFinal});
  EXPECT_EQ(final.corrupt, 1u);
  EXPECT_EQ(final.next.offset, bytes.size());
}

TEST_F(RecordReaderTest, LengthNearTwoToTheSixtyFourDoesNotOverflow) {
  for (const std::uint64_t length : {~0ull, ~0ull - 11, ~0ull - 15}) {
    const std::string header = LittleEndian(length, 8);
    WriteFile(path(), header + LittleEndian(MaskCrc(Crc32c(header)), 4) + "data");
    EXPECT_EQ(Scan({}).next.offset, 0u);
    WriteFile(path(), header + "data");
    EXPECT_EQ(Scan({}, {.framing = Framing::kLengthPrefixed}).next.offset, 0u);
  }
  EXPECT_TRUE(records_.empty());
}

TEST_F(RecordReaderTest, OversizedRecordIsSkippedUnreadOnceComplete) {
  const std::string big(kMaxRecordBytes + 1, 'b');
  const std::string bytes = TFRecord(big) + TFRecord("small");
  WriteFile(path(), bytes);
  const ScanResult result = Scan({});
  EXPECT_EQ(result.oversized, 1u);
  EXPECT_EQ(records_, std::vector<std::string>{"small"});
}

TEST_F(RecordReaderTest, LengthPrefixedFramingOfVisualDl) {
  const std::string bytes = LengthPrefixed("one") + LengthPrefixed("") + LengthPrefixed("three");
  WriteFile(path(), bytes + LengthPrefixed("four").substr(0, 9));
  const ScanResult result = Scan({}, {.framing = Framing::kLengthPrefixed});
  EXPECT_EQ(records_, (std::vector<std::string>{"one", "", "three"}));
  EXPECT_EQ(result.next.offset, bytes.size());
  EXPECT_EQ(result.pending_bytes, 9u);
}

TEST_F(RecordReaderTest, ByteBudgetStopsBetweenRecords) {
  WriteFile(path(), TFRecord("aaaa") + TFRecord("bbbb") + TFRecord("cccc"));
  const ScanResult first = Scan({}, {.max_bytes = 20});
  EXPECT_EQ(records_.size(), 1u);  // each record is 20 bytes
  EXPECT_EQ(first.next.offset, 20u);
  const ScanResult rest = Scan(first.next, {.tail = Tail::kFinal, .max_bytes = 1000});
  EXPECT_EQ(records_.size(), 3u);
  EXPECT_EQ(rest.corrupt, 0u);
}

TEST_F(RecordReaderTest, FileShorterThanTheOffsetIsAConflict) {
  WriteFile(path(), TFRecord("aaaa"));
  const int fd = ::open(path().c_str(), O_RDONLY | O_CLOEXEC);
  auto result = ScanRecords(fd, {1000, false}, {}, [](std::string_view) {});
  ::close(fd);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().code(), Code::kConflict);
}

}  // namespace
}  // namespace paddlecloud::eventfiles
