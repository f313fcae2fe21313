#include "board/board_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "common/fs.h"
#include "timeseries/series_store.h"

namespace paddlecloud::board {
namespace {

namespace ts = timeseries;

constexpr char kIndexFile[] = "index";
constexpr std::size_t kMaxPoints = 5000;
constexpr std::size_t kMaxOpenWriters = 64;  // each holds a file per level open
constexpr std::size_t kExportChunk = 4096;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Columns of a curve's series.
constexpr std::size_t kValue = 0, kWallTime = 1, kColumns = 2;

Status SystemError(const std::string& what) { return Status::Internal(what + ": " + fsutil::ErrnoText(errno)); }

using fsutil::Fd;

// The board folder itself, never a link. NotFound when missing.
Result<Fd> OpenBoardDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (fd.fd >= 0) return fd;
  if (errno == ENOENT) return Err(Status::NotFound("no board in " + dir));
  return Err(SystemError("cannot open the board " + dir));
}

// One line of the index: a curve, the folder of its series ("c<id>") and where its keys start.
//   "<id> <first step> <first wall time as the hex of its bits> <graph> <curve> <pod> <checksum>\n"
// with names percent-encoded (space, control bytes and '%'), so a line is whole or ignored.
struct IndexEntry {
  std::int64_t id = 0;
  CurveKey key;
  std::int64_t first_step = 0;
  double first_wall_time_s = 0;
};

std::string MapKey(const CurveKey& key) { return key.graph + '\0' + key.curve + '\0' + key.pod; }

std::string SeriesDir(const std::string& dir, std::int64_t id) { return dir + "/c" + std::to_string(id); }

std::uint32_t Checksum(std::string_view text) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : text) h = (h ^ c) * 16777619u;
  return h;
}

std::string Encode(std::string_view name) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    if (c <= 0x20 || c == 0x7f || c == '%') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::optional<std::string> Decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    unsigned value = 0;
    if (i + 2 >= text.size()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data() + i + 1, text.data() + i + 3, value, 16);
    if (ec != std::errc() || end != text.data() + i + 3) return std::nullopt;
    out += static_cast<char>(value);
    i += 2;
  }
  return out;
}

template <typename T>
bool ParseNumber(std::string_view text, T& value, int base = 10) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return ec == std::errc() && end == text.data() + text.size() && !text.empty();
}

std::string IndexLine(const IndexEntry& e) {
  char wall[17];
  std::snprintf(wall, sizeof wall, "%016llx",
                static_cast<unsigned long long>(std::bit_cast<std::uint64_t>(e.first_wall_time_s)));
  std::string line = std::to_string(e.id) + " " + std::to_string(e.first_step) + " " + wall + " " +
                     Encode(e.key.graph) + " " + Encode(e.key.curve) + " " + Encode(e.key.pod);
  char sum[9];
  std::snprintf(sum, sizeof sum, "%08x", Checksum(line));
  return line + " " + sum + "\n";
}

std::optional<IndexEntry> ParseIndexLine(std::string_view line) {
  std::vector<std::string_view> fields;
  for (std::size_t start = 0;;) {
    std::size_t space = line.find(' ', start);
    fields.push_back(line.substr(start, space - start));
    if (space == std::string_view::npos) break;
    start = space + 1;
  }
  std::uint32_t sum = 0;
  if (fields.size() != 7 || !ParseNumber(fields[6], sum, 16) ||
      sum != Checksum(line.substr(0, line.size() - fields[6].size() - 1)))
    return std::nullopt;
  IndexEntry e;
  std::uint64_t wall_bits = 0;
  auto graph = Decode(fields[3]), curve = Decode(fields[4]), pod = Decode(fields[5]);
  if (!ParseNumber(fields[0], e.id) || e.id <= 0 || !ParseNumber(fields[1], e.first_step) ||
      !ParseNumber(fields[2], wall_bits, 16) || !graph || !curve || !pod)
    return std::nullopt;
  e.first_wall_time_s = std::bit_cast<double>(wall_bits);
  e.key = {std::move(*graph), std::move(*curve), std::move(*pod)};
  return e;
}

