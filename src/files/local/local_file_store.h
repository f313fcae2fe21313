// The FileStore on a local (or mounted shared) filesystem: keys are paths under `root`, staged
// objects are files in `root/.staging/` (the same filesystem, so committing is a rename).
//
// Every path is resolved with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) from the root's
// descriptor (Linux 5.6+; elsewhere one O_NOFOLLOW openat per segment), so a symbolic link
// anywhere in a key, or a key escaping the root, is NotFound.
#pragma once

#include <memory>
#include <string>

#include "files/file_store.h"

namespace paddlecloud::files {

// `use_openat2` false forces the per-segment resolution (for tests of it).
Result<std::unique_ptr<FileStore>> MakeLocalFileStore(const std::string& root, bool use_openat2 = true);

}  // namespace paddlecloud::files
