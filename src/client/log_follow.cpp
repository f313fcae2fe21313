#include "client/log_follow.h"

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <thread>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "client/command_support.h"
#include "client/output.h"

namespace paddlecloud::client {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Prints a log from `from` up to `until` or its current end (range reads); returns the new end.
Result<std::uint64_t> PrintRange(ApiClient& client, const std::string& log_path, std::uint64_t from,
                                 std::uint64_t until = UINT64_MAX) {
  while (from < until) {
    std::uint64_t length = std::min<std::uint64_t>(until - from, 1 << 20);
    auto range = client.Call("GET", log_path + "?offset=" + std::to_string(from) + "&length=" + std::to_string(length));
    if (!range) return Err(range.error());
    std::string text = StringAt(*range, {"text"});
    if (text.empty()) break;
    std::cout << text << std::flush;
    from += text.size();
  }
  return from;
}

}  // namespace

Result<std::string> FollowLog(ApiClient& client, const std::string& log_path, const std::string& label, int tail) {
  std::optional<std::uint64_t> next;  // the byte offset after what was printed
  std::string end_state;
  bool ended = false;
  Status failure;
  auto last_contact = Clock::now();
  for (int attempt = 0;; ++attempt) {
    SseDecoder decoder;
    auto handle = [&](const std::string& event, const std::string& data) {
      boost::system::error_code ec;
      json::value parsed = json::parse(data, ec);
      if (ec) return true;
      if (event == "end") {
        end_state = StringAt(parsed, {"state"});
        ended = true;
        return false;
      }
      if (event != "log") return true;
      auto offset = static_cast<std::uint64_t>(IntAt(parsed, {"offset"}));
      std::string text = StringAt(parsed, {"text"});
      if (next && offset > *next) {  // a gap while the stream was down: read it by range
        auto filled = PrintRange(client, log_path, *next, offset);
        if (!filled) {
          failure = filled.error();
          return false;
        }
      }
      if (next && offset < *next) {  // already printed
        std::uint64_t skip = *next - offset;
        if (skip >= text.size()) return true;
        text.erase(0, skip);
        offset = *next;
      }
      std::cout << text << std::flush;
      next = offset + text.size();
      return true;
    };
    std::string target = log_path + "/stream?tail=" + std::to_string(next ? 0 : tail);
    Status streamed = client.Stream(
        target,
        [&](std::string_view chunk) {
          last_contact = Clock::now();  // events and keep-alives alike
          return decoder.Feed(chunk, handle);
        },
        60s, {{"Accept", "text/event-stream"}});
    if (!failure.ok()) return Err(failure);
    if (ended) {
      if (next) {  // what was written after the stream's last event
        auto rest = PrintRange(client, log_path, *next);
        if (!rest) return Err(rest.error());
      }
      return end_state;
    }
    if (!streamed.ok() && streamed.code() != Code::kUnavailable) return Err(streamed);
    // The stream broke (server restart, network): try again for a minute.
    if (Clock::now() - last_contact > 60s) {
      if (!streamed.ok()) return Err(streamed);
      return Err(Status::Unavailable("the log stream of " + label + " keeps ending without the end of the log"));
    }
    std::this_thread::sleep_for(attempt == 0 ? 200ms : 1s);
  }
}

}  // namespace paddlecloud::client
