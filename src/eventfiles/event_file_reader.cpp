#include "eventfiles/event_file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "common/fs.h"

namespace paddlecloud::eventfiles {

std::optional<FileKind> KindOfFileName(std::string_view file_name) {
  if (file_name.starts_with("events.out.tfevents.")) return FileKind::kTensorBoard;
  if (file_name.starts_with("vdlrecords.") && file_name.ends_with(".log") && file_name.size() > 15)
    return FileKind::kVisualDl;
  return std::nullopt;
}

Result<std::unique_ptr<EventFileReader>> EventFileReader::Open(const std::string& path, ReadPosition resume_from) {
  return OpenAt(AT_FDCWD, path, resume_from);
}

Result<std::unique_ptr<EventFileReader>> EventFileReader::OpenAt(int dir_fd, const std::string& path,
                                                                 ReadPosition resume_from) {
  const std::size_t slash = path.rfind('/');
  const auto kind = KindOfFileName(slash == std::string::npos ? path : std::string_view(path).substr(slash + 1));
  if (!kind)
    return Err(Status::InvalidArgument(
        "'" + path + "' is not an event file: expected events.out.tfevents.* or vdlrecords.*.log", "path"));
  const int fd = ::openat(dir_fd, path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) return Err(Status::PermissionDenied("event file '" + path + "' is a symbolic link: refused"));
    if (err == ENOENT) return Err(Status::NotFound("event file '" + path + "' does not exist"));
    return Err(Status::Internal("cannot open event file '" + path + "': " + fsutil::ErrnoText(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return Err(Status::InvalidArgument("event file '" + path + "' is not a regular file", "path"));
  }
  return std::unique_ptr<EventFileReader>(new EventFileReader(fd, *kind, resume_from));
}

EventFileReader::~EventFileReader() { ::close(fd_); }

Result<ReadBatch> EventFileReader::ReadMore(Tail tail, std::uint64_t max_bytes) {
  ReadBatch batch;
  const auto extract = kind_ == FileKind::kTensorBoard ? ExtractTensorBoardScalars : ExtractVisualDlScalars;
  const ScanOptions options{
      .framing = kind_ == FileKind::kTensorBoard ? Framing::kTFRecord : Framing::kLengthPrefixed,
      .tail = tail,
      .max_bytes = max_bytes};
  auto scan = ScanRecords(fd_, position_, options, [&](std::string_view data) {
    switch (extract(data, batch.points)) {
      case Extracted::kScalars: break;
      case Extracted::kNone: ++batch.ignored; break;
      case Extracted::kMalformed: ++batch.corrupt; break;
    }
  });
  if (!scan) return Err(scan.error());
  position_ = scan->next;
  batch.records = scan->records;
  batch.corrupt += scan->corrupt;
  batch.ignored += scan->oversized;
  batch.pending_bytes = scan->pending_bytes;
  return batch;
}

}  // namespace paddlecloud::eventfiles
