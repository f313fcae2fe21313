#include "http/sse.h"

namespace paddlecloud::http {

std::string FormatSseEvent(std::string_view event, std::string_view data, std::string_view id) {
  std::string out;
  if (!id.empty()) out.append("id: ").append(id).append("\n");
  if (!event.empty()) out.append("event: ").append(event).append("\n");
  while (true) {
    auto nl = data.find('\n');
    out.append("data: ").append(data.substr(0, nl)).append("\n");
    if (nl == std::string_view::npos) break;
    data.remove_prefix(nl + 1);
  }
  out.append("\n");
  return out;
}

boost::asio::awaitable<bool> SseWriter::Send(std::string_view event, std::string_view data, std::string_view id) {
  co_return co_await stream_.Write(FormatSseEvent(event, data, id));
}

boost::asio::awaitable<bool> SseWriter::Comment(std::string_view text) {
  std::string line = ": ";
  line.append(text).append("\n\n");
  co_return co_await stream_.Write(line);
}

Response SseResponse(std::function<boost::asio::awaitable<void>(SseWriter&)> produce, int retry_ms) {
  Response r;
  r.headers.Set("Content-Type", "text/event-stream");
  r.headers.Set("Cache-Control", "no-cache");
  r.headers.Set("X-Accel-Buffering", "no");
  r.stream = [produce = std::move(produce), retry_ms](ResponseStream& stream) -> boost::asio::awaitable<void> {
    if (!co_await stream.Write("retry: " + std::to_string(retry_ms) + "\n\n")) co_return;
    SseWriter writer(stream);
    co_await produce(writer);
  };
  return r;
}

}  // namespace paddlecloud::http
