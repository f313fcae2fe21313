#include "timeseries/series_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <type_traits>
#include <limits>
#include <optional>

#include "common/fs.h"

namespace paddlecloud::timeseries {
namespace {

constexpr int kLevels = 1 + static_cast<int>(std::max(kRollupWidthsMs.size(), kRollupWidthsSteps.size()));
constexpr std::int64_t kDayMs = 86'400'000;
constexpr std::size_t kMaxPoints = 100'000;
constexpr std::size_t kMaxColumns = 64;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr char kMetaFile[] = "series.meta";

// What series.meta says.
struct Meta {
  std::size_t columns = 0;
  Scale scale = Scale::kTime;
  int levels() const {
    return 1 + static_cast<int>(scale == Scale::kTime ? kRollupWidthsMs.size() : kRollupWidthsSteps.size());
  }
  std::int64_t Width(int level) const {
    if (level == 0) return 1;
    return scale == Scale::kTime ? kRollupWidthsMs[level - 1] : kRollupWidthsSteps[level - 1];
  }
  // Steps are never pruned: one segment per level, whatever their spacing (sparse steps would
  // otherwise make a file per sample).
  std::int64_t SegmentSpan(int level) const {
    if (scale == Scale::kSteps) return kMaxKey + 1;
    return level == 0 ? kDayMs : Width(level) * 10'080;
  }
};

std::int64_t FloorTo(std::int64_t t, std::int64_t width) { return t - t % width; }
std::int64_t CeilTo(std::int64_t t, std::int64_t width) { return FloorTo(t + width - 1, width); }

// Record layouts (host byte order; the series stays on the machine that wrote it):
//   sample: int64 t, float value[columns], uint32 checksum
//   bucket: int64 start, int64 through (time of its last sample), {float min, max, mean, last;
//           uint32 count}[columns], uint32 checksum
std::size_t RecordSize(int level, std::size_t columns) {
  return level == 0 ? 12 + 4 * columns : 20 + 20 * columns;
}

// FNV-1a over 8-byte words (records are multiples of 4 bytes; a 4-byte rest is its own word).
std::uint32_t Checksum(const char* bytes, std::size_t size) {
  std::uint64_t h = 14695981039346656037ull;
  std::size_t i = 0;
  for (; i + 8 <= size; i += 8) {
    std::uint64_t word;
    std::memcpy(&word, bytes + i, 8);
    h = (h ^ word) * 1099511628211ull;
  }
  for (; i < size; ++i) h = (h ^ static_cast<unsigned char>(bytes[i])) * 1099511628211ull;
  return static_cast<std::uint32_t>(h ^ (h >> 32));
}

bool Valid(const char* record, std::size_t size) {
  std::uint32_t stored;
  std::memcpy(&stored, record + size - 4, 4);
  return stored == Checksum(record, size - 4);
}

template <typename T>
T Load(const char* at) {
  T value;
  std::memcpy(&value, at, sizeof value);
  return value;
}

template <typename T>
void Store(std::string& out, T value) {
  out.append(reinterpret_cast<const char*>(&value), sizeof value);
}

// Copies `count` values of type T out of a record (records need not be aligned for T).
template <typename T>
const T* Unpack(const char* at, std::size_t count, std::vector<T>& into) {
  into.resize(count);
  std::memcpy(into.data(), at, count * sizeof(T));
  return into.data();
}
static_assert(sizeof(ColumnStat) == 20, "a bucket column is stored as 4 floats and a count");

void AppendChecksum(std::string& record) { Store(record, Checksum(record.data(), record.size())); }

Status SystemError(const std::string& what) { return Status::Internal(what + ": " + fsutil::ErrnoText(errno)); }

std::string SegmentName(int level, std::int64_t segment) {
  return "L" + std::to_string(level) + "-" + std::to_string(segment) + ".ts";
}

// The segments of every level in `dir_fd`, oldest first: one reading of the directory.
using SegmentList = std::array<std::vector<std::int64_t>, kLevels>;
SegmentList ListSegments(int dir_fd) {
  SegmentList found;
  int listing = ::dup(dir_fd);
  if (listing < 0) return found;
  DIR* dir = ::fdopendir(listing);
  if (!dir) {
    ::close(listing);
    return found;
  }
  ::rewinddir(dir);
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;  // "L<level>-<segment>.ts"
    if (name.size() < 6 || name[0] != 'L' || name[2] != '-' || !name.ends_with(".ts")) continue;
    int level = name[1] - '0';
    std::string_view digits = name.substr(3, name.size() - 6);
    if (level < 0 || level >= kLevels || digits.empty() ||
        digits.find_first_not_of("0123456789") != std::string_view::npos)
      continue;
    found[level].push_back(std::stoll(std::string(digits)));
  }
  ::closedir(dir);
  for (auto& level : found) std::sort(level.begin(), level.end());
  return found;
}

using fsutil::Fd;

Result<Fd> OpenDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.fd < 0) {
    if (errno == ENOENT) return Err(Status::NotFound("no such series"));
    return Err(SystemError("cannot open series " + dir));
  }
  return fd;
}

