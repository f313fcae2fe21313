#include "board/board_ingester.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <spdlog/spdlog.h>
#include <sstream>

#include "board/board_appender.h"
#include "common/fs.h"
#include "common/utf8.h"
#include "eventfiles/event_file_reader.h"

namespace paddlecloud::board {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using eventfiles::EventFileReader;
using eventfiles::ReadPosition;
using fsutil::Fd;

constexpr char kStateFile[] = "ingest.json";
constexpr std::size_t kMaxNameBytes = 256;

std::string DecodePart(std::string_view part) {
  std::string out;
  out.reserve(part.size());
  for (std::size_t i = 0; i < part.size(); ++i) {
    if (part.substr(i, 3) == "%25") {
      out += '%';
      i += 2;
    } else if (part.substr(i, 3) == "%2F") {
      out += '/';
      i += 2;
    } else {
      out += part[i];
    }
  }
  return out;
}

// "events.out.tfevents.<seconds>.<host>.<pid>.<n>" (the SDK) or "events.out.tfevents.<seconds>.<host>"
// (TensorBoard): the host; VisualDL's names have none.
std::string HostOfFileName(std::string_view name) {
  constexpr std::string_view kPrefix = "events.out.tfevents.";
  if (!name.starts_with(kPrefix)) return "";
  name.remove_prefix(kPrefix.size());
  auto dot = name.find('.');
  if (dot == std::string_view::npos) return "";
  name.remove_prefix(dot + 1);  // the seconds
  auto numeric = [](std::string_view s) {
    return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
  };
  for (int i = 0; i < 2; ++i) {  // ".<pid>.<n>" of the SDK's names
    auto last = name.rfind('.');
    if (last == std::string_view::npos || !numeric(name.substr(last + 1))) break;
    name = name.substr(0, last);
  }
  return std::string(name);
}

// Who wrote a file: its folder under board/ and the host in its name, the job's own prefix
// ("fit-a-line-12-") left out of pod names.
std::string PodLabel(const std::string& rel_dir, std::string_view file_name, const std::string& backend_name) {
  std::string host = HostOfFileName(file_name);
  if (host.starts_with(backend_name + "-")) host.erase(0, backend_name.size() + 1);
  std::string label = rel_dir;
  if (!host.empty()) label += (label.empty() ? "" : "/") + host;
  if (!ValidName(label)) label = label.empty() ? label : "_";
  return label;
}

// Calls `found(dir_fd, name, rel_dir)` for each event file under the open folder, depth first in
// name order, never following a link, at most `budget` files.
void WalkEventFiles(int dir_fd, const std::string& rel_dir, int depth_left, std::size_t& budget,
                    const std::function<void(int, const std::string&, const std::string&)>& found) {
  int listing = ::dup(dir_fd);
  if (listing < 0) return;
  DIR* dir = ::fdopendir(listing);
  if (!dir) {
    ::close(listing);
    return;
  }
  std::vector<std::pair<std::string, bool>> entries;  // name, is a folder
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    unsigned char type = e->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st {};
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG : DT_LNK;
    }
    if (type == DT_DIR) entries.emplace_back(name, true);
    else if (type == DT_REG && eventfiles::KindOfFileName(name)) entries.emplace_back(name, false);
  }
  ::closedir(dir);
  std::sort(entries.begin(), entries.end());
  for (const auto& [name, folder] : entries) {
    if (budget == 0) return;
    std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
    if (!folder) {
      --budget;
      found(dir_fd, name, rel_dir);
      continue;
    }
    if (depth_left <= 1) continue;
    Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (sub.fd >= 0) WalkEventFiles(sub.fd, rel, depth_left - 1, budget, found);
  }
}

}  // namespace

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || !IsValidUtf8(name)) return false;
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return false;
  return true;
}

CurveKey SplitTag(std::string_view tag) {
  auto slash = tag.find('/');
  if (slash == std::string_view::npos) {
    std::string name = DecodePart(tag);
    return {name, name, ""};
  }
  return {DecodePart(tag.substr(0, slash)), DecodePart(tag.substr(slash + 1)), ""};
}

struct BoardIngester::JobTrack {
  struct File {
    std::unique_ptr<EventFileReader> reader;
    std::string pod;
  };
  std::unique_ptr<BoardAppender> appender;
  std::string store_dir;
  std::map<std::string, File> files;                 // by path under board/
  std::map<std::string, ReadPosition> saved;         // positions kept from before a restart
  std::map<std::string, std::uint64_t> pod_points;   // stored per pod
  std::set<std::string> capped;                      // pods whose limit was logged
  Skipped skipped;
  bool changed = false;

