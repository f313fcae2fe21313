// Server-Sent Events: a streaming response of `text/event-stream`.
//
// The producer sends events until it is done, the client goes away (Send returns false) or the
// server shuts down (stopping() turns true; the producer should return promptly).
#pragma once

#include <functional>
#include <string_view>

#include "http/message.h"

namespace paddlecloud::http {

class SseWriter {
 public:
  explicit SseWriter(ResponseStream& stream) : stream_(stream) {}
  // One event; multi-line data is split into several `data:` lines as the format requires.
  boost::asio::awaitable<bool> Send(std::string_view event, std::string_view data, std::string_view id = {});
  // A comment line, used as a keep-alive that proxies and clients ignore.
  boost::asio::awaitable<bool> Comment(std::string_view text);
  bool stopping() const { return stream_.stopping(); }

 private:
  ResponseStream& stream_;
};

// `retry_ms` tells the browser how soon to reconnect after the stream ends.
Response SseResponse(std::function<boost::asio::awaitable<void>(SseWriter&)> produce, int retry_ms = 3000);

// Formats one event (exposed for tests).
std::string FormatSseEvent(std::string_view event, std::string_view data, std::string_view id);

}  // namespace paddlecloud::http
