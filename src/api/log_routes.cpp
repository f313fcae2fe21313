#include <charconv>
#include "api/log_routes.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

#include "api/request_params.h"
#include "http/json.h"
#include "http/sse.h"
#include "http/static_files.h"
#include "jobs/log_reader.h"

namespace paddlecloud::api {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;
using http::ErrorResponse;
using http::Response;

// The whole log file as an attachment.
asio::awaitable<Response> DownloadLog(blocking::WorkPool& pool, const std::string& path, const std::string& name) {
  if (path.empty()) co_return ErrorResponse(Status::NotFound("'" + name + "' has not written a log yet"));
  auto size = co_await pool.Run([&] { return jobs::ReadLogRange(path, 0, 0); });
  if (!size) co_return ErrorResponse(size.error());
  Response r = http::MakeFileStreamResponse(pool, path, 0, size->size);
  r.headers.Set("Content-Type", "text/plain; charset=utf-8");
  r.headers.Set("Content-Disposition", "attachment; filename=\"" + name + ".log\"");
  co_return r;
}

// `length` bytes from `offset` when an offset is given, else the last `tail` lines.
asio::awaitable<Result<jobs::LogChunk>> ReadLog(blocking::WorkPool& pool, const std::string& path,
                                                std::optional<std::int64_t> offset, std::optional<std::int64_t> length,
                                                std::optional<std::int64_t> tail) {
  if (offset) {
    if (*offset < 0) co_return Err(Status::InvalidArgument("offset must be >= 0", "offset"));
    std::int64_t want = length.value_or(1 << 20);
    if (want < 0 || want > (8 << 20)) co_return Err(Status::InvalidArgument("length must be from 0 to 8388608", "length"));
    co_return co_await pool.Run([&] {
      return jobs::ReadLogRange(path, static_cast<std::uint64_t>(*offset), static_cast<std::size_t>(want));
    });
  }
  std::int64_t lines = tail.value_or(100);
  if (lines < 0 || lines > 100000) co_return Err(Status::InvalidArgument("tail must be from 0 to 100000", "tail"));
  co_return co_await pool.Run([&] { return jobs::TailLines(path, static_cast<std::size_t>(lines)); });
}

asio::awaitable<void> FollowLog(blocking::WorkPool& pool, std::function<Result<std::string>()> locate,
                                std::function<Result<std::optional<std::string>>()> ended, std::size_t lines,
                                std::optional<std::uint64_t> offset, http::SseWriter& out) {
  auto executor = co_await asio::this_coro::executor;
  std::string path;
  int idle_ticks = 0;
  while (!out.stopping()) {
    if (path.empty()) {
      auto p = co_await pool.Run([&] { return locate(); });
      if (!p) co_return;
      path = *p;
    }
    bool wrote = false;
    if (!path.empty()) {
      auto chunk = co_await pool.Run([&] {
        return offset ? jobs::ReadLogRange(path, *offset, 256 * 1024) : jobs::TailLines(path, lines);
      });
      if (chunk && !chunk->text.empty()) {
        json::object data{{"offset", chunk->offset}, {"text", chunk->text}};
        offset = chunk->offset + chunk->text.size();
        // The id is where the next event starts: a client reconnecting with it as Last-Event-ID
        // (through another server, say) goes on from there, missing nothing and repeating nothing.
        if (!co_await out.Send("log", json::serialize(data), std::to_string(*offset))) co_return;
        wrote = true;
      } else if (chunk && !offset) {
        offset = chunk->size;
      }
    }
    if (!wrote) {
      // Nothing new: end once the writer has ended and the log is drained.
      auto state = co_await pool.Run([&] { return ended(); });
      if (!state) co_return;
      ++idle_ticks;
      if (*state && idle_ticks >= 2) {
        json::object end{{"state", **state}};  // built outside co_await: g++ 12 mishandles the init list there
        co_await out.Send("end", json::serialize(end));
        co_return;
      }
      if (idle_ticks % 40 == 39 && !co_await out.Comment("keep-alive")) co_return;
      asio::steady_timer tick(executor, std::chrono::milliseconds(250));
      co_await tick.async_wait(asio::use_awaitable);
    } else {
      idle_ticks = 0;
    }
  }
}

}  // namespace

asio::awaitable<Response> LogResponse(blocking::WorkPool& pool, http::Request& request, const std::string& path,
                                      const std::string& key, const std::string& name) {
  auto tail = QueryInt(request, "tail");
  auto offset = QueryInt(request, "offset");
  auto length = QueryInt(request, "length");
  for (auto* q : {&tail, &offset, &length})
    if (!*q) co_return ErrorResponse(q->error());
  if (request.Query("download").value_or("") == "true") co_return co_await DownloadLog(pool, path, name);
  Result<jobs::LogChunk> chunk = jobs::LogChunk{};
  if (!path.empty()) chunk = co_await ReadLog(pool, path, *offset, *length, *tail);
  if (!chunk) co_return ErrorResponse(chunk.error());
  co_return http::JsonResponse(200, {{key, name}, {"text", chunk->text}, {"offset", chunk->offset},
                                     {"size", chunk->size}, {"started", !path.empty()}});
}

Response FollowLogResponse(blocking::WorkPool& pool, const http::Request& request,
                           std::function<Result<std::string>()> locate,
                           std::function<Result<std::optional<std::string>>()> ended) {
  auto tail = QueryInt(request, "tail");
  if (!tail) return ErrorResponse(tail.error());
  std::size_t lines = static_cast<std::size_t>(std::clamp<std::int64_t>(tail->value_or(100), 0, 100000));
  std::optional<std::uint64_t> resume_at;
  if (auto last = request.headers.Get("Last-Event-ID"); last && !last->empty()) {
    std::uint64_t at = 0;
    auto [end, ec] = std::from_chars(last->data(), last->data() + last->size(), at);
    if (ec != std::errc() || end != last->data() + last->size())
      return ErrorResponse(Status::InvalidArgument("Last-Event-ID must be a log offset", "Last-Event-ID"));
    resume_at = at;
  }
  return http::SseResponse(
      [&pool, locate = std::move(locate), ended = std::move(ended), lines, resume_at](http::SseWriter& out) {
        return FollowLog(pool, locate, ended, lines, resume_at, out);
      });
}

}  // namespace paddlecloud::api
