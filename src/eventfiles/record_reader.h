// Incremental reading of the records of a file that a training process may still be appending to.
//
// Two framings, both little endian:
//   kTFRecord (TensorBoard):    uint64 length, uint32 masked CRC-32C of those 8 bytes, data,
//                               uint32 masked CRC-32C of the data.
//   kLengthPrefixed (VisualDL): uint64 length, data. VisualDL 2.x writes no checksums.
//
// ScanRecords reads from a position up to the file's size when called and hands each complete record
// to a callback; the position it returns is where the next call resumes, so every record is delivered
// exactly once. A record not yet complete (a torn tail) stays unread until a later call finds it whole,
// unless the caller says the writer is done (Tail::kFinal): then the tail counts as corrupt. Bad input
// never crashes and never allocates more than kMaxRecordBytes:
//   - data whose CRC does not match: the record is skipped and counted corrupt;
//   - a length whose CRC does not match (kTFRecord): the bytes up to the next position holding a valid
//     length and length CRC are skipped and counted corrupt once, across calls;
//   - a length over kMaxRecordBytes: never loaded; skipped whole (counted oversized) once all of it is
//     in the file, else waited for like any torn tail.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

#include "common/status.h"

namespace paddlecloud::eventfiles {

enum class Framing { kTFRecord, kLengthPrefixed };

// Whether the writer may still append (the usual case) or is known to be done.
enum class Tail { kMayGrow, kFinal };

inline constexpr std::uint64_t kMaxRecordBytes = 64ull << 20;

// Where to resume. in_corruption: `offset` lies inside a corrupt stretch already counted, where the
// search for the next valid record goes on.
struct ReadPosition {
  std::uint64_t offset = 0;
  bool in_corruption = false;
  bool operator==(const ReadPosition&) const = default;
};

struct ScanOptions {
  Framing framing = Framing::kTFRecord;
  Tail tail = Tail::kMayGrow;
  std::uint64_t max_bytes = 0;  // stop once this many bytes were consumed (0: read to the end)
};

struct ScanResult {
  ReadPosition next;                // resume here
  std::uint64_t records = 0;        // complete records handed to the callback
  std::uint64_t corrupt = 0;        // corrupt records or stretches skipped
  std::uint64_t oversized = 0;      // well-framed records over kMaxRecordBytes, skipped unread
  std::uint64_t pending_bytes = 0;  // bytes after next.offset not yet readable (torn tail)
};

// Called with each complete record's data; the view is valid during the call only.
using RecordCallback = std::function<void(std::string_view data)>;

// Reads the records of the regular file open at `fd` from `from`. Errors: Internal on an I/O error,
// Conflict when the file is shorter than `from` (it was truncated or replaced).
Result<ScanResult> ScanRecords(int fd, ReadPosition from, const ScanOptions& options, const RecordCallback& on_record);

}  // namespace paddlecloud::eventfiles
