// What the job commands print: tables, sizes, ages, an upload progress line; and the decoder of
// the Server-Sent Events they follow. Pure functions, so tests can pin the formats.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace paddlecloud::client {

// "512 B", "1.5 KiB", "23.4 MiB", "1.0 GiB".
std::string FormatBytes(std::uint64_t bytes);
// An age or duration in seconds, k8s style: "45s", "17m", "3h", "2d" (negative counts as 0).
std::string FormatAge(std::int64_t seconds);
// Unix seconds as local "YYYY-MM-DD HH:MM:SS"; "-" for 0 or less.
std::string FormatTime(std::int64_t unix_seconds);

// Columns left-aligned, separated by two spaces, the header first; no trailing spaces.
std::string FormatTable(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows);

// One line of upload progress: " 42% 12.0 MiB / 28.6 MiB  3.1 MiB/s". `elapsed` may be zero.
std::string FormatProgress(std::uint64_t sent, std::uint64_t total, std::chrono::milliseconds elapsed);

// Reassembles a text/event-stream from arbitrary chunks into events (event name, data lines joined
// by "\n"). Comments and `id:`/`retry:` lines are ignored; an event without a name is "message".
class SseDecoder {
 public:
  using Handler = std::function<bool(const std::string& event, const std::string& data)>;
  // Feeds bytes; calls `on_event` for each complete event. Returns false as soon as a handler
  // does (the rest of the chunk is dropped).
  bool Feed(std::string_view bytes, const Handler& on_event);

 private:
  std::string pending_;  // an incomplete line
  std::string event_;
  std::string data_;
  bool has_data_ = false;
};

}  // namespace paddlecloud::client
