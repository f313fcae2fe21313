#include "files/job_outputs.h"

#include <spdlog/spdlog.h>

#include <vector>

#include "db/tenant_scope.h"
#include "files/cloud_path.h"

namespace paddlecloud::files {
void SetWriter(Entry& entry, const db::Rows& rows, std::size_t row) {
  entry.uploaded_by = rows.Text(row, "uploaded_by");
  if (!rows.IsNull(row, "written_by_job")) entry.written_by_job = std::to_string(rows.Int(row, "written_by_job"));
}

Result<std::size_t> JobOutputs::Record(const std::string& account, std::int64_t user_id, std::int64_t job_id,
                                       std::int64_t since) {
  const std::int64_t since_ns = since * 1'000'000'000;
  std::vector<std::string> folders = {account + "/datasets", account + "/models",
                                      account + "/workspace/" + std::to_string(user_id)};
  std::vector<std::string> written;
  std::size_t visited = 0;
  bool truncated = false;
  while (!folders.empty() && !truncated) {
    std::string folder = std::move(folders.back());
    folders.pop_back();
    auto entries = space_.store().List(folder);
    if (!entries) continue;  // gone meanwhile, or not a folder any more
    for (const FileInfo& info : *entries) {
      if ((truncated = ++visited > max_entries_)) break;
      std::string key = JoinPath(folder, info.name);
      if (info.folder)
        folders.push_back(std::move(key));
      else if (info.modified_ns >= since_ns)
        written.push_back(std::move(key));
    }
  }
  if (truncated)
    spdlog::warn("files: job {} left more than {} entries; only those seen are attributed to it", job_id, max_entries_);
  std::size_t recorded = 0;
  Status saved = space_.database().Transaction([&](db::Session& session) -> Status {
    db::TenantScope scope(session, account);
    for (const std::string& key : written) {
      auto inserted = scope.Execute(
          "INSERT INTO file_meta (account_id, key, uploaded_by, written_by_job, uploaded_at) "
          "VALUES (:account, ?, '', ?, ?) ON CONFLICT DO NOTHING",
          {key, job_id, UnixNow()});
      if (!inserted) return inserted.error();
      recorded += static_cast<std::size_t>(inserted->rows_affected);
    }
    return Status::Ok();
  });
  if (!saved.ok()) return Err(saved);
  return recorded;
}

}  // namespace paddlecloud::files