// The whole lines of `text` that parse, in order; a torn or damaged line is ignored, and so is a
// second line for a key already named.
std::vector<IndexEntry> ParseIndex(std::string_view text) {
  std::vector<IndexEntry> entries;
  std::unordered_set<std::string> named;
  std::size_t start = 0;
  for (std::size_t end; (end = text.find('\n', start)) != std::string_view::npos; start = end + 1) {
    auto entry = ParseIndexLine(text.substr(start, end - start));
    if (entry && named.insert(MapKey(entry->key)).second) entries.push_back(std::move(*entry));
  }
  return entries;
}

Result<std::string> ReadAll(int fd) {
  std::string text;
  char buffer[65'536];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
    if (n < 0) return Err(SystemError("cannot read the board index"));
    text.append(buffer, static_cast<std::size_t>(n));
  }
  return text;
}

// The index of the board in `dir`: empty when there is no board or no index.
Result<std::vector<IndexEntry>> ReadIndex(const std::string& dir) {
  auto board = OpenBoardDir(dir);
  if (!board) {
    if (board.error().code() == Code::kNotFound) return std::vector<IndexEntry>();
    return Err(board.error());
  }
  Fd index(::openat(board->fd, kIndexFile, O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (index.fd < 0) {
    if (errno == ENOENT) return std::vector<IndexEntry>();
    return Err(SystemError("cannot open the board index"));
  }
  auto text = ReadAll(index.fd);
  if (!text) return Err(text.error());
  return ParseIndex(*text);
}

// The key of `step` in a curve starting at `first`: its distance from the first step, if in 0..kMaxKey.
std::optional<std::int64_t> KeyOf(std::int64_t step, std::int64_t first) {
  if (step < first) return std::nullopt;
  std::uint64_t distance = static_cast<std::uint64_t>(step) - static_cast<std::uint64_t>(first);
  if (distance > static_cast<std::uint64_t>(ts::kMaxKey)) return std::nullopt;
  return static_cast<std::int64_t>(distance);
}

// A double as the store keeps it; beyond float's range is an infinity (a plain conversion is undefined).
float ToFloat(double value) {
  constexpr double kMax = std::numeric_limits<float>::max();
  if (value > kMax) return std::numeric_limits<float>::infinity();
  if (value < -kMax) return -std::numeric_limits<float>::infinity();
  return static_cast<float>(value);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------
// Writing

struct BoardWriter::Impl {
  struct Curve {
    IndexEntry entry;
    std::unique_ptr<ts::SeriesWriter> writer;  // opened when first written, closed when long unused
    std::uint64_t used = 0;                    // when it was last written, for closing the oldest
  };

  std::string dir;
  Fd board;
  Fd index;
  std::int64_t next_id = 1;
  std::vector<Curve> curves;
  std::unordered_map<std::string, std::size_t> by_key;
  std::size_t open_writers = 0;
  std::uint64_t clock = 0;

  // Cuts a torn last line off the index and learns its curves; ids already used by a folder are
  // never given again (a crash may leave the folder of a curve whose line was never written).
  Status Load() {
    index = Fd(::openat(board.fd, kIndexFile, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (index.fd < 0) return SystemError("cannot open the board index");
    auto text = ReadAll(index.fd);
    if (!text) return text.error();
    std::size_t whole = text->rfind('\n') == std::string::npos ? 0 : text->rfind('\n') + 1;
    if (whole != text->size() && ::ftruncate(index.fd, static_cast<off_t>(whole)) != 0)
      return SystemError("cannot repair the board index");
    for (IndexEntry& entry : ParseIndex(std::string_view(*text).substr(0, whole))) {
      next_id = std::max(next_id, entry.id + 1);
      by_key.emplace(MapKey(entry.key), curves.size());
      curves.push_back({std::move(entry), nullptr, 0});
    }
    return SkipUsedFolderIds();
  }

  Status SkipUsedFolderIds() {
    int listing = ::dup(board.fd);
    DIR* folder = listing < 0 ? nullptr : ::fdopendir(listing);
    if (!folder) {
      if (listing >= 0) ::close(listing);
      return SystemError("cannot list the board " + dir);
    }
    while (dirent* e = ::readdir(folder)) {
      std::int64_t id = 0;
      if (e->d_name[0] == 'c' && ParseNumber(std::string_view(e->d_name + 1), id)) next_id = std::max(next_id, id + 1);
    }
    ::closedir(folder);
    return Status::Ok();
  }

  // A new curve: its series first, then its index line, so a line always names a series.
  Result<std::size_t> AddCurve(const CurveKey& key, const Point& first) {
    IndexEntry entry{next_id++, key, first.step, first.wall_time_s};
    CloseOldestIfFull();
    auto writer = ts::SeriesWriter::Open(SeriesDir(dir, entry.id), kColumns, ts::Scale::kSteps);
    if (!writer) return Err(writer.error());
    std::string line = IndexLine(entry);
    if (::write(index.fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) {
      Status failed = SystemError("cannot append to the board index");
      (void)!::write(index.fd, "\n", 1);  // ends a torn line, so the lines after it stay whole
      return Err(failed);
    }
    by_key.emplace(MapKey(key), curves.size());
    curves.push_back({std::move(entry), std::move(*writer), 0});
    ++open_writers;
    return curves.size() - 1;
  }

  // Closes the writer written longest ago when kMaxOpenWriters are open.
  void CloseOldestIfFull() {
    if (open_writers < kMaxOpenWriters) return;
    auto oldest = std::min_element(curves.begin(), curves.end(), [](const Curve& a, const Curve& b) {
      return (a.writer ? a.used : UINT64_MAX) < (b.writer ? b.used : UINT64_MAX);
    });
    oldest->writer.reset();
    --open_writers;
  }

  Result<ts::SeriesWriter*> WriterOf(Curve& curve) {
    curve.used = ++clock;
    if (curve.writer) return curve.writer.get();
    CloseOldestIfFull();
    auto writer = ts::SeriesWriter::Open(SeriesDir(dir, curve.entry.id), kColumns, ts::Scale::kSteps);
    if (!writer) return Err(writer.error());
    curve.writer = std::move(*writer);
    ++open_writers;
    return curve.writer.get();
  }
};

BoardWriter::BoardWriter(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BoardWriter::~BoardWriter() = default;

Result<std::unique_ptr<BoardWriter>> BoardWriter::Open(const std::string& dir) {
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Err(SystemError("cannot create " + dir));
  auto impl = std::make_unique<Impl>();
  impl->dir = dir;
  auto board = OpenBoardDir(dir);
  if (!board) return Err(board.error());
  impl->board = std::move(*board);
  PC_RETURN_IF_ERROR(impl->Load());
  return std::unique_ptr<BoardWriter>(new BoardWriter(std::move(impl)));
}

Result<AppendCounts> BoardWriter::Append(const CurveKey& key, std::span<const Point> points) {
  Impl& s = *impl_;
  AppendCounts counts;
  if (points.empty()) return counts;
  auto found = s.by_key.find(MapKey(key));
  std::size_t index = 0;
  if (found != s.by_key.end()) {
    index = found->second;
  } else {
    auto added = s.AddCurve(key, points.front());
    if (!added) return Err(added.error());
    index = *added;
  }
  Impl::Curve& curve = s.curves[index];
  auto writer = s.WriterOf(curve);
  if (!writer) return Err(writer.error());
  std::vector<std::int64_t> keys;
  std::vector<float> values;
  keys.reserve(points.size());
  values.reserve(points.size() * kColumns);
  std::int64_t last = (*writer)->LastTime();
  for (const Point& p : points) {
    std::optional<std::int64_t> t = KeyOf(p.step, curve.entry.first_step);
    if (!t || *t <= last) {
      ++counts.out_of_order;
      continue;
    }
    keys.push_back(last = *t);
    values.push_back(ToFloat(p.value));
    values.push_back(ToFloat(p.wall_time_s - curve.entry.first_wall_time_s));
  }
  PC_RETURN_IF_ERROR((*writer)->Append(keys, values));
  counts.stored = keys.size();
  return counts;
}

Status BoardWriter::Seal() {
  for (Impl::Curve& curve : impl_->curves) {
    auto writer = impl_->WriterOf(curve);  // a closed one reopens with its open buckets rebuilt
    if (!writer) return writer.error();
    PC_RETURN_IF_ERROR((*writer)->Seal());
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------------
// Reading

namespace {

// The raw points of keys [from, to) of a series to `take(t, value, wall time)` until it returns false.
template <typename Take>
Status ForEachSample(const std::string& series, std::int64_t from, std::int64_t to, Take&& take) {
  return ts::ScanSamples(series, from, to, [&](std::int64_t t, std::span<const float> values) {
    return take(t, values[kValue], values[kWallTime]);
  });
}

// Debiased exponential moving average of the finite values seen so far (docs/board.md).
class Smoother {
 public:
  explicit Smoother(double weight) : weight_(weight) {}
  void Add(double value) {
    if (!std::isfinite(value)) return;
    sum_ = sum_ * weight_ + (1 - weight_) * value;
    power_ *= weight_;
    seen_ = true;
  }
  double Value() const { return seen_ ? sum_ / (1 - power_) : kNaN; }

 private:
  double weight_, sum_ = 0, power_ = 1;
  bool seen_ = false;
};

// Fills `out.smoothed` with the smoothed value at each entry's last point: the EMA is run over every
// raw point from the curve's first, whatever the range, so it does not change with the range.
Status Smooth(const std::string& series, double weight, std::int64_t first_step, std::int64_t lo, std::int64_t hi,
              CurveBuckets& out) {
  out.smoothed.assign(out.step.size(), kNaN);
  auto whole = ts::QueryGrid(series, 0, ts::kMaxKey, 1);  // one bucket: min = max means a constant curve
  if (!whole) return whole.error();
  if (!whole->buckets.empty() && whole->buckets[0].columns[kValue].count > 0 &&
      whole->buckets[0].columns[kValue].min == whole->buckets[0].columns[kValue].max) {
    out.smoothed = out.last;
    return Status::Ok();
  }
  // Entry i holds the keys [start_i, end_i); entries are in order and cover the points of [lo, hi].
  auto start_of = [&](std::size_t i) { return out.step[i] - first_step; };
  auto end_of = [&](std::size_t i) {
    return out.exact ? start_of(i) + 1 : std::min((start_of(i) / out.bucket_steps + 1) * out.bucket_steps, hi + 1);
  };
  Smoother ema(weight);
  std::size_t entry = 0;
  return ForEachSample(series, 0, hi + 1, [&](std::int64_t t, float value, float) {
    ema.Add(value);
    if (t < lo) return true;
    while (entry < out.step.size() && t >= end_of(entry)) ++entry;
    if (entry < out.step.size() && t >= start_of(entry)) out.smoothed[entry] = ema.Value();
    return true;
  });
}

void AddExact(CurveBuckets& out, std::int64_t step, double value, double wall_time_s) {
  out.step.push_back(step);
  out.min.push_back(value);
  out.max.push_back(value);
  out.mean.push_back(value);
  out.last.push_back(value);
  out.count.push_back(std::isnan(value) ? 0 : 1);
  out.wall_time_s.push_back(wall_time_s);
}

// One curve over the keys [lo, hi] (both within its points): exact when they hold at most `points`
// points, else grid buckets.
Status Summarise(const std::string& series, const IndexEntry& entry, std::int64_t lo, std::int64_t hi,
                 std::size_t points, CurveBuckets& out) {
  auto raw = ts::ReadSamples(series, lo, hi + 1, points);
  if (!raw) return raw.error();
  if (!raw->more) {
    out.exact = true;
    for (std::size_t i = 0; i < raw->t_ms.size(); ++i)
      AddExact(out, entry.first_step + raw->t_ms[i], raw->values[i * kColumns + kValue],
               entry.first_wall_time_s + raw->values[i * kColumns + kWallTime]);
    return Status::Ok();
  }
  auto grid = ts::QueryGrid(series, lo, hi + 1, points);
  if (!grid) return grid.error();
  out.exact = false;
  out.bucket_steps = grid->bucket_ms;
  for (const ts::Bucket& b : grid->buckets) {
    const ts::ColumnStat &v = b.columns[kValue], &wall = b.columns[kWallTime];
    out.step.push_back(entry.first_step + std::max(b.t_ms, lo));
    out.min.push_back(v.min);
    out.max.push_back(v.max);
    out.mean.push_back(v.mean);
    out.last.push_back(v.last);
    out.count.push_back(v.count);
    out.wall_time_s.push_back(entry.first_wall_time_s + wall.last);
  }
  return Status::Ok();
}

// One curve's answer; nullopt when it has no point at all.
Result<std::optional<CurveBuckets>> QueryCurve(const std::string& dir, const IndexEntry& entry,
                                               const RangeQuery& range) {
  const std::string series = SeriesDir(dir, entry.id);
  auto extent = ts::Extent(series);
  if (!extent && extent.error().code() != Code::kNotFound) return Err(extent.error());
  if (!extent || !extent->last) return std::optional<CurveBuckets>();
  const std::int64_t last = extent->last->t_ms;
  CurveBuckets out;
  out.key = entry.key;
  out.exact = true;
  std::int64_t lo = 0, hi = last;  // keys: a step that is no key lies before the first or far after the last
  if (range.from_step && *range.from_step > entry.first_step)
    lo = KeyOf(*range.from_step, entry.first_step).value_or(last + 1);
  if (range.to_step)
    hi = *range.to_step < entry.first_step ? -1 : std::min(hi, KeyOf(*range.to_step, entry.first_step).value_or(hi));
  if (lo > hi) return std::optional<CurveBuckets>(std::move(out));  // no point in the range
  PC_RETURN_IF_ERROR(Summarise(series, entry, lo, hi, range.points, out));
  if (range.smoothing) PC_RETURN_IF_ERROR(Smooth(series, *range.smoothing, entry.first_step, lo, hi, out));
  return std::optional<CurveBuckets>(std::move(out));
}

Status Validate(const RangeQuery& range) {
  if (range.points < 1 || range.points > kMaxPoints)
    return Status::InvalidArgument("points must be from 1 to 5000", "points");
  if (range.from_step && range.to_step && *range.from_step > *range.to_step)
    return Status::InvalidArgument("from_step must not be above to_step", "from_step");
  if (range.smoothing && !(*range.smoothing >= 0 && *range.smoothing < 1))
    return Status::InvalidArgument("smoothing must be at least 0 and below 1", "smoothing");
  return Status::Ok();
}

}  // namespace

Result<std::vector<CurveInfo>> ListCurves(const std::string& dir) {
  auto entries = ReadIndex(dir);
  if (!entries) return Err(entries.error());
  std::vector<CurveInfo> curves;
  for (const IndexEntry& entry : *entries) {
    auto extent = ts::Extent(SeriesDir(dir, entry.id));
    if (!extent && extent.error().code() != Code::kNotFound) return Err(extent.error());
    if (!extent || !extent->last) continue;  // a curve whose series was never written
    curves.push_back({entry.key, extent->samples, entry.first_step, entry.first_step + extent->last->t_ms,
                      extent->last->values[kValue], entry.first_wall_time_s + extent->last->values[kWallTime]});
  }
  return curves;
}

Result<std::vector<CurveBuckets>> QueryGraph(const std::string& dir, const std::string& graph,
                                             const RangeQuery& range) {
  PC_RETURN_IF_ERROR(Validate(range));
  auto entries = ReadIndex(dir);
  if (!entries) return Err(entries.error());
  std::vector<CurveBuckets> answer;
  for (const IndexEntry& entry : *entries) {
    if (entry.key.graph != graph) continue;
    auto curve = QueryCurve(dir, entry, range);
    if (!curve) return Err(curve.error());
    if (*curve) answer.push_back(std::move(**curve));
  }
  return answer;
}

Status ExportPoints(const std::string& dir,
                    const std::function<Status(const CurveKey&, std::span<const Point>)>& sink) {
  auto entries = ReadIndex(dir);
  if (!entries) return entries.error();
  std::vector<Point> chunk;
  for (const IndexEntry& entry : *entries) {
    Status sunk;
    auto flush = [&] {
      if (!chunk.empty() && sunk.ok()) sunk = sink(entry.key, chunk);
      chunk.clear();
    };
    const std::string series = SeriesDir(dir, entry.id);
    Status read = ForEachSample(series, 0, ts::kMaxKey + 1, [&](std::int64_t t, float value, float wall) {
      chunk.push_back({entry.first_step + t, entry.first_wall_time_s + wall, value});
      if (chunk.size() == kExportChunk) flush();
      return sunk.ok();
    });
    flush();
    if (read.code() == Code::kNotFound) continue;  // a curve whose series was never written
    PC_RETURN_IF_ERROR(read);
    PC_RETURN_IF_ERROR(sunk);
  }
  return Status::Ok();
}

}  // namespace paddlecloud::board
