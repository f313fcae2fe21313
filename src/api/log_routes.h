// A log file over HTTP, as every log route serves one (docs/jobs-logs.md): job pods and serving
// replicas alike.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>

#include "blocking/work_pool.h"
#include "common/status.h"
#include "http/message.h"

namespace paddlecloud::api {

// GET …/logs: `?tail=N` (default 100), `?offset=O&length=L` or `?download=true`, from the log at
// `path` ("" : not written yet). The JSON answer names the log as `{key: name}`.
boost::asio::awaitable<http::Response> LogResponse(blocking::WorkPool& pool, http::Request& request,
                                                   const std::string& path, const std::string& key,
                                                   const std::string& name);

// GET …/logs/stream: Server-Sent Events, the last `?tail=` lines then new text (`log` events
// {offset, text}, whose id is the offset after them), until `ended` answers a state (sent as the
// `end` event once the log is drained) or an error, or the client leaves. A reconnecting client's
// Last-Event-ID resumes at that offset instead of the tail. `locate` names the log's path ("" : not yet).
http::Response FollowLogResponse(blocking::WorkPool& pool, const http::Request& request,
                                 std::function<Result<std::string>()> locate,
                                 std::function<Result<std::optional<std::string>>()> ended);

}  // namespace paddlecloud::api
