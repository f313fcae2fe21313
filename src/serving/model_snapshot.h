// The model a serving instance serves: a copy, taken at launch, of what a cloud path names, so the
// instance keeps serving what was launched whatever happens to the files later.
//
// `path` names a folder (copied whole), a `.tar.gz`/`.tgz`/`.tar` (unpacked by the package rules:
// regular files and folders at safe relative paths only) or any other file (copied alone). It is
// read through the file store, which never follows a link planted in the account's space. The
// copy is bounded by the archive caps (files/archive_limits.h). Errors name the field `model`;
// on error nothing is left at `destination`. Blocking.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/principal.h"
#include "common/status.h"
#include "files/archive_limits.h"
#include "files/file_service.h"

namespace paddlecloud::serving {

struct Snapshot {
  std::uint64_t files = 0;
  std::uint64_t bytes = 0;
  std::vector<std::string> onnx_files;  // relative paths of the .onnx files, sorted
};

Result<Snapshot> SnapshotModel(files::FileService& files, const Principal& principal, const std::string& path,
                               const std::string& destination, const files::ArchiveLimits& limits = {});

}  // namespace paddlecloud::serving
