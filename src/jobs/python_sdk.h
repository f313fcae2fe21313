// The Python SDK (sdk/python/paddlecloud) compiled into the binary and installed for pods, so that
// `import paddlecloud` works in every job whatever its image or workdir holds.
//
// At startup the server writes the embedded files to <root>/<version>/paddlecloud/ (root is
// <data dir>/sdk, version a hash of the files); each job's pods mount <root>/<version> read-only at
// kPodSdkDir, which leads their PYTHONPATH. A version is written once, under a temporary name that
// is renamed into place, so a pod never sees part of it; older versions stay for the pods that
// still mount them.
#pragma once

#include <span>
#include <string>

#include "common/status.h"
#include "http/static_files.h"

namespace paddlecloud::jobs {

inline constexpr char kPodSdkDir[] = "/paddlecloud/python";  // read-only; first on PYTHONPATH

// The SDK's .py files, relative to the package folder ("__init__.py", "board.py").
std::span<const http::EmbeddedFile> EmbeddedPythonSdk();

// Installs `files` as <root>/<version>/paddlecloud/<path> (files 0444) unless that version is
// there already, removing what an interrupted install left. Returns <root>/<version>, the folder
// pods mount; "" when there are no files. Internal naming the path on failure.
Result<std::string> InstallPythonSdk(const std::string& root,
                                     std::span<const http::EmbeddedFile> files = EmbeddedPythonSdk());

}  // namespace paddlecloud::jobs
