// The board ingester: about once a second, reads what every running job's pods appended to the
// event files of its board folder (docs/board.md, "Ingestion") and stores the new points in the
// job's board store, publishing them live. When the job ends, JobEnded reads the files to their end
// and seals the store.
//
// Hostile input is expected: files are found by walking the folder with openat, never following a
// link (a planted link to another job's board reads nothing); at most `max_files_per_job` files and
// `max_depth` levels are looked at; corrupt records, names that are not valid, points out of order
// and points past a pod's limit are skipped and counted (ReadSkipped), never stored. Where each file
// was read to is kept in the store's folder, so a restarted server goes on where it stopped.
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "board/board_hub.h"
#include "board/board_sources.h"
#include "jobs/job_service.h"

namespace paddlecloud::board {

struct IngesterOptions {
  std::uint64_t points_per_pod = 10'000'000;
  std::size_t max_files_per_job = 256;
  int max_depth = 4;
  std::uint64_t bytes_per_file_pass = 16ull << 20;  // a pass reads at most this of one file; the rest next time
  std::function<std::int64_t()> now_s;               // unix seconds; the system clock when empty
};

struct Skipped {
  std::uint64_t corrupt_records = 0;  // bad checksum, malformed record, bad name
  std::uint64_t out_of_order = 0;
  std::uint64_t over_limit = 0;
};

// What the ingester skipped of the board whose store is `store_dir` (zeros when none).
Skipped ReadSkipped(const std::string& store_dir);

// A tag split by the rule of docs/board.md ("Tags"): graph before the first '/', curve after,
// "%25" and "%2F" decoded in each part.
CurveKey SplitTag(std::string_view tag);
// Whether a graph or curve name is 1 to 256 bytes of UTF-8 without control characters.
bool ValidName(std::string_view name);

class BoardIngester {
 public:
  BoardIngester(jobs::JobService& jobs, BoardSources& sources, BoardHub& hub, IngesterOptions options);
  ~BoardIngester();

  // One pass over every running job. Blocks: run it on its own thread.
  void IngestOnce();
  // The job has ended: its files are read to their end, its store sealed, `end` published.
  void JobEnded(const jobs::Job& job);

 private:
  struct JobTrack;
  void Ingest(const jobs::Job& job, JobTrack& track, bool final);
  Result<std::unique_ptr<JobTrack>> Track(const jobs::Job& job);

  jobs::JobService& jobs_;
  BoardSources& sources_;
  BoardHub& hub_;
  IngesterOptions options_;
  std::mutex mutex_;
  std::map<std::int64_t, std::unique_ptr<JobTrack>> tracks_;
};

}  // namespace paddlecloud::board
