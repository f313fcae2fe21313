// The web UI (web/dist) compiled into the binary at build time; empty when it was not built.
#pragma once

#include <span>

#include "http/static_files.h"

namespace paddlecloud::webassets {

std::span<const http::EmbeddedFile> EmbeddedWebAssets();

}  // namespace paddlecloud::webassets