// "columns <n>\n", then "scale steps\n" for a series of steps.
std::string MetaText(const Meta& meta) {
  return "columns " + std::to_string(meta.columns) + "\n" + (meta.scale == Scale::kSteps ? "scale steps\n" : "");
}

Result<Meta> ReadMeta(int dir_fd) {
  Fd file(::openat(dir_fd, kMetaFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (file.fd < 0) return Err(Status::NotFound("no such series"));
  char text[64] = {};
  ssize_t n = ::read(file.fd, text, sizeof text - 1);
  unsigned long columns = 0;
  if (n <= 0 || std::sscanf(text, "columns %lu", &columns) != 1 || columns == 0 || columns > kMaxColumns)
    return Err(Status::Internal("series.meta is damaged"));
  Meta meta{static_cast<std::size_t>(columns), Scale::kTime};
  if (std::string_view(text).find("\nscale steps\n") != std::string_view::npos) meta.scale = Scale::kSteps;
  return meta;
}

// The folder of a series and what its meta file says, for readers.
struct OpenSeries {
  Fd dir;
  Meta meta;
};

Result<OpenSeries> OpenForReading(const std::string& dir) {
  auto opened = OpenDir(dir);
  if (!opened) return Err(opened.error());
  auto meta = ReadMeta(opened->fd);
  if (!meta) return Err(meta.error());
  return OpenSeries{std::move(*opened), *meta};
}

// Calls `take` with each valid record of `level` whose time is in [from, to), in time order, until
// it returns false if it returns bool, and stops at the first damaged record of a segment. Returns
// how many records it read.
template <typename Take>
std::size_t ReadRecords(int dir_fd, const SegmentList& segments, const Meta& meta, int level, std::int64_t from,
                        std::int64_t to, Take&& take) {
  const std::size_t size = RecordSize(level, meta.columns);
  const std::int64_t span = meta.SegmentSpan(level);
  std::size_t read = 0;
  thread_local std::string chunk;  // kept between calls: a query allocates nothing to read
  for (std::int64_t segment : segments[level]) {
    if ((segment + 1) * span <= from || segment * span >= to) continue;
    Fd file(::openat(dir_fd, SegmentName(level, segment).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (file.fd < 0 || ::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    std::size_t count = static_cast<std::size_t>(st.st_size) / size;
    std::string record(size, '\0');
    auto time_at = [&](std::size_t index) -> std::optional<std::int64_t> {
      if (::pread(file.fd, record.data(), size, static_cast<off_t>(index * size)) != static_cast<ssize_t>(size) ||
          !Valid(record.data(), size))
        return std::nullopt;
      return Load<std::int64_t>(record.data());
    };
    std::size_t low = 0, high = segment * span >= from ? 0 : count;  // the first record at or after
    while (low < high) {  // `from`, searched only in a segment that starts before it; damaged ones count as late
      std::size_t mid = (low + high) / 2;
      auto t = time_at(mid);
      if (t && *t < from) low = mid + 1;
      else high = mid;
    }
    constexpr std::size_t kBatch = 2048;  // few reads: a system call costs more than copying records
    for (std::size_t index = low; index < count; index += kBatch) {
      std::size_t batch = std::min(kBatch, count - index);
      chunk.resize(batch * size);
      ssize_t got = ::pread(file.fd, chunk.data(), chunk.size(), static_cast<off_t>(index * size));
      if (got < 0) break;
      std::size_t whole = static_cast<std::size_t>(got) / size;
      for (std::size_t i = 0; i < whole; ++i) {
        const char* r = chunk.data() + i * size;
        if (!Valid(r, size) || Load<std::int64_t>(r) >= to) return read;
        ++read;
        if constexpr (std::is_same_v<decltype(take(r)), bool>) {
          if (!take(r)) return read;
        } else {
          take(r);
        }
      }
      if (whole < batch) break;
    }
  }
  return read;
}

ColumnStat EmptyStat() { return {kNaN, kNaN, kNaN, kNaN, 0}; }

// Folds `count` values (one value: min = max = last = total) into `s`, whose mean is kept as the
// running sum `sum` until the bucket is closed.
void Fold(ColumnStat& s, double& sum, float min, float max, float last, double total, std::uint32_t count) {
  s.min = s.count ? std::min(s.min, min) : min;
  s.max = s.count ? std::max(s.max, max) : max;
  s.last = last;
  sum += total;
  s.count += count;
}

// A bucket being summed: what a rollup record holds, with the mean kept as a sum until written.
struct OpenBucket {
  std::int64_t start = -1;
  std::int64_t through = -1;
  std::vector<ColumnStat> stats;
  std::vector<double> sums;

  void Reset(std::int64_t bucket_start, std::size_t columns) {
    start = bucket_start;
    through = -1;
    stats.assign(columns, EmptyStat());
    sums.assign(columns, 0);
  }
  void Add(std::int64_t t, const float* values) {
    through = t;
    for (std::size_t c = 0; c < stats.size(); ++c)
      if (float v = values[c]; !std::isnan(v)) Fold(stats[c], sums[c], v, v, v, v, 1);
  }
  // Adds a finer bucket whose last sample is at `last_t`.
  void Merge(std::int64_t last_t, const ColumnStat* in) {
    through = last_t;
    for (std::size_t c = 0; c < stats.size(); ++c)
      if (in[c].count > 0)
        Fold(stats[c], sums[c], in[c].min, in[c].max, in[c].last, static_cast<double>(in[c].mean) * in[c].count,
             in[c].count);
  }
  void Merge(const OpenBucket& finer) {
    through = finer.through;
    for (std::size_t c = 0; c < stats.size(); ++c)
      if (const ColumnStat& in = finer.stats[c]; in.count > 0)
        Fold(stats[c], sums[c], in.min, in.max, in.last, finer.sums[c], in.count);
  }
  std::string Record() const {
    std::string r;
    Store(r, start);
    Store(r, through);
    for (std::size_t c = 0; c < stats.size(); ++c) {
      const ColumnStat& s = stats[c];
      Store(r, s.min);
      Store(r, s.max);
      Store(r, s.count ? static_cast<float>(sums[c] / s.count) : kNaN);
      Store(r, s.last);
      Store(r, s.count);
    }
    AppendChecksum(r);
    return r;
  }
};

}  // namespace

struct SeriesWriter::Impl {
  Fd dir;
  Meta meta;
  std::int64_t last_t = -1;
  std::array<Fd, kLevels> files;
  std::array<std::int64_t, kLevels> open_segment;
  std::array<std::string, kLevels> pending;  // records not written yet, all of open_segment
  std::array<OpenBucket, kLevels> buckets;   // [0] unused: samples are written as they come

  Status WritePending(int level) {
    std::string& records = pending[level];
    if (records.empty()) return Status::Ok();
    bool whole = ::write(files[level].fd, records.data(), records.size()) == static_cast<ssize_t>(records.size());
    records.clear();
    return whole ? Status::Ok() : SystemError("cannot append to the series");
  }

  Status WriteAllPending() {
    for (int level = 0; level < meta.levels(); ++level) PC_RETURN_IF_ERROR(WritePending(level));
    return Status::Ok();
  }

  Status Write(int level, std::int64_t t, std::string_view record) {
    std::int64_t segment = t / meta.SegmentSpan(level);
    if (files[level].fd < 0 || open_segment[level] != segment) {
      PC_RETURN_IF_ERROR(WritePending(level));
      std::string name = SegmentName(level, segment);
      Fd file(::openat(dir.fd, name.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
      if (file.fd < 0) return SystemError("cannot open " + name);
      files[level] = std::move(file);
      open_segment[level] = segment;
    }
    pending[level] += record;
    return Status::Ok();
  }

  Status Flush(int level) {
    OpenBucket& b = buckets[level];
    if (b.through < 0) return Status::Ok();
    PC_RETURN_IF_ERROR(Write(level, b.start, b.Record()));
    b.Reset(b.start, meta.columns);
    return Status::Ok();
  }

  Status AppendOne(std::int64_t t, const float* values) {
    char record[12 + 4 * kMaxColumns];  // built in place: appending allocates nothing
    const std::size_t size = RecordSize(0, meta.columns);
    std::memcpy(record, &t, 8);
    std::memcpy(record + 8, values, meta.columns * sizeof(float));
    const std::uint32_t checksum = Checksum(record, size - 4);
    std::memcpy(record + size - 4, &checksum, 4);
    PC_RETURN_IF_ERROR(Write(0, t, std::string_view(record, size)));
    last_t = t;
    for (int level = 1; level < meta.levels(); ++level) {
      std::int64_t start = FloorTo(t, meta.Width(level));
      if (buckets[level].start != start) {
        PC_RETURN_IF_ERROR(Flush(level));
        buckets[level].Reset(start, meta.columns);
      }
      buckets[level].Add(t, values);
    }
    return Status::Ok();
  }

  // Cuts a torn tail off the newest segment of `level`; returns its last valid record, if any.
  Result<std::optional<std::string>> Repair(int level, const std::vector<std::int64_t>& segments) {
    const std::size_t size = RecordSize(level, meta.columns);
    for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
      std::string name = SegmentName(level, *it);
      Fd file(::openat(dir.fd, name.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
      struct stat st {};
      if (file.fd < 0 || ::fstat(file.fd, &st) != 0) return Err(SystemError("cannot open " + name));
      std::size_t count = static_cast<std::size_t>(st.st_size) / size;
      std::string record(size, '\0');
      while (count > 0 && !(::pread(file.fd, record.data(), size, static_cast<off_t>((count - 1) * size)) ==
                                static_cast<ssize_t>(size) &&
                            Valid(record.data(), size)))
        --count;
      if (static_cast<std::size_t>(st.st_size) != count * size &&
          ::ftruncate(file.fd, static_cast<off_t>(count * size)) != 0)
        return Err(SystemError("cannot repair " + name));
      if (count > 0) return std::optional<std::string>(record);
    }
    return std::optional<std::string>();
  }

  // Rebuilds each level from the level below after the level's last written record: the buckets
  // that closed before a crash (killed between the writes of two levels) are written, the one open
  // at the last sample is kept open. A level is always written up to a sample where every level
  // below is written too, so no record of the level below straddles the last written one.
  Status Recover() {
    for (int level = 0; level < meta.levels(); ++level) {
      const SegmentList segments = ListSegments(dir.fd);  // the level below may have just grown
      auto last = Repair(level, segments[level]);
      if (!last) return last.error();
      if (level == 0) {
        if (*last) last_t = Load<std::int64_t>((*last)->data());
        continue;
      }
      const std::int64_t through = *last ? Load<std::int64_t>((*last)->data() + 8) : -1;
      PC_RETURN_IF_ERROR(Rebuild(level, segments, through));
      if (buckets[level].start < 0 && last_t >= 0)  // nothing after its last record: open where the series ends
        buckets[level].Reset(FloorTo(last_t, meta.Width(level)), meta.columns);
      PC_RETURN_IF_ERROR(WritePending(level));
    }
    return Status::Ok();
  }

  // Folds what the level below holds after `through` into the buckets of `level`.
  Status Rebuild(int level, const SegmentList& segments, std::int64_t through) {
    OpenBucket& bucket = buckets[level];
    bucket.Reset(-1, meta.columns);
    if (last_t < 0) return Status::Ok();
    Status status;
    auto enter = [&](std::int64_t t) {  // makes the bucket of t the open one, writing the one before
      std::int64_t start = FloorTo(t, meta.Width(level));
      if (bucket.start == start) return true;
      status = Flush(level);
      bucket.Reset(start, meta.columns);
      return status.ok();
    };
    std::vector<float> values;
    std::vector<ColumnStat> stats;
    const std::int64_t from = FloorTo(std::max<std::int64_t>(through, 0), meta.Width(level));
    ReadRecords(dir.fd, segments, meta, level - 1, from, last_t + 1, [&](const char* r) {
      std::int64_t t = Load<std::int64_t>(r);
      std::int64_t last = level == 1 ? t : Load<std::int64_t>(r + 8);
      if (last <= through) return true;
      if (!enter(t)) return false;
      if (level == 1) bucket.Add(t, Unpack(r + 8, meta.columns, values));
      else bucket.Merge(last, Unpack(r + 16, meta.columns, stats));
      return true;
    });
    const OpenBucket& finer = buckets[level - 1];
    if (status.ok() && level > 1 && finer.through > through && enter(finer.start)) bucket.Merge(finer);
    return status;
  }
};

SeriesWriter::SeriesWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SeriesWriter::~SeriesWriter() = default;

Result<std::unique_ptr<SeriesWriter>> SeriesWriter::Open(const std::string& dir, std::size_t columns, Scale scale) {
  if (columns == 0 || columns > kMaxColumns) return Err(Status::InvalidArgument("a series has 1 to 64 columns"));
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Err(SystemError("cannot create " + dir));
  auto impl = std::make_unique<Impl>();
  auto opened = OpenDir(dir);
  if (!opened) return Err(opened.error());
  impl->dir = std::move(*opened);
  impl->meta = {columns, scale};
  impl->open_segment.fill(-1);
  auto known = ReadMeta(impl->dir.fd);
  if (!known) {
    PC_RETURN_IF_ERROR(fsutil::WriteFileAtomic(dir + "/" + kMetaFile, MetaText(impl->meta)));
  } else if (known->columns != columns || known->scale != scale) {
    return Err(Status::InvalidArgument("the series has " + std::to_string(known->columns) + " columns of " +
                                       (known->scale == Scale::kSteps ? "steps" : "time") + ", not " +
                                       std::to_string(columns) + " of " + (scale == Scale::kSteps ? "steps" : "time")));
  }
  PC_RETURN_IF_ERROR(impl->Recover());
  return std::unique_ptr<SeriesWriter>(new SeriesWriter(std::move(impl)));
}

Status SeriesWriter::Append(const Sample& sample) {
  return Append(std::span<const std::int64_t>(&sample.t_ms, 1), sample.values);
}

Status SeriesWriter::Append(std::span<const std::int64_t> t_ms, std::span<const float> values) {
  Impl& s = *impl_;
  if (values.size() != t_ms.size() * s.meta.columns)
    return Status::InvalidArgument("a sample has " + std::to_string(s.meta.columns) + " values", "values");
  std::int64_t previous = s.last_t;
  for (std::int64_t t : t_ms) {
    if (t < 0 || t <= previous || t > kMaxKey)
      return Status::InvalidArgument("samples must come in increasing time", "t");
    previous = t;
  }
  Status status;
  for (std::size_t i = 0; i < t_ms.size() && status.ok(); ++i)
    status = s.AppendOne(t_ms[i], &values[i * s.meta.columns]);
  Status written = s.WriteAllPending();
  return status.ok() ? written : status;
}

std::int64_t SeriesWriter::LastTime() const { return impl_->last_t; }

Status SeriesWriter::Seal() {
  for (int level = 1; level < impl_->meta.levels(); ++level) PC_RETURN_IF_ERROR(impl_->Flush(level));
  return impl_->WriteAllPending();
}

Downsampler::Downsampler(std::size_t columns, std::int64_t from_ms, std::int64_t width_ms, std::size_t buckets)
    : columns_(columns), from_ms_(from_ms), width_ms_(width_ms), buckets_(buckets),
      stats_(columns, EmptyStat()), sums_(columns, 0) {
  done_.reserve(std::min<std::size_t>(buckets, 100'000));  // growing it copied every bucket again and again
}

bool Downsampler::Enter(std::int64_t t_ms) {
  if (current_ >= 0 && t_ms >= from_ms_ + current_ * width_ms_ && t_ms < from_ms_ + (current_ + 1) * width_ms_)
    return true;
  if (t_ms < from_ms_) return false;
  std::int64_t index = (t_ms - from_ms_) / width_ms_;
  if (index < current_ || index >= static_cast<std::int64_t>(buckets_)) return false;
  Close();
  current_ = index;
  return true;
}

void Downsampler::Close() {
  bool any = false;
  for (std::size_t c = 0; c < columns_; ++c) {
    if (stats_[c].count == 0) continue;
    any = true;
    stats_[c].mean = static_cast<float>(sums_[c] / stats_[c].count);
  }
  if (any) done_.push_back({from_ms_ + current_ * width_ms_, stats_});
  stats_.assign(columns_, EmptyStat());
  sums_.assign(columns_, 0);
}

void Downsampler::AddSample(std::int64_t t_ms, const float* values) {
  if (!Enter(t_ms)) return;
  for (std::size_t c = 0; c < columns_; ++c)
    if (float v = values[c]; !std::isnan(v)) Fold(stats_[c], sums_[c], v, v, v, v, 1);
}

void Downsampler::AddStats(std::int64_t t_ms, const ColumnStat* stats) {
  if (!Enter(t_ms)) return;
  for (std::size_t c = 0; c < columns_; ++c)
    if (const ColumnStat& in = stats[c]; in.count > 0)
      Fold(stats_[c], sums_[c], in.min, in.max, in.last, static_cast<double>(in.mean) * in.count, in.count);
}

namespace {

// min, max, sum and count of the non-NaN values of [values, values + count), in 8 lanes the compiler
// can keep in vector registers (NaN compares false, so it never wins a min or max).
ColumnStat FoldSpan(const float* values, std::size_t count, double& sum) {
  constexpr std::size_t kLanes = 8;
  float low[kLanes], high[kLanes], total[kLanes];
  std::uint32_t seen[kLanes];
  for (std::size_t l = 0; l < kLanes; ++l) {
    low[l] = std::numeric_limits<float>::infinity();
    high[l] = -low[l];
    total[l] = 0;
    seen[l] = 0;
  }
  std::size_t i = 0;
  for (; i + kLanes <= count; i += kLanes)
    for (std::size_t l = 0; l < kLanes; ++l) {
      float v = values[i + l];
      bool real = v == v;
      low[l] = v < low[l] ? v : low[l];
      high[l] = v > high[l] ? v : high[l];
      total[l] += real ? v : 0.0f;
      seen[l] += real;
    }
  for (; i < count; ++i) {
    float v = values[i];
    bool real = v == v;
    low[0] = v < low[0] ? v : low[0];
    high[0] = v > high[0] ? v : high[0];
    total[0] += real ? v : 0.0f;
    seen[0] += real;
  }
  ColumnStat s = EmptyStat();
  for (std::size_t l = 0; l < kLanes; ++l) {
    if (seen[l] == 0) continue;
    s.min = s.count ? std::min(s.min, low[l]) : low[l];
    s.max = s.count ? std::max(s.max, high[l]) : high[l];
    s.count += seen[l];
    sum += total[l];
  }
  return s;
}

}  // namespace

void Downsampler::AddSeries(const std::int64_t* t_ms, const float* values, std::size_t count) {
  std::size_t i = 0;
  while (i < count) {
    if (!Enter(t_ms[i])) {
      ++i;
      continue;
    }
    std::int64_t end_ms = from_ms_ + (current_ + 1) * width_ms_;
    std::size_t end = static_cast<std::size_t>(std::lower_bound(t_ms + i, t_ms + count, end_ms) - t_ms);
    double sum = 0;
    ColumnStat span = FoldSpan(values + i, end - i, sum);
    if (span.count > 0) {
      std::size_t last = end;
      while (std::isnan(values[last - 1])) --last;
      span.last = values[last - 1];
      span.mean = static_cast<float>(sum / span.count);
      AddStats(t_ms[i], &span);
    }
    i = end;
  }
}

std::vector<Bucket> Downsampler::Take() {
  if (current_ >= 0) Close();
  current_ = -1;
  return std::move(done_);
}

namespace {

Status CheckRange(std::int64_t from_ms, std::int64_t to_ms, std::size_t points) {
  if (from_ms >= to_ms) return Status::InvalidArgument("from must be before to", "from");
  if (points < 1 || points > kMaxPoints) return Status::InvalidArgument("points must be from 1 to 100000", "points");
  return Status::Ok();
}

}  // namespace

Result<QueryResult> Query(const std::string& dir, std::int64_t from_ms, std::int64_t to_ms, std::size_t points) {
  PC_RETURN_IF_ERROR(CheckRange(from_ms, to_ms, points));
  auto series = OpenForReading(dir);
  if (!series) return Err(series.error());
  const Meta& meta = series->meta;
  const int fd = series->dir.fd;
  const SegmentList segments = ListSegments(fd);
  const std::int64_t span = to_ms - from_ms;
  const std::int64_t width = std::max<std::int64_t>(1, (span + static_cast<std::int64_t>(points) - 1) /
                                                           static_cast<std::int64_t>(points));
  int top = 0;
  while (top + 1 < meta.levels() && meta.Width(top + 1) <= width) ++top;

  QueryResult result;
  result.bucket_ms = width;
  Downsampler folded(meta.columns, from_ms, width, static_cast<std::size_t>((span + width - 1) / width));
  std::int64_t covered = from_ms;  // every sample before this has been folded in
  std::vector<float> values;
  std::vector<ColumnStat> stats;
  for (int level = top; level >= 0; --level) {
    std::int64_t start = level == 0 ? covered : FloorTo(covered, meta.Width(level));
    result.records_read += ReadRecords(fd, segments, meta, level, start, to_ms, [&](const char* r) {
      std::int64_t t = Load<std::int64_t>(r);
      if (level == 0) {
        folded.AddSample(t, Unpack(r + 8, meta.columns, values));
        covered = t + 1;
        return;
      }
      std::int64_t through = Load<std::int64_t>(r + 8);
      if (through < covered) return;  // already folded in from a coarser level
      folded.AddStats(std::max(t, from_ms), Unpack(r + 16, meta.columns, stats));
      covered = through + 1;
    });
  }
  result.buckets = folded.Take();
  return result;
}

namespace {

// The bucket width of QueryGrid: at most `points` grid buckets meet [from, to), and the width is a
// multiple of the widest level no wider than (to - from) / points. Returns that level too.
std::pair<std::int64_t, int> GridWidth(const Meta& meta, std::int64_t from, std::int64_t to, std::int64_t points) {
  auto level_for = [&](std::int64_t width) {
    int level = 0;
    while (level + 1 < meta.levels() && meta.Width(level + 1) <= width) ++level;
    return level;
  };
  auto buckets = [&](std::int64_t width) { return (to - 1) / width - from / width + 1; };
  std::int64_t wanted = (to - from + points - 1) / points;
  int level = level_for(wanted);
  std::int64_t width = CeilTo(wanted, meta.Width(level));
  if (buckets(width) > points) {  // the grid cut the range into one bucket more
    wanted = points == 1 ? to : (to - from + points - 2) / (points - 1);
    width = CeilTo(wanted, meta.Width(level));
  }
  return {width, level};
}

// Folds the samples of a range into grid buckets, each level's whole buckets where they fit.
struct GridFolder {
  int dir_fd;
  const SegmentList& segments;
  const Meta& meta;
  Downsampler& folded;
  std::size_t records_read = 0;
  std::vector<float> values;
  std::vector<ColumnStat> stats;

  // Every sample of [from, to): the buckets of `level` inside it, the rest (the edges, and what
  // follows the level's last written bucket) from the levels below.
  void Fold(int level, std::int64_t from, std::int64_t to) {
    if (from >= to) return;
    if (level == 0) {
      records_read += ReadRecords(dir_fd, segments, meta, 0, from, to, [&](const char* r) {
        folded.AddSample(Load<std::int64_t>(r), Unpack(r + 8, meta.columns, values));
      });
      return;
    }
    const std::int64_t inner_from = CeilTo(from, meta.Width(level)), inner_to = FloorTo(to, meta.Width(level));
    if (inner_from >= inner_to) return Fold(level - 1, from, to);
    Fold(level - 1, from, inner_from);
    std::int64_t covered = inner_from;
    records_read += ReadRecords(dir_fd, segments, meta, level, inner_from, inner_to, [&](const char* r) {
      folded.AddStats(Load<std::int64_t>(r), Unpack(r + 16, meta.columns, stats));
      covered = Load<std::int64_t>(r + 8) + 1;
    });
    Fold(level - 1, covered, to);
  }
};

}  // namespace

Result<QueryResult> QueryGrid(const std::string& dir, std::int64_t from_ms, std::int64_t to_ms, std::size_t points) {
  PC_RETURN_IF_ERROR(CheckRange(from_ms, to_ms, points));
  auto series = OpenForReading(dir);
  if (!series) return Err(series.error());
  from_ms = std::clamp<std::int64_t>(from_ms, 0, kMaxKey);
  to_ms = std::clamp<std::int64_t>(to_ms, from_ms + 1, kMaxKey + 1);
  auto [width, level] = GridWidth(series->meta, from_ms, to_ms, static_cast<std::int64_t>(points));
  const std::int64_t first = FloorTo(from_ms, width);
  Downsampler folded(series->meta.columns, first, width, static_cast<std::size_t>((to_ms - 1 - first) / width + 1));
  const SegmentList segments = ListSegments(series->dir.fd);
  GridFolder folder{series->dir.fd, segments, series->meta, folded};
  folder.Fold(level, from_ms, to_ms);
  return QueryResult{width, folded.Take(), folder.records_read};
}

Status ScanSamples(const std::string& dir, std::int64_t from_ms, std::int64_t to_ms,
                   const std::function<bool(std::int64_t t_ms, std::span<const float> values)>& take) {
  auto series = OpenForReading(dir);
  if (!series) return series.error();
  const std::size_t columns = series->meta.columns;
  const SegmentList segments = ListSegments(series->dir.fd);
  float values[kMaxColumns];
  ReadRecords(series->dir.fd, segments, series->meta, 0, from_ms, to_ms, [&](const char* r) {
    std::memcpy(values, r + 8, columns * sizeof(float));
    return take(Load<std::int64_t>(r), std::span<const float>(values, columns));
  });
  return Status::Ok();
}

Result<SampleRun> ReadSamples(const std::string& dir, std::int64_t from_ms, std::int64_t to_ms,
                              std::size_t max_samples) {
  SampleRun run;
  PC_RETURN_IF_ERROR(ScanSamples(dir, from_ms, to_ms, [&](std::int64_t t, std::span<const float> values) {
    if (run.t_ms.size() == max_samples) {
      run.more = true;
      return false;
    }
    run.t_ms.push_back(t);
    run.values.insert(run.values.end(), values.begin(), values.end());
    return true;
  }));
  return run;
}

Result<SeriesExtent> Extent(const std::string& dir) {
  auto series = OpenForReading(dir);
  if (!series) return Err(series.error());
  const std::size_t size = RecordSize(0, series->meta.columns);
  SeriesExtent extent{series->meta.columns};
  const SegmentList segments = ListSegments(series->dir.fd);
  std::string record(size, '\0');
  for (auto it = segments[0].rbegin(); it != segments[0].rend(); ++it) {
    Fd file(::openat(series->dir.fd, SegmentName(0, *it).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (file.fd < 0 || ::fstat(file.fd, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    std::size_t count = static_cast<std::size_t>(st.st_size) / size;
    if (!extent.last) {  // the newest segment: its torn tail, if any, is not counted
      while (count > 0 && !(::pread(file.fd, record.data(), size, static_cast<off_t>((count - 1) * size)) ==
                                static_cast<ssize_t>(size) &&
                            Valid(record.data(), size)))
        --count;
      if (count == 0) continue;
      extent.last = Sample{Load<std::int64_t>(record.data()), std::vector<float>(series->meta.columns)};
      std::memcpy(extent.last->values.data(), record.data() + 8, series->meta.columns * sizeof(float));
    }
    extent.samples += count;
  }
  return extent;
}

Status Prune(const std::string& dir, std::int64_t now_ms, std::int64_t sample_retention_ms,
             std::int64_t rollup_retention_ms) {
  auto series = OpenForReading(dir);
  if (!series) return series.error().code() == Code::kNotFound ? Status::Ok() : series.error();
  const SegmentList segments = ListSegments(series->dir.fd);
  for (int level = 0; level < series->meta.levels(); ++level) {
    std::int64_t keep_after = now_ms - (level == 0 ? sample_retention_ms : rollup_retention_ms);
    for (std::int64_t segment : segments[level]) {
      if ((segment + 1) * series->meta.SegmentSpan(level) > keep_after) continue;
      if (::unlinkat(series->dir.fd, SegmentName(level, segment).c_str(), 0) != 0 && errno != ENOENT)
        return SystemError("cannot remove an expired segment");
    }
  }
  return Status::Ok();
}

}  // namespace paddlecloud::timeseries