  void Save() const;
  void Load();
};

void BoardIngester::JobTrack::Save() const {
  json::object state, positions, pods;
  for (const auto& [rel, file] : files) {
    ReadPosition p = file.reader->position();
    positions[rel] = json::object{{"offset", p.offset}, {"in_corruption", p.in_corruption}};
  }
  for (const auto& [rel, p] : saved)
    if (!files.contains(rel)) positions[rel] = json::object{{"offset", p.offset}, {"in_corruption", p.in_corruption}};
  for (const auto& [pod, n] : pod_points) pods[pod] = n;
  state["files"] = std::move(positions);
  state["pods"] = std::move(pods);
  state["skipped"] = json::object{{"corrupt_records", skipped.corrupt_records},
                                  {"out_of_order", skipped.out_of_order},
                                  {"over_limit", skipped.over_limit}};
  Status s = fsutil::WriteFileAtomic((fs::path(store_dir) / kStateFile).string(), json::serialize(state),
                                     {.mode = 0600, .durable = false});
  if (!s.ok()) spdlog::warn("board {}: {}", store_dir, s.message());
}

namespace {

json::object ReadState(const std::string& store_dir) {
  std::ifstream in(fs::path(store_dir) / kStateFile);
  std::stringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  json::value parsed = json::parse(text.str(), ec);
  if (ec || !parsed.is_object()) return {};
  return parsed.as_object();
}

std::uint64_t UintIn(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_uint64()) return v->as_uint64();
  if (v->is_int64() && v->as_int64() > 0) return static_cast<std::uint64_t>(v->as_int64());
  return 0;
}

const json::object& ObjectIn(const json::object& o, std::string_view key) {
  static const json::object kEmpty;
  const json::value* v = o.if_contains(key);
  return v && v->is_object() ? v->as_object() : kEmpty;
}

}  // namespace

void BoardIngester::JobTrack::Load() {
  json::object state = ReadState(store_dir);
  for (const auto& [rel, p] : ObjectIn(state, "files"))
    if (p.is_object())
      saved[std::string(rel)] = {UintIn(p.as_object(), "offset"),
                                 p.as_object().if_contains("in_corruption") &&
                                     p.as_object().at("in_corruption") == json::value(true)};
  const json::object& pods = ObjectIn(state, "pods");
  for (const auto& [pod, n] : pods) pod_points[std::string(pod)] = UintIn(pods, pod);
  const json::object& skipped_state = ObjectIn(state, "skipped");
  skipped = {UintIn(skipped_state, "corrupt_records"), UintIn(skipped_state, "out_of_order"),
             UintIn(skipped_state, "over_limit")};
}

Skipped ReadSkipped(const std::string& store_dir) {
  const json::object state = ReadState(store_dir);
  const json::object& skipped = ObjectIn(state, "skipped");
  return {UintIn(skipped, "corrupt_records"), UintIn(skipped, "out_of_order"), UintIn(skipped, "over_limit")};
}

BoardIngester::BoardIngester(jobs::JobService& jobs, BoardSources& sources, BoardHub& hub, IngesterOptions options)
    : jobs_(jobs), sources_(sources), hub_(hub), options_(std::move(options)) {}

BoardIngester::~BoardIngester() = default;

Result<std::unique_ptr<BoardIngester::JobTrack>> BoardIngester::Track(const jobs::Job& job) {
  auto track = std::make_unique<JobTrack>();
  track->store_dir = jobs_.BoardStoreDir(job);
  std::error_code ec;
  fs::create_directories(track->store_dir, ec);
  if (ec) return Err(Status::Internal("cannot create " + track->store_dir + ": " + ec.message()));
  track->Load();
  auto appender = BoardAppender::Open(track->store_dir, "job:" + std::to_string(job.id), hub_);
  if (!appender) return Err(appender.error());
  track->appender = std::move(*appender);
  return track;
}

void BoardIngester::IngestOnce() {
  auto running = jobs_.RunningJobs();
  if (!running) {
    spdlog::warn("board ingester: {}", running.error().message());
    return;
  }
  std::lock_guard lock(mutex_);
  std::set<std::int64_t> seen;
  for (const jobs::Job& job : *running) {
    seen.insert(job.id);
    auto& track = tracks_[job.id];
    if (!track) {
      auto made = Track(job);
      if (!made) {
        spdlog::warn("job {}: board: {}", job.id, made.error().message());
        tracks_.erase(job.id);
        continue;
      }
      track = std::move(*made);
    }
    Ingest(job, *track, false);
  }
  std::erase_if(tracks_, [&](const auto& entry) { return !seen.contains(entry.first); });
}

