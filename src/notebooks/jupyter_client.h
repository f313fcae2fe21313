// What the platform asks a user's Jupyter Notebook itself: how long it has been idle.
//
// Jupyter (notebook 6.4) reports `last_activity` in `GET {base_url}api/status` (API requests,
// kernel messages, terminals) and each kernel's `last_activity` and `execution_state` in
// `GET {base_url}api/kernels`. Both are asked with `?no_track_activity=1`, so asking is not activity.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace paddlecloud::notebooks {

// Unix seconds of an ISO 8601 UTC time as Jupyter writes it ("2026-12-06T05:40:00.123456Z");
// nullopt when it is not one.
std::optional<std::int64_t> ParseJupyterTime(std::string_view text);

// The latest activity Jupyter knows of, in unix seconds: its last_activity and its kernels'; `now`
// when a kernel is busy (a long cell is activity even when it prints nothing). Unavailable when
// Jupyter does not answer within `timeout` or answers something else than its API.
Result<std::int64_t> JupyterLastActivity(const std::string& endpoint, const std::string& base_url,
                                         const std::string& token, std::int64_t now,
                                         std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace paddlecloud::notebooks
