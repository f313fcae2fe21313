#include "eventfiles/record_reader.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <optional>
#include <string>

#include "common/fs.h"
#include "eventfiles/crc32c.h"

namespace paddlecloud::eventfiles {
namespace {

constexpr std::uint64_t kLengthBytes = 8;
constexpr std::uint64_t kCrcBytes = 4;
constexpr std::uint64_t kTFRecordHeader = kLengthBytes + kCrcBytes;
constexpr std::size_t kChunkBytes = 1 << 20;

std::uint64_t LoadLittleEndian(std::string_view bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = bytes.size(); i-- > 0;) value = value << 8 | static_cast<unsigned char>(bytes[i]);
  return value;
}

bool LengthCrcMatches(std::string_view header) {
  return MaskCrc(Crc32c(header.substr(0, kLengthBytes))) == LoadLittleEndian(header.substr(kLengthBytes, kCrcBytes));
}

// Reads the file through one buffer of at least kChunkBytes, so small records cost no system call each.
class FileWindow {
 public:
  FileWindow(int fd, std::uint64_t size) : fd_(fd), size_(size) {}

  // The bytes [pos, pos + n), fewer only when the file shrank meanwhile; n <= kMaxRecordBytes + 4.
  Result<std::string_view> Read(std::uint64_t pos, std::uint64_t n) {
    if (pos < start_ || pos + n > start_ + buffer_.size()) {
      const std::uint64_t want = std::min<std::uint64_t>(std::max<std::uint64_t>(n, kChunkBytes), size_ - pos);
      buffer_.resize(want);
      std::uint64_t got = 0;
      while (got < want) {
        const ssize_t r = ::pread(fd_, buffer_.data() + got, want - got, static_cast<off_t>(pos + got));
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return Err(Status::Internal("cannot read event file: " + fsutil::ErrnoText(errno)));
        if (r == 0) break;
        got += static_cast<std::uint64_t>(r);
      }
      buffer_.resize(got);
      start_ = pos;
    }
    const std::uint64_t begin = pos - start_;
    return std::string_view(buffer_).substr(begin, std::min<std::uint64_t>(n, buffer_.size() - begin));
  }

 private:
  int fd_;
  std::uint64_t size_;
  std::string buffer_;
  std::uint64_t start_ = 0;
};

// The first position in [from, size - 12] holding a length with a matching CRC, if any.
Result<std::optional<std::uint64_t>> FindTFRecordHeader(FileWindow& window, std::uint64_t from, std::uint64_t size) {
  for (std::uint64_t pos = from; pos + kTFRecordHeader <= size;) {
    auto chunk = window.Read(pos, std::min<std::uint64_t>(kChunkBytes, size - pos));
    if (!chunk) return Err(chunk.error());
    if (chunk->size() < kTFRecordHeader) break;
    const std::size_t candidates = chunk->size() - kTFRecordHeader + 1;
    for (std::size_t i = 0; i < candidates; ++i)
      if (LengthCrcMatches(chunk->substr(i, kTFRecordHeader))) return pos + i;
    pos += candidates;
  }
  return std::nullopt;
}

class Scanner {
 public:
  Scanner(int fd, std::uint64_t size, ReadPosition from, const ScanOptions& options, const RecordCallback& on_record)
      : window_(fd, size), size_(size), start_(from.offset), options_(options), on_record_(on_record) {
    result_.next = from;
  }

  Result<ScanResult> Run() {
    bool budget_spent = false;
    while (Position() < size_) {
      if (options_.max_bytes != 0 && Position() - start_ >= options_.max_bytes) {
        budget_spent = true;
        break;
      }
      auto progressed = Step();
      if (!progressed) return Err(progressed.error());
      if (!*progressed) break;
    }
    if (options_.tail == Tail::kFinal && !budget_spent && Position() < size_) {
      if (!result_.next.in_corruption) ++result_.corrupt;
      result_.next = {size_, false};
    }
    result_.pending_bytes = size_ - Position();
    return result_;
  }

 private:
  std::uint64_t Position() const { return result_.next.offset; }
  std::uint64_t HeaderBytes() const { return options_.framing == Framing::kTFRecord ? kTFRecordHeader : kLengthBytes; }
  std::uint64_t FooterBytes() const { return options_.framing == Framing::kTFRecord ? kCrcBytes : 0; }

  void EnterCorruption() {
    if (!result_.next.in_corruption) ++result_.corrupt;
    result_.next.in_corruption = true;
  }

  // Consumes one record or corrupt stretch at the position; false when nothing more can be read now.
  Result<bool> Step() {
    const std::uint64_t pos = Position();
    if (size_ - pos < HeaderBytes()) return false;
    auto header = window_.Read(pos, HeaderBytes());
    if (!header) return Err(header.error());
    if (header->size() < HeaderBytes()) return false;
    if (options_.framing == Framing::kTFRecord && !LengthCrcMatches(*header)) return Resynchronize(pos);
    result_.next.in_corruption = false;

    const std::uint64_t length = LoadLittleEndian(header->substr(0, kLengthBytes));
    const std::uint64_t available = size_ - pos - HeaderBytes();
    if (available < FooterBytes() || length > available - FooterBytes()) return false;  // torn tail
    const std::uint64_t end = pos + HeaderBytes() + length + FooterBytes();
    if (length > kMaxRecordBytes) {
      ++result_.oversized;
      result_.next.offset = end;
      return true;
    }
    auto body = window_.Read(pos + HeaderBytes(), length + FooterBytes());
    if (!body) return Err(body.error());
    if (body->size() < length + FooterBytes()) return false;  // the file shrank meanwhile
    const std::string_view data = body->substr(0, length);
    result_.next.offset = end;
    if (options_.framing == Framing::kTFRecord &&
        MaskCrc(Crc32c(data)) != LoadLittleEndian(body->substr(length, kCrcBytes))) {
      ++result_.corrupt;
      return true;
    }
    ++result_.records;
    on_record_(data);
    return true;
  }

  // The length at `pos` fails its CRC: the length cannot be trusted, so look for the next valid one.
  Result<bool> Resynchronize(std::uint64_t pos) {
    EnterCorruption();
    auto next = FindTFRecordHeader(window_, pos + 1, size_);
    if (!next) return Err(next.error());
    if (*next) {
      result_.next = {**next, false};
      return true;
    }
    // Every position that could still start a header once more bytes arrive lies past size - 12.
    result_.next.offset = std::max(pos, size_ - kTFRecordHeader + 1);
    return false;
  }

  FileWindow window_;
  std::uint64_t size_;
  std::uint64_t start_;
  const ScanOptions& options_;
  const RecordCallback& on_record_;
  ScanResult result_;
};

}  // namespace

Result<ScanResult> ScanRecords(int fd, ReadPosition from, const ScanOptions& options, const RecordCallback& on_record) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Err(Status::Internal("cannot stat event file: " + fsutil::ErrnoText(errno)));
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < from.offset)
    return Err(Status::Conflict("the event file is shorter than the offset already read: it was truncated or replaced"));
  return Scanner(fd, size, from, options, on_record).Run();
}

}  // namespace paddlecloud::eventfiles
