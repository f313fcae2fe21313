#include "notebooks/jupyter_client.h"

#include <ctime>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

namespace paddlecloud::notebooks {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;

std::optional<std::int64_t> ParseJupyterTime(std::string_view text) {
  std::tm tm{};
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  std::string copy(text.substr(0, 19));
  if (copy.size() != 19 ||
      std::sscanf(copy.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &month, &day, &hour, &minute, &second) != 6)
    return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<std::int64_t>(::timegm(&tm));
}

namespace {

// GET http://<endpoint><target> with Jupyter's token; the body of a 200 answer.
Result<std::string> Get(const std::string& endpoint, const std::string& target, const std::string& token,
                        std::chrono::milliseconds timeout) {
  auto colon = endpoint.rfind(':');
  if (colon == std::string::npos) return Err(Status::InvalidArgument("endpoint '" + endpoint + "' is not host:port"));
  asio::io_context io;
  Result<std::string> result = Err(Status::Unavailable("Jupyter did not answer within " +
                                                       std::to_string(timeout.count()) + " ms"));
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        beast::tcp_stream stream(io);
        stream.expires_after(timeout);
        asio::ip::tcp::resolver resolver(io);
        auto addresses = co_await resolver.async_resolve(endpoint.substr(0, colon), endpoint.substr(colon + 1),
                                                         asio::use_awaitable);
        co_await stream.async_connect(addresses, asio::use_awaitable);
        beast::http::request<beast::http::empty_body> request{beast::http::verb::get, target, 11};
        request.set(beast::http::field::host, endpoint);
        request.set(beast::http::field::authorization, "token " + token);
        co_await beast::http::async_write(stream, request, asio::use_awaitable);
        beast::flat_buffer buffer;
        beast::http::response_parser<beast::http::string_body> parser;
        parser.body_limit(1 << 20);
        co_await beast::http::async_read(stream, buffer, parser, asio::use_awaitable);
        if (parser.get().result_int() != 200)
          result = Err(Status::Unavailable("Jupyter answered HTTP " + std::to_string(parser.get().result_int())));
        else
          result = std::move(parser.get().body());
      },
      [&](std::exception_ptr error) {
        if (!error) return;
        try {
          std::rethrow_exception(error);
        } catch (const boost::system::system_error& e) {
          if (e.code() != beast::error::timeout) result = Err(Status::Unavailable(std::string("Jupyter: ") + e.what()));
        } catch (const std::exception& e) {
          result = Err(Status::Unavailable(std::string("Jupyter: ") + e.what()));
        }
      });
  io.run();
  return result;
}

}  // namespace

Result<std::int64_t> JupyterLastActivity(const std::string& endpoint, const std::string& base_url,
                                         const std::string& token, std::int64_t now,
                                         std::chrono::milliseconds timeout) {
  auto status = Get(endpoint, base_url + "api/status?no_track_activity=1", token, timeout);
  if (!status) return Err(status.error());
  auto kernels = Get(endpoint, base_url + "api/kernels?no_track_activity=1", token, timeout);
  if (!kernels) return Err(kernels.error());
  boost::system::error_code ec;
  json::value status_json = json::parse(*status, ec);
  json::value kernels_json = ec ? json::value() : json::parse(*kernels, ec);
  if (ec || !status_json.is_object() || !kernels_json.is_array())
    return Err(Status::Unavailable("Jupyter's api/status or api/kernels is not what Jupyter answers"));
  std::int64_t last = 0;
  auto consider = [&](const json::value* time) {
    if (time && time->is_string())
      if (auto t = ParseJupyterTime(time->as_string())) last = std::max(last, *t);
  };
  consider(status_json.as_object().if_contains("last_activity"));
  for (const json::value& kernel : kernels_json.as_array()) {
    if (!kernel.is_object()) continue;
    consider(kernel.as_object().if_contains("last_activity"));
    const json::value* state = kernel.as_object().if_contains("execution_state");
    if (state && state->is_string() && state->as_string() == "busy") last = std::max(last, now);
  }
  if (last == 0) return Err(Status::Unavailable("Jupyter's api/status has no last_activity"));
  return last;
}

}  // namespace paddlecloud::notebooks
