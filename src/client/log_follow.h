// Following a pod's log as it is written, by the resume rule of docs/jobs-logs.md: what `logs -f`,
// `submit --follow` and `serving logs -f` share. Text goes to stdout as it arrives.
#pragma once

#include <cstdint>
#include <string>

#include "client/api_client.h"
#include "common/status.h"

namespace paddlecloud::client {

// Prints the log at `log_path` (a `.../logs` API path that also serves `?offset=&length=` ranges
// and `/stream?tail=N` Server-Sent Events) from the last `tail` lines on, as it is written, until
// the stream's `end` event; returns that event's `state` ("" when it names none). Every chunk
// carries its byte offset: a repeated chunk is printed once, a gap (text written while the stream
// was down) and what follows the last event are read by byte ranges, and a dropped stream is opened
// again (tail=0) until there has been no contact for a minute (then Unavailable, naming `label`).
Result<std::string> FollowLog(ApiClient& client, const std::string& log_path, const std::string& label, int tail);

}  // namespace paddlecloud::client