void BoardIngester::JobEnded(const jobs::Job& job) {
  std::lock_guard lock(mutex_);
  auto found = tracks_.find(job.id);
  std::unique_ptr<JobTrack> track;
  if (found != tracks_.end()) {
    track = std::move(found->second);
    tracks_.erase(found);
  } else if (fs::is_directory(jobs_.BoardDir(job))) {
    auto made = Track(job);
    if (!made) {
      spdlog::warn("job {}: board: {}", job.id, made.error().message());
      return;
    }
    track = std::move(*made);
  }
  if (track) {
    Ingest(job, *track, true);
    if (Status sealed = track->appender->Seal(); !sealed.ok())
      spdlog::warn("job {}: board: {}", job.id, sealed.message());
  }
  hub_.PublishEnd("job:" + std::to_string(job.id));
}

void BoardIngester::Ingest(const jobs::Job& job, JobTrack& track, bool final) {
  Fd board(::open(jobs_.BoardDir(job).c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (board.fd < 0) return;
  const std::string backend_name = jobs::JobService::BackendName(job);
  std::size_t budget = options_.max_files_per_job;
  std::uint64_t stored_before = 0;
  for (const auto& [pod, n] : track.pod_points) stored_before += n;

  WalkEventFiles(board.fd, "", options_.max_depth, budget, [&](int dir_fd, const std::string& name, const std::string& rel_dir) {
    const std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
    auto& file = track.files[rel];
    if (!file.reader) {
      auto saved = track.saved.find(rel);
      auto opened = EventFileReader::OpenAt(dir_fd, name, saved == track.saved.end() ? ReadPosition{} : saved->second);
      if (!opened) {
        track.files.erase(rel);
        return;
      }
      file.reader = std::move(*opened);
      file.pod = PodLabel(rel_dir, name, backend_name);
    }
    auto batch = file.reader->ReadMore(final ? eventfiles::Tail::kFinal : eventfiles::Tail::kMayGrow,
                                       final ? 0 : options_.bytes_per_file_pass);
    if (!batch) return;  // truncated or replaced: read no more of it
    track.skipped.corrupt_records += batch->corrupt;
    if (batch->records > 0 || batch->corrupt > 0) track.changed = true;

    // Points of one curve stored together; curves in the order the file first names them, so a
    // graph lists its curves as drawn (draw_board(train_cost, test_cost): train_cost first).
    std::vector<std::pair<std::pair<std::string, std::string>, std::vector<Point>>> by_curve;
    std::map<std::pair<std::string, std::string>, std::size_t> curve_index;
    for (const auto& p : batch->points) {
      CurveKey key = SplitTag(p.tag);
      if (!ValidName(key.graph) || !ValidName(key.curve)) {
        ++track.skipped.corrupt_records;
        continue;
      }
      auto [at, added] = curve_index.try_emplace({key.graph, key.curve}, by_curve.size());
      if (added) by_curve.push_back({{key.graph, key.curve}, {}});
      by_curve[at->second].second.push_back({p.step, p.wall_time_s, p.value});
    }
    std::uint64_t& pod_points = track.pod_points[file.pod];
    for (auto& [names, points] : by_curve) {
      const std::uint64_t room = options_.points_per_pod > pod_points ? options_.points_per_pod - pod_points : 0;
      if (points.size() > room) {
        track.skipped.over_limit += points.size() - room;
        points.resize(room);
        if (track.capped.insert(file.pod).second)
          spdlog::warn("job {}: board: pod '{}' reached board_points_per_pod ({} points); its further points are "
                       "dropped", job.id, file.pod, options_.points_per_pod);
      }
      if (points.empty()) continue;
      auto counts = track.appender->Append({names.first, names.second, file.pod}, std::move(points));
      if (!counts) {
        spdlog::warn("job {}: board: {}", job.id, counts.error().message());
        continue;
      }
      pod_points += counts->stored;
      track.skipped.out_of_order += counts->out_of_order;
    }
  });

  std::uint64_t stored_after = 0;
  for (const auto& [pod, n] : track.pod_points) stored_after += n;
  if (stored_after != stored_before) {
    const std::int64_t now = options_.now_s ? options_.now_s()
                                            : std::chrono::duration_cast<std::chrono::seconds>(
                                                  std::chrono::system_clock::now().time_since_epoch())
                                                  .count();
    if (Status noted = sources_.NoteJobPoints(job, static_cast<std::int64_t>(track.appender->curves()), now);
        !noted.ok())
      spdlog::warn("job {}: board: {}", job.id, noted.message());
  }
  if (track.changed || final) {
    track.Save();
    track.changed = false;
  }
}

}  // namespace paddlecloud::board
