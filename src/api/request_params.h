// Reading ids and numbers from a request's path and query, with the errors every route gives.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/message.h"

namespace paddlecloud::api {

// The positive integer in path parameter `name`. Anything else names nothing that can exist:
// NotFound "no <what> '<text>'".
Result<std::int64_t> PathId(const http::Request& request, std::string_view name, std::string_view what);

// Integer query parameter `name`; nullopt when absent or empty, InvalidArgument naming it when it is
// not an integer.
Result<std::optional<std::int64_t>> QueryInt(const http::Request& request, std::string_view name);

// Every value of query parameter `name`, in order (`?source=a&source=b`); Request::query keeps the last.
std::vector<std::string> QueryAll(const http::Request& request, std::string_view name);

}  // namespace paddlecloud::api
