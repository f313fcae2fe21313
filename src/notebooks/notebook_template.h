// The notebooks placed in a new workspace (sdk/notebook/*.ipynb, "Getting started.ipynb"),
// compiled into the binary.
#pragma once

#include <span>

#include "http/static_files.h"

namespace paddlecloud::notebooks {

std::span<const http::EmbeddedFile> EmbeddedNotebookTemplates();

}  // namespace paddlecloud::notebooks
