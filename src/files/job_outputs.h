// JobOutputs: which job wrote the files a job's pods left in the account's folders.
//
// Pods write straight into the submitting user's `datasets/`, `models/` and `workspace/` (bind
// mounts; see jobs/job_service.h), past the uploads that record who uploaded a file. When a job
// has ended, Record attributes to it every file there that has no record yet and was modified
// since the job started: `file_meta.written_by_job` then holds its id (and uploaded_by is empty),
// and the file's entry carries `written_by_job`. Files with a record
// (uploaded, or written by an earlier job) keep it. A job running at the same time in the same
// folders cannot be told apart: the first to end takes what both wrote.
//
// The walk never follows a symbolic link (the store lists none; a link a job planted toward
// another account's files or outside the data directory is neither followed nor recorded) and
// visits at most `max_entries` entries, so a job that left millions of files costs bounded work.
// Blocks: call it on the blocking pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "files/file_space.h"

namespace paddlecloud::files {

class JobOutputs {
 public:
  static constexpr std::size_t kDefaultMaxEntries = 100'000;
  explicit JobOutputs(FileSpace& space, std::size_t max_entries = kDefaultMaxEntries)
      : space_(space), max_entries_(max_entries) {}

  // Job `job_id` of `account`, submitted by user `user_id`, started at `since` (unix seconds).
  // Returns how many files were attributed to it.
  Result<std::size_t> Record(const std::string& account, std::int64_t user_id, std::int64_t job_id,
                             std::int64_t since);

 private:
  FileSpace& space_;
  std::size_t max_entries_;
};

// Fills entry.uploaded_by and entry.written_by_job from row `row` of a file_meta query.
void SetWriter(Entry& entry, const db::Rows& rows, std::size_t row);

}  // namespace paddlecloud::files
