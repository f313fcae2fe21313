#include "http/message.h"

#include <algorithm>
#include <strings.h>

namespace paddlecloud::http {
namespace {
bool SameName(std::string_view a, std::string_view b) {
  return a.size() == b.size() && ::strncasecmp(a.data(), b.data(), a.size()) == 0;
}
}  // namespace

void Headers::Set(std::string_view name, std::string value) {
  Remove(name);
  fields_.emplace_back(std::string(name), std::move(value));
}

std::optional<std::string_view> Headers::Get(std::string_view name) const {
  for (const auto& [n, v] : fields_)
    if (SameName(n, name)) return std::string_view(v);
  return std::nullopt;
}

void Headers::Remove(std::string_view name) {
  std::erase_if(fields_, [&](const auto& f) { return SameName(f.first, name); });
}

std::string_view Request::PathParam(const std::string& name) const {
  auto it = path_params.find(name);
  return it == path_params.end() ? std::string_view() : std::string_view(it->second);
}

std::optional<std::string_view> Request::Query(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return std::string_view(it->second);
}

Response Response::Text(int status, std::string text, std::string content_type) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", std::move(content_type));
  r.body = std::move(text);
  return r;
}

}  // namespace paddlecloud::http
