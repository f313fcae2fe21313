// The Python runtime's worker (sdk/serving/paddlecloud_python_worker.py), compiled into the binary
// and installed like the SDK (jobs/python_sdk.h) so that replicas of the python runtime mount it.
#pragma once

#include <span>

#include "http/static_files.h"

namespace paddlecloud::serving {

// {"paddlecloud_python_worker.py", ...}
std::span<const http::EmbeddedFile> EmbeddedPythonWorker();

}  // namespace paddlecloud::serving
