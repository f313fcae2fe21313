// The FileStore on a local (or mounted shared) filesystem: keys are paths under `root`, staged
// objects are files in `root/.staging/` (the same filesystem, so committing is a rename).
//
// Every path is resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) from the root's
// descriptor, so a symbolic link anywhere in a key, or a key escaping the root, is NotFound.
// Needs Linux 5.6 or newer.
#pragma once

#include <memory>
#include <string>

#include "files/file_store.h"

namespace paddlecloud::files {

Result<std::unique_ptr<FileStore>> MakeLocalFileStore(const std::string& root);

}  // namespace paddlecloud::files
