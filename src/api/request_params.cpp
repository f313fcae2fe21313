#include "api/request_params.h"

#include <charconv>
#include <string>

#include <boost/url/parse.hpp>

namespace paddlecloud::api {
namespace {

std::optional<std::int64_t> Integer(std::string_view text) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return n;
}

}  // namespace

Result<std::int64_t> PathId(const http::Request& request, std::string_view name, std::string_view what) {
  std::string_view text = request.PathParam(std::string(name));
  auto id = Integer(text);
  if (!id || *id <= 0) return Err(Status::NotFound("no " + std::string(what) + " '" + std::string(text) + "'"));
  return *id;
}

Result<std::optional<std::int64_t>> QueryInt(const http::Request& request, std::string_view name) {
  auto v = request.Query(std::string(name));
  if (!v || v->empty()) return std::optional<std::int64_t>();
  auto n = Integer(*v);
  if (!n) return Err(Status::InvalidArgument(std::string(name) + " must be an integer", std::string(name)));
  return std::optional<std::int64_t>(*n);
}

std::vector<std::string> QueryAll(const http::Request& request, std::string_view name) {
  std::vector<std::string> values;
  auto url = boost::urls::parse_origin_form(request.target);
  if (!url) return values;
  for (const auto& param : url->params())
    if (param.key == name) values.push_back(param.value);
  return values;
}

}  // namespace paddlecloud::api
