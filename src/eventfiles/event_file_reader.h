// Reads the scalars that training code logs into TensorBoard event files (`events.out.tfevents.*`)
// and VisualDL record files (`vdlrecords.*.log`), incrementally, while they are being written.
//
// Contract:
//   - Open() refuses a path whose last component is a symbolic link (PermissionDenied), anything that
//     is not a regular file (InvalidArgument) and a name of neither kind (InvalidArgument).
//   - Open() may resume from a position() saved earlier (e.g. across a server restart).
//   - Each ReadMore() returns the points logged since the previous call, each point exactly once, in
//     file order, and what it passed over. A record still being written is left for a later call.
//     With Tail::kFinal (the writer has exited) an unfinished tail counts as corrupt instead.
//   - Corrupt or malformed records are skipped and counted; no input crashes the reader or makes it
//     allocate more than one record's bytes (records are at most kMaxRecordBytes). See record_reader.h
//     and scalars.h for the exact rules.
//   - The file stays open (O_RDONLY|O_NOFOLLOW|O_CLOEXEC) for the reader's life. ReadMore does file I/O:
//     call it on the blocking pool. One reader is used by one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "eventfiles/record_reader.h"
#include "eventfiles/scalars.h"

namespace paddlecloud::eventfiles {

enum class FileKind { kTensorBoard, kVisualDl };

// The kind of event file a file name (the last path component) names, if any.
std::optional<FileKind> KindOfFileName(std::string_view file_name);

struct ReadBatch {
  std::vector<ScalarPoint> points;     // new since the last call, in file order
  std::uint64_t records = 0;           // complete records read
  std::uint64_t corrupt = 0;           // records skipped: checksum mismatch, malformed protobuf, bad tail
  std::uint64_t ignored = 0;           // well-formed records without a scalar (file_version, images, ...)
  std::uint64_t pending_bytes = 0;     // bytes after position() not read yet: an unfinished record,
                                       // or what max_bytes left for the next call
};

class EventFileReader {
 public:
  static Result<std::unique_ptr<EventFileReader>> Open(const std::string& path, ReadPosition resume_from = {});
  // The same, `name` taken relative to the open folder `dir_fd` (its last component not followed).
  static Result<std::unique_ptr<EventFileReader>> OpenAt(int dir_fd, const std::string& name,
                                                         ReadPosition resume_from = {});
  ~EventFileReader();
  EventFileReader(const EventFileReader&) = delete;
  EventFileReader& operator=(const EventFileReader&) = delete;

  // Reads what was appended since the last call, or about `max_bytes` of it (0: all), so one call's
  // work and memory stay bounded on a large file. Internal on an I/O error, Conflict when the file
  // became shorter than what was already read (truncated or replaced).
  Result<ReadBatch> ReadMore(Tail tail = Tail::kMayGrow, std::uint64_t max_bytes = 0);

  FileKind kind() const { return kind_; }
  // Where the next ReadMore starts: save it to resume with Open later.
  ReadPosition position() const { return position_; }
  std::uint64_t offset() const { return position_.offset; }

 private:
  EventFileReader(int fd, FileKind kind, ReadPosition position) : fd_(fd), kind_(kind), position_(position) {}

  int fd_;
  FileKind kind_;
  ReadPosition position_;
};

}  // namespace paddlecloud::eventfiles
